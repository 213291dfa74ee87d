"""Activity outside working hours, in notice, well above the employee's own after-hours normal.

An event counts when it happens before 07:00 or from 19:00 UTC, or on a Saturday or Sunday (UTC), and a
person caused it: automatic actions (``auto_forward``, ``sync_download``) are left out. Hours are UTC on
purpose: the comparison is with the employee's own history, so someone whose working day is shifted by their
time zone has a higher normal and is not flagged for it. Fires in notice when a day has more than 3 times the
usual after-hours events, 3 standard deviations above it and more than 10.
"""

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.windows import AboveBaseline
from schemas import ActivityEvent

DAY_START_S = 7 * 3600
DAY_END_S = 19 * 3600
AUTOMATIC = frozenset({"auto_forward", "sync_download"})


def after_hours_spike(e: ActivityEvent) -> bool:
    if e.action in AUTOMATIC:
        return False
    day, sec = divmod(int(e.ts.timestamp()), 86400)
    # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays, 5 and 6 on the weekend.
    return (day + 3) % 7 >= 5 or not DAY_START_S <= sec < DAY_END_S


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# 30 days with 2 evening events each (20:00 UTC).
_HISTORY = daily("2026-01-10", 30, per_day=2, hour=20, action="open")

RULE = Rule(
    id="activity.after_hours_spike",
    version="1",
    title=(
        "{observed:.0f} events outside working hours (before 07:00 or after 19:00 UTC, or at the weekend) on "
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
        Example("20 events at 22:00 in notice against a normal of 2", True,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=22, action="download"), _LEAVER),
        Example("daytime work on a Saturday counts", True,
                _HISTORY + daily("2026-03-14", 1, per_day=20, hour=11, action="open"), _LEAVER),
        Example("the same work during office hours on a Tuesday", False,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=11, action="open"), _LEAVER),
        Example("10 events is not above the floor of 10", False,
                _HISTORY + daily("2026-03-10", 1, per_day=10, hour=22, action="open"), _LEAVER),
        Example("automatic forwards and sync at night are not a person working", False,
                _HISTORY + daily("2026-03-10", 1, per_day=30, hour=2, action="sync_download"), _LEAVER),
        Example("someone not in notice", False,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=22, action="download"),
                [hr("2026-01-01T09:00:00Z")]),
        Example("resignation recorded late, dated before the night", True,
                _HISTORY + daily("2026-03-10", 1, per_day=20, hour=22, action="download"),
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-20T09:00:00Z", status="notice", resignation_date="2026-03-05",
                    last_day="2026-04-30")]),
    ),
)
