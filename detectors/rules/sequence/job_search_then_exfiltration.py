"""Job-site visits followed within 30 days by data moved to removable media, personal mail or personal cloud.

First step (``job_site_visit``): a ``web`` ``visit`` to a job board or recruiting site: the connectors'
``attrs.category`` ``job_search`` (``connectors/classification.toml``), or the list in ``sequence/_lists.py``
matched on the URL in ``object`` or the ``destination`` domain. Last step: files copied to removable media,
mail sent or forwarded to a personal address, or an upload to personal cloud storage, each worth its
``count`` or 1 (device connects are ``sequence.job_search_then_device_use``: counted here they would add
to the copies of the same session). Benign people glance at a job site and copy a file now and then,
so it takes at least 3 job-site visits in the 30 days before, at least 5 files or messages out on one day,
and, once the employee has 14 days of history for these channels, at least 3 times their usual daily amount.
Fires for anyone (many leavers search before they resign, so HR news is not needed); one alert per day.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.sequence._lists import is_job_site
from detectors.windows import Sequence
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward", "auto_forward"})
UPLOAD_KINDS = frozenset({"web", "file"})


def job_site_visit(e: ActivityEvent) -> bool:
    return e.kind == "web" and e.action == "visit" and (
        e.attrs.get("category") == "job_search" or is_job_site(e.destination, e.object))


def job_search_then_exfiltration(e: ActivityEvent) -> int:
    a = e.action
    if a == "copy_to_removable":
        return e.count or 1
    if e.personal is not True:
        return 0
    if (a == "upload" and e.kind in UPLOAD_KINDS) or (e.kind == "email" and a in SENDS):
        return e.count or 1
    return 0


_HR = [hr("2026-01-01T09:00:00Z")]
_SEARCH = [ev(f"2026-02-0{d}T12:{m}:00Z", action="visit", kind="web", object=url)
           for d, m, url in ((2, 10, "https://www.indeed.com/viewjob?jk=1"),
                             (3, 15, "https://www.linkedin.com/jobs/view/42"),
                             (5, 20, "https://uk.glassdoor.com/Job/index.htm"))]

RULE = Rule(
    # The signal comes before anyone resigns (CERT scenario 2), so it keeps its severity for people staying.
    staying_cap=None,
    id="sequence.job_search_then_exfiltration",
    version="2",
    title=(
        "{first_steps} job-site visits since {window_start}, then {observed:.0f} files or messages moved to "
        "removable media, personal mail or personal cloud on {day} ({hours_since_first} h after the first "
        "visit); status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=job_search_then_exfiltration,
    first=job_site_visit,
    window=Sequence(within_hours=24 * 30, min_first=3, then_min=5, then_factor=3.0),
    runbook=(
        "Treat the job search as context, not wrongdoing: look at what left (evidence after the visits) and its "
        "sensitivity; if it is company data, raise it with HR and the manager as a possible pre-resignation "
        "collection; do not confront the employee about the job search itself."
    ),
    false_positives=(
        "Recruiters and HR staff who visit job boards as their work",
        "Employees who regularly move work files to a company-approved USB drive",
    ),
    examples=(
        Example("3 job-site visits, then 12 files to a USB drive a week later", True,
                _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("visits, then a folder of 6 files to a personal drive", True,
                _SEARCH + [ev("2026-02-20T18:00:00Z", kind="web", action="upload", personal=True, count=6,
                              destination="dropbox.com")], _HR),
        Example("a single glance at a job board, then 12 files to USB", False,
                _SEARCH[:1] + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("job search, then a single file to USB", False,
                _SEARCH + [ev("2026-02-12T10:00:00Z", action="copy_to_removable")], _HR),
        Example("the exfiltration 40 days after the visits", False,
                _SEARCH + daily("2026-03-17", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("exfiltration before the job search", False,
                daily("2026-01-20", 1, per_day=12, action="copy_to_removable") + _SEARCH, _HR),
        Example("someone who copies about 10 files to USB every day", False,
                daily("2026-01-10", 30, per_day=10, action="copy_to_removable") + _SEARCH
                + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("device connects alone are not files moved", False,
                daily("2026-01-05", 30, per_day=1, action="connect") + _SEARCH
                + daily("2026-02-12", 1, per_day=6, action="connect"), _HR),
        Example("a site the classification puts in job_search", True,
                [ev(f"2026-02-0{d}T12:00:00Z", action="visit", kind="web", object="https://jobs.example/x",
                    attrs={"category": "job_search"}) for d in (2, 3, 5)]
                + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("mail to a work address is not exfiltration", False,
                _SEARCH + daily("2026-02-12", 1, per_day=12, action="send", personal=False), _HR),
        Example("linkedin feed is not a job search", False,
                [ev(f"2026-02-0{d}T12:00:00Z", action="visit", kind="web", object="https://www.linkedin.com/feed/")
                 for d in (2, 3, 5)] + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
    ),
)
