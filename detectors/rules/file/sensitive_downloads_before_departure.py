"""More than 10 downloads of confidential or restricted objects in the 30 days up to the last working day."""

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.windows import BeforeLastDay
from schemas import ActivityEvent

DOWNLOADS = frozenset({"download", "sync_download"})


def sensitive_downloads_before_departure(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.action in DOWNLOADS and e.sensitive


_LEAVER = hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")

RULE = Rule(
    id="file.sensitive_downloads_before_departure",
    version="1",
    title=(
        "{observed:.0f} confidential or restricted downloads in the 30 days up to the last working day "
        "({last_day}); more than {threshold:.0f} is the limit"
    ),
    description=__doc__,
    severity="high",
    score=70,
    predicate=sensitive_downloads_before_departure,
    window=BeforeLastDay(days=30, threshold=10),
    runbook=(
        "Check the listed files against the employee's handover; ask the manager whether the work needed them; "
        "look for the same files leaving by mail, USB or personal cloud."
    ),
    false_positives=(
        "People whose everyday work is downloading specifications (graded low when far below their normal)",
        "Handover packages prepared for a successor",
    ),
    examples=(
        Example("11 restricted downloads before the last day", True,
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
