"""The transactional worker's loop input and its latency trace (unit: fakes, no broker): the loop returns
with the first record instead of waiting out its timeout, waits no longer than the merge or the open
transaction allow, and the trace notes each stage of the chosen events once their transaction commits.
The latency they give is measured by ``exitwatch bench`` (reports/benchmarks/s9-latency), not asserted here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.tx import intake
from streams.tx.merge import Rec, TimeMerge
from streams.tx.trace import Trace


class FakeConsumer:
    """``consume(n, timeout)`` hands over what is queued; ``poll`` the next record to come (``incoming``)."""

    def __init__(self, queued: list[str], incoming: list[str]) -> None:
        self.queued, self.incoming, self.calls = queued, incoming, []

    def consume(self, n: int, timeout: float) -> list[str]:
        self.calls.append(("consume", n, timeout))
        out, self.queued = self.queued[:n], self.queued[n:]
        return out

    def poll(self, timeout: float) -> str | None:
        self.calls.append(("poll", timeout))
        if not self.incoming:
            return None
        self.queued += self.incoming[1:]  # came along with the first
        first, self.incoming = self.incoming[0], []
        return first


class FakeWorker:
    def __init__(self, consumer: FakeConsumer, batch: int = 3) -> None:
        self.consumer, self.batch, self.interval = consumer, batch, 0.1
        self._more = False
        self.merge = TimeMerge(idle=0.05)
        self.tx = type("Tx", (), {"open": False, "started": 0.0})()


def test_records_at_hand_are_taken_without_waiting() -> None:
    w = FakeWorker(FakeConsumer(["a", "b", "c", "d"], []))
    assert intake.consume(w, 0.05) == ["a", "b", "c"]
    assert w.consumer.calls == [("consume", 3, 0)]


def test_with_nothing_at_hand_the_first_record_to_come_ends_the_wait() -> None:
    w = FakeWorker(FakeConsumer([], ["a", "b"]))
    assert intake.consume(w, 0.05) == ["a", "b"]
    assert w.consumer.calls == [("consume", 3, 0), ("poll", 0.05), ("consume", 2, 0)]
    w = FakeWorker(FakeConsumer([], []))
    assert intake.consume(w, 0.05) == [] and w.consumer.calls[-1] == ("poll", 0.05)


def test_the_wait_ends_when_the_merge_releases_a_held_record_or_the_transaction_is_due(monkeypatch: Any) -> None:
    monkeypatch.setattr(intake.time, "monotonic", lambda: 10.0)
    w = FakeWorker(FakeConsumer([], []))
    assert intake.wait_s(w) == intake.MAX_WAIT_S
    w.merge.wake_at = 10.02
    assert intake.wait_s(w) == pytest.approx(0.02)
    w.tx.open, w.tx.started = True, 9.95  # due at 10.05: the merge's 10.02 comes first
    assert intake.wait_s(w) == pytest.approx(0.02)
    w.tx.started = 9.905  # due at 10.005
    assert intake.wait_s(w) == pytest.approx(0.005)
    w.tx.started = 9.0  # overdue: no wait
    assert intake.wait_s(w) == 0.0
    w.tx.open, w.merge.wake_at, w._more = False, None, True  # the last drain stopped at its limit
    assert intake.wait_s(w) == 0.0


class Ev:
    def __init__(self, event_id: str) -> None:
        self.event_id = event_id


def _rec(eid: str, off: int) -> Rec:
    r = Rec("activity.file", 0, off, 1.0, 2, obj=Ev(eid), kafka_ts=1000.0)
    return r


def test_the_trace_logs_each_stage_of_chosen_events_once_committed(caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="exitwatch.tx.trace")
    t = Trace("probe-")
    recs = [_rec("probe-1", 0), _rec("evt-2", 1), _rec("probe-3", 2)]
    t.consumed(recs)
    assert sorted(t.open) == ["probe-1", "probe-3"]  # others are not traced
    t.stage(recs[:2], "merged")
    t.stage(recs[:2], "processed")
    t.commit_began()
    t.committed()
    lines = [r.getMessage() for r in caplog.records if r.name == "exitwatch.tx.trace"]
    assert len(lines) == 1 and lines[0].startswith("trace {")
    got = orjson.loads(lines[0][6:])
    assert got["event_id"] == "probe-1" and got["produced"] == 1000.0
    stamps = [got[k] for k in ("consumed", "merged", "processed", "commit", "committed")]
    assert stamps == sorted(stamps)
    assert list(t.open) == ["probe-3"]  # not processed yet: still open, not logged
    t.aborted()  # rolled back: consumed again later
    assert t.open == {}


def test_the_bench_reads_each_probes_stages_from_the_workers_trace(tmp_path: Path) -> None:
    from exitwatch.bench import probe_stages

    line = {"event_id": "probe-7", "produced": 100.001, "consumed": 100.010, "merged": 100.060,
            "processed": 100.065, "commit": 100.070, "committed": 100.080}
    log = tmp_path / "w-0.log"
    log.write_text("some other line\n2026 INFO exitwatch.tx.trace trace " + orjson.dumps(line).decode() + "\n"
                   + "trace {not json\n")
    got = probe_stages([log], {"probe-7": 100.0}, {"probe-7": 100.090})
    assert got["traced"] == 1
    assert {k: v["p50"] for k, v in got.items() if k != "traced"} == {
        "produce_to_consumed": 10.0, "merge_wait": 50.0, "processing": 5.0, "commit_wait": 5.0, "commit": 10.0,
        "to_reader": 10.0}
    assert probe_stages([log], {}, {}) == {"traced": 0}  # a probe not seen is not counted
