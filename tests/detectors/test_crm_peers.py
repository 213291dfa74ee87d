"""crm.bulk_export_before_departure v8 and sequence.crm_export_then_personal_mail v4 (issue 14).

v8: an export is graded against the colleagues' largest single exports too (the department's upper-quartile
member), unless the export went to a personal address or the person has no own reference.
v4: HR news that makes someone a leaver re-judges an export-then-mail-home sequence of the days before."""

from __future__ import annotations

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.crm.bulk_export_before_departure import RULE as EXPORT
from detectors.rules.sequence.crm_export_then_personal_mail import DONE, KEPT, RULE as SEQ
from schemas import ActivityEvent, HRRecord

ANN = "ann@corp.example"


def _ev(ts: str, actor: str = ANN, **kw) -> ActivityEvent:
    return ActivityEvent.model_validate(ev(ts, actor=actor, **kw))


def _team(colleague_rows: int, with_mail_home: bool = False, dept: str = "marketing",
          passed_on: bool = False) -> list:
    """Eight colleagues in ``dept`` who each exported ``colleague_rows`` records once a week; Ann, of the same
    department, exported 60-80 records a week and, in her notice, one list of 700 records."""
    eng = Engine(rules=[EXPORT], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z", department=dept, role="specialist")))
    for i in range(8):
        eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z", employee_id=f"C{i}", department=dept,
                                             role="specialist", accounts=[f"c{i}@corp.example"])))
    for week in range(6):
        d = 5 + 7 * week
        day = f"2026-{1 + (d - 1) // 31:02d}-{(d - 1) % 31 + 1:02d}"
        for i in range(8):
            eng.on_event(_ev(f"{day}T10:00:00Z", f"c{i}@corp.example", action="report_export",
                             count=colleague_rows + 10 * i, object="Campaign list"))
        eng.on_event(_ev(f"{day}T11:00:00Z", action="report_export", count=60 + 4 * week, object="Campaign list"))
    eng.on_hr(HRRecord.model_validate(hr("2026-02-20T09:00:00Z", status="notice", last_day="2026-03-13",
                                         department=dept, role="specialist")))
    alerts = eng.on_event(_ev("2026-03-02T10:00:00Z", action="report_export", count=700, object="Campaign list"))
    if passed_on:  # mailed to a colleague 40 minutes later, nothing in the hours before
        alerts += eng.on_event(_ev("2026-03-02T10:40:00Z", action="send", count=1, external=False, personal=False,
                                   recipients=["successor@corp.example"]))
    if with_mail_home:
        alerts += eng.on_event(_ev("2026-03-02T11:00:00Z", action="send", count=1, personal=True, external=True,
                                   recipients=["ann.lee@gmail.com"]))
    alerts += eng.on_event(_ev("2026-03-02T15:00:00Z", action="open", object="/sites/marketing/notes.docx"))
    return [a for a in alerts if a.rule_id == EXPORT.id and a.employee_id == "E1"]


def test_an_export_the_size_colleagues_routinely_make_is_low() -> None:
    alerts = _team(colleague_rows=600)
    assert len(alerts) == 1 and alerts[0].severity == "low", [a.title for a in alerts]
    assert "colleagues in marketing made single exports of" in alerts[0].title


def test_the_same_export_where_colleagues_export_little_is_graded_on_the_own_normal() -> None:
    alerts = _team(colleague_rows=40)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "colleagues in" not in alerts[0].title


def test_an_export_mailed_home_is_not_softened_by_the_colleagues() -> None:
    alerts = _team(colleague_rows=600, with_mail_home=True)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "mailed to a personal address within 2 h" in alerts[0].title


def test_an_export_passed_on_to_a_colleague_is_a_handover_within_what_colleagues_export() -> None:
    assert _team(colleague_rows=600, passed_on=True) == []
    assert _team(colleague_rows=250, passed_on=True) == []  # 700 is below 3 times 320


def test_an_export_passed_on_but_far_beyond_what_colleagues_export_is_graded_as_kept() -> None:
    """shifts s2 E00128: a 1,089-record bulk query on the last day, 'passed on' by an ordinary mail 54 min later."""
    alerts = _team(colleague_rows=40, passed_on=True)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "passed on, but" in alerts[0].title


def test_a_colleague_in_another_department_does_not_count() -> None:
    eng_alerts = _team(colleague_rows=600, dept="marketing")
    assert eng_alerts[0].severity == "low"
    # the same numbers, but Ann moves to finance before her notice: her finance colleagues exported nothing
    eng = Engine(rules=[EXPORT], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z", department="finance")))
    for i in range(8):
        eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z", employee_id=f"C{i}", department="marketing",
                                             accounts=[f"c{i}@corp.example"])))
        eng.on_event(_ev("2026-01-12T10:00:00Z", f"c{i}@corp.example", action="report_export", count=900))
    for d in range(5, 31, 5):
        eng.on_event(_ev(f"2026-01-{d:02d}T11:00:00Z", action="report_export", count=70, object="Campaign list"))
    eng.on_hr(HRRecord.model_validate(hr("2026-02-20T09:00:00Z", status="notice", last_day="2026-03-13",
                                         department="finance")))
    alerts = eng.on_event(_ev("2026-03-02T10:00:00Z", action="report_export", count=700, object="Campaign list"))
    alerts += eng.on_event(_ev("2026-03-02T15:00:00Z", action="open", object="/x.docx"))
    mine = [a for a in alerts if a.rule_id == EXPORT.id]
    assert len(mine) == 1 and mine[0].severity in ("high", "critical")


# ------------------------------------------------------------------ sequence v4: HR news after the sequence
def _sequence(news: dict | None, mail_day: str = "2026-02-21") -> list:
    eng = Engine(rules=[SEQ], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    for d in range(5, 31):  # ordinary work: an export a day, nothing home
        eng.on_event(_ev(f"2026-01-{d:02d}T10:00:00Z", action="report_export", count=30, object="Cases"))
    alerts = eng.on_event(_ev(f"{mail_day}T12:14:00Z", action="report_export", count=350,
                              object="All accounts with contacts"))
    alerts += eng.on_event(_ev(f"{mail_day}T14:00:00Z", action="send", count=1, personal=True, external=True,
                               recipients=["ann.lee@gmail.com"]))
    if news:
        alerts += eng.on_hr(HRRecord.model_validate(hr("2026-02-22T09:00:00Z", **news)))
    return [a for a in alerts if a.rule_id == SEQ.id]


def test_a_sequence_while_active_is_low_and_raised_when_a_dismissal_is_recorded_two_days_before_the_last_day() -> None:
    before = _sequence(None)
    assert [a.severity for a in before] == ["low"]
    after = _sequence({"status": "notice", "last_day": "2026-02-23"})
    assert [a.severity for a in after][0] == "low" and len(after) == 2, [a.title for a in after]
    assert after[1].severity in ("high", "critical") and after[1].explanation["day"] == "2026-02-21"


def test_a_sequence_long_before_the_last_day_is_not_raised_by_the_news() -> None:
    after = _sequence({"status": "notice", "last_day": "2026-04-30"}, mail_day="2026-02-02")
    assert [a.severity for a in after] == ["low"], [a.title for a in after]


def test_news_that_does_not_make_the_person_a_leaver_raises_nothing() -> None:
    after = _sequence({"status": "active", "watchlist": False, "department": "sales"})
    assert [a.severity for a in after] == ["low"]


def test_the_kept_sequences_are_few() -> None:
    from detectors.state import EmployeeState

    eng = Engine(rules=[SEQ], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    for d in range(5, 20):
        eng.on_event(_ev(f"2026-01-{d:02d}T10:00:00Z", action="report_export", count=30, object="Cases"))
        eng.on_event(_ev(f"2026-01-{d:02d}T10:30:00Z", action="send", count=1, personal=True, external=True,
                         recipients=["ann.lee@gmail.com"]))
    st = eng.store.get("E1")
    assert isinstance(st, EmployeeState) and len(st.extra[DONE]) == KEPT


def _newcomer(colleague_rows: int, peer_first: bool = True) -> list:
    """v10: Ann, first seen in her notice (no export, no history of her own), exports 700 records; her eight
    colleagues in marketing exported ``colleague_rows`` records or a little more once a week."""
    import dataclasses

    rule = EXPORT if peer_first else dataclasses.replace(EXPORT, window=dataclasses.replace(EXPORT.window,
                                                                                          peer_first=False))
    eng = Engine(rules=[rule], config=EngineConfig(risk=False))
    for i in range(8):
        eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z", employee_id=f"C{i}", department="marketing",
                                             role="specialist", accounts=[f"c{i}@corp.example"])))
        for week in range(6):
            d = 5 + 7 * week
            day = f"2026-{1 + (d - 1) // 31:02d}-{(d - 1) % 31 + 1:02d}"
            eng.on_event(_ev(f"{day}T10:00:00Z", f"c{i}@corp.example", action="report_export",
                             count=colleague_rows + 10 * i, object="Campaign list"))
    eng.on_hr(HRRecord.model_validate(hr("2026-02-20T09:00:00Z", status="notice", last_day="2026-03-13",
                                         department="marketing", role="specialist")))
    alerts = eng.on_event(_ev("2026-03-02T10:00:00Z", action="report_export", count=700, object="Campaign list"))
    alerts += eng.on_event(_ev("2026-03-02T15:00:00Z", action="open", object="/sites/marketing/notes.docx"))
    return [a for a in alerts if a.rule_id == EXPORT.id and a.employee_id == "E1"]


def test_a_first_export_without_own_history_is_graded_against_what_colleagues_export() -> None:
    """rnd_lab s5 E00073: the department's usual list, the person's first export, 10 days into the data."""
    alerts = _newcomer(colleague_rows=600)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "too little history of their own" in alerts[0].title
    assert [a.severity for a in _newcomer(colleague_rows=600, peer_first=False)] == ["high"]  # as in v9


def test_a_first_export_far_beyond_what_colleagues_export_keeps_its_severity() -> None:
    alerts = _newcomer(colleague_rows=40)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
