"""Alerts raised by the look-back after late HR news carry evidence (issue 15 follow-up).

A departure recorded on the last day itself re-reads the days before it (``Window.lookback``). The series
keeps only a few evidence ids; keeping just the most recent ones let a busy morning push out the big day
before it, and the alert went out with no evidence at all (outside_b s2, a critical
``file.mass_deletion_before_departure``; on the evaluation companies 1-3 alerts a company, mostly
``crm.bulk_export_before_departure``).
"""

from __future__ import annotations

import pytest

from detectors.catalogue import discover
from detectors.examples import daily, ev, hr, run_example, run_in_time_order
from detectors.rule import Example
from detectors.rules.crm.bulk_export_before_departure import RULE as EXPORT
from detectors.rules.file.mass_deletion_before_departure import RULE as DELETE
from detectors.state import Series


_run = run_in_time_order


def test_a_big_earlier_day_keeps_its_latest_evidence_id_through_a_busy_next_day() -> None:
    s = Series()
    for i in range(3):
        s.add(100, 200, f"big{i}", cap=3)
    for i in range(5):
        s.add(101, 1, f"small{i}", cap=3)
    assert s.evidence(100, 100) == ["big2"]  # was [] (only the 3 most recent ids were kept)
    assert s.evidence(101, 101) == ["small3", "small4"]  # the most recent of the current day
    assert len(s.evidence_pairs()) == 3


def test_the_largest_earlier_days_are_the_ones_kept() -> None:
    s = Series()
    for day, v in ((100, 5), (101, 300), (102, 7), (103, 9)):
        s.add(day, v, f"d{day}", cap=3)
    s.add(104, 1, "d104a", cap=3)
    s.add(104, 1, "d104b", cap=3)
    assert s.evidence(101, 101) == ["d101"] and s.evidence(104, 104) == ["d104a", "d104b"]
    assert s.evidence(100, 100) == [] and len(s.evidence_pairs()) == 3


def test_mass_deletion_on_the_eve_of_a_departure_recorded_late_carries_that_days_deletions() -> None:
    history = daily("2026-01-10", 30, per_day=5, action="delete")
    eve = [ev(f"2026-03-30T{15 + i // 60}:{i % 60:02d}:00Z", action="delete", event_id=f"eve-{i}") for i in range(200)]
    morning = [ev(f"2026-03-31T09:{i:02d}:00Z", action="delete", event_id=f"morning-{i}") for i in range(10)]
    # In notice since March 1st with a last day at the end of April; at noon on March 31st HR brings the
    # last day forward to that day: the deletions of the day before now lie within its last 14 days.
    late = [hr("2026-01-01T09:00:00Z"),
            hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-04-30", resignation_date="2026-03-01"),
            hr("2026-03-31T12:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
    got = [a for a in _run(DELETE, late, history + eve + morning) if a.explanation["day"] == "2026-03-30"]
    assert len(got) == 1
    assert got[0].evidence and all(e.startswith("eve-") for e in got[0].evidence), got[0].evidence


def test_a_looked_back_day_whose_ids_are_gone_gets_the_rules_later_events_and_says_so() -> None:
    # Four export days of 100+ records (each could fire), then the resignation: the first day is raised, and
    # its own id went out of the series' few evidence slots long ago.
    exports = [ev(f"2026-03-{d:02d}T10:00:00Z", action="export", count=c, event_id=f"x{d}")
               for d, c in ((2, 142), (3, 153), (9, 274), (12, 264), (16, 50), (18, 70))]
    late = [hr("2026-01-01T09:00:00Z"),
            hr("2026-03-20T13:00:00Z", status="notice", last_day="2026-03-20", resignation_date="2026-03-20")]
    got = _run(EXPORT, late, exports)
    assert got, "the late resignation re-reads the exports"
    for a in got:
        assert a.evidence, f"{a.explanation['day']}: no evidence"
    first = min(got, key=lambda a: a.explanation["day"])
    assert first.explanation["day"] == "2026-03-02" and "x2" not in first.evidence
    assert "no longer kept" in first.explanation["evidence_note"]
    assert set(first.evidence) <= {"x3", "x9", "x12", "x16", "x18"}  # the rule's exports after it


def _late(example: Example) -> Example | None:
    """The example with every HR record after the first moved to one minute after its last event (the
    departure recorded late), or None when it has no such record."""
    if len(example.hr) < 2 or not example.events:
        return None
    last = max(e["ts"] for e in example.events)
    t = last[:-1] if last.endswith("Z") else last
    import datetime as dt

    when = (dt.datetime.fromisoformat(t) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    moved = [{**h, "ts": when} if i else h for i, h in enumerate(example.hr)]
    return Example(example.name + " (HR news late)", example.fires, example.events, moved,
                   getattr(example, "signals", []))


CASES = [(r, x) for r in discover() if r.window.when != "always" for x in r.examples if x.fires and _late(x)]


@pytest.mark.parametrize("rule,example", CASES, ids=[f"{r.id}:{i}" for i, (r, _) in enumerate(CASES)])
def test_every_alert_of_a_late_hr_lookback_has_evidence(rule, example) -> None:
    for a in run_example(rule, _late(example)):
        assert a.evidence, f"{rule.id} ({example.name}, HR news late): an alert without evidence"


def test_a_departure_recorded_on_the_last_day_judges_the_eve_against_the_baseline_it_had() -> None:
    """The look-back judges each day against the baseline as it stood on that day (``Series.as_of``, as a late
    event is): the last day's first deletions closed the eve, which a stayer's day then taught the baseline,
    and judged against a baseline that had learned it the eve's 200 deletions were nothing unusual (no alert)."""
    history = daily("2026-01-10", 30, per_day=5, action="delete")
    eve = [ev(f"2026-03-30T{15 + i // 60}:{i % 60:02d}:00Z", action="delete", event_id=f"eve-{i}") for i in range(200)]
    morning = [ev(f"2026-03-31T09:{i:02d}:00Z", action="delete", event_id=f"morning-{i}") for i in range(10)]
    late = [hr("2026-01-01T09:00:00Z"),
            hr("2026-03-31T12:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-31")]
    got = _run(DELETE, late, history + eve + morning)
    assert [a.explanation["day"] for a in got] == ["2026-03-30"]
    assert got[0].severity in ("high", "critical") and got[0].evidence
    # recorded before the last day's first events, the same alert as before
    early = [late[0], {**late[1], "ts": "2026-03-31T08:00:00Z"}]
    assert [(a.alert_id, a.severity, a.score) for a in _run(DELETE, early, history + eve + morning)] == [
        (a.alert_id, a.severity, a.score) for a in got]
