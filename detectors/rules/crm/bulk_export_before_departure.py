"""A single CRM export of at least 100 records by an employee in notice or within 30 days of the last day.

Exports are ``export``, ``report_export`` and ``bulk_query`` events; the value is the event's ``count``
(records), and a day's value is its largest export (``agg="max"``), so many small exports do not add up to
one bulk export. An export without a count is not judged. HR news that arrives after the export (a
resignation recorded late, a last day set afterwards) re-evaluates the stored days and still fires.

Version 3 grades the export against the largest the employee made *before the departure period* (the stored
days of the last 90, :meth:`detectors.windows.OnEvent.largest_before`), no longer against the learned peak: an
export made before HR knew of the resignation had taught that peak itself, and a 659-record export read as
"1.0x usual". A handover export of the person's usual report size stays low; one several times larger than
anything they exported before is graded up.

Version 4 tells a handover of the person's usual report from a new kind of export: the kind is the action
and the report or object exported (digits left out, so a monthly report stays one kind). A kind the employee
first made more than 30 days earlier, or in their first week of history, is theirs: such an export is graded
against twice their largest before (a successor may get the whole list they used to pull in parts). A kind first
made in the last 30 days (a full object export, a bulk API query, a report they never ran) is graded against
their largest itself. The kinds are kept in a small memory of their own (:func:`detectors.windows.fresh_since`,
8 entries, ``fk``).
"""

import re

from detectors.examples import ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent

EXPORTS = frozenset({"export", "report_export", "bulk_query"})


def bulk_export_before_departure(e: ActivityEvent) -> int:
    if e.kind != "crm" or e.action not in EXPORTS:
        return 0
    return e.count or 0


def kind_of_export(e: ActivityEvent) -> str:
    """The kind of an export: its action and what it exported, without digits (dates, ids of a run).

    >>> def k(action, obj): return kind_of_export(ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z",
    ...                                                                         action=action, object=obj)))
    >>> k("report_export", "Pipeline report 2026-03"), k("bulk_query", "Account")
    ('crm:report_export:pipeline report', 'crm:bulk_query:account')
    """
    what = re.sub(r"[\d\W_]+", " ", (e.object or "").lower()).strip()
    return f"crm:{e.action}:{what[:40]}"


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_STAYER = [hr("2026-01-01T09:00:00Z")]

RULE = Rule(
    id="crm.bulk_export_before_departure",
    version="4",
    title=(
        "CRM export of {observed:.0f} records on {day} by an employee who is leaving (status {status}, "
        "last working day {last_day}), {new_kind}; their largest before the departure period was "
        "{largest_before:.0f}; "
        "exports of {threshold:.0f} records or more are flagged"
    ),
    description=__doc__,
    severity="high",
    score=70,
    predicate=bulk_export_before_departure,
    kinds=("crm",),
    agg="max",
    fresh=kind_of_export,
    # Graded against the employee's largest export before the departure period (finance and marketing
    # export hundreds routinely; a handover of the usual report is no larger than before).
    window=OnEvent(when="departing", within_days=30, min_value=100, relative_to="before", usual_factor=2.0),
    runbook=(
        "Identify the report or object exported and its record count; ask the manager whether the handover "
        "needed it; look for the file leaving by personal mail, USB or personal cloud in the following hours."
    ),
    false_positives=(
        "Handover lists prepared for a successor at the manager's request",
        "Scheduled report exports that run under the employee's account",
    ),
    examples=(
        Example("an export of 250 records in notice", True,
                [ev("2026-03-10T10:00:00Z", action="export", count=250)], _LEAVER),
        Example("exactly 100 records is enough", True,
                [ev("2026-03-10T10:00:00Z", action="bulk_query", count=100)], _LEAVER),
        Example("99 records is just under", False,
                [ev("2026-03-10T10:00:00Z", action="report_export", count=99)], _LEAVER),
        Example("several small exports do not add up to a bulk export", False,
                [ev(f"2026-03-10T1{i}:00:00Z", action="export", count=60) for i in range(3)], _LEAVER),
        Example("views are not exports", False,
                [ev("2026-03-10T10:00:00Z", action="view", count=500)], _LEAVER),
        Example("someone who is not leaving", False,
                [ev("2026-03-10T10:00:00Z", action="export", count=5000)], _STAYER),
        Example("an export long before the notice", False,
                [ev("2026-01-10T10:00:00Z", action="export", count=5000)], _LEAVER),
        Example("HR news of the notice arrives two weeks after the export", True,
                [ev("2026-03-05T10:00:00Z", action="export", count=800)],
                _STAYER + [hr("2026-03-20T09:00:00Z", status="notice", last_day="2026-03-31")]),
    ),
)
