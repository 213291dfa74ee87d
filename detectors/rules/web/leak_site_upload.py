"""An upload to a leak site (``attrs.category`` ``leak_site``: WikiLeaks and the like, from the connectors'
classification).

Visiting a leak site is news reading (``web.first_category_visit`` tells the first visit); sending a file to
one is publishing the company's documents. Fires on any upload, for anyone, at ``high``; the log of the
upload (host, URL) is the evidence.
"""

from detectors.examples import ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent


def leak_site_upload(e: ActivityEvent) -> int:
    return int(e.kind == "web" and e.action == "upload" and e.attrs.get("category") == "leak_site")


_HR = [hr("2026-01-01T09:00:00Z")]

RULE = Rule(
    staying_cap=None,
    id="web.leak_site_upload",
    version="1",
    title="{observed:.0f} upload(s) to a leak site on {day}; HR status {status}",
    description=__doc__,
    severity="high",
    score=75,
    predicate=leak_site_upload,
    kinds=("web",),
    window=OnEvent(when="always", min_value=1),
    runbook=(
        "Identify what was sent (endpoint and proxy logs: file names and sizes); involve legal at once; keep "
        "the machine as it is for forensics."
    ),
    false_positives=("A mistaken category (a site listed as a leak site that is not)",),
    examples=(
        Example("an upload to a leak site", True,
                [ev("2026-02-10T22:00:00Z", kind="web", action="upload", object="https://leaks.example/submit",
                    attrs={"category": "leak_site"})], _HR),
        Example("a visit is not an upload", False,
                [ev("2026-02-10T22:00:00Z", kind="web", action="visit", object="https://leaks.example/",
                    attrs={"category": "leak_site"})], _HR),
    ),
)
