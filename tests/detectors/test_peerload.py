"""A spike the person's department shows the same day is graded against the department (detectors.peerload)."""

from __future__ import annotations

from typing import Any

from detectors.catalogue import discover
from detectors.engine import LEVELS, Engine, EngineConfig
from detectors.examples import ev, hr
from schemas import ActivityEvent, HRRecord

RULE = {r.id: r for r in discover()}["crm.access_time_spike"]
PEOPLE = [f"p{i}@corp.example" for i in range(8)]


def _company(everyone_peaks: bool) -> list[Any]:
    """Eight sales people, 30 days of 1200 s of CRM a day; on the peak day p0 does 6000 s and the others
    either 4800 s (month end for everyone) or their usual. Every one of them is in notice (so the grade is
    not capped for people staying), and p0 had a day of 6000 s alone a week before (one busy day in a notice is
    not told alone: crm.access_time_spike v3)."""
    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    for i, a in enumerate(PEOPLE):
        eng.on_hr(HRRecord.model_validate(hr("2026-01-01T08:00:00Z", employee_id=f"E{i}", accounts=[a],
                                             department="sales")))
        eng.on_hr(HRRecord.model_validate(hr("2026-02-01T08:00:00Z", employee_id=f"E{i}", accounts=[a],
                                             department="sales", status="notice", last_day="2026-03-31")))
    events = []
    for d in range(5, 35):
        day = f"2026-01-{d:02d}" if d <= 31 else f"2026-02-{d - 31:02d}"
        for a in PEOPLE:
            events += [ev(f"{day}T{9 + j:02d}:00:00Z", actor=a, action="view", duration_s=120.0) for j in range(10)]
    events += [ev(f"2026-02-03T{9 + j // 6:02d}:{(j % 6) * 9:02d}:00Z", actor=PEOPLE[0], action="view",
                  duration_s=120.0) for j in range(50)]
    for i, a in enumerate(PEOPLE):
        n = 50 if i == 0 else (40 if everyone_peaks else 10)
        events += [ev(f"2026-02-10T{9 + j // 6:02d}:{(j % 6) * 9:02d}:00Z", actor=a, action="view", duration_s=120.0)
                   for j in range(n)]
    events.sort(key=lambda x: (x["ts"], x["actor"] == PEOPLE[0]))  # p0 last at each time: peers seen so far
    out = []
    for e in events:
        out += eng.on_event(ActivityEvent.model_validate(e))
    return [a for a in out if a.employee_id == "E0"]


def test_a_spike_the_whole_department_shows_is_graded_lower() -> None:
    alone, together = _company(False), _company(True)
    assert alone and together
    assert [a.alert_id for a in alone] == [a.alert_id for a in together]  # what fires is unchanged
    assert LEVELS.index(together[0].severity) < LEVELS.index(alone[0].severity), (
        together[0].explanation, alone[0].explanation)
    assert together[0].explanation["department_ratio_today"] > 2
    assert "department_ratio_today" not in alone[0].explanation
