"""Restricted files downloaded on 3 consecutive days while the employee is in notice.

Counts ``download`` and ``sync_download`` of ``restricted`` objects only (confidential is left to
``file.sensitive_downloads_before_departure``). Days are calendar days (UTC): a weekend breaks the run.
One alert per run; a fourth day adds nothing, a new run after a gap alerts again. A resignation recorded
late (with its ``resignation_date``) re-evaluates the stored days.

Version 2 grades the run by what was not passed on (``file/_handover.py``): restricted downloads an internal
mail with attachments passed on within two hours are a handover, a download from a container the employee
never touched weighs 3, an exit keeps them in; the run's ratio to the usual day is multiplied by the share left
unexplained over the departure so far. What fires is unchanged; a run alerted while the person was only
possibly leaving (the departure propensity) keeps an id of its own, so HR's notice raises it again at its grade. Version 1 graded the raw count: 10 of 390
honest people in a high-turnover company got a medium or high alert, most of them handing over.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.file._handover import DOWNLOADS, observe
from detectors.windows import ConsecutiveDays
from schemas import ActivityEvent

KEY = "hq"  # where observe() keeps this rule's record in st.extra


def _observe(e: ActivityEvent, st: Any, hr: Any, day: int, t: float) -> None:
    observe(e, st, hr, day, t, counts=lambda x: x.sensitivity == "restricted", key=KEY)


def restricted_downloads_consecutive_days(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.sensitivity == "restricted" and e.action in DOWNLOADS


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]

RULE = Rule(
    id="file.restricted_downloads_consecutive_days",
    version="2",
    title=(
        "Restricted files downloaded on {observed:.0f} consecutive days in notice ({window_start} to "
        "{window_end}, per day {per_day}); last working day {last_day}"
    ),
    description=__doc__,
    severity="high",
    score=65,
    predicate=restricted_downloads_consecutive_days,
    kinds=("email", "file", "web"),
    observe=_observe,
    window=ConsecutiveDays(when="in_notice", days=3, min_per_day=1, unexplained=KEY),
    runbook=(
        "List the restricted files (evidence) and who owns them; ask the manager whether the handover needs them; "
        "check the same files for USB copies, personal mail or personal cloud uploads."
    ),
    false_positives=(
        "Roles whose daily work is restricted material (legal, finance close): check their days before notice",
        "A sync client re-downloading the same restricted folder every morning",
    ),
    examples=(
        Example("restricted downloads on 3 days in a row in notice", True,
                daily("2026-03-10", 3, action="download", sensitivity="restricted"), _LEAVER),
        Example("2 days is not a run of 3", False,
                daily("2026-03-10", 2, action="download", sensitivity="restricted"), _LEAVER),
        Example("a gap day breaks the run", False,
                daily("2026-03-10", 2, action="download", sensitivity="restricted")
                + [ev("2026-03-13T10:00:00Z", action="download", sensitivity="restricted")], _LEAVER),
        Example("confidential is not restricted", False,
                daily("2026-03-10", 5, action="download", sensitivity="confidential"), _LEAVER),
        Example("3 days before the notice started", False,
                daily("2026-02-10", 3, action="download", sensitivity="restricted"), _LEAVER),
        Example("someone not leaving", False,
                daily("2026-03-10", 5, action="sync_download", sensitivity="restricted"),
                [hr("2026-01-01T09:00:00Z")]),
        Example("resignation recorded late, dated before the downloads", True,
                daily("2026-03-10", 3, action="sync_download", sensitivity="restricted"),
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-20T09:00:00Z", status="notice", resignation_date="2026-03-09",
                    last_day="2026-04-30")]),
    ),
)
