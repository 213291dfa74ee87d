"""Work files copied to removable media in the 30 days up to the last working day by someone who had used no
removable media before: the first thumb drive in the history kept, filled on the way out.

``device.removable_copy_spike`` judges a day against the person's own normal and, for someone who never
copied, asks at least 10 files; it fires for anyone, so a stayer's finding is capped at ``low``, and a day
judged before HR knew of the departure stays low. ``device.first_removable_media`` is ``low`` by design (a
first drive is often a handover). Neither says what this rule says: the first use of removable media in the
person's history falls in their departure period *and* work files went onto it. It is anchored to the last day
(:class:`detectors.windows.BeforeLastDay`), so it is judged again when HR's news of the departure arrives after
the copies: a resignation recorded on the last day itself, or a termination.

It counts ``file`` ``copy_to_removable`` events, each worth its ``count`` (files) or 1, without personal media
(:func:`detectors.content.personal_media`: one's own photos taken home), and fires when more than 4 were copied
in the 30 days up to the last day, provided the person's first use of removable media (a device connected or a
file copied, photos included) came within those 30 days and after at least 28 days of history
(:data:`MIN_HISTORY_DAYS`). Someone who used a drive once before, anywhere in the history kept, is judged by
``device.removable_copy_spike`` only.

Measured before it was written (``reports/evaluation/studies/first_removable_copies.py`` on 22 companies of 400
employees and 100 days: seeds 5, 6 and 7 of the nine profiles, two independently written generators): a first
use of removable media with 5 or more work files on its first day, within the 30 days up to the last day, was made
by 50 thieves and 1 honest leaver; with 20 or more, by 44 and 0. Two thieves of seed 7 missed by every rule were
among them: 10 files on the last day (under ``removable_copy_spike``'s floor), and 186 files ten days before a
resignation recorded on the last day (``removable_copy_spike`` low: the person was active on record that day).

What-if of version 1 on those 22 companies (``exitwatch whatif --rules device.first_copies_before_departure``,
against each company's product alerts): both thieves caught, no thief lost, no honest person added; five thieves
flagged 1 to 18 days earlier; 59 alerts, 54 of them medium or above. CMU CERT r4.2 (``exitwatch/cert_eval.py``'s
input, counted from its device and file logs): no user's first removable media falls in their last 30 days with
more than 4 files copied, insider or not.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.content import personal_media
from detectors.context import HRView
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.activity._firsts import removable
from detectors.state import EmployeeState, Series
from detectors.windows import BeforeLastDay
from schemas import ActivityEvent

#: ``st.extra`` key of the first day the employee used removable media (connected a device or copied a file),
#: the smallest seen whatever order the records arrive in.
FIRST_USE = "rm1"
#: Days of history before that first use, so that "never before" means something.
MIN_HISTORY_DAYS = 28


def first_copies_before_departure(e: ActivityEvent) -> int:
    if e.kind != "file" or e.action != "copy_to_removable" or personal_media(e.object):
        return 0
    return e.count or 1


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Remember the first day of any use of removable media (personal media too: a drive used before)."""
    if removable(e) is not None:
        first = st.extra.get(FIRST_USE)
        if first is None or day < first:
            st.extra[FIRST_USE] = day


def removable_copies(e: ActivityEvent) -> str:
    """The rule's ``fresh`` key: one thing, removable media. Copies count only within ``fresh_days`` of the
    employee's first copy and not when that came in their first ``warmup_days``
    (:func:`detectors.windows.fresh_since`), so someone who copies to drives as part of their work keeps no
    series of this rule at all (the state of a busy employee: tests/detectors/test_rules_state_size.py)."""
    return "removable"


@dataclass(frozen=True)
class FirstUseBeforeLastDay(BeforeLastDay):
    """:class:`BeforeLastDay` that counts only when the employee's first use of removable media lies in the
    window, after ``warmup_days`` (:data:`MIN_HISTORY_DAYS`) days of history: the history the ``fresh`` gate asks
    before a first copy (see :func:`removable_copies`), asked here of the first use of any kind."""

    warmup_days: int = MIN_HISTORY_DAYS
    #: the ``fresh`` gate's span after the first copy, and its own memory (one entry)
    fresh_days: int = 30
    fresh_memory: str = "rmf"

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        assert hr.last_day is not None
        first = st.extra.get(FIRST_USE)
        seen = st.extra.get("fs")
        start = hr.last_day - self.days + 1
        if first is None or seen is None or first < start or first - seen < self.warmup_days:
            return None
        f = super()._check(s, hr, today, st)
        if f is None:
            return None
        return dataclasses.replace(f, extra={**f.extra, "history_days": first - seen})


_WORK = daily("2026-01-05", 40, per_day=2, action="open")
_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_LATE = [hr("2026-01-01T09:00:00Z"),
         hr("2026-03-31T13:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-31")]

RULE = Rule(
    id="device.first_copies_before_departure",
    version="1",
    title=(
        "{observed:.0f} work files copied to removable media in the 30 days up to the last working day "
        "({last_day}), the first use of removable media in {history_days} days of history"
    ),
    description=__doc__,
    severity="medium",
    score=60,
    predicate=first_copies_before_departure,
    kinds=("device", "file"),
    observe=observe,
    fresh=removable_copies,
    window=FirstUseBeforeLastDay(days=30, threshold=4, evidence_cap=8),
    runbook=(
        "Identify the device (host, destination) and the files (evidence); ask for the drive back with the "
        "asset hand-in; ask the manager whether a handover on a drive was agreed."
    ),
    false_positives=("A handover on a drive, agreed with the manager",
                     "A first company-issued encrypted drive given to a leaver for their handover"),
    examples=(
        Example("a leaver's first drive, 10 work files, a week before the last day", True,
                _WORK + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=10), _LEAVER),
        Example("4 files are not more than 4", False,
                _WORK + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=4), _LEAVER),
        Example("one's own photos are no work files", False,
                _WORK + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=40,
                              object="E:\\Pictures\\2019"), _LEAVER),
        Example("someone who connected a drive in January is not new to it", False,
                _WORK + [ev("2026-01-20T10:00:00Z", kind="device", action="connect")]
                + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=10), _LEAVER),
        Example("the first drive two months before the last day is outside the window", False,
                _WORK + daily("2026-02-16", 1, per_day=1, action="copy_to_removable", count=10)
                + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=10), _LEAVER),
        Example("someone who is not leaving", False,
                _WORK + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=10),
                [hr("2026-01-01T09:00:00Z")]),
        Example("too little history to call it a first", False,
                daily("2026-03-10", 10, per_day=2, action="open")
                + daily("2026-03-24", 1, per_day=1, action="copy_to_removable", count=10), _LEAVER),
        Example("HR records the resignation on the last day, after the copies", True,
                _WORK + daily("2026-03-20", 1, per_day=1, action="copy_to_removable", count=30), _LATE),
    ),
)
