"""Activity outside the employee's own working hours, in notice, well above their own after-hours normal.

An event counts when a person caused it (not ``auto_forward`` or ``sync_download``) outside the hours and
weekdays the employee is usually active in, learned from their own activity (``detectors.habits``: an hour
is theirs once they were active in it, or the hour next to it, on several days; nothing counts before a
warm-up of active days). So a New York afternoon, a Kolkata morning or a night shift is nobody's "after
hours" for being off a UTC clock (version 1 judged 07:00-19:00 UTC and flagged honest leavers in other time
zones on every busy notice day). Fires in notice when a day has more than 3 times the usual after-hours
events, 3 standard deviations above it and more than 10.

Version 3: only the hours count. Work at the employee's own hours on a day of the week that is not theirs (a
Saturday morning of someone who works Monday to Friday: ``attrs.off_weekday_only``) is catching up, which is
what honest leavers do with a handover: on the six own profiles (seeds 1 and 2, e6f5935) 6 of the 9 honest
leavers this rule flagged at medium or higher were a weekend day at office hours (a handover copied to a thumb
drive, a home folder cleared). The nights and evenings that are not theirs, any day, still count.
"""

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import is_after_hours
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


def after_hours_spike(e: ActivityEvent) -> bool:
    return is_after_hours(e) and not e.attrs.get("off_weekday_only")


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# 30 days (the weekdays) with 3 events at 10:00 and 2 in the evening (20:00 UTC) each: both are their hours.
_HISTORY = [e for e in daily("2026-01-10", 30, per_day=3, hour=10, action="open")
            + daily("2026-01-10", 30, per_day=2, hour=20, action="open")
            if __import__("datetime").date.fromisoformat(e["ts"][:10]).weekday() < 5]

RULE = Rule(
    id="activity.after_hours_spike",
    version="3",
    title=(
        "{observed:.0f} events outside the employee's own working hours and weekdays on "
        "{day} during the notice period, {ratio_to_own_normal}x the employee's usual {baseline[mean]:.1f} "
        "(limit {threshold:.0f}); last working day {last_day}"
    ),
    description=__doc__,
    severity="medium",
    score=45,
    predicate=after_hours_spike,
    window=AboveBaseline(when="in_notice", factor=3.0, z=3.0, min_value=10.0),
    runbook=(
        "Look at what the after-hours events were (evidence): downloads, exports, mail or uploads weigh more than "
        "logons; ask the manager whether a deadline or handover explains the late work; correlate with other "
        "alerts for the same days."
    ),
    false_positives=(
        "Handover work and deadlines squeezed into the last weeks",
        "Travel to another time zone during the notice period",
    ),
    examples=(
        Example("20 events at 02:00 in notice, hours never worked before", True,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=2, action="download"), _LEAVER),
        Example("20 events in the evening hours the employee always works (a time zone, a late shift)", False,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=20, action="download"), _LEAVER),
        Example("daytime work on a Saturday, at the employee's own hours: catching up", False,
                _HISTORY + daily("2026-03-14", 1, per_day=20, hour=11, action="open"), _LEAVER),
        Example("the same Saturday at 02:00 counts", True,
                _HISTORY + daily("2026-03-14", 1, per_day=20, hour=2, action="open"), _LEAVER),
        Example("the same work during office hours on a Tuesday", False,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=11, action="open"), _LEAVER),
        Example("10 events is not above the floor of 10", False,
                _HISTORY + daily("2026-03-10", 1, per_day=10, hour=2, action="open"), _LEAVER),
        Example("automatic forwards and sync at night are not a person working", False,
                _HISTORY + daily("2026-03-10", 1, per_day=30, hour=2, action="sync_download"), _LEAVER),
        Example("someone not in notice", False,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=2, action="download"),
                [hr("2026-01-01T09:00:00Z")]),
        Example("resignation recorded late, dated before the night", True,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=2, action="download"),
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-20T09:00:00Z", status="notice", resignation_date="2026-03-05",
                    last_day="2026-04-30")]),
    ),
)
