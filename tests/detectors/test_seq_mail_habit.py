"""sequence.crm_export_then_personal_mail v5 (issue 14): in the departure period, an export followed by mail home is
graded against the employee's own habit of mailing home before it (churn seed 1: honest leavers who mailed a file
to their own address every few weeks, once within the hour after a routine export)."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.sequence.crm_export_then_personal_mail import RULE as SEQ
from schemas import ActivityEvent, HRRecord

ANN = "ann@corp.example"
HOME = dict(action="send", count=1, personal=True, external=True, sensitivity="internal",
            recipients=["ann.lee@gmail.com"])


def _ev(ts: str, **kw) -> ActivityEvent:
    return ActivityEvent.model_validate(ev(ts, actor=ANN, **kw))


def _leaver(home_every: int | None, period_mails: int = 1, notice_hr_late: bool = False) -> list:
    """Ann works from 5 January (an export every working day, routine sizes) and mails one file home every
    ``home_every`` days (None: never) until her notice of 2 March (last day 31 March); on 4 March she exports 40
    records and mails home 40 minutes later, after ``period_mails - 1`` other mails home in the notice."""
    eng = Engine(rules=[SEQ], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    notice = hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-02")
    alerts: list = []
    d0 = dt.date(2026, 1, 5)
    for i in range(0, 58):  # 5 January .. 3 March
        d = d0 + dt.timedelta(days=i)
        if d == dt.date(2026, 3, 2) and not notice_hr_late:
            alerts += eng.on_hr(HRRecord.model_validate(notice))
        alerts += eng.on_event(_ev(f"{d}T09:00:00Z", action="report_export", count=30, object="Cases"))
        if home_every and i % home_every == 3 and d < dt.date(2026, 3, 2):
            alerts += eng.on_event(_ev(f"{d}T16:00:00Z", **HOME))
        if d >= dt.date(2026, 3, 2) and period_mails > 1 and i - 56 < period_mails - 1:
            alerts += eng.on_event(_ev(f"{d}T16:00:00Z", count=3, **{k: v for k, v in HOME.items() if k != "count"}))
    alerts += eng.on_event(_ev("2026-03-04T10:00:00Z", action="report_export", count=40, object="Contacts by region"))
    alerts += eng.on_event(_ev("2026-03-04T10:40:00Z", **HOME))
    if notice_hr_late:  # HR records the resignation three days late
        alerts += eng.on_hr(HRRecord.model_validate({**notice, "ts": "2026-03-05T09:00:00Z"}))
    return [a for a in alerts if a.rule_id == SEQ.id and a.explanation["status"] == "notice"]


def test_someone_who_mails_home_every_two_weeks_is_low_in_the_notice() -> None:
    alerts = _leaver(home_every=14)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "a habit (graded low)" in alerts[0].title and "times a month before the departure" in alerts[0].title


def test_someone_who_never_mailed_home_before_keeps_the_rules_grade() -> None:
    alerts = _leaver(home_every=None)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "habit" not in alerts[0].title


def test_far_more_mail_home_than_the_habit_explains_is_not_a_habit() -> None:
    """Every three weeks before; then a mail home on each of the notice's first three days (files on the first two):
    a chance under 1 in 1,000 at that pace."""
    alerts = _leaver(home_every=21, period_mails=3)
    assert alerts and alerts[-1].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    assert "habit" not in alerts[-1].title


def test_the_habit_holds_when_hr_records_the_notice_late() -> None:
    """The sequence alerted low while HR still said active; the late notice re-judges it under the habit."""
    alerts = _leaver(home_every=14, notice_hr_late=True)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "a habit (graded low)" in alerts[0].title


def test_an_earlier_export_mailed_home_is_no_habit_even_when_its_day_left_the_flagged_days() -> None:
    """sales_org seed 2 E00177 (crm_bulk_export): an export mailed home while HR said active (alerted low), then,
    in the notice, another: the first is the same act, not a habit that explains the second. The engine's list of
    flagged days keeps only the last few, so the rule leaves out the days of its own earlier sequences."""
    from detectors.context import HRView, day_number
    from detectors.rules.sequence.crm_export_then_personal_mail import DONE, habit_before
    from detectors.state import EmployeeState, Series

    d = day_number
    hrv = HRView(status="notice", last_day=d("2026-03-02"), notice_from=d("2026-01-30"))
    s = Series(days={d("2026-01-21"): 1.0, d("2026-02-04"): 1.0})
    st = EmployeeState(extra={"fs": d("2026-01-05"), "flagged": []})
    before, period, elapsed = habit_before(s, hrv, d("2026-02-04"), st)
    assert before > 0 and period == 1 and elapsed == 6  # without the earlier sequence: a pace, read as a habit
    st.extra[DONE] = [[d("2026-01-21"), 1, 99.0, d("2026-01-21"), [], None, 1, 0.1]]
    assert habit_before(s, hrv, d("2026-02-04"), st)[0] == 0.0
