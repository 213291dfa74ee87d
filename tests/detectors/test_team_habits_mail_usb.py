"""Team habits of mass mail and of copies to removable media (detectors/habits.py), and what email.mass_mail (v3)
and sequence.job_search_then_exfiltration (v5) make of them and of the machine a message is sent from."""

from __future__ import annotations

import dataclasses

from detectors.catalogue import load_rules
from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, ev, hr, run_hr_first
from detectors.habits import Habits
from detectors.state import EmployeeState
from schemas import ActivityEvent


def _engine(rules: tuple[str, ...]) -> Engine:
    return Engine(rules=[r for r in load_rules() if r.id in rules], config=EngineConfig(risk=False))


def _run(eng: Engine, hrs: list[dict], events: list[dict]) -> list:
    return run_hr_first(eng, hrs, events)


def _team(dept: str, n: int = 5) -> list[EmployeeState]:
    return [EmployeeState(hr={"department": dept}) for _ in range(n)]


def test_the_team_habit_of_mass_mail_covers_a_leaver_but_that_of_thumb_drives_does_not() -> None:
    h = Habits()
    team = _team("Marketing")
    for st in team:
        st.extra["fs"] = 0
        _ = h.off_hours(st, 30, 30 * 86400, True)  # joins the group
    for i, st in enumerate(team[:4]):
        assert h.routine(st, f"e{i}", "mass_mail", 30) in (None, "team")
        h.routine(st, f"e{i}", "removable", 30)
    me = team[4]
    # leaving: the engine passes leaving=True unless the kind is one anyone sees
    from detectors.habits import TEAM_EVEN_LEAVING
    assert "mass_mail" in TEAM_EVEN_LEAVING and "removable" not in TEAM_EVEN_LEAVING
    assert h.routine(me, "e4", "mass_mail", 31, leaving=False) == "team"
    assert h.routine(me, "e4", "removable", 31, leaving=True) is None
    assert h.routine(me, "e4", "removable", 31, leaving=False) == "team"


def test_the_teams_habit_is_named_even_when_it_is_also_the_persons_own() -> None:
    """A burst of copies makes the habit "own" after 3 events; the sequence reads only "team", so the name
    matters: the team's is given first."""
    h = Habits()
    team = _team("Test")
    for st in team:
        st.extra["fs"] = 0
        _ = h.off_hours(st, 30, 30 * 86400, True)
    for i, st in enumerate(team[:4]):
        h.routine(st, f"e{i}", "removable", 30)
    me = team[4]
    whys = [h.routine(me, "e4", "removable", 31) for _ in range(6)]
    assert whys == ["team"] * 6
    lone = EmployeeState(hr={"department": "Finance"}, extra={"fs": 0})
    assert [h.routine(lone, "f1", "removable", 31) for _ in range(5)] == [None, None, None, "own", "own"]


_BOB_HR = hr("2026-01-01T09:00:00Z", employee_id="E2", accounts=["bob@corp.example"])
_BOB = daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-BOB", actor="bob@corp.example")
_ANN = daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-ANN")


def _to(n: int) -> list[str]:
    return [f"p{i}@corp.example" for i in range(n)]


def test_the_engine_marks_mail_to_many_sent_from_someone_elses_machine() -> None:
    from detectors.rules.email.mass_mail import RULE, mass_mail

    seen: list[ActivityEvent] = []

    def spy(e: ActivityEvent) -> int:
        seen.append(e)
        return mass_mail(e)

    eng = Engine(rules=[dataclasses.replace(RULE, predicate=spy)], config=EngineConfig(risk=False))
    alerts = _run(eng, [hr("2026-01-01T09:00:00Z"), _BOB_HR], _ANN + _BOB + [
        ev("2026-02-10T19:05:00Z", action="send", recipients=_to(40), host="PC-BOB", event_id="from-bob"),
        ev("2026-02-11T19:05:00Z", action="send", recipients=_to(40), host="PC-ANN", event_id="from-ann"),
        ev("2026-02-12T19:05:00Z", action="send", recipients=_to(3), host="PC-BOB", event_id="few")])
    marks = {e.event_id: e.attrs.get("machine_of") for e in seen if e.action == "send"}
    assert marks == {"from-bob": "E2", "from-ann": None, "few": None}
    assert [a.explanation["day"] for a in alerts if a.rule_id == "email.mass_mail"] == ["2026-02-10"]


def test_a_mailing_that_is_the_senders_own_habit_is_not_counted_again() -> None:
    mails = [ev(f"2026-01-{d:02d}T15:00:00Z", action="send", recipients=_to(40), external=True)
             for d in (6, 13, 20, 27)] + [ev("2026-02-10T15:00:00Z", action="send", recipients=_to(40), external=True)]
    alerts = _run(_engine(("email.mass_mail",)), [hr("2026-01-01T09:00:00Z")],
                  daily("2026-01-05", 40, per_day=2, action="open") + mails)
    days = {a.explanation["day"] for a in alerts if a.rule_id == "email.mass_mail"}
    assert days and days <= {"2026-01-06", "2026-01-13", "2026-01-20"}  # the first three only


def test_job_search_then_thumb_drive_a_stayer_in_a_thumb_drive_team_and_a_leaver() -> None:
    team_hr = [hr("2026-01-01T09:00:00Z", employee_id=f"M{i}", accounts=[f"m{i}@corp.example"], department="Mkt")
               for i in range(5)]
    team = [ev(f"2026-01-{d + i:02d}T09:00:00Z", actor=f"m{i}@corp.example", action="copy_to_removable", count=20,
               destination=f"USB-M{i}") for i in range(5) for d in (6, 20)]
    work = daily("2026-01-05", 30, per_day=3, action="open")
    search = [ev(f"2026-02-0{d}T12:00:00Z", kind="web", action="visit", object="https://www.indeed.com/j")
              for d in (2, 3, 5)]
    copies = daily("2026-02-12", 1, per_day=12, action="copy_to_removable", destination="USB-NEW")
    rid = "sequence.job_search_then_exfiltration"
    stayer = _run(_engine((rid,)), team_hr + [hr("2026-01-01T09:00:00Z", department="Mkt")],
                  team + work + search + copies)
    assert not [a for a in stayer if a.rule_id == rid]
    leaver = _run(_engine((rid,)), team_hr + [hr("2026-01-01T09:00:00Z", department="Mkt"),
                                              hr("2026-02-09T09:00:00Z", status="notice", last_day="2026-03-06",
                                                 department="Mkt")], team + work + search + copies)
    assert [a.severity for a in leaver if a.rule_id == rid and a.employee_id == "E1"] == ["high"]


def test_a_leaver_is_judged_against_own_copies_that_were_the_teams_habit() -> None:
    """An IT administrator who, staying, copied 5 files a weekday to fresh drives as his team does: those copies
    are no step for him then, but they are his normal. In his notice (the team's habit no longer covers him) 5
    files to a new drive after a job search are his usual day, not 3 times it."""
    import datetime as _dt

    rid = "sequence.job_search_then_exfiltration"
    team_hr = [hr("2026-01-01T09:00:00Z", employee_id=f"T{i}", accounts=[f"t{i}@corp.example"], department="IT")
               for i in range(5)]
    team = [ev(f"2026-01-{d + i:02d}T09:00:00Z", actor=f"t{i}@corp.example", action="copy_to_removable", count=5,
               destination=f"USB-T{i}-{d}") for i in range(5) for d in (5, 12)]
    mine = []
    for k in range(45):
        day = _dt.date(2026, 1, 5) + _dt.timedelta(days=k)
        if day.weekday() < 5:
            mine.append(ev(f"{day.isoformat()}T11:00:00Z", action="copy_to_removable", count=5,
                           destination=f"USB-{k}"))
    search = [ev(f"2026-02-2{d}T12:00:00Z", kind="web", action="visit", object="https://www.indeed.com/j")
              for d in (3, 4, 5)]
    notice = [ev("2026-02-26T11:00:00Z", action="copy_to_removable", count=5, destination="USB-NOTICE")]
    hrs = team_hr + [hr("2026-01-01T09:00:00Z", department="IT"),
                     hr("2026-02-20T09:00:00Z", status="notice", last_day="2026-03-20", department="IT")]
    alerts = _run(_engine((rid,)), hrs, team + mine + search + notice)
    assert not [a for a in alerts if a.rule_id == rid and a.employee_id == "E1"]
    # ... while 20 files that day are 4 times his usual
    big = [ev("2026-02-26T11:00:00Z", action="copy_to_removable", count=20, destination="USB-NOTICE")]
    alerts = _run(_engine((rid,)), hrs, team + mine + search + big)
    assert [a.explanation["observed"] for a in alerts if a.rule_id == rid and a.employee_id == "E1"] == [20]
