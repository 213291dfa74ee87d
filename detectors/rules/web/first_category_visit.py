"""The first visit to a site category the employee never visited before, after at least 28 days of history:
leak sites, hacking tools and keyloggers, job search, competitors.

Categories come from the connectors' classification (``[categories]`` in ``connectors/classification.toml``,
the event's ``attrs.category``); a category is new when none of the employee's remembered web history fell in
it. One alert per new category. Alone it is ``low``, in notice too (a news story sends many people
to a leak site once); it feeds ``activity.firsts_together``.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import web_category
from detectors.windows import FirstTime
from schemas import ActivityEvent


def first_category_visit(e: ActivityEvent) -> bool:
    return web_category(e) is not None


_HR = [hr("2026-01-01T09:00:00Z")]
_WORK = daily("2026-01-05", 30, per_day=3, hour=10, action="visit", kind="web", object="https://news.example/")


def _visit(ts: str, cat: str) -> dict:
    return ev(ts, action="visit", kind="web", object="https://site.example/a", attrs={"category": cat})


RULE = Rule(
    id="web.first_category_visit",
    version="1",
    title="First visit to a {new} site in {history_days} days of history, on {day}; HR status {status}",
    description=__doc__,
    severity="low",
    score=30,
    predicate=first_category_visit,
    kinds=("web",),
    novelty=web_category,
    window=FirstTime(min_history_days=28),
    runbook="Look at the pages (evidence) and at what else was new that day; a leak site or a keylogger vendor "
            "followed by removable media or uploads is the pattern to escalate.",
    false_positives=("A news story that links to a leak site", "Security staff researching tools"),
    examples=(
        Example("a leak site after 30 days of ordinary browsing", True,
                _WORK + [_visit("2026-02-10T20:00:00Z", "leak_site")], _HR),
        Example("a second visit is not new", False,
                _WORK + [_visit("2026-01-20T20:00:00Z", "leak_site"), _visit("2026-02-10T20:00:00Z", "leak_site")],
                _HR),
        Example("an unflagged category is not told", False,
                _WORK + [_visit("2026-02-10T20:00:00Z", "news")], _HR),
    ),
)
