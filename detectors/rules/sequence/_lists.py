"""Site lists for sequence rules: job boards and recruiting sites, matched on the host and its parents.

``www.indeed.com``, ``de.indeed.com`` and ``indeed.com`` all match ``indeed.com``; a few general sites match
only on a path (``linkedin.com/jobs``). Extend the sets here; matching stays a few set look-ups per event.

>>> is_job_site("uk.indeed.com", None), is_job_site(None, "https://www.linkedin.com/jobs/view/1")
(True, True)
>>> is_job_site("www.linkedin.com", "https://www.linkedin.com/feed/"), is_job_site("corp.example", None)
(False, False)
"""

from __future__ import annotations

JOB_SITES = frozenset({
    "indeed.com", "indeed.co.uk", "indeed.de", "indeed.fr", "glassdoor.com", "glassdoor.co.uk",
    "monster.com", "monster.co.uk", "monster.de", "ziprecruiter.com", "careerbuilder.com", "simplyhired.com",
    "dice.com", "hired.com", "wellfound.com", "angel.co", "stepstone.de", "stepstone.com", "totaljobs.com",
    "reed.co.uk", "cv-library.co.uk", "seek.com.au", "naukri.com", "jobs.ch", "jobsite.co.uk", "apec.fr",
    "welcometothejungle.com", "jobteaser.com", "workday.com", "myworkdayjobs.com", "greenhouse.io",
    "lever.co", "smartrecruiters.com", "jobvite.com", "recruitee.com", "personio.de", "jobhuntersbible.com",
    "careerjet.com", "jooble.org", "adzuna.com", "flexjobs.com", "remote.co", "weworkremotely.com",
})
#: Sites that are job boards only under some paths.
JOB_PATHS: dict[str, tuple[str, ...]] = {
    "linkedin.com": ("/jobs", "/job/"),
    "xing.com": ("/jobs",),
    "google.com": ("/about/careers",),
}


def _split(url: str) -> tuple[str, str]:
    """Host and path of a URL or of a bare ``host/path``."""
    i = url.find("://")
    if i >= 0:
        url = url[i + 3 :]
    j = url.find("/")
    host, path = (url, "") if j < 0 else (url[:j], url[j:])
    return host.split(":", 1)[0].lower().rstrip("."), path


def _listed(host: str, path: str) -> bool:
    while True:
        if host in JOB_SITES:
            return True
        prefixes = JOB_PATHS.get(host)
        if prefixes is not None and path.startswith(prefixes):
            return True
        i = host.find(".")
        if i < 0:
            return False
        host = host[i + 1 :]


def is_job_site(destination: str | None, obj: str | None) -> bool:
    """Whether the destination domain or the URL in ``obj`` is a job board or recruiting site."""
    if obj:
        host, path = _split(obj)
        if host and _listed(host, path):
            return True
    if destination:
        return _listed(destination.lower().rstrip("."), "")
    return False
