"""Habits (detectors/habits.py) through the whole catalogue: a person's own working hours in any time zone, the
company's own destinations, team habits; and that a first-ever night of someone who never worked late is
still told."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr, run_hr_first


def _run(hrs: list[dict], events: list[dict]) -> list:
    return run_hr_first(Engine(config=EngineConfig(risk=False)), hrs, events)


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


def _it_department(admin_hr: list[dict], admin_events: list[dict]) -> list:
    """Three helpdesk technicians of the IT department log on to colleagues' machines every few days (the
    team's habit); ann (E1) is an administrator of the same department who works on her own machine."""
    people = [hr("2026-01-01T09:00:00Z", employee_id=f"C{i}", accounts=[f"c{i}@corp.example"], department="Finance")
              for i in range(6)]
    helpdesk = [hr("2026-01-01T09:00:00Z", employee_id=f"H{i}", accounts=[f"h{i}@corp.example"], department="IT")
                for i in range(3)]
    own = [e for i in range(6) for e in _workdays("2026-01-05", 60, range(8, 9), actor=f"c{i}@corp.example",
                                                    action="logon", host=f"PC-{i}")]
    desk = [e for i in range(3) for e in _workdays("2026-01-05", 60, range(8, 9), actor=f"h{i}@corp.example",
                                                     action="logon", host=f"PC-H{i}")]
    visits = [ev(f"{(dt.date(2026, 1, 19) + dt.timedelta(days=3 * k + i)).isoformat()}T11:00:00Z",
                 actor=f"h{i}@corp.example", action="logon", host=f"PC-{(k + i) % 6}") for i in range(3) for k in range(5)]
    mine = _workdays("2026-01-05", 60, range(8, 9), action="logon", host="PC-ANN")
    return _run(people + helpdesk + admin_hr, own + desk + visits + mine + admin_events)


_ADMIN = [hr("2026-01-01T09:00:00Z", department="IT", role="systems_administrator")]
_ADMIN_LEAVES = _ADMIN + [hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27",
                             resignation_date="2026-03-02", department="IT", role="systems_administrator")]
_ON_PC_5 = [ev("2026-03-10T14:00:00Z", action="logon", host="PC-5")]


def _logons(alerts: list) -> list:
    return [a for a in alerts if a.rule_id == "logon.other_users_machine" and a.employee_id == "E1"]


def test_the_teams_habit_hides_an_administrator_who_stays() -> None:
    assert _logons(_it_department(_ADMIN, _ON_PC_5)) == []


def test_the_teams_habit_does_not_hide_a_departing_administrators_first_logon_on_a_colleagues_machine() -> None:
    """The sabotage case: an administrator who never logged on to a colleague's machine does so in his notice;
    his helpdesk colleagues' habit is theirs, not his (version 2 read it as routine: nothing fired)."""
    told = _logons(_it_department(_ADMIN_LEAVES, _ON_PC_5))
    assert [a.severity for a in told] == ["medium"], told
    assert "pc-5" in told[0].title


def test_nor_a_watched_administrators() -> None:
    watched = [hr("2026-01-01T09:00:00Z", department="IT", role="systems_administrator"),
               hr("2026-03-01T09:00:00Z", department="IT", role="systems_administrator", watchlist=True)]
    assert len(_logons(_it_department(watched, _ON_PC_5))) == 1


def test_a_departing_helpdesk_technicians_own_habit_stays_calm() -> None:
    """ann does desk-side support herself (three colleagues' machines before her notice): her next one in the
    notice is her own routine, not news."""
    before = [ev(f"2026-01-{20 + 3 * k:02d}T11:00:00Z", action="logon", host=f"PC-{k}") for k in range(3)]
    assert _logons(_it_department(_ADMIN_LEAVES, before + _ON_PC_5)) == []
