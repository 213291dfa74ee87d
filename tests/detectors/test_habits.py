"""Habits (detectors/habits.py) through the whole catalogue: a person's own working hours in any time zone, the
company's own destinations, team habits; and that a first-ever night of someone who never worked late is
still told."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from schemas import ActivityEvent, HRRecord


def _run(hrs: list[dict], events: list[dict]) -> list:
    eng = Engine(config=EngineConfig(risk=False))
    for h in sorted(hrs, key=lambda x: x["ts"]):
        eng.on_hr(HRRecord.model_validate(h))
    alerts = []
    for e in sorted(events, key=lambda x: x["ts"]):
        alerts += eng.on_event(ActivityEvent.model_validate(e))
    return alerts


def _workdays(start: str, days: int, hours: range, actor: str = "ann@corp.example", **fields: object) -> list[dict]:
    d0 = dt.date.fromisoformat(start)
    out = []
    for i in range(days):
        d = d0 + dt.timedelta(days=i)
        if d.weekday() < 5:
            for h in hours:
                out.append(ev(f"{d.isoformat()}T{h % 24:02d}:10:00Z" if h < 24 else
                              f"{(d + dt.timedelta(days=1)).isoformat()}T{h % 24:02d}:10:00Z",
                              actor=actor, **fields))
    return out


def _rules(alerts: list, emp: str = "E1") -> set[str]:
    return {a.rule_id for a in alerts if a.employee_id == emp}


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02")]


def test_a_new_york_leaver_working_afternoons_is_not_after_hours() -> None:
    """09:00-17:00 in New York is 14:00-22:00 UTC: her busy notice days are her own hours."""
    history = _workdays("2026-01-05", 56, range(14, 22))
    busy = [e for _ in range(4) for e in _workdays("2026-03-09", 10, range(14, 22))]  # four times as many, same hours
    alerts = _run(_LEAVER, history + busy)
    assert not _rules(alerts) & {"activity.after_hours_spike", "activity.first_after_hours"}


def test_someone_who_never_worked_late_is_still_told_about_the_first_night() -> None:
    history = _workdays("2026-01-05", 40, range(8, 17))
    night = [ev("2026-02-18T23:30:00Z", action="logon"), ev("2026-02-18T23:40:00Z", action="open")]
    alerts = _run([hr("2026-01-01T09:00:00Z")], history + night)
    assert "activity.first_after_hours" in _rules(alerts)


def test_a_night_shift_is_the_night_workers_own_hours() -> None:
    """22:00-06:00 UTC every weekday for eight weeks, then a busy night in notice: not after hours."""
    history = _workdays("2026-01-05", 56, range(22, 30))
    busy = [e for _ in range(5) for e in _workdays("2026-03-10", 1, range(22, 30))]
    alerts = _run(_LEAVER, history + busy)
    assert not _rules(alerts) & {"activity.after_hours_spike", "activity.first_after_hours"}


def test_the_companys_own_code_host_is_not_personal_cloud() -> None:
    """30 engineers push to github.com (listed as personal) on most days; one more push of 8 files by ann."""
    people = [hr("2026-01-01T09:00:00Z", employee_id=f"G{i}", accounts=[f"g{i}@corp.example"]) for i in range(30)]
    push = dict(kind="web", action="upload", personal=True, destination="github.com", count=8)
    pushes = [e for i in range(30) for e in _workdays("2026-01-05", 20, range(11, 12), actor=f"g{i}@corp.example",
                                                        **push)]
    mine = [ev("2026-02-10T10:00:00Z", **push)]
    alerts = _run([hr("2026-01-01T09:00:00Z")] + people, pushes + mine)
    assert "web.personal_cloud_upload" not in _rules(alerts)
    # ...while the same upload to a storage service nobody uses is still told
    alerts = _run([hr("2026-01-01T09:00:00Z")] + people,
                  pushes + [ev("2026-02-10T10:00:00Z", **{**push, "destination": "mega.nz"})])
    assert "web.personal_cloud_upload" in _rules(alerts)


def test_a_helpdesk_technician_on_colleagues_machines() -> None:
    """Ten colleagues of other departments each on their own machine; ann (helpdesk) logs on to one of them
    every other day: after her first few it is her habit (version 1 told every new machine)."""
    people = [hr("2026-01-01T09:00:00Z", employee_id=f"C{i}", accounts=[f"c{i}@corp.example"], department=f"D{i}")
              for i in range(10)]
    own = [e for i in range(10) for e in _workdays("2026-01-05", 60, range(8, 9), actor=f"c{i}@corp.example",
                                                     action="logon", host=f"PC-{i}")]
    mine = _workdays("2026-01-05", 60, range(8, 9), action="logon", host="PC-ANN")
    visits = [ev(f"{(dt.date(2026, 1, 26) + dt.timedelta(days=2 * k)).isoformat()}T11:00:00Z", action="logon",
                 host=f"PC-{k % 10}") for k in range(14)]
    alerts = _run([hr("2026-01-01T09:00:00Z", department="Helpdesk")] + people, own + mine + visits)
    told = [a for a in alerts if a.rule_id == "logon.other_users_machine" and a.employee_id == "E1"]
    assert len(told) <= 1
