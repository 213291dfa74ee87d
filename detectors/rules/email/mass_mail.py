"""A message sent to many recipients: at least 25 on one message, graded against the largest mailing the
employee usually sends (their usual big day).

The value of a day is its largest message's recipient count (to, cc and bcc). A department assistant who
mails 60 people every week is ``low``; someone whose largest message had 5 recipients and who now mails the
whole company (CERT scenario 3's alarming message, sent from the supervisor's account) is not.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})


def mass_mail(e: ActivityEvent) -> int:
    return len(e.recipients) if e.kind == "email" and e.action in SENDS else 0


_HR = [hr("2026-01-01T09:00:00Z")]


def _to(n: int) -> list[str]:
    return [f"p{i}@corp.example" for i in range(n)]


RULE = Rule(
    id="email.mass_mail",
    version="1",
    title=(
        "A message to {observed:.0f} recipients on {day} (flagged from {threshold:.0f}), {ratio_to_own_normal}x "
        "the employee's usual largest mailing; HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=40,
    predicate=mass_mail,
    agg="max",
    window=OnEvent(when="always", min_value=25, relative_to="peak"),
    runbook="Read the message (evidence): content, whether it was sent from the person's own machine (host); "
            "an account used from someone else's machine is a compromised account until shown otherwise.",
    false_positives=("Announcements by managers and assistants",),
    examples=(
        Example("a message to 40 people", True, [ev("2026-02-10T19:00:00Z", action="send", recipients=_to(40))],
                _HR),
        Example("24 recipients is under 25", False,
                [ev("2026-02-10T19:00:00Z", action="send", recipients=_to(24))], _HR),
        Example("several small messages do not add up", False,
                daily("2026-02-10", 1, per_day=10, action="send", recipients=_to(5)), _HR),
    ),
)
