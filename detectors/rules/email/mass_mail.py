"""A message sent to many recipients: at least 25 on one message, graded against the largest mailing the
employee usually sends (their usual big day).

The value of a day is its largest message's recipient count (to, cc and bcc). A department assistant who
mails 60 people every week is ``low``; someone whose largest message had 5 recipients and who now mails the
whole company (CERT scenario 3's alarming message, sent from the supervisor's account) is not.

Mail to colleagues alone, sent in the sender's own working hours, is not counted (version 2): a farewell to
30 colleagues on the last afternoon is the commonest mass mail of all and one ordinary act. A message counts
when it also goes outside the company (``external``) or is sent outside the sender's own hours
(``attrs.off_hours``, ``detectors.habits``): an alarming message sent at night, or a list mailed outside.
Mass mail that is part of an attack is seen with the rest of it (``activity.firsts_together``, the risk).

Version 3: what a mass mail is for, from what every mail log has, not the clock. Counted: a message that goes
outside the company (``external``), and a message sent from a machine whose usual user is someone else
(``attrs.machine_of``: the engine reads the machine's usual user from logon history, ``detectors.hosts``),
the way CERT scenario 3's alarming message is sent from the supervisor's machine. Not counted: a message to
colleagues alone from the sender's own machine, whatever the hour (a farewell on the last evening, or on a
Sunday for someone who works weekdays: version 2 counted these off-hours farewells and flagged 2 honest
leavers of the outside companies medium, 33 colleagues each, on their last day); and a mailing that is the
sender's or their team's habit (``attrs.routine`` ``"own"`` or ``"team"``, ``detectors.habits``: at least 3
others of their department or role, and 40% of it, sent such messages; this holds in the notice period too,
as everyone the message reaches reads it): version 2 flagged 2 departing marketing managers medium for the
newsletter and all-hands mails (127 and 146 recipients) that a dozen of their colleagues send every month.
On CERT r4.2 the rule caught no insider before (scenario 3 is caught by ``web.hacking_tools`` and
``activity.firsts_together``; the alarming message is logged under the supervisor's own account and machine).
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})


def mass_mail(e: ActivityEvent) -> int:
    if e.kind != "email" or e.action not in SENDS or e.attrs.get("routine") in ("own", "team"):
        return 0
    return len(e.recipients) if e.external is True or e.attrs.get("machine_of") else 0


_HR = [hr("2026-01-01T09:00:00Z")]


def _to(n: int) -> list[str]:
    return [f"p{i}@corp.example" for i in range(n)]


# Four weeks of a working day: mail at 10:00 and 15:00 on weekdays.
_DAYS = [e for h in (10, 15) for e in daily("2026-01-05", 30, per_day=1, hour=h, action="send", recipients=_to(2))
         if __import__("datetime").date.fromisoformat(e["ts"][:10]).weekday() < 5]


_LEAVING = [hr("2026-01-01T09:00:00Z"), hr("2026-01-20T09:00:00Z", status="notice", last_day="2026-02-10")]
_BOB_HR = hr("2026-01-01T09:00:00Z", employee_id="E2", accounts=["bob@corp.example"])
_BOB = daily("2026-01-05", 30, per_day=1, hour=8, action="logon", host="PC-BOB", actor="bob@corp.example")
# a marketing department of five whose members mail 150 colleagues (an internal newsletter), each on two days in
# January: the team's habit is a message to many, wherever it goes
_TEAM_HR = [hr("2026-01-01T09:00:00Z", employee_id=f"M{i}", accounts=[f"m{i}@corp.example"], department="Marketing")
            for i in range(5)]
_TEAM = [ev(f"2026-01-{d + i:02d}T09:00:00Z", actor=f"m{i}@corp.example", action="send", recipients=_to(150))
         for i in range(5) for d in (5, 19)]

RULE = Rule(
    id="email.mass_mail",
    version="3",
    title=(
        "A message to {observed:.0f} recipients on {day} (flagged from {threshold:.0f}), {ratio_to_own_normal}x "
        "the employee's usual largest mailing; HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=40,
    predicate=mass_mail,
    kinds=("email",),
    agg="max",
    window=OnEvent(when="always", min_value=25, relative_to="peak"),
    runbook="Read the message (evidence): content, whether it was sent from the person's own machine (host); "
            "an account used from someone else's machine is a compromised account until shown otherwise.",
    false_positives=("Announcements by managers and assistants",),
    examples=(
        Example("a message to 40 people, partners outside among them", True,
                [ev("2026-02-10T19:00:00Z", action="send", recipients=_to(40), external=True)], _HR),
        Example("a message to 40 colleagues sent from bob's machine (bob is its usual user)", True,
                _DAYS + _BOB + [ev("2026-02-10T19:00:00Z", action="logon", host="PC-BOB"),
                                ev("2026-02-10T19:05:00Z", action="send", recipients=_to(40), host="PC-BOB")],
                _HR + [_BOB_HR]),
        Example("... but from her own machine it is an announcement", False,
                _DAYS + _BOB + [ev("2026-02-10T19:05:00Z", action="send", recipients=_to(40), host="PC-ANN")],
                _HR + [_BOB_HR]),
        Example("a farewell to 40 colleagues in the afternoon", False,
                _DAYS + [ev("2026-02-10T15:00:00Z", action="send", recipients=_to(40))], _LEAVING),
        Example("a farewell to 40 colleagues at 23:00 on the last day, outside her own hours", False,
                _DAYS + [ev("2026-02-10T23:00:00Z", action="send", recipients=_to(40))], _LEAVING),
        Example("a leaving marketing manager sends the newsletter her team sends every month", False,
                _TEAM + _DAYS + [ev("2026-02-10T15:00:00Z", action="send", recipients=_to(150), external=True)],
                _TEAM_HR + [hr("2026-01-01T09:00:00Z", department="Marketing"),
                            hr("2026-01-20T09:00:00Z", status="notice", last_day="2026-02-13",
                               department="Marketing")]),
        Example("... the same mail from a leaver in Finance, where nobody sends such mail", True,
                _TEAM + _DAYS + [ev("2026-02-10T15:00:00Z", action="send", recipients=_to(150), external=True)],
                _TEAM_HR + [hr("2026-01-01T09:00:00Z", department="Finance"),
                            hr("2026-01-20T09:00:00Z", status="notice", last_day="2026-02-13",
                               department="Finance")]),
        Example("24 recipients is under 25", False,
                [ev("2026-02-10T19:00:00Z", action="send", recipients=_to(24), external=True)], _HR),
        Example("several small messages do not add up", False,
                daily("2026-02-10", 1, per_day=10, action="send", recipients=_to(5)), _HR),
    ),
)
