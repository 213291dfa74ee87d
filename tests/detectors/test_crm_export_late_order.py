"""crm.bulk_export_before_departure: the outcome must not depend on the order in which an employee's records of
nearby times are applied. The worker's time merge may apply a record late (after later ones: a partition fetched
late after a resume); replay applies them in time order. Before the fix the waiting export was marked passed on
(or mailed home) only when the mail came *after* it was applied, so an export applied late was reported as kept:
the quick fault run's flake (E00028: a 222-record export passed on 38 minutes later was reported on the worker,
not on replay)."""

from __future__ import annotations

import itertools

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.crm.bulk_export_before_departure import RULE as EXPORT
from schemas import ActivityEvent, HRRecord

HISTORY = [ev(f"2026-01-{d:02d}T10:00:00Z", action="report_export", count=40, object="Pipeline by region")
           for d in range(5, 31)]


def _mail(ts: str, **kw) -> dict:
    return ev(ts, action="send", **{"count": 1, "external": False, "personal": False,
                                    "recipients": ["successor@corp.example"], **kw})


def _home(ts: str) -> dict:
    return ev(ts, action="send", count=1, external=True, personal=True, recipients=["me@gmail.com"],
              sensitivity="confidential")


def _alerts(records: list[dict], notice_at: str) -> list[tuple[str, str, float]]:
    """The rule's alerts (title, severity, observed) over ``records`` applied in the given order, with the notice
    (HR record at ``notice_at``) before them or after them by its time; the employee's next input (LATER) follows
    the records and ends the exports' wait."""
    eng = Engine(rules=[EXPORT], config=EngineConfig(risk=False))
    out = eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    for e in HISTORY:
        out += eng.on_event(ActivityEvent.model_validate(e))
    notice = HRRecord.model_validate(hr(notice_at, status="notice", last_day="2026-03-05"))
    first = notice_at < min(e["ts"] for e in records)  # (the same ISO form, Z)
    if first:  # the notice is known before the exports: judged as they come
        out += eng.on_hr(notice)
    for e in records + LATER:
        out += eng.on_event(ActivityEvent.model_validate(e))
    if not first:  # news after the exports: the HR lookback judges them
        out += eng.on_hr(notice)
    return sorted((a.title, a.severity, a.explanation["observed"]) for a in out if a.rule_id == EXPORT.id)


#: Records of a few hours, permuted (a record applied late comes before the export's wait is over: an export
#: already judged is reported, whatever comes later), then the records that follow in time order.
CASES = {
    # an export passed on to a colleague 40 minutes later, then a smaller one the next day (E00028's pattern)
    "passed on": ([ev("2026-02-10T12:05:00Z", action="report_export", count=900, object="Pipeline report"),
                   _mail("2026-02-10T12:45:00Z")],
                  [ev("2026-02-11T11:00:00Z", action="report_export", count=300, object="Pipeline report")]),
    # someone already mailing colleagues before the export: the mail after it passes nothing on
    "busy": ([_mail("2026-02-10T11:00:00Z"),
              ev("2026-02-10T12:05:00Z", action="report_export", count=900, object="Pipeline report"),
              _mail("2026-02-10T12:45:00Z")], []),
    # mailed home 30 minutes later
    "home": ([ev("2026-02-10T12:05:00Z", action="report_export", count=900, object="Pipeline report"),
              _home("2026-02-10T12:35:00Z"), _mail("2026-02-10T12:45:00Z")], []),
}
LATER = [ev("2026-02-11T17:00:00Z", action="open", object="/sites/sales/notes.docx")]


def test_the_alerts_of_the_hr_lookback_do_not_depend_on_the_order_the_records_were_applied() -> None:
    for name, (records, then) in CASES.items():
        in_order = _alerts(records + then, "2026-02-16T09:00:00Z")
        assert in_order, name  # each case does report something
        for perm in itertools.permutations(records):
            assert _alerts(list(perm) + then, "2026-02-16T09:00:00Z") == in_order, (name, [e["ts"] for e in perm])


def test_the_alerts_in_notice_do_not_depend_on_the_order_the_records_were_applied() -> None:
    for name, (records, then) in CASES.items():
        in_order = _alerts(records + then, "2026-02-02T09:00:00Z")
        assert in_order, name
        for perm in itertools.permutations(records):
            assert _alerts(list(perm) + then, "2026-02-02T09:00:00Z") == in_order, (name, [e["ts"] for e in perm])
