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
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})


def mass_mail(e: ActivityEvent) -> int:
    if e.kind != "email" or e.action not in SENDS:
        return 0
    return len(e.recipients) if e.external is True or e.attrs.get("off_hours") else 0


_HR = [hr("2026-01-01T09:00:00Z")]


def _to(n: int) -> list[str]:
    return [f"p{i}@corp.example" for i in range(n)]


# Four weeks of a working day: mail at 10:00 and 15:00 on weekdays.
_DAYS = [e for h in (10, 15) for e in daily("2026-01-05", 30, per_day=1, hour=h, action="send", recipients=_to(2))
         if __import__("datetime").date.fromisoformat(e["ts"][:10]).weekday() < 5]


RULE = Rule(
    id="email.mass_mail",
    version="2",
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
        Example("a message to 40 colleagues at 23:00, outside the sender's own hours", True,
                _DAYS + [ev("2026-02-10T23:00:00Z", action="send", recipients=_to(40))], _HR),
        Example("a farewell to 40 colleagues in the afternoon", False,
                _DAYS + [ev("2026-02-10T15:00:00Z", action="send", recipients=_to(40))],
                [hr("2026-01-01T09:00:00Z"), hr("2026-01-20T09:00:00Z", status="notice", last_day="2026-02-10")]),
        Example("24 recipients is under 25", False,
                [ev("2026-02-10T19:00:00Z", action="send", recipients=_to(24), external=True)], _HR),
        Example("several small messages do not add up", False,
                daily("2026-02-10", 1, per_day=10, action="send", recipients=_to(5)), _HR),
    ),
)
