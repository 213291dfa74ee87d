"""Thieves within their usual volume (issue 14): low-and-slow downloads from new places, bulk exports made
before HR knew of the resignation. Each test says what the rule must grade, and would fail on the old grading.
"""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, ev, hr, run_example
from detectors.rule import Example
from detectors.rules.crm.bulk_export_before_departure import RULE as EXPORT
from detectors.rules.file.downloads_from_new_places import RULE as NEW_PLACES
from detectors.state import EmployeeState
from detectors.windows import FRESH, FRESH_MEMORY, Sustained, binomial_tail, fresh_since
from schemas import ActivityEvent, HRRecord

LEVELS = ("low", "medium", "high", "critical")


def _workdays(start: str, n: int, per_day: int, obj: str, hour: int = 10) -> list[dict]:
    d0 = dt.date.fromisoformat(start)
    out = []
    for i in range(n):
        d = d0 + dt.timedelta(days=i)
        if d.weekday() < 5:
            out += daily(d.isoformat(), 1, per_day, hour=hour, action="download", object=obj)
    return out


def _low_and_slow(resigned: str, recorded: str) -> Example:
    """Nine days of ordinary work in one place, then 3 downloads a day from other departments' sites for a month
    (within 1.5x... in fact below their usual volume per day plus a little), the resignation recorded late."""
    own = _workdays("2026-01-05", 40, 2, "/sites/support/cases/case.pdf")
    theft = []
    for i, site in enumerate(("finance/reports", "hr/personnel", "exec/board")):
        theft += _workdays("2026-01-14", 30, 1, f"/sites/{site}/doc.pdf", hour=11 + i)
    return Example("low and slow", True, own + theft,
                   [hr("2026-01-05T08:00:00Z"),
                    hr(f"{recorded}T09:00:00Z", status="notice", resignation_date=resigned, last_day="2026-02-13")])


def test_low_and_slow_downloads_from_new_places_reach_medium_though_hr_knew_late() -> None:
    alerts = run_example(NEW_PLACES, _low_and_slow("2026-01-30", "2026-01-30"))
    assert len(alerts) == 1
    a = alerts[0]
    assert LEVELS.index(a.severity) >= 1, a.title
    x = a.explanation
    assert x["new_things"] == 3 and x["ref_days"] >= 7 and x["evidence"] >= 5
    assert x["observed"] >= 5 and x["ref_days_with"] <= 1
    assert "3 place(s) new to the employee" in a.title


def test_a_big_handover_from_the_persons_own_places_is_not_flagged() -> None:
    own = _workdays("2026-01-05", 40, 2, "/sites/support/cases/case.pdf")
    handover = _workdays("2026-01-26", 18, 8, "/sites/support/cases/handover.pdf", hour=14)  # 5x the volume
    ex = Example("handover", False, own + handover,
                 [hr("2026-01-05T08:00:00Z"),
                  hr("2026-01-26T09:00:00Z", status="notice", resignation_date="2026-01-26", last_day="2026-02-13")])
    assert run_example(NEW_PLACES, ex) == []


def test_the_evidence_needs_many_days_and_a_low_normal_share() -> None:
    w = Sustained()
    # 5 of 10 days against a normal of none in 30 days: strong; 5 of 10 against one day in three: none.
    assert -__import__("math").log10(binomial_tail(5, 10, 0.5 / 31)) > w.min_evidence
    assert binomial_tail(5, 10, 10.5 / 31) > 0.01
    assert binomial_tail(0, 10, 0.3) == 1.0


def test_the_place_memory_is_bounded_and_keeps_the_first_use() -> None:
    st = EmployeeState()
    assert fresh_since(st, "sites/own", 100, 100, 7) is None  # the first week is the person's own
    for i in range(3 * FRESH_MEMORY):
        assert fresh_since(st, f"sites/p{i}", 120 + i, 100, 7) == 120 + i
    assert len(st.extra[FRESH]) == 7 * FRESH_MEMORY
    last = f"sites/p{3 * FRESH_MEMORY - 1}"
    assert fresh_since(st, last, 200, 100, 7) == 120 + 3 * FRESH_MEMORY - 1  # first use remembered
    assert fresh_since(st, None, 200, 100, 7) is None


def _export_engine() -> Engine:
    return Engine(rules=[EXPORT], config=EngineConfig(risk=False))


def _exports(eng: Engine, items: list[tuple[str, int, str]]) -> list:
    alerts = []
    for ts, count, action in items:
        alerts += eng.on_event(ActivityEvent.model_validate(ev(ts, action=action, count=count, object="Opportunities")))
    return alerts


def _next_input(eng: Engine, ts: str) -> list:
    """The employee's next input: an export waits 2 hours for a handover mail before it is judged (v5)."""
    return eng.on_event(ActivityEvent.model_validate(ev(ts, action="open", object="/sites/sales/notes.docx")))


def test_a_bulk_export_made_before_hr_knew_is_graded_against_the_exports_before_the_departure() -> None:
    eng = _export_engine()
    eng.on_hr(HRRecord.model_validate(hr("2026-01-05T08:00:00Z")))
    usual = [(f"2026-01-{d:02d}T10:00:00Z", 20 + 2 * d, "report_export") for d in range(5, 31)]
    assert _exports(eng, usual) == []
    # Resigned on 02-06, recorded on 02-14: the 659-record export of 02-11 had taught the learned peak.
    alerts = _exports(eng, [("2026-02-11T09:00:00Z", 659, "export"), ("2026-02-12T09:00:00Z", 30, "report_export"),
                            ("2026-02-13T09:00:00Z", 25, "report_export")])
    assert alerts == []  # nobody knew she was leaving
    alerts = eng.on_hr(HRRecord.model_validate(hr("2026-02-14T09:00:00Z", status="notice",
                                                  resignation_date="2026-02-06", last_day="2026-02-20")))
    assert [a.rule_id for a in alerts] == [EXPORT.id]
    a = alerts[0]
    assert a.severity in ("high", "critical"), a.title  # v2 read 1.02x the (contaminated) peak: low
    # nothing >= 100 was stored before the period; the day is judged against the baseline it had (the look-back
    # reads ``Series.as_of``): the fading peak of the usual 30-80 record exports, not a peak that learned the 659
    assert round(a.explanation["largest_before"], 2) == 64.06 and a.explanation["ratio_to_own_normal"] == 10.29
    assert a.severity == "critical" and "largest before the departure period was 64" in a.title


def test_a_handover_export_no_larger_than_before_stays_low() -> None:
    eng = _export_engine()
    eng.on_hr(HRRecord.model_validate(hr("2026-01-05T08:00:00Z")))
    _exports(eng, [(f"2026-01-{d:02d}T10:00:00Z", 40, "report_export") for d in range(5, 31)])
    _exports(eng, [("2026-01-20T11:00:00Z", 300, "report_export")])  # a big month-end report, as usual
    eng.on_hr(HRRecord.model_validate(hr("2026-02-16T09:00:00Z", status="notice", last_day="2026-03-13")))
    alerts = _exports(eng, [("2026-03-02T10:00:00Z", 280, "report_export")]) + _next_input(eng, "2026-03-02T13:00:00Z")
    assert len(alerts) == 1 and alerts[0].severity == "low", alerts[0].title
    assert alerts[0].explanation["largest_before"] == 300


def test_an_export_of_a_new_kind_is_graded_against_the_largest_before_and_one_of_the_usual_kind_against_twice_it(
) -> None:
    def run(action: str) -> list:
        eng = _export_engine()
        eng.on_hr(HRRecord.model_validate(hr("2026-01-05T08:00:00Z")))
        _exports(eng, [(f"2026-01-{d:02d}T10:00:00Z", 40, "report_export") for d in range(5, 31)])
        _exports(eng, [("2026-01-20T11:00:00Z", 300, "report_export")])
        eng.on_hr(HRRecord.model_validate(hr("2026-02-16T09:00:00Z", status="notice", last_day="2026-03-13")))
        return _exports(eng, [("2026-03-02T10:00:00Z", 700, action)]) + _next_input(eng, "2026-03-02T13:00:00Z")

    usual, new = run("report_export"), run("bulk_query")
    assert usual[0].severity == "low" and usual[0].explanation["ratio_to_own_normal"] == round(700 / 600, 2)
    assert "a kind they exported before" in usual[0].title
    assert new[0].severity == "medium" and new[0].explanation["ratio_to_own_normal"] == round(700 / 300, 2)
    assert "a kind they had not exported before" in new[0].title


def test_new_places_after_a_move_to_another_department_are_reported_low() -> None:
    ex = next(e for e in NEW_PLACES.examples if e.name.startswith("a move to another department"))
    alerts = run_example(NEW_PLACES, ex)
    assert len(alerts) == 1 and alerts[0].severity == "low", alerts[0].title
    assert "moved to another department on 2026-02-02" in alerts[0].title
    stayed = Example("same, no move", True, ex.events, [_LEAVER_SUPPORT, _NOTICE_SUPPORT])
    assert run_example(NEW_PLACES, stayed)[0].severity != "low"


_LEAVER_SUPPORT = hr("2026-01-05T08:00:00Z", department="support")
_NOTICE_SUPPORT = hr("2026-02-14T09:00:00Z", status="notice", last_day="2026-03-06", resignation_date="2026-02-14",
                     department="support")
