"""email.sensitive_to_personal v2 (issue 14): one labelled message within the employee's own correspondence with
their private address is graded low; a new or hardly used address, a message bigger than any before, a second
labelled message within 30 days, or mails home only in the departure period keep the rule's severity."""

from __future__ import annotations

from typing import Any

from detectors.examples import daily, ev, hr, run_example
from detectors.rule import Example
from detectors.rules.email.sensitive_to_personal import RULE

LEAVER = [hr("2025-12-01T09:00:00Z"),
          hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
HOME: dict[str, Any] = dict(action="send", personal=True, external=True, recipients=["ann.lee42@gmail.example"])
WORK = daily("2025-12-01", 40, per_day=2, action="send", recipients=["bob@corp.example"])
#: Tickets, a form, photos: one attachment or none to the own address on 6 days of December and January.
HABIT = [ev(f"{d}T18:00:00Z", count=c, **HOME) for d, c in (
    ("2025-12-03", 1), ("2025-12-10", 0), ("2025-12-17", 1), ("2026-01-07", 1), ("2026-01-14", 0), ("2026-01-21", 1))]


def severities(events: list[dict[str, Any]], hrs: list[dict[str, Any]] = LEAVER) -> list[tuple[str, str]]:
    alerts = run_example(RULE, Example("x", True, events, hrs))
    return [(a.ts.date().isoformat(), a.severity) for a in alerts]


def labelled(day: str, count: int = 1, **over: Any) -> dict[str, Any]:
    return ev(f"{day}T18:00:00Z", count=count, sensitivity="confidential", **{**HOME, **over})


def test_one_labelled_message_in_the_habit_is_low() -> None:
    got = severities(WORK + HABIT + [labelled("2026-03-10")])
    assert got == [("2026-03-10", "low")], got
    alerts = run_example(RULE, Example("x", True, WORK + HABIT + [labelled("2026-03-10")], LEAVER))
    assert "their habit (graded low)" in alerts[0].title and "6 days since 2025-12-03" in alerts[0].title


def test_without_the_habit_it_is_high() -> None:
    assert severities(WORK + [labelled("2026-03-10")]) == [("2026-03-10", "high")]


def test_a_bigger_message_than_any_before_is_no_habit() -> None:
    assert severities(WORK + HABIT + [labelled("2026-03-10", count=4)]) == [("2026-03-10", "high")]


def test_an_address_mailed_once_before_is_no_habit() -> None:
    assert severities(WORK + HABIT[:1] + [labelled("2026-03-10")]) == [("2026-03-10", "high")]


def test_another_address_than_the_habit_is_no_habit() -> None:
    other = labelled("2026-03-10", recipients=["ann.lee.private@proton.example"])
    assert severities(WORK + HABIT + [other]) == [("2026-03-10", "high")]


def test_a_second_labelled_message_within_30_days_is_raised_again() -> None:
    got = severities(WORK + HABIT + [labelled("2026-03-10"), labelled("2026-03-17")])
    assert got == [("2026-03-10", "low"), ("2026-03-17", "high")], got


def test_mails_home_in_the_departure_period_make_no_habit() -> None:
    # six mails home, all after a notice given two months before the last day: the departure period
    long_notice = [hr("2025-12-01T09:00:00Z"), hr("2026-02-01T09:00:00Z", status="notice", last_day="2026-03-31",
                                                  resignation_date="2026-02-01")]
    period = [ev(f"2026-02-{d:02d}T18:00:00Z", count=1, **HOME) for d in (2, 3, 4, 5, 6, 9)]
    assert severities(WORK + period + [labelled("2026-03-20")], long_notice) == [("2026-03-20", "high")]
    # the same six before the notice are a habit
    before = [ev(f"2026-01-{d:02d}T18:00:00Z", count=1, **HOME) for d in (2, 5, 8, 12, 15, 19)]
    assert severities(WORK + before + [labelled("2026-03-20")], long_notice) == [("2026-03-20", "low")]


def test_a_habit_of_only_a_few_weeks_is_no_habit() -> None:
    # three mails home before the notice, the first 4 weeks before the labelled one: too young to be a habit
    young = [ev(f"2026-02-{d:02d}T18:00:00Z", count=1, **HOME) for d in (10, 17, 24)]
    assert severities(WORK + young + [labelled("2026-03-10")]) == [("2026-03-10", "high")]


def test_a_stayer_habit_counts_the_days_before_the_message() -> None:
    stayer = [hr("2025-12-01T09:00:00Z")]
    habit = run_example(RULE, Example("x", True, WORK + HABIT + [labelled("2026-02-25")], stayer))
    new = run_example(RULE, Example("x", True, WORK + HABIT[:2] + [labelled("2026-02-25")], stayer))
    assert [a.explanation["habit"] != "" for a in habit + new] == [True, False]
