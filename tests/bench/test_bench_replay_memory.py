"""``python -m exitwatch.bench_replay_memory``: replay's memory per tracked employee (unit: no broker)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from detectors.examples import daily, hr
from detectors.state import EmployeeState
from exitwatch.bench_replay_memory import measure, state_bytes


def test_state_bytes_counts_what_states_share_once() -> None:
    a, b = EmployeeState(), EmployeeState()
    a.get_series("r:x").add(20500, 1.0, "e1")
    b.get_series("r:x").add(20500, 1.0, "e1")
    one = state_bytes([a])
    assert one > 0
    assert state_bytes([a, a]) == one  # the same state twice
    assert one < state_bytes([a, b]) < 2 * one  # two states: the day number and the rule's key are shared


def test_measure_replays_a_company_and_names_its_alerts(tmp_path: Path) -> None:
    lines = lambda rows: b"".join(orjson.dumps(r) + b"\n" for r in rows)  # noqa: E731
    (tmp_path / "hr.jsonl").write_bytes(lines([
        hr("2026-01-01T08:00:00Z", "E1", accounts=["ann@corp.example"]),
        hr("2026-01-01T08:00:00Z", "E2", accounts=["bob@corp.example"])]))
    (tmp_path / "signals.jsonl").write_bytes(b"")
    events = daily("2026-01-05", 20, per_day=2) + daily("2026-01-05", 20, per_day=1, actor="bob@corp.example")
    events.sort(key=lambda e: e["ts"])
    (tmp_path / "events.jsonl").write_bytes(lines(events))
    out = tmp_path / "alerts.jsonl"
    res = measure(tmp_path, out)
    assert res["events"] == 60 and res["tracked_employees"] == 2
    assert res["state_bytes_per_tracked_employee"] > 0
    assert res["alerts_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert res["alerts"] == len(out.read_bytes().splitlines())
