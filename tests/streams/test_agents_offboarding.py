"""The Faust worker's detect stage writes a leaver's last-day summary without news of their own: the event-time
watermark of their partition (other employees' records, EXITWATCH_WATERMARK_LATENESS_S behind) passes the last
day (streams.app.Worker.watermark, detectors.engine.Engine.advance)."""

from __future__ import annotations

from typing import Any

import orjson

from agent_fakes import offline_worker

SUMMARY = "offboarding.last_day_summary"


def _hr(emp: str, ts: str, **kw: Any) -> bytes:
    return orjson.dumps({"employee_id": emp, "ts": ts, "department": "support", **kw})


def _sig(emp: str, ts: str) -> bytes:
    return orjson.dumps({"employee_id": emp, "ts": ts, "signal": "late_arrival", "value": 20})


async def test_watermark_writes_the_summary_of_a_silent_leaver_on_its_partition(tmp_path: Any) -> None:
    w = offline_worker(tmp_path)
    await w.detect_one("h", "test.hr.status", 0, _hr("E4", "2026-03-02T09:00:00Z", status="notice",
                                                      last_day="2026-03-13"), partition=0)
    await w.detect_one("h", "test.hr.status", 1, _hr("E2", "2026-03-02T09:00:00Z", status="active"), partition=0)
    await w.detect_one("h", "test.hr.status", 0, _hr("E7", "2026-03-02T09:00:00Z", status="active"), partition=1)

    def summaries() -> list[dict[str, Any]]:
        return [v for _, v in w.sent["alerts_hr"].items if v["rule_id"] == SUMMARY]

    # another partition's time does not decide for E4's; within the lateness of midnight nothing yet
    await w.detect_one("s", "test.hr.signals", 0, _sig("E7", "2026-03-20T10:00:00Z"), partition=1)
    await w.detect_one("s", "test.hr.signals", 0, _sig("E2", "2026-03-14T00:30:00Z"), partition=0)
    assert not summaries()
    await w.detect_one("s", "test.hr.signals", 1, _sig("E2", "2026-03-16T09:00:00Z"), partition=0)
    got = summaries()
    assert [a["employee_id"] for a in got] == ["E4"]
    assert got[0]["ts"].startswith("2026-03-14T00:00:00") and got[0]["explanation"]["last_day"] == "2026-03-13"
    assert w.store.table["E4"] is not None  # its state (the summary remembered) is written
    await w.detect_one("s", "test.hr.signals", 2, _sig("E2", "2026-03-17T09:00:00Z"), partition=0)
    assert len(summaries()) == 1, "once"


async def test_after_a_restart_the_leavers_due_come_from_the_hr_store(tmp_path: Any) -> None:
    """A restarted worker knows nothing in memory: the leavers of its assigned partitions whose last day is still
    to come are read back from the HR store (Worker.note_leavers, called on assignment), so a leaver who is never
    heard of again still gets the summary when the partition's watermark passes the last day; once only."""
    from detectors.engine import Engine

    from streams.app import partition_of

    w = offline_worker(tmp_path)
    nparts = 4
    part = partition_of(b"E4", nparts)
    other = next(e for e in (f"E{i}" for i in range(10, 99)) if partition_of(e.encode(), nparts) == part)
    await w.detect_one("h", "test.hr.status", 0, _hr("E4", "2026-03-02T09:00:00Z", status="notice",
                                                      last_day="2026-03-13"), partition=part)
    await w.detect_one("h", "test.hr.status", 1, _hr(other, "2026-03-02T09:00:00Z", status="active"), partition=part)
    # the restart: the same states (the changelog table), a new engine with nothing in memory
    w.engine.due.clear()
    w.emp_partition.clear()
    w.engine.watermarks.clear()
    records = [orjson.loads(_hr("E4", "2026-03-02T09:00:00Z", status="notice", last_day="2026-03-13")),
               orjson.loads(_hr(other, "2026-03-02T09:00:00Z", status="active"))]
    assert w.note_leavers(records, {(part + 1) % nparts}, nparts) == 0, "not this worker's partition"
    assert w.note_leavers(records, {part}, nparts) == 1
    assert isinstance(w.engine, Engine) and "E4" in w.engine.due

    def summaries() -> list[dict[str, Any]]:
        return [v for _, v in w.sent["alerts_hr"].items if v["rule_id"] == SUMMARY]

    await w.detect_one("s", "test.hr.signals", 0, _sig(other, "2026-03-16T09:00:00Z"), partition=part)
    got = summaries()
    assert [a["employee_id"] for a in got] == ["E4"]
    assert got[0]["ts"].startswith("2026-03-14T00:00:00")
    # noted again (another rebalance): the summary is remembered in the state, not written twice
    w.note_leavers(records, {part}, nparts)
    await w.detect_one("s", "test.hr.signals", 1, _sig(other, "2026-03-18T09:00:00Z"), partition=part)
    assert len(summaries()) == 1
