"""The first logon on a machine whose usual user is someone else, after at least 28 days of history.

A machine's usual user is learned from logon history (``detectors.hosts``: one person holds at least 5 logon
days there and 60% of the machine's days); shared machines have none and never count. One alert per machine;
someone who already logs on there regularly (3 days or more) is not new to it. CERT's sabotage scenario
(3) starts this way: the administrator carries a keylogger to the supervisor's machine and logs on there.
Alone it stays ``low`` for someone not leaving (covering for a colleague happens); after hours it also
counts in ``activity.firsts_together``. The explanation names the machine's usual user. A habit is not counted
(version 2): the engine marks the logon ``attrs.routine`` (``detectors.habits``) when the person already
logged on to several colleagues' machines (helpdesk and desktop support) or when several of their department
or role do (a share of its members).

Version 3: the team's habit does not cover someone who is leaving or on the watchlist. An IT department whose
helpdesk logs on to colleagues' laptops every day made every administrator's logon there "the team's routine",
so a departing administrator who never did it before logging on to his manager's laptop and deleting on
servers (the sabotage case) raised nothing. Their own habit (several earlier machines) still makes it ordinary.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import other_users_machine as _other
from detectors.windows import FirstTime
from schemas import ActivityEvent


def other_users_machine(e: ActivityEvent) -> bool:
    return _other(e) is not None and not e.attrs.get("routine")


_HR = [hr("2026-01-01T09:00:00Z"), hr("2026-01-01T09:00:00Z", employee_id="E2", accounts=["bob@corp.example"]),
       hr("2026-01-01T09:00:00Z", employee_id="E3", accounts=["carl@corp.example"])]
_ANN = daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-ANN")
_BOB = daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-BOB", actor="bob@corp.example")
#: an IT department: three helpdesk technicians who log on to bob's machine, and ann, an administrator who never
#: did; for the team's habit to show (habits.TEAM_MIN others of her department).
_IT_HR = [hr("2026-01-01T09:00:00Z", department="IT"),
          hr("2026-01-01T09:00:00Z", employee_id="E2", accounts=["bob@corp.example"], department="Finance")] + [
    hr("2026-01-01T09:00:00Z", employee_id=f"H{i}", accounts=[f"help{i}@corp.example"], department="IT")
    for i in range(3)]
_HELPDESK = [e for i in range(3) for e in
             daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host=f"PC-H{i}", actor=f"help{i}@corp.example")
             + [ev(f"2026-01-{20 + i:02d}T11:00:00Z", action="logon", host="PC-BOB", actor=f"help{i}@corp.example")]]
_NOTICE = [hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-02-27", resignation_date="2026-02-02",
              department="IT")]
_LAB = [ev(f"2026-01-{5 + i:02d}T09:00:00Z", action="logon", host="LAB-1",
           actor=("bob@corp.example" if i % 2 else "carl@corp.example")) for i in range(20)]

RULE = Rule(
    id="logon.other_users_machine",
    version="3",
    title=(
        "First logon on {new}, a machine whose usual user is someone else, on {day} ({history_days} days of "
        "history); HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=40,
    predicate=other_users_machine,
    kinds=("logon",),
    novelty=_other,
    window=FirstTime(min_history_days=28),
    runbook=(
        "Ask the machine's usual user whether they knew; check what ran on the machine during the session "
        "(endpoint logs) and whether removable media were connected; reset the usual user's credentials if "
        "their account was used after."
    ),
    false_positives=("Covering for a colleague on leave", "IT staff repairing a machine"),
    examples=(
        Example("ann logs on to bob's machine in the evening", True,
                _ANN + _BOB + [ev("2026-02-12T19:08:00Z", action="logon", host="PC-BOB")], _HR),
        Example("a helpdesk technician who logs on to colleagues' machines every week", False,
                _ANN + _BOB + [ev(f"2026-01-{6 + 3 * i:02d}T11:00:00Z", action="logon", host=f"PC-{i}",
                                  attrs={"host_usual_user": f"U{i}"}) for i in range(4)]
                + [ev("2026-02-12T19:08:00Z", action="logon", host="PC-BOB")], _HR),
        Example("an administrator whose helpdesk colleagues log on to bob's machine does so too: the team's habit",
                False, _ANN + _BOB + _HELPDESK + [ev("2026-02-12T14:08:00Z", action="logon", host="PC-BOB")], _IT_HR),
        Example("the same administrator in his notice: never did it himself, the team's habit does not cover it",
                True, _ANN + _BOB + _HELPDESK + [ev("2026-02-12T14:08:00Z", action="logon", host="PC-BOB")],
                _IT_HR + _NOTICE),
        Example("a shared machine has no usual user", False,
                _ANN + _LAB + [ev("2026-02-12T19:08:00Z", action="logon", host="LAB-1")], _HR),
        Example("ann's own machine", False, _ANN + [ev("2026-02-12T19:08:00Z", action="logon", host="PC-ANN")],
                _HR),
        Example("a machine nobody used yet", False,
                _ANN + [ev("2026-02-12T19:08:00Z", action="logon", host="PC-NEW")], _HR),
    ),
)
