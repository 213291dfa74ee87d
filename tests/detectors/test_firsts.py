"""First-time behaviour across rules: one shared memory of what an employee has done, kinds of behaviour in
a cluster, a machine's usual user and the peer group."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, ev, hr, run_hr_first


def _run(hrs: list[dict], events: list[dict]) -> list:
    return run_hr_first(Engine(config=EngineConfig(risk=False)), hrs, events)


_HR = [hr("2026-01-01T09:00:00Z")] + [
    hr("2026-01-01T09:00:00Z", employee_id=f"E{i}", accounts=[f"p{i}@corp.example"]) for i in (2, 3)]
# ann, and two colleagues each on their own machine every weekday morning for 30 days
_DAYS = [e for e in daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-ANN")
         if dt.date.fromisoformat(e["ts"][:10]).weekday() < 5]
_OTHERS = [x for i in (2, 3) for x in daily("2026-01-05", 30, per_day=1, hour=8, action="logon",
                                            host=f"PC-{i}", actor=f"p{i}@corp.example")]


def _ids(alerts: list, rule: str) -> list:
    return [a for a in alerts if a.rule_id == rule and a.employee_id == "E1"]


def test_two_new_machines_are_one_kind_of_first() -> None:
    visits = [ev("2026-02-10T10:00:00Z", action="logon", host="PC-2"),
              ev("2026-02-10T11:00:00Z", action="logon", host="PC-3")]
    alerts = _run(_HR, _DAYS + _OTHERS + visits)
    other = _ids(alerts, "logon.other_users_machine")
    assert len(other) == 2 and {a.explanation["new"] for a in other} == {"host:pc-2", "host:pc-3"}
    assert not _ids(alerts, "activity.firsts_together")


def test_a_new_machine_and_a_first_thumb_drive_are_a_cluster() -> None:
    visits = [ev("2026-02-10T10:00:00Z", action="logon", host="PC-2"),
              ev("2026-02-10T10:05:00Z", action="connect", host="PC-2")]
    alerts = _run(_HR, _DAYS + _OTHERS + visits)
    (c,) = _ids(alerts, "activity.firsts_together")
    assert c.severity == "medium" and c.explanation["observed"] == 2.0
    assert set(c.explanation["new"].split(", ")) == {"host:pc-2", "removable"}
    assert c.explanation["history_days"] >= 28


def test_a_recurring_visit_is_known() -> None:
    """ann visited PC-2 in her first weeks, before its usual user was established: later visits are not new."""
    visits = [ev("2026-01-06T10:00:00Z", action="logon", host="PC-2"),
              ev("2026-02-10T10:00:00Z", action="logon", host="PC-2")]
    assert not _ids(_run(_HR, _DAYS + _OTHERS + visits), "logon.other_users_machine")


def test_the_same_thing_is_new_once_for_every_rule() -> None:
    night = [ev("2026-02-10T22:00:00Z", action="logon", host="PC-ANN"),
             ev("2026-02-11T22:00:00Z", action="logon", host="PC-ANN")]
    alerts = _run(_HR, _DAYS + night)
    assert len(_ids(alerts, "activity.first_after_hours")) == 1
