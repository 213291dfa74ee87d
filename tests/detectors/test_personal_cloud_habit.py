"""web.personal_cloud_upload v6 (issue 14): a day of uploads that is the employee's own habit (uploads on 3 or more
days before the departure period, the first 30 or more days before, the day no bigger than their largest day
before, and the only day of the period over the threshold) is graded low; a first upload, a short or young habit,
a bigger day or a second day keep the rule's severity."""

from __future__ import annotations

from typing import Any

from detectors.examples import ev, hr, run_example
from detectors.rule import Example
from detectors.rules.web.personal_cloud_upload import RULE

LEAVER = [hr("2025-12-01T09:00:00Z"),
          hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="drive.example-personal.com")
#: Someone seen every working day from December (logons), so that their history is long.
SEEN = [ev(f"2025-12-{d:02d}T08:00:00Z", action="logon", kind="logon") for d in range(1, 32)] + \
       [ev(f"2026-01-{d:02d}T08:00:00Z", action="logon", kind="logon") for d in range(1, 32)]
#: A portfolio synced every week or two before the notice: 5-200 MB.
HABIT = [ev(f"{d}T19:00:00Z", bytes=b, **UP) for d, b in (
    ("2026-01-08", 5_000_000), ("2026-01-15", 200_000_000), ("2026-01-29", 12_000_000),
    ("2026-02-05", 30_000_000), ("2026-02-12", 8_000_000))]


def severities(events: list[dict[str, Any]], hrs: list[dict[str, Any]] = LEAVER) -> list[tuple[str, str]]:
    """The alerts from March on (the notice), each ``low`` or ``flagged`` (medium or higher); the habit's own big
    day in January is a stayer's day and not what these tests are about."""
    return [(a.ts.date().isoformat(), "low" if a.severity == "low" else "flagged")
            for a in run_example(RULE, Example("x", True, events, hrs)) if a.ts.date().isoformat() >= "2026-03"]


def upload(day: str, mb: int) -> dict[str, Any]:
    return ev(f"{day}T19:00:00Z", bytes=mb * 1_000_000, **UP)


def test_a_day_within_the_habit_is_low() -> None:
    assert severities(SEEN + HABIT + [upload("2026-03-10", 70)]) == [("2026-03-10", "low")]
    alerts = run_example(RULE, Example("x", True, SEEN + HABIT + [upload("2026-03-10", 70)], LEAVER))
    assert "their habit (graded low)" in alerts[-1].title and "on 5 days before, since 2026-01-08" in alerts[-1].title


def test_without_the_habit_it_is_flagged() -> None:
    assert severities(SEEN + [upload("2026-03-10", 70)]) == [("2026-03-10", "flagged")]


def test_a_day_bigger_than_any_before_is_no_habit() -> None:
    assert severities(SEEN + HABIT + [upload("2026-03-10", 700)]) == [("2026-03-10", "flagged")]


def test_two_days_before_are_no_habit() -> None:
    assert severities(SEEN + HABIT[:2] + [upload("2026-03-10", 70)]) == [("2026-03-10", "flagged")]


def test_a_young_habit_is_no_habit() -> None:
    # four upload days in the four weeks before the notice: the first only 29 days before the upload judged
    young = [upload(d, 200) for d in ("2026-02-09", "2026-02-16", "2026-02-20", "2026-02-25")]
    assert severities(SEEN + young + [upload("2026-03-10", 70)]) == [("2026-03-10", "flagged")]


def test_a_second_day_over_the_threshold_is_raised_again() -> None:
    got = severities(SEEN + HABIT + [upload("2026-03-10", 70), upload("2026-03-17", 70)])
    assert got == [("2026-03-10", "low"), ("2026-03-17", "flagged")], got


def test_uploads_in_the_departure_period_make_no_habit() -> None:
    long_notice = [hr("2025-12-01T09:00:00Z"), hr("2026-01-20T09:00:00Z", status="notice", last_day="2026-03-31",
                                                  resignation_date="2026-01-20")]
    in_period = [upload(d, 5) for d in ("2026-01-22", "2026-01-27", "2026-02-03", "2026-02-10")]
    assert severities(SEEN + in_period + [upload("2026-03-10", 70)], long_notice) == [("2026-03-10", "flagged")]
