"""Downloads from places new to the employee on many days of the departure period, against their own normal.

Low-and-slow theft shows in no single day: a few files a day, for weeks, from places the person never worked
in (other departments' sites, the board's folder, personnel files), in amounts within their usual volume. A
handover is the opposite: the person's own files, from the places they always used. So the rule counts, per
day, downloads (``download``, ``sync_download``) from a *place* the employee first used within the last 30
days and not in their first week; it needs no sensitivity label. A place is the SharePoint site the source
names (``attrs.site``), else the first three folders of the object's path (a site and its library, a file
server's share and top folder), case-insensitive.

The departure period (30 days up to the last working day, or from the start of the notice if earlier) is
judged as a whole against the share of days with such downloads in the 30 days before it (``Sustained``): the
rule fires once per departure when at least 5 days have them and that many is a chance below 1 in 100,000
under the employee's own normal. People whose work brings new places all the time have a high normal share
and need far more. The alert names how many new places, on how many days, and the chance. A move to another
department (HR) in that time brings new places of work with it: the alert says so and stays low.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import Sustained
from schemas import ActivityEvent

DOWNLOADS = frozenset({"download", "sync_download"})
#: Leading folders that make a place: a SharePoint site and library, a share and its top folder.
PLACE_DEPTH = 3


def place_of(e: ActivityEvent) -> str | None:
    """Where a file lives: the site the source names, else the first folders of the object's path.

    >>> def at(obj): return place_of(ActivityEvent.model_validate(ev("2026-01-05T10:00:00Z", action="download",
    ...                                                               object=obj)))
    >>> at("/sites/Finance/Reports/Q1/x.xlsx"), at("https://corp.sharepoint.com/sites/HR/a.pdf")
    ('sites/finance/reports', 'corp.sharepoint.com/sites/hr')
    >>> at(r"\\\\fs01\\legal\\cases\\2026\\m.docx"), at("report.pdf")
    ('fs01/legal/cases', None)
    """
    site = e.attrs.get("site")
    if isinstance(site, str) and site.strip():
        return site.strip().lower().split("://", 1)[-1].rstrip("/")
    obj = e.object
    if not obj:
        return None
    path = obj.split("://", 1)[-1].replace("\\", "/")
    folders = [p for p in path.split("/")[:-1] if p]
    if not folders:
        return None
    return "/".join(folders[:PLACE_DEPTH]).lower()


def downloads_from_new_places(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.action in DOWNLOADS


def _own(start: str, days: int, per_day: int = 1) -> list[dict[str, Any]]:
    return daily(start, days, per_day, action="download", object="/sites/support/cases/case.pdf")


def _new(start: str, days: int, site: str = "finance/reports", hour: int = 11) -> list[dict[str, Any]]:
    return daily(start, days, hour=hour, action="download", object=f"/sites/{site}/q1.xlsx")


_LEAVER = [hr("2026-01-05T08:00:00Z"),
           hr("2026-02-14T09:00:00Z", status="notice", last_day="2026-03-06", resignation_date="2026-02-14")]

RULE = Rule(
    id="file.downloads_from_new_places",
    version="1",
    title=(
        "Downloads from {new_things} place(s) new to the employee on {observed:.0f} of the {period_days} days "
        "from {window_start} to {window_end} ({total:.0f} downloads); before, on {ref_days_with} of "
        "{ref_days} days; a chance of 1 in 10^{evidence} under their own normal; last working day {last_day}{moved}"
    ),
    description=__doc__,
    severity="medium",
    score=60,
    predicate=downloads_from_new_places,
    kinds=("file",),
    fresh=place_of,
    window=Sustained(days=30, ref_days=30, min_days=5, min_evidence=5.0),
    runbook=(
        "List the new places and the files taken from them (evidence); ask the manager whether the work in the "
        "notice needed them (a project taken over, a handover to another team); look for the same files leaving "
        "by mail, USB or personal cloud."
    ),
    false_positives=(
        "A new project or team joined during the notice (its site is new to the person)",
        "A role change shortly before the departure (the new department's places)",
    ),
    examples=(
        Example("a week of downloads from a place never used before, in the departure period", True,
                _own("2026-01-05", 40) + _new("2026-02-16", 7), _LEAVER),
        Example("a handover: three times the usual downloads, all from the person's own places", False,
                _own("2026-01-05", 40) + _own("2026-02-16", 12, per_day=3), _LEAVER),
        Example("new places on 4 days only", False,
                _own("2026-01-05", 40) + _new("2026-02-16", 4), _LEAVER),
        Example("someone whose work brings new places all the time", False,
                _own("2026-01-05", 40) + [x for i in range(8) for x in _new(f"2026-01-{13 + 2 * i:02d}", 1,
                                                                           f"project{i}/docs")]
                + [x for i in range(9) for x in _new(f"2026-02-{2 + 2 * i:02d}", 1, f"project{10 + i}/docs")],
                _LEAVER),
        Example("someone who is not leaving", False,
                _own("2026-01-05", 40) + _new("2026-02-16", 10), [hr("2026-01-05T08:00:00Z")]),
        Example("places used from the first week are the person's own", False,
                _own("2026-01-05", 40) + _new("2026-01-05", 5) + _new("2026-02-16", 10), _LEAVER),
        Example("the resignation is recorded after the downloads", True,
                _own("2026-01-05", 40) + _new("2026-02-16", 7),
                [hr("2026-01-05T08:00:00Z"),
                 hr("2026-02-27T09:00:00Z", status="notice", last_day="2026-03-06",
                    resignation_date="2026-02-13")]),
        Example("a move to another department explains the new places (alerted low)", True,
                _own("2026-01-05", 40) + _new("2026-02-16", 7),
                [hr("2026-01-05T08:00:00Z", department="support"), hr("2026-02-02T08:00:00Z", department="finance"),
                 hr("2026-02-14T09:00:00Z", status="notice", last_day="2026-03-06", resignation_date="2026-02-14",
                    department="finance")]),
        Example("a source that names the site, without labels or paths", True,
                _own("2026-01-05", 40)
                + [ev(f"2026-02-{16 + i:02d}T11:00:00Z", action="sync_download", object="q1.xlsx",
                      attrs={"site": "https://corp.sharepoint.com/sites/Board"}) for i in range(7)], _LEAVER),
    ),
)
