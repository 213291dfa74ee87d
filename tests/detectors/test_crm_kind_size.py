"""crm.bulk_export_before_departure v9 (issue 14): a kind the employee exported before is graded against twice that
kind's own largest before the departure period, when that is smaller than twice their largest export of any kind
(subtle s3 E00241: "Accounts - all customers" had been 11-91 records, the largest export of anything a 242-record
opportunities report; 715 records of all customers in the notice read "1.48 times" and stayed low)."""

from __future__ import annotations

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.crm.bulk_export_before_departure import DAY_KIND, RULE as EXPORT, SIZES
from schemas import ActivityEvent, HRRecord

LATER = ev("2026-03-02T15:00:00Z", action="open", object="/sites/sales/notes.docx")


def _run(kind_sizes: list[int], other: int, export: int, kind: str = "Accounts - all customers") -> tuple[list, Engine]:
    """Before the notice (16 February): one export of ``kind`` a working day, cycling through ``kind_sizes``, and one
    ``other``-record opportunities report; on 2 March an export of ``export`` records of ``kind``, kept."""
    eng = Engine(rules=[EXPORT], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-05T08:00:00Z")))
    for i, d in enumerate(range(5, 31)):
        eng.on_event(ActivityEvent.model_validate(ev(f"2026-01-{d:02d}T10:00:00Z", action="report_export",
                                                     count=kind_sizes[i % len(kind_sizes)], object=kind)))
    eng.on_event(ActivityEvent.model_validate(ev("2026-01-19T11:00:00Z", action="report_export", count=other,
                                                 object="Opportunities")))
    eng.on_hr(HRRecord.model_validate(hr("2026-02-16T09:00:00Z", status="notice", last_day="2026-03-13")))
    alerts = eng.on_event(ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z", action="report_export",
                                                          count=export, object=kind)))
    alerts += eng.on_event(ActivityEvent.model_validate(LATER))
    return [a for a in alerts if a.rule_id == EXPORT.id], eng


def test_a_kind_far_larger_than_its_own_largest_is_graded_against_it() -> None:
    alerts, _ = _run([11, 40, 78, 91, 25], other=242, export=715)
    assert len(alerts) == 1 and alerts[0].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    # against twice the kind's bucket (91 -> under 128 records): 715 / 256
    assert alerts[0].explanation["ratio_to_own_normal"] > 2.5
    assert "under 128 records at a time" in alerts[0].title


def test_the_kinds_usual_size_handed_over_whole_stays_low() -> None:
    """A successor gets twice the largest of the list the person pulled: low, as in version 4."""
    alerts, _ = _run([150, 300, 220], other=400, export=500)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "under" not in alerts[0].title  # the any-kind reference (800) is the smaller one: unchanged


def test_a_kind_of_small_exports_only_keeps_the_any_kind_grading() -> None:
    """Exports under 50 records teach no size: the kind is graded against twice the largest of any kind."""
    alerts, eng = _run([20, 30, 40], other=400, export=700)
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    st = eng.store.get("E1")
    assert st is not None
    sizes = st.extra.get(SIZES, "")
    # the opportunities report (400 -> bucket 8) is kept, the small kind is not: one entry
    assert len(sizes) == 5 and sizes[4] == "8", sizes


def test_exports_in_the_departure_period_teach_no_size() -> None:
    """The sizes are learned on days that may teach only: the notice's own exports do not raise the reference."""
    eng = Engine(rules=[EXPORT], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-05T08:00:00Z")))
    for d in range(5, 31):
        eng.on_event(ActivityEvent.model_validate(ev(f"2026-01-{d:02d}T10:00:00Z", action="report_export",
                                                     count=60, object="Renewals")))
    eng.on_event(ActivityEvent.model_validate(ev("2026-01-19T11:00:00Z", action="report_export", count=400,
                                                 object="Opportunities")))
    eng.on_hr(HRRecord.model_validate(hr("2026-02-16T09:00:00Z", status="notice", last_day="2026-03-13")))
    alerts = []
    for ts, n in (("2026-02-23T10:00:00Z", 300), ("2026-02-23T15:00:00Z", None),
                  ("2026-03-02T10:00:00Z", 700), ("2026-03-02T15:00:00Z", None)):
        e = ev(ts, action="report_export", count=n, object="Renewals") if n else ev(ts, action="open", object="/x.docx")
        alerts += eng.on_event(ActivityEvent.model_validate(e))
    mine = [a for a in alerts if a.rule_id == EXPORT.id]
    # 300 against 2 x 64 (the Renewals bucket, not the 400 of opportunities): medium; 700 is graded against the
    # same 64, not against the 300 of the notice
    assert mine and "under 64 records at a time" in mine[0].title, [a.title for a in mine]
    assert all("under 64 records" in a.title for a in mine)
    assert DAY_KIND  # the per-day record the grading reads
