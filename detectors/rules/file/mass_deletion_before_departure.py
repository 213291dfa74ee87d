"""Files deleted far above the employee's own normal in the last 14 days before the last working day.

Sabotage, or covering tracks. Counts ``file`` ``delete`` events, each worth its ``count`` (files) or 1, three
times that for a confidential or restricted object (sabotage goes for what matters; clearing one's own home
folder deletes drafts and personal files). Fires when a day within 14 days of the last day weighs more than 5
times the usual, 3 standard deviations above it and more than 150. The baseline learns from days before the
departure window only. A last day recorded after the deletions re-evaluates the stored days.

Version 2 (weights, floor 150 instead of 50): version 1 flagged 19 of 44 benign leavers in the evaluation
for clearing 51-120 ordinary files in their last week.

Version 3 grades the day against the employee's department on the same day (``peers=True``,
:mod:`detectors.peerload`): an agreed clean-up that the whole team does at once is not one person's
anomaly. What fires is unchanged.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


SENSITIVE_WEIGHT = 3


def mass_deletion_before_departure(e: ActivityEvent) -> int:
    if e.kind != "file" or e.action != "delete":
        return 0
    return (e.count or 1) * (SENSITIVE_WEIGHT if e.sensitive else 1)


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# 30 days with 5 deletions each.
_HISTORY = daily("2026-01-10", 30, per_day=5, action="delete")

RULE = Rule(
    id="file.mass_deletion_before_departure",
    version="3",
    title=(
        "Deletions weighing {observed:.0f} (restricted and confidential files count 3) on {day}, {days_to_last_day} day(s) before the last working day "
        "({last_day}): {ratio_to_own_normal}x the employee's usual {baseline[mean]:.1f} a day "
        "(limit {threshold:.0f})"
    ),
    description=__doc__,
    severity="high",
    score=75,
    predicate=mass_deletion_before_departure,
    kinds=("file",),
    window=AboveBaseline(when="last_days", within_days=14, factor=5.0, z=3.0, min_value=150.0, peers=True),
    runbook=(
        "Stop further loss first: restore from the recycle bin, version history or backup; list the deleted "
        "objects (evidence) and their owners; ask the manager whether a clean-up was agreed as part of the "
        "handover; preserve the audit trail."
    ),
    false_positives=(
        "An agreed clean-up of personal drafts and duplicates before leaving",
        "Mailbox or drive clean-up tools run at IT's request",
    ),
    examples=(
        Example("200 files deleted 6 days before the last day", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("120 ordinary files (a home-folder clean-up) is under the floor of 150", False,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=120)], _LEAVER),
        Example("60 restricted files weigh 180", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=60, sensitivity="restricted")],
                _LEAVER),
        Example("the same deletions 3 weeks before the last day", False,
                _HISTORY + [ev("2026-03-10T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("someone not leaving", False,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)],
                [hr("2026-01-01T09:00:00Z")]),
        Example("someone who usually deletes about 100 a day", False,
                daily("2026-01-10", 30, per_day=1, action="delete", count=100)
                + [ev("2026-03-25T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("last day recorded after the deletions", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)],
                [hr("2026-01-01T09:00:00Z"), hr("2026-03-27T09:00:00Z", status="notice", last_day="2026-04-02")]),
    ),
)
