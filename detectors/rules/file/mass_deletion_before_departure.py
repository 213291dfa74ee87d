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

Version 4 grades by whose files they are, from the paths every log names: a deletion in a container (a site's
library, a share's top folders: ``detectors/rules/file/_handover.py``) the employee worked in before the
departure period is tidying up their own work and weighs :data:`OWN_WEIGHT`; one in a place they never touched
(another team's share, a server's archive) or with no path weighs fully. A day fires only when its amount times
the departure period's share so weighed is still above the limit, and is graded on that share: clearing a few
hundred of one's own files on the last days fires nothing; wiping other people's fires as before, and so does
clearing more than four times the limit of one's own. Version 3 flagged 9 of 51 honest leavers of two outside
companies (400 employees, 100 days, seed 1) critical for clearing 85-450 files of their own team's library.

Version 5: a confidential or restricted file weighs fully even in the employee's own container. Sabotage goes for
what matters in the place the saboteur knows: two saboteurs of the own profiles (subtle and shifts, seed 1) wiped
66-71 files of their own team's site, 21-37 of them labelled, and version 4 read it as tidying up (both caught by
version 3). A clean-up of one's own drafts rarely holds labelled files.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.file._handover import MIN_HISTORY_DAYS, container, known_container
from detectors.state import EmployeeState
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


SENSITIVE_WEIGHT = 3
#: What a deletion in a container the employee worked in weighs in the grading (a quarter: a clean-up of up to
#: four times the limit of one's own files stays low).
OWN_WEIGHT = 0.25
#: st.extra key of the departure period's deletions: [weight judged, weight not explained].
KEY = "md"


def mass_deletion_before_departure(e: ActivityEvent) -> int:
    if e.kind != "file" or e.action != "delete":
        return 0
    return (e.count or 1) * (SENSITIVE_WEIGHT if e.sensitive else 1)


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Learn the containers the employee works in (file events on days that may teach a baseline, and every day
    of their first weeks); while they are departing, weigh each deletion by whether its container is theirs."""
    if e.kind != "file":
        return
    learn = hr.learnable(day)
    mature = day - st.extra.get("fs", day) >= MIN_HISTORY_DAYS
    w = mass_deletion_before_departure(e)
    if not w or learn or not mature:
        known_container(st, e.object, learn or not mature)
        if learn:
            st.extra.pop(KEY, None)  # back to ordinary days: nothing to keep
        return
    rec = st.extra.setdefault(KEY, [0, 0.0])
    # Confidential and restricted files are never tidying up, whatever their container (version 5).
    own = not e.sensitive and container(e.object) is not None and known_container(st, e.object, False)
    rec[0] += w
    rec[1] = round(rec[1] + w * (OWN_WEIGHT if own else 1.0), 2)


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# 30 days with 5 deletions each.
_HISTORY = daily("2026-01-10", 30, per_day=5, action="delete")
# 30 days of work in the team's library, a few deletions among it.
_LIB = "https://corp.sharepoint.com/sites/clinical/Shared Documents/plans/"
_OWN = (daily("2026-01-10", 30, per_day=3, action="open", object=_LIB + "plan.docx")
        + daily("2026-01-10", 30, per_day=2, action="delete", object=_LIB + "tmp.docx"))

RULE = Rule(
    id="file.mass_deletion_before_departure",
    version="5",
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
    window=AboveBaseline(when="last_days", within_days=14, factor=5.0, z=3.0, min_value=150.0, peers=True,
                         unexplained=KEY),
    observe=observe,
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
        Example("clearing 300 files of one's own team library on the last day is tidying up", False,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=300, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("wiping 50 restricted files of one's own team library is not tidying up", True,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=50, object=_LIB + "contract.docx",
                           sensitivity="restricted"),
                        ev("2026-03-31T16:05:00Z", action="delete", count=30, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("... 300 of a share never worked in is not", True,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=300,
                           object="\\\\srv08\\it\\archive\\runbook.docx")], _LEAVER),
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
