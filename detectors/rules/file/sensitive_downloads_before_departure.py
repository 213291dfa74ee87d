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
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.file._handover import DOWNLOADS, observe
from detectors.windows import BeforeLastDay
from schemas import ActivityEvent

KEY = "hs"  # where observe() keeps this rule's record in st.extra


def sensitive_downloads_before_departure(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.action in DOWNLOADS and e.sensitive


def _observe(e: ActivityEvent, st: Any, hr: Any, day: int, t: float) -> None:
    observe(e, st, hr, day, t, counts=lambda x: x.sensitive, key=KEY)


_LEAVER = hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")

RULE = Rule(
    id="file.sensitive_downloads_before_departure",
    version="2",
    title=(
        "{observed:.0f} confidential or restricted downloads in the 30 days up to the last working day "
        "({last_day}); more than {threshold:.0f} is the limit"
    ),
    description=__doc__,
    severity="high",
    score=70,
    predicate=sensitive_downloads_before_departure,
    kinds=("email", "file", "web"),
    observe=_observe,
    window=BeforeLastDay(days=30, threshold=10, evidence_cap=8, unexplained=KEY),
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
