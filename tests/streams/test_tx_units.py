"""Unit tests of the transactional engine's parts (streams/tx): the time-ordered merge, the state store with
transactional changes, and processing (routing, enrichment, forwarding, dead letters, alert counting) with an
in-memory HR store and a recording ``send``. The broker parts are in tests/integration/test_tx_worker.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from detectors.factory import build_engine
from detectors.state import EmployeeState
from schemas import HRRecord
from streams.tx.store import StateStore
from streams.tx.merge import KIND_EVENT, KIND_HR, Rec, TimeMerge
from streams.tx.process import KIND_HEADER, REKEY_TOPIC, Processor
from streams.tx.txn import is_fatal


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def rec(topic: str, part: int, off: int, ts: float, rank: int = KIND_EVENT) -> Rec:
    return Rec(topic, part, off, ts, rank)


# ------------------------------------------------------------------------------------------------ merge
def test_merge_takes_records_in_event_time_across_partitions_and_ranks_hr_first() -> None:
    clock = Clock()
    m = TimeMerge(idle=0.05, clock=clock)
    for tp in (("a", 0), ("b", 0), ("hr", 0)):
        m.add(tp)
    for r in [rec("a", 0, 0, 5), rec("a", 0, 1, 7), rec("a", 0, 2, 9), rec("b", 0, 0, 6), rec("b", 0, 1, 10),
              rec("hr", 0, 0, 7, KIND_HR), rec("hr", 0, 1, 11, KIND_HR)]:
        m.push(r)
    clock.t = 1.0
    got = []
    while True:
        out = m.drain(lambda tp: True)
        if not out:
            if m.buffered() == 0:
                break
            clock.t += 1.0
            continue
        got += out
    assert [(r.topic, r.ts) for r in got] == [("a", 5), ("b", 6), ("hr", 7), ("a", 7), ("a", 9), ("b", 10),
                                              ("hr", 11)]


def test_merge_counts_records_released_after_later_ones_of_the_same_partition_number() -> None:
    """The diagnostic of the order records are applied in (the worker logs it, the fault harness counts it):
    a record released after one of a later time of the same partition number is late; of another number, not;
    after a resumption (clear) the count starts from what is applied next."""
    m = TimeMerge(idle=0.0)
    for tp in (("a", 0), ("b", 0), ("a", 1)):
        m.add(tp)
    m.push(rec("a", 0, 0, 10)); m.push(rec("a", 1, 0, 20))
    assert [r.ts for r in m.drain(lambda tp: True)] == [10, 20]
    m.push(rec("b", 0, 0, 5)); m.push(rec("a", 1, 1, 15))  # b[0] reached the client after a[0]'s later record
    assert [r.ts for r in m.drain(lambda tp: True)] == [5, 15]
    assert (m.late, m.late_by, m.last_late.tp) == (2, 5.0, ("a", 1))
    m.clear()
    m.push(rec("a", 0, 1, 3))
    assert [r.ts for r in m.drain(lambda tp: True)] == [3] and m.late == 2


def test_merge_waits_for_a_lagging_partition_and_for_an_idle_one_only_the_idle_time() -> None:
    clock = Clock()
    m = TimeMerge(idle=0.05, lag_wait=30.0, clock=clock)
    m.add(("a", 0))
    m.add(("b", 0))
    m.push(rec("a", 0, 0, 100))
    lagging = {("b", 0)}
    assert m.drain(lambda tp: tp not in lagging) == [] and m.blocked == [("b", 0)]
    clock.t = 10.0  # far beyond the idle time, but the broker has records of b not fetched yet
    assert m.drain(lambda tp: tp not in lagging) == [] and m.wake_at is None
    m.push(rec("b", 0, 0, 50))  # the older record arrives: it goes first
    assert [r.ts for r in m.drain(lambda tp: tp not in lagging)] == [50]
    lagging.clear()  # b caught up and empty: a's record has waited far longer than the idle time already
    assert [r.ts for r in m.drain(lambda tp: True)] == [100]
    m.push(rec("a", 0, 1, 200))  # a fresh record waits the idle time for b, counted from its arrival
    clock.t += 0.03
    assert m.drain(lambda tp: True) == [] and m.blocked == [("b", 0)] and m.wake_at == pytest.approx(10.05)
    m.push(rec("b", 0, 1, 150))  # came within it, older: goes first
    assert [r.ts for r in m.drain(lambda tp: True)] == [150]
    clock.t = 10.05
    assert [r.ts for r in m.drain(lambda tp: True)] == [200]


def test_a_sparse_live_feed_waits_the_idle_time_once_not_once_per_partition_run_empty() -> None:
    """Many partitions, one record each, arrived together: all go after one idle time. (Counted from the
    moment each partition ran empty, the wait came again after every record: 20 idle times here.)"""
    clock = Clock()
    m = TimeMerge(idle=0.05, clock=clock)
    parts = [("t", p) for p in range(20)] + [("idle", 0)]
    for tp in parts:
        m.add(tp)
    for p in range(20):
        m.push(rec("t", p, 0, 100 + p))
    assert m.drain(lambda tp: True) == []  # ("idle", 0) is empty: records younger than the idle time wait
    clock.t = 0.05
    assert [r.ts for r in m.drain(lambda tp: True)] == [100 + p for p in range(20)]


def test_idle_zero_waits_only_for_records_known_to_be_on_the_broker() -> None:
    clock = Clock()
    m = TimeMerge(idle=0.0, clock=clock)
    for tp in (("a", 0), ("b", 0), ("c", 0)):
        m.add(tp)
    m.push(rec("a", 0, 0, 20))
    m.push(rec("a", 0, 1, 30))
    m.push(rec("b", 0, 0, 10))
    assert m.drain(lambda tp: tp != ("c", 0)) == [] and m.blocked == [("c", 0)]  # c lags: wait for it
    m.push(rec("c", 0, 0, 25))
    assert [r.ts for r in m.drain(lambda tp: True)] == [10, 20, 25, 30]  # all caught up: no waiting at all
    assert m.wake_at is None


def test_merge_gives_up_on_a_lagging_partition_after_lag_wait() -> None:
    clock = Clock()
    m = TimeMerge(idle=0.05, lag_wait=5.0, clock=clock)
    m.add(("a", 0))
    m.add(("b", 0))
    m.push(rec("a", 0, 0, 1))
    assert m.drain(lambda tp: False) == []
    clock.t = 5.1
    assert [r.ts for r in m.drain(lambda tp: tp == ("a", 0))] == [1]


def test_merge_unreadable_record_at_the_head_goes_first_and_revoked_partitions_are_ignored() -> None:
    m = TimeMerge(idle=0.0)
    m.add(("a", 0))
    m.push(rec("a", 0, 0, 10))
    m.push(rec("a", 0, 1, float("-inf")))  # behind a good record: keeps its partition's order
    m.push(rec("zz", 3, 0, 1))  # not assigned
    assert [r.offset for r in m.drain(lambda tp: True)] == [0, 1]
    assert m.buffered() == 0


# ------------------------------------------------------------------------------------------------ store
def test_store_changes_commit_and_rollback() -> None:
    s = StateStore(lambda emp: int(emp[-1]) % 2)
    a = EmployeeState()
    a.extra["x"] = 1
    s.put("E1", a)
    ch = s.changes()
    assert [(e, p) for e, p, _ in ch] == [("E1", 1)]
    s.committed_changes(ch)
    assert s.committed["E1"] == a.to_bytes() and len(s) == 1
    st = s.get("E1")
    assert st is not None
    st.extra["x"] = 2
    s.put("E1", st)
    s.put("E2", EmployeeState())
    s.rollback()  # the transaction aborted: back to the committed bytes
    again = s.get("E1")
    assert again is not None and again.extra["x"] == 1 and s.get("E2") is None
    assert s.changes() == []


def test_store_load_tombstone_and_drop_partitions() -> None:
    s = StateStore(lambda emp: 0)
    s.load("E1", 0, EmployeeState().to_bytes())
    s.load("E2", 1, EmployeeState().to_bytes())
    s.load("E3", 1, EmployeeState().to_bytes())
    s.load("E3", 1, None)
    assert s.get("E3") is None and len(s) == 2
    assert s.drop_partitions({1}) == 1 and s.get("E2") is None and s.get("E1") is not None


# ------------------------------------------------------------------------------------------------ processing
class FakeHR:
    def __init__(self, aliases: dict[str, str] | None = None) -> None:
        self.aliases = aliases or {}
        self.put_records: list[HRRecord] = []
        self.pending: list[Any] = []

    def put(self, record: HRRecord, token: Any = None) -> bool:
        self.put_records.append(record)
        return True

    def resolve_many(self, accounts: set[str]) -> dict[str, str | None]:
        return {a: self.aliases.get(a.lower()) for a in accounts}

    def snapshots(self, emps: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        return {e: ({"employee_id": e, "status": "notice", "department": "R&D"}, False) for e in emps}


class Msg:
    def __init__(self, topic: str, value: bytes | None, partition: int = 0, offset: int = 0,
                 headers: list[Any] | None = None) -> None:
        self._t, self._v, self._p, self._o, self._h = topic, value, partition, offset, headers

    def topic(self) -> str:
        return self._t

    def value(self) -> bytes | None:
        return self._v

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def headers(self) -> list[Any] | None:
        return self._h

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


@pytest.fixture
def proc() -> tuple[Processor, list[tuple[str, Any, bytes | None, dict[str, Any]]]]:
    engine = build_engine(models=False)
    owned = {0}
    p = Processor(engine, FakeHR({"ann@corp.example": "E1"}), "t.", b"k", lambda emp: 0 if emp == "E1" else 1, owned)
    sent: list[tuple[str, Any, bytes | None, dict[str, Any]]] = []
    p.send = lambda topic, value, key=None, **kw: sent.append((topic, orjson.loads(value), key, kw))
    return p, sent


def hr_msg(emp: str, accounts: list[str]) -> Msg:
    return Msg("t.hr.status", orjson.dumps({"employee_id": emp, "ts": "2026-03-01T09:00:00Z", "status": "notice",
                                            "last_day": "2026-03-31", "accounts": accounts}))


def event_msg(i: int, actor: str, off: int = 0) -> Msg:
    return Msg("t.activity.file", orjson.dumps({"event_id": f"e{i}", "ts": f"2026-03-{10 + i:02d}T10:00:00Z",
                                                "kind": "file", "action": "download", "actor": actor,
                                                "source": "m365", "sensitivity": "restricted"}), offset=off)


def test_processing_enriches_detects_owned_and_counts_alerts_only_once_committed(proc: Any) -> None:
    p, sent = proc
    recs = [p.decode(hr_msg("E1", ["ann@corp.example"]))] + [p.decode(event_msg(i, "ANN@corp.example", i))
                                                             for i in range(11)]
    p.process(recs)
    enriched = [v for t, v, _, _ in sent if t == "t.activity.enriched"]
    assert len(enriched) == 11 and all(v["employee_id"] == "E1" and v["employee"]["resolved"] for v in enriched)
    hr_alerts = [v for t, v, _, _ in sent if t == "t.alerts.hr"]
    sec = [v for t, v, _, _ in sent if t == "t.alerts.secops"]
    assert [a["rule_id"] for a in hr_alerts].count("file.sensitive_downloads_before_departure") == 1
    assert len(sec) == len(hr_alerts) and all(a["employee_id"] != "E1" for a in sec)
    assert p.counters["alerts"] == 0 and len(p.alerts) == len(hr_alerts)
    p.committed()
    assert p.counters["alerts"] == len(hr_alerts) and p.alerts == []


def test_processing_forwards_events_of_employees_owned_elsewhere(proc: Any) -> None:
    p, sent = proc
    p.hr.aliases["bob@corp.example"] = "E2"  # E2's state is on partition 1, not owned here
    p.process([p.decode(event_msg(1, "bob@corp.example"))])
    topics = [t for t, _, _, _ in sent]
    assert topics == ["t.activity.enriched", "t." + REKEY_TOPIC]
    _, value, key, kw = sent[1]
    assert key == b"E2" and kw["partition"] == 1 and (KIND_HEADER, b"event") in kw["headers"]
    # the owner reads it from the rekey topic as an enriched event and detects it, without re-enriching
    p.owned.add(1)
    sent.clear()
    r = p.decode(Msg("t." + REKEY_TOPIC, orjson.dumps(value), partition=1, headers=kw["headers"]))
    assert r.reason is None and r.obj.employee_id == "E2"
    p.process([r])
    assert not [t for t, _, _, _ in sent if t == "t.activity.enriched"]
    assert p.engine.store.get("E2") is not None


def test_processing_dead_letters_bad_records_once_with_their_stage(proc: Any) -> None:
    p, sent = proc
    recs = [p.decode(Msg("t.activity.file", b'{"event_id": "x"')), p.decode(Msg("t.hr.status", b"[]")),
            p.decode(Msg("t.hr.status", None))]  # a tombstone is not a bad record
    assert recs[0].ts == float("-inf")
    p.process(recs)
    dead = [v for t, v, _, _ in sent if t == "t.deadletter"]
    assert [d["source"] for d in dead] == ["enrich", "hr"] and all(d["reason"] for d in dead)
    assert dead[1]["reason"].startswith("t.hr.status: ")


def test_unresolved_actor_is_enriched_under_its_account_and_not_detected(proc: Any) -> None:
    p, sent = proc
    p.process([p.decode(event_msg(1, "nobody@corp.example"))])
    assert len(sent) == 1 and sent[0][0] == "t.activity.enriched" and sent[0][2] == b"nobody@corp.example"
    assert sent[0][1]["employee"]["resolved"] is False


def test_fatal_errors_are_recognised() -> None:
    from confluent_kafka import KafkaError, KafkaException

    assert is_fatal(KafkaException(KafkaError(KafkaError._FENCED)))
    assert not is_fatal(KafkaException(KafkaError(KafkaError._TIMED_OUT)))
    assert not is_fatal(ValueError("x"))


def test_hr_store_rests_after_a_failure_and_writes_pending_records_once_redis_is_back(monkeypatch: Any) -> None:
    """While Redis is down a record waits; retries within the pause do not extend it; once Redis answers
    again the pending record is written (a pause renewed by every retry kept it pending for ever)."""
    import redis as redis_lib

    from streams.tx import hr as hrmod

    class Flaky:
        def __init__(self) -> None:
            self.up = False
            self.calls = 0

        def register_script(self, _: str) -> Any:
            def script(keys: list[str], args: list[Any]) -> int:
                self.calls += 1
                if not self.up:
                    raise redis_lib.ConnectionError("down")
                return 1
            return script

    clock = [0.0]
    monkeypatch.setattr(hrmod.time, "monotonic", lambda: clock[0])
    client = Flaky()
    store = hrmod.SyncHRStore("redis://unused", client=client)
    rec = HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "notice"})
    assert store.put(rec, token=("t", 0, 5)) is False and store.pending_tokens() == [("t", 0, 5)]
    for t in (0.1, 0.5, 0.9):  # retries within the pause: Redis is not even tried
        clock[0] = t
        assert store.flush_pending() == 0
    assert client.calls == 1
    client.up = True
    clock[0] = 1.05
    assert store.flush_pending() == 1 and store.pending == []


def test_per_event_counters_are_added_once_per_batch_and_add_up(proc: Any) -> None:
    from streams import metrics

    p, _ = proc
    events_in = metrics.EVENTS_IN.labels("activity.file", "file", "m365")
    detected = metrics.DETECTED.labels("activity.file")
    before = (events_in._value.get(), detected._value.get())
    recs = [p.decode(hr_msg("E1", ["ann@corp.example"]))] + [p.decode(event_msg(i, "ANN@corp.example", i))
                                                             for i in range(5)]
    recs.append(p.decode(event_msg(9, "bob@corp.example", 9)))  # unresolved: read, enriched, not detected
    p.process(recs)
    assert (events_in._value.get() - before[0], detected._value.get() - before[1]) == (6, 5)
    assert p._counts == {}


class RememberingHR(FakeHR):
    """An HR store whose snapshots are the records put into it, as the real one's in-process cache."""

    def snapshots(self, emps: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        latest = {r.employee_id: r for r in self.put_records}
        return {e: ((latest[e].model_dump(mode="json") if e in latest else None), False) for e in emps}


def test_an_event_after_its_employees_hr_record_in_the_same_batch_carries_that_record() -> None:
    """A backlog (HR record and events fetched together) comes out in one batch: the events that follow the HR
    record in the merge are enriched with it, not with what the store held when the batch began."""
    p = Processor(build_engine(models=False), RememberingHR({"ann@corp.example": "E1"}), "t.", b"k",
                  lambda emp: 0, {0})
    sent: list[tuple[str, Any]] = []
    p.send = lambda topic, value, key=None, **kw: sent.append((topic, orjson.loads(value)))
    p.process([p.decode(hr_msg("E1", ["ann@corp.example"]))] + [p.decode(event_msg(i, "ann@corp.example", i))
                                                                for i in range(3)])
    enriched = [v for t, v in sent if t == "t.activity.enriched"]
    assert len(enriched) == 3 and {(v["employee_id"], (v["employee"] or {}).get("status")) for v in enriched} == {
        ("E1", "notice")}


def test_the_batch_snapshot_of_an_employee_is_taken_again_after_their_hr_record_and_in_the_next_batch() -> None:
    """The enriched events' ``employee`` object is serialised once per employee and batch: an HR record of the
    employee in the middle of the batch, and the next batch, read the store again."""
    hr = RememberingHR({"ann@corp.example": "E1"})
    p = Processor(build_engine(models=False), hr, "t.", b"k", lambda emp: 0, {0})
    sent: list[tuple[str, Any]] = []
    p.send = lambda topic, value, key=None, **kw: sent.append((topic, orjson.loads(value)))

    def hr_at(status: str, day: int) -> Msg:
        return Msg("t.hr.status", orjson.dumps({"employee_id": "E1", "ts": f"2026-03-{day:02d}T09:00:00Z",
                                                "status": status, "accounts": ["ann@corp.example"]}))

    p.process([p.decode(m) for m in (hr_at("active", 1), event_msg(0, "ann@corp.example", 0),
                                     event_msg(1, "ann@corp.example", 1), hr_at("notice", 11),
                                     event_msg(2, "ann@corp.example", 2))])
    hr.put_records.append(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-13T09:00:00Z",
                                                   "status": "departed", "last_day": "2026-03-12"}))
    p.process([p.decode(event_msg(3, "ann@corp.example", 3))])  # the store changed between batches
    got = [(v["event_id"], v["employee"]["status"]) for t, v in sent if t == "t.activity.enriched"]
    assert got == [("e0", "active"), ("e1", "active"), ("e2", "notice"), ("e3", "departed")]


def test_watermarks_ask_again_while_the_metadata_is_not_current_and_give_up_on_anything_else() -> None:
    """Right after a broker restart or a topic's creation the first watermark query fails with "unknown
    partition" / "not leader" (a fault run's worker stopped on it at an assignment): asked again until the
    deadline; any other error, or the deadline, raises."""
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    from streams.tx.topics import watermarks

    class C:
        def __init__(self, errors: list[int]) -> None:
            self.errors, self.calls = errors, 0

        def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
            self.calls += 1
            if self.errors:
                raise KafkaException(KafkaError(self.errors.pop(0)))
            return (3, 9)

    tp = TopicPartition("t", 0)
    c = C([KafkaError._UNKNOWN_PARTITION, KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE])
    assert watermarks(c, tp, pause=0.0) == (3, 9) and c.calls == 4
    c = C([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        watermarks(c, tp, pause=0.0)
    assert c.calls == 1
    c = C([KafkaError._UNKNOWN_PARTITION] * 100)
    with pytest.raises(KafkaException):
        watermarks(c, tp, timeout=0.05, pause=0.01)
    assert 1 < c.calls < 100


def test_a_failed_assignment_stops_the_worker_as_a_failure() -> None:
    """The client swallows an exception of the assignment callback: the worker stops, marked failed, so that
    `exitwatch worker` exits 1 (a supervisor restarting on failure restarts it) rather than 0."""
    from streams.tx.assign import Rebalancing

    class W(Rebalancing):
        def __init__(self) -> None:
            self._stop, self.assignment_failed = False, False

        def _assign(self, partitions: list[Any]) -> None:
            raise RuntimeError("Failed to get watermark offsets")

    w = W()
    with pytest.raises(RuntimeError):
        w.on_assign(None, [])
    assert w._stop and w.assignment_failed


def test_the_batch_snapshots_of_many_employees_hold_no_more_than_their_json() -> None:
    """One ``employee`` object per employee and batch waits for the batch's end: each copied to its size
    (orjson's output of a 250-byte object holds about 4 KB; 2,000 employees in a batch held 8 MB)."""
    import tracemalloc

    accounts = {f"p{i}@corp.example": f"E{i}" for i in range(300)}
    p = Processor(build_engine(models=False), FakeHR(accounts), "t.", b"k", lambda emp: 1, {0})  # none owned
    p.send = lambda *a, **k: None
    recs = [p.decode(event_msg(i % 9, acc, i)) for i, acc in enumerate(accounts)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        p.process(recs)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(p._snapshot_json) == 300
    assert held < 300 * 1000, held  # about 0.4 KB each with the dict; 4 KB each before
