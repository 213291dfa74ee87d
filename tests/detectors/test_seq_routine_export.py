"""sequence.crm_export_then_personal_mail v6 (issue 14): in the departure period, the export is graded against the
employee's own exports before it. A routine report (no larger than their largest export before the departure period)
followed by a mail home is graded low, unless the mail home is named like the export (churn s4 E00308, sales_org s3
E00175: 24 and 15 records after largest exports of 18 and 117, then a file mailed to their own address)."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.crm.bulk_export_before_departure import RULE as BULK
from detectors.rules.sequence.crm_export_then_personal_mail import RULE as SEQ
from schemas import ActivityEvent, HRRecord

ANN = "ann@corp.example"
NOTICE = hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-02")


def _ev(ts: str, **kw) -> ActivityEvent:
    return ActivityEvent.model_validate(ev(ts, actor=ANN, **kw))


def _home(ts: str, attachments: list[str] | None = None, subject: str | None = None) -> ActivityEvent:
    kw: dict = dict(action="send", count=1, personal=True, external=True, sensitivity="internal",
                    recipients=["ann.lee@gmail.com"])
    if attachments:
        kw["attrs"] = {"attachments": attachments}
    if subject:
        kw["object"] = subject
    return _ev(ts, **kw)


def _run(export: int, mail: ActivityEvent, history: bool = True, hr_late: bool = False,
         rules: tuple = (BULK, SEQ)) -> list:
    """Ann works from 5 January; with ``history`` she exports 20-60 records of her cases report on working days
    and once 150 records of her accounts (26 January), until her notice of 2 March (last day 31 March). On 4 March
    she exports ``export`` records of "Customer master" at 10:00 and ``mail`` follows."""
    eng = Engine(rules=list(rules), config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    alerts: list = []
    d0 = dt.date(2026, 1, 5)
    for i in range(0, 58):  # 5 January .. 3 March
        d = d0 + dt.timedelta(days=i)
        if d == dt.date(2026, 3, 2) and not hr_late:
            alerts += eng.on_hr(HRRecord.model_validate(NOTICE))
        if d.weekday() < 5:
            n = 150 if d == dt.date(2026, 1, 26) else 20 + (i * 7) % 41
            if history:
                alerts += eng.on_event(_ev(f"{d}T09:00:00Z", action="report_export", count=n, object="Cases"))
            else:
                alerts += eng.on_event(_ev(f"{d}T09:00:00Z", action="view", object="Account/1"))
    alerts += eng.on_event(_ev("2026-03-04T10:00:00Z", action="report_export", count=export, object="Customer master"))
    alerts += eng.on_event(mail)
    alerts += eng.on_event(_ev("2026-03-04T15:00:00Z", action="view", object="Account/2"))
    if hr_late:  # HR records the resignation three days late: the sequence is judged again under it
        alerts += eng.on_hr(HRRecord.model_validate({**NOTICE, "ts": "2026-03-05T09:00:00Z"}))
    return [a for a in alerts if a.rule_id == SEQ.id and a.explanation["status"] == "notice"]


def test_a_routine_export_then_a_mail_home_is_low() -> None:
    alerts = _run(120, _home("2026-03-04T10:40:00Z", attachments=["photos.zip"]))
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "a routine report (graded low)" in alerts[0].title and "(120 records)" in alerts[0].title
    assert "usual before the departure period (150: their largest export, at least 50)" in alerts[0].title


def test_an_export_larger_than_before_keeps_the_rules_grade() -> None:
    alerts = _run(400, _home("2026-03-04T10:40:00Z", attachments=["photos.zip"]))
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "routine" not in alerts[0].title


def test_a_routine_export_mailed_home_under_its_own_name_keeps_the_grade() -> None:
    """Where it went matters more than its size: the attachment is the exported report."""
    for mail in (_home("2026-03-04T10:40:00Z", attachments=["customer_master 2026-03.xlsx"]),
                 _home("2026-03-04T10:40:00Z", subject="Customer master")):
        alerts = _run(120, mail)
        assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]


def test_a_first_export_ever_is_no_routine() -> None:
    alerts = _run(40, _home("2026-03-04T10:40:00Z"), history=False)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]


def test_the_routine_holds_when_hr_records_the_notice_late() -> None:
    alerts = _run(120, _home("2026-03-04T10:40:00Z"), hr_late=True)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "a routine report (graded low)" in alerts[0].title


def test_without_the_bulk_export_rule_the_grade_stands() -> None:
    alerts = _run(120, _home("2026-03-04T10:40:00Z"), rules=(SEQ,))
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
