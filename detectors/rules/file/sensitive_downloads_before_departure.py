"""More than 10 downloads of confidential or restricted objects in the 30 days up to the last working day.

Version 2 grades by where the downloads went and where they came from (``file/_handover.py``): downloads an
internal mail with attachments passed on within two hours (a handover to the manager or successor) are taken
out, a download from a container (site and folders) the employee never touched weighs 3, and an exit
(removable media, an external share, personal mail or upload) keeps the session's downloads in. The ratio to
the employee's own usual (over the days elapsed in the window, at least a week) is multiplied by the share
left unexplained, so a leaver who hands everything over is graded low however much they download. What
fires is unchanged (the count), so alert ids do not depend on the order events arrive in. Version 1 graded
the raw count: 18 of 390 honest people in a high-turnover company got a medium or high alert for handovers.
Someone the departure propensity marks as possibly leaving gets at most one (low) alert of it, however often
the propensity flags them again (each flag moves the provisional last day).

Version 3 asks what an analyst would: is the count more than the person's own pace, and is there anything
besides volume? A count under three times the employee's own pace (the engine's band below which a rule is at
most medium, ``detectors.engine.grade``) with nothing from a place they never touched (the share left
unexplained is at most 1: no novelty) is graded low: it is their own work at a somewhat busier pace, which is
what a notice with a handover looks like; data that then leaves is the exit rules' finding (removable media,
personal mail, personal cloud), and ``risk.employee`` still adds the low alert up. Someone with too little
history for a trusted usual (under two weeks) but at least a week of it is graded on that short history's pace
the same way (version 2 gave them the rule's own severity even when they downloaded less than their own daily
mean). Three times the pace, or downloads from never-touched places, keep the grade of version 2. On main
dcc21c4 (36 companies, seeds 1 to 4) the rule's medium+ alerts caught no thief that another rule did not catch
the same day or earlier; version 3 removes 4 honest leavers' (two at 1.6x their pace, two with 11 days of
history downloading below their own mean), loses no thief, and moves one thief's first medium+ day one day later.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.file._handover import DOWNLOADS, observe
from detectors.state import EmployeeState, Series
from detectors.windows import LOW_BELOW, BeforeLastDay
from schemas import ActivityEvent

KEY = "hs"  # where observe() keeps this rule's record in st.extra
#: Under this many times the employee's own pace, a count with nothing from never-touched places is low.
CALM_BELOW = 3.0
#: Days of history enough to see the employee's own pace (not enough to trust a rise: MIN_HISTORY_DAYS).
SHORT_HISTORY = 7
#: Suffix of the key of a departure's count graded low for its pace (see PaceBeforeLastDay).
CALM_KEY = "c"


@dataclass(frozen=True)
class PaceBeforeLastDay(BeforeLastDay):
    """:class:`BeforeLastDay` that grades low a count near the employee's own pace with nothing novel in it
    (see the module docstring, version 3); the finding says why in ``pace``. The alert is sent when the
    count first crosses the threshold, graded on the pace so far (at least a week of it): a calm finding has
    its own key, so the same departure is alerted once more, at its full grade, if the pace later reaches
    :data:`CALM_BELOW` times the usual or downloads come from new places; never the other way round."""

    calm_below: float = CALM_BELOW
    short_history: int = SHORT_HISTORY

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        f = super()._check(s, hr, today, st)
        if f is None:
            return None
        extra = {**f.extra, "pace": ""}
        share = extra.get("unexplained_share")
        novel = share is not None and share > 1
        ratio, pace = f.ratio, f.ratio
        short = ""
        if ratio is None and s.n >= self.short_history and hr.last_day is not None:
            start = hr.last_day - self.days + 1
            elapsed = max(self.min_elapsed, min(hr.last_day, today) - start + 1)
            expected = s.mean * elapsed
            pace = None if expected <= 1e-9 else f.observed * (1.0 if share is None else share) / expected
            short = f" (from {s.n} days of history)"
        if hr.possibly_leaving or novel or pace is None or pace >= self.calm_below:
            return dataclasses.replace(f, extra=extra)
        if (ratio is not None and ratio < LOW_BELOW) or s.last == f.key:
            return dataclasses.replace(f, extra=extra)  # low already, or the departure's alert was sent
        extra["pace"] = (f"; {pace:.2f}x the employee's own pace{short}, all from places they worked in before: "
                         f"graded low (under {self.calm_below:g}x and nothing new)")
        # Its own key: the departure's count is judged again as it grows, and alerted (under the departure's
        # key) once it reaches the pace or the novelty that grade it medium or more.
        return dataclasses.replace(f, key=f.key + CALM_KEY, ratio=LOW_BELOW * 0.99, extra=extra)


def sensitive_downloads_before_departure(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.action in DOWNLOADS and e.sensitive


def _observe(e: ActivityEvent, st: Any, hr: Any, day: int, t: float) -> None:
    observe(e, st, hr, day, t, counts=lambda x: x.sensitive, key=KEY)


_LEAVER = hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")

RULE = Rule(
    id="file.sensitive_downloads_before_departure",
    version="3",
    title=(
        "{observed:.0f} confidential or restricted downloads in the 30 days up to the last working day "
        "({last_day}); more than {threshold:.0f} is the limit{pace}"
    ),
    description=__doc__,
    severity="high",
    score=70,
    predicate=sensitive_downloads_before_departure,
    kinds=("email", "file", "web"),
    observe=_observe,
    window=PaceBeforeLastDay(days=30, threshold=10, evidence_cap=8, unexplained=KEY),
    runbook=(
        "Check the listed files against the employee's handover; ask the manager whether the work needed them; "
        "look for the same files leaving by mail, USB or personal cloud."
    ),
    false_positives=(
        "People whose everyday work is downloading specifications (graded low when far below their normal)",
        "Handover packages prepared for a successor and shared by a link or chat, not by mail (graded on the "
        "raw count)",
    ),
    examples=(
        Example("11 restricted downloads before the last day (graded low when all were mailed on internally)", True,
                daily("2026-03-10", 11, action="download", sensitivity="restricted"), [_LEAVER]),
        Example("two a day against a usual one, from the folder they always used (fires; graded low since v3: "
                "under 3 times their own pace and nothing new)", True,
                daily("2026-01-05", 50, action="download", sensitivity="restricted", object="/sites/team/a.pdf")
                + daily("2026-03-02", 12, per_day=2, action="download", sensitivity="restricted",
                        object="/sites/team/b.pdf"), [hr("2026-01-02T09:00:00Z"), _LEAVER]),
        Example("exactly 10 is not more than 10", False,
                daily("2026-03-10", 10, action="download", sensitivity="restricted"), [_LEAVER]),
        Example("internal documents do not count", False,
                daily("2026-03-10", 15, action="download", sensitivity="internal"), [_LEAVER]),
        Example("downloads before the 30-day window do not count", False,
                daily("2026-01-10", 15, action="download", sensitivity="restricted"), [_LEAVER]),
        Example("someone who is not leaving", False,
                daily("2026-03-10", 15, action="download", sensitivity="restricted"),
                [hr("2026-03-01T09:00:00Z")]),
        Example("HR news of the last day arrives after the downloads", True,
                daily("2026-03-10", 11, action="sync_download", sensitivity="confidential"),
                [hr("2026-03-01T09:00:00Z"), hr("2026-03-25T09:00:00Z", status="notice", last_day="2026-03-31")]),
        Example("the event names only an alias", True,
                daily("2026-03-10", 11, action="download", sensitivity="restricted", actor="CORP\\ALEE"),
                [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31",
                    accounts=["ann@corp.example", "corp\\alee"])]),
    ),
)
