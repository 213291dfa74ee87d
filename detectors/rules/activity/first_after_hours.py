"""The first time the employee works outside working hours, after at least 28 days of history without it.

An event counts when a person caused it (not ``auto_forward`` or ``sync_download``) outside the hours and
weekdays the employee is usually active in, learned from their own activity (``detectors.habits``), so a time
zone or a shift is part of their normal (version 1 judged 07:00-19:00 UTC: every New York afternoon was
"after hours"). Someone who
worked late once, anywhere in the remembered history, is not new to it. Alone this is weak evidence (a
deadline, a trip, handover work in notice): it is ``low`` and feeds ``activity.firsts_together``.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import after_hours, is_after_hours
from detectors.windows import FirstTime
from schemas import ActivityEvent


def first_after_hours(e: ActivityEvent) -> bool:
    return is_after_hours(e)


_HR = [hr("2026-01-01T09:00:00Z")]
_DAYTIME = daily("2026-01-05", 30, per_day=3, hour=10, action="open")  # Jan 5 is a Monday: weekends too
_WEEKDAYS = [e for e in _DAYTIME if __import__("datetime").date.fromisoformat(e["ts"][:10]).weekday() < 5]

RULE = Rule(
    id="activity.first_after_hours",
    version="2",
    title=(
        "First work outside the employee's own working hours and weekdays in {history_days} days of history, "
        "on {day}; HR status {status}"
    ),
    description=__doc__,
    severity="low",
    score=30,
    predicate=first_after_hours,
    novelty=after_hours,
    window=FirstTime(min_history_days=28),
    runbook=(
        "Look at what was done (evidence): a logon alone weighs little, downloads, removable media or uploads "
        "at night weigh more; correlate with other first-time alerts of the same days."
    ),
    false_positives=("A deadline or an incident that needs late work", "Travel to another time zone"),
    examples=(
        Example("a logon at 22:00 after 30 daytime weekdays", True,
                _WEEKDAYS + [ev("2026-02-17T22:00:00Z", action="logon")], _HR),
        Example("someone who already worked late once", False,
                _WEEKDAYS + [ev("2026-01-26T21:00:00Z", action="open"), ev("2026-02-17T22:00:00Z", action="logon")],
                _HR),
        Example("an evening worker's evening is their own hours", False,
                _WEEKDAYS + daily("2026-01-05", 30, per_day=1, hour=21, action="open")
                + [ev("2026-02-17T22:00:00Z", action="logon")], _HR),
        Example("too little history to call it new", False,
                _WEEKDAYS[:15] + [ev("2026-01-20T22:00:00Z", action="logon")], _HR),
        Example("an automatic forward at night is not work", False,
                _WEEKDAYS + [ev("2026-02-17T22:00:00Z", action="auto_forward", personal=True)], _HR),
    ),
)
