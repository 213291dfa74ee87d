"""Two or more different things the employee never did before, within 7 days, after at least 28 days of
history: the first removable media, the first work after hours, the first visit to a leak site, hacking-tool
or job-search site, the first mail to a competitor, the first logon on someone else's machine.

Each first alone is common enough (one new thing a month is ordinary); several at once are how data theft
and sabotage look in logs without sensitivity labels (CERT's insider scenarios: a night logon, a thumb drive
and a leak site in one session). In numbers: the window weighs the kinds of new things in the 7 days up to
today, each 1 except work after hours, the commonest first (a late evening now and then), which weighs 0.5,
and fires at 2: two strong firsts, or a late evening with two others. The explanation names them and the
length of the history they are new against. It keeps its severity for someone not leaving (the departure
is often recorded only afterwards). Version 2: after hours weighs half (version 1 flagged an honest researcher
for one event at 19:05 and a first USB copy the next day on a generated company). Version 3: what the engine
marks routine (``attrs.routine``: a logon on a colleague's machine or a hacking-tool site that is the person's
habit or, for someone not leaving, their team's) is no first: version 2 flagged three helpdesk and desktop
support technicians of two outside companies (seed 1) for "host:a, host:b, host:c" (their desk-side visits)
with a first thumb drive or a job site.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import any_first
from detectors.windows import FirstTime
from schemas import ActivityEvent


def firsts_together(e: ActivityEvent) -> bool:
    return any_first(e) is not None


_HR = [hr("2026-01-01T09:00:00Z")]
_WORK = [e for e in daily("2026-01-05", 30, per_day=3, hour=10, action="open")
         if __import__("datetime").date.fromisoformat(e["ts"][:10]).weekday() < 5]
_NIGHT_USB = [ev("2026-02-17T22:00:00Z", action="logon"),
              ev("2026-02-17T22:05:00Z", action="connect", destination="removable")]

RULE = Rule(
    staying_cap=None,
    id="activity.firsts_together",
    version="3",
    title=(
        "Never done before in {history_days} days of history, within 7 days up to {day}: {new} (weight "
        "{observed:g}, after hours counting half); HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=firsts_together,
    novelty=any_first,
    window=FirstTime(min_history_days=28, min_new=2, span_days=7, weak_kinds=("after_hours",)),
    runbook=(
        "Read the evidence in time order: what was connected, visited, sent and from which machine; ask the "
        "manager whether a change of role or a project explains it; if files may have left, secure the device "
        "and involve HR."
    ),
    false_positives=("A new role or project that brings several new tools at once",),
    examples=(
        Example("a night logon, a thumb drive and a leak site after 30 ordinary weekdays", True,
                _WORK + _NIGHT_USB + [ev("2026-02-17T22:10:00Z", kind="web", action="visit",
                                         attrs={"category": "leak_site"})], _HR),
        Example("a night logon and a thumb drive: after hours counts half", False, _WORK + _NIGHT_USB, _HR),
        Example("a thumb drive, then a leak site 3 days later", True,
                _WORK + [ev("2026-02-16T11:00:00Z", action="connect"),
                         ev("2026-02-19T11:00:00Z", kind="web", action="visit", attrs={"category": "leak_site"})],
                _HR),
        Example("one new thing alone", False, _WORK + _NIGHT_USB[1:], _HR),
        Example("a first logon on a colleague's machine and a first thumb drive", True,
                _WORK + [ev("2026-02-16T11:00:00Z", action="logon", host="PC-BOB", attrs={"host_usual_user": "E2"}),
                         ev("2026-02-17T11:00:00Z", action="connect")], _HR),
        Example("... but a helpdesk technician's desk-side logons are routine, not firsts", False,
                _WORK + [ev("2026-02-16T11:00:00Z", action="logon", host="PC-BOB",
                            attrs={"host_usual_user": "E2", "routine": "own"}),
                         ev("2026-02-17T11:00:00Z", action="connect")], _HR),
        Example("two new things 10 days apart", False,
                _WORK + [ev("2026-02-06T11:00:00Z", action="connect"), ev("2026-02-17T22:00:00Z", action="logon")],
                _HR),
        Example("someone who already works nights and uses drives", False,
                _WORK + [ev("2026-01-13T22:00:00Z", action="logon"), ev("2026-01-13T22:05:00Z", action="connect")]
                + _NIGHT_USB, _HR),
    ),
)
