"""Visits to or downloads from hacking-tool and keylogger sites (``attrs.category`` ``hacking_tools`` from the
connectors' classification: keylogger and spyware vendors, password crackers, exploit kits).

On a company machine this is rarely work outside the security team, and it is the first step of the
sabotage and credential-theft cases (CERT scenario 3: a keylogger downloaded, carried on a thumb drive to the
supervisor's machine). Fires on any day with one such event; graded against the employee's own normal, so
someone whose work it is (a security analyst visiting these sites every week) is ``low``, and it stays at
``medium`` at most for someone not leaving. What is routine is not counted at all (version 2): the engine
marks a visit ``attrs.routine`` (``detectors.habits``) when the person made such visits several times before,
when several of their department or role do it too (a security team), or in their first two weeks of data
(no history: caution, not alarm). A first visit for the person that is unusual for their peers is judged as
before. Version 3: the team's habit does not cover someone who is leaving or on the watchlist (only their own
does): a departing member of a team that visits such sites, who never did, is doing something new for them.
Version 4: a role or department too small for three others to do it is a team whose habit it is when every other
member does it (``detectors.habits``): version 3 flagged the second of an outside company's two security
analysts (400 employees, 100 days, seed 2) medium for his second visit, in his third week of data, to the kind
of site his one colleague had visited every few days from the first day.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent


def hacking_tools(e: ActivityEvent) -> int:
    return int(e.kind == "web" and e.action in ("visit", "download") and e.attrs.get("category") == "hacking_tools"
               and not e.attrs.get("routine"))


_HR = [hr("2026-01-01T09:00:00Z", department="IT")]
#: ann's department: four colleagues who never visit such sites, and a security team of five that does.
_IT = [hr("2026-01-01T09:00:00Z", employee_id=f"I{i}", accounts=[f"it{i}@corp.example"], department="IT")
       for i in range(4)]
_SEC = [hr("2026-01-01T09:00:00Z", employee_id=f"S{i}", accounts=[f"sec{i}@corp.example"], department="Security")
        for i in range(5)]
_WORK = daily("2026-01-05", 20, per_day=1, kind="web", action="visit", object="https://news.example/")
_KEYLOGGER: dict[str, Any] = dict(kind="web", action="visit", object="https://www.keylogger.example/download",
                  attrs={"category": "hacking_tools"})

RULE = Rule(
    staying_cap="medium",
    id="web.hacking_tools",
    version="4",
    title=(
        "{observed:.0f} visit(s) or download(s) of hacking tools or keyloggers on {day}, "
        "{ratio_to_own_normal}x the employee's usual; HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=hacking_tools,
    kinds=("web",),
    window=OnEvent(when="always", min_value=1),
    runbook=(
        "Check whether the tool was downloaded and run (endpoint protection, the file on the machine and on "
        "removable media); ask whether the employee's role needs it; if not, isolate the machine and reset the "
        "credentials of everyone who used it since."
    ),
    false_positives=("Security staff testing tools", "A vendor site reached through a review article"),
    examples=(
        Example("a keylogger vendor's download page", True,
                _WORK + [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)], _HR),
        Example("a first visit in the employee's first days of data: nothing known yet", False,
                [ev("2026-01-05T13:35:00Z", **_KEYLOGGER)], _HR),
        Example("a security analyst whose team visits such sites", False,
                [e for i in range(4) for e in daily("2026-01-05", 20, per_day=1, actor=f"sec{i}@corp.example",
                                                      **_KEYLOGGER)]
                + [ev("2026-02-10T13:35:00Z", actor="sec4@corp.example", **_KEYLOGGER)]
                + [ev(f"2026-01-{5 + i:02d}T09:00:00Z", actor="sec4@corp.example", action="logon")
                   for i in range(20)], _SEC),
        Example("the security team's habit does not cover a member in notice who never visited such sites", True,
                [e for i in range(4) for e in daily("2026-01-05", 20, per_day=1, actor=f"sec{i}@corp.example",
                                                      **_KEYLOGGER)]
                + [ev("2026-02-10T13:35:00Z", actor="sec4@corp.example", **_KEYLOGGER)]
                + [ev(f"2026-01-{5 + i:02d}T09:00:00Z", actor="sec4@corp.example", action="logon")
                   for i in range(20)],
                _SEC + [hr("2026-02-02T09:00:00Z", employee_id="S4", accounts=["sec4@corp.example"],
                           department="Security", status="notice", last_day="2026-02-27")]),
        Example("the second of two security analysts in IT, whose colleague visits such sites every day", False,
                daily("2026-01-05", 30, per_day=1, actor="sa@corp.example", **_KEYLOGGER)
                + [e for i in range(4) for e in daily("2026-01-05", 20, per_day=1, actor=f"it{i}@corp.example",
                                                      kind="web", action="visit", object="https://news.example/")]
                + _WORK + [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)],
                [hr("2026-01-01T09:00:00Z", department="IT", role="security_analyst"),
                 hr("2026-01-01T09:00:00Z", employee_id="SA", accounts=["sa@corp.example"], department="IT",
                    role="security_analyst")] + _IT),
        Example("the first in a department where nobody does it", True,
                [e for i in range(4) for e in daily("2026-01-05", 20, per_day=1, actor=f"it{i}@corp.example",
                                                      kind="web", action="visit", object="https://news.example/")]
                + _WORK + [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)], _HR + _IT),
        Example("an ordinary site", False,
                [ev("2026-02-10T13:35:00Z", kind="web", action="visit", object="https://news.example/")], _HR),
        Example("an upload is not a download", False,
                [ev("2026-02-10T13:35:00Z", **{**_KEYLOGGER, "action": "upload"})], _HR),
        Example("an analyst who visits such sites daily: routine, not counted", False,
                daily("2026-01-05", 30, per_day=1, **_KEYLOGGER) + [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)], _HR),
    ),
)
