"""``file.sensitive_downloads_before_departure`` v3: a departure's count near the employee's own pace, with
nothing from places they never touched, is graded low; three times the pace, or novelty, keep the grade."""

from __future__ import annotations

from typing import Any

from detectors.catalogue import discover
from detectors.engine import LEVELS
from detectors.examples import ev, hr, run_example
from detectors.rule import Example

RULE = {r.id: r for r in discover()}["file.sensitive_downloads_before_departure"]
HIRED = hr("2026-01-01T09:00:00Z")
LEAVER = hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")
WORKDAYS_JAN_FEB = [f"2026-01-{d:02d}" for d in range(5, 32)] + [f"2026-02-{d:02d}" for d in range(1, 29)]
MARCH = [f"2026-03-{d:02d}" for d in range(2, 14)]


def day(d: str, k: int, folder: str = "/sites/team/docs") -> list[dict[str, Any]]:
    """A file open, then ``k`` confidential downloads from ``folder``; a file open at 15:00 closes the session."""
    out = [ev(f"{d}T09:00:00Z", object="/sites/team/docs/plan.docx")]
    out += [ev(f"{d}T10:{i:02d}:00Z", action="download", sensitivity="confidential", object=f"{folder}/d{i}.pdf")
            for i in range(k)]
    out.append(ev(f"{d}T15:00:00Z", object="/sites/team/docs/plan.docx"))
    return out


def alerts(events: list[dict[str, Any]], hr_records: list[dict[str, Any]] | None = None) -> list[Any]:
    return run_example(RULE, Example("pace", True, events, hr_records or [HIRED, LEAVER]))


def test_twice_the_own_pace_from_own_places_is_low_three_times_or_new_places_are_not() -> None:
    history = [x for d in WORKDAYS_JAN_FEB for x in day(d, 1)]
    own2 = alerts(history + [x for d in MARCH for x in day(d, 2)])
    assert len(own2) == 1 and own2[0].severity == "low", own2[0].explanation if own2 else None
    assert "graded low" in own2[0].explanation["pace"] and "graded low" in own2[0].title
    own4 = alerts(history + [x for d in MARCH for x in day(d, 6)])
    assert own4 and LEVELS.index(own4[-1].severity) >= LEVELS.index("medium"), own4[-1].explanation
    assert own4[-1].explanation["pace"] == ""
    new2 = alerts(history + [x for d in MARCH for x in day(d, 2, folder="/sites/finance/board")])
    assert len(new2) == 1 and LEVELS.index(new2[0].severity) >= LEVELS.index("medium"), new2[0].explanation
    assert new2[0].explanation["unexplained_share"] > 1 and new2[0].explanation["pace"] == ""



def test_a_calm_count_that_grows_is_alerted_again_at_its_grade_once() -> None:
    """Two a day in the first week of the notice (calm: low), then eight a day: the departure is alerted again,
    at medium or more, under the key v2 used; nothing more after that."""
    history = [x for d in WORKDAYS_JAN_FEB for x in day(d, 1)]
    got = alerts(history + [x for d in MARCH[:5] for x in day(d, 2)] + [x for d in MARCH[5:] for x in day(d, 8)])
    assert [a.severity for a in got][:1] == ["low"] and len(got) == 2, [a.explanation for a in got]
    assert LEVELS.index(got[1].severity) >= LEVELS.index("medium") and got[1].explanation["pace"] == ""


def test_a_short_history_is_enough_to_see_the_own_pace_not_a_rise() -> None:
    """Hired on 16 February, notice on 1 March: under two weeks of learned history. Downloading at their own
    pace is graded low; at five times it, the rule's own severity (too little history to grade a rise)."""
    hired = hr("2026-02-16T09:00:00Z")
    days = [f"2026-02-{d:02d}" for d in range(16, 28)]
    history = [x for d in days for x in day(d, 2)]
    same = alerts(history + [x for d in MARCH for x in day(d, 2)], [hired, LEAVER])
    assert len(same) == 1 and same[0].severity == "low", same[0].explanation if same else None
    assert same[0].explanation["ratio_to_own_normal"] is not None  # graded on the short history (v2: None, high)
    assert "days of history" in same[0].explanation["pace"]
    five = alerts(history + [x for d in MARCH for x in day(d, 10)], [hired, LEAVER])
    assert five and five[-1].severity == "high", five[-1].explanation
