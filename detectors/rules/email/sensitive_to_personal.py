"""Confidential or restricted content sent, forwarded or auto-forwarded to a personal address.

Fires for anyone (``when="always"``): this is a policy breach whoever does it. The engine's grading makes it
weigh more for a leaver: in notice or within 30 days of the last day the score rises (more in the last two
weeks), and someone who does it every day is graded low against their own normal.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent
from schemas.models import SENSITIVE

SENDS = frozenset({"send", "forward", "auto_forward"})


def sensitive_to_personal(e: ActivityEvent) -> bool:
    return e.kind == "email" and e.personal is True and e.action in SENDS and e.sensitivity in SENSITIVE


_STAYER = [hr("2026-01-01T09:00:00Z")]
_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]

RULE = Rule(
    id="email.sensitive_to_personal",
    version="1",
    title=(
        "{observed:.0f} confidential or restricted message(s) sent to a personal address on {day} "
        "(HR status {status})"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=sensitive_to_personal,
    kinds=("email",),
    window=OnEvent(when="always", min_value=1),
    runbook=(
        "Read the subject and attachment names (evidence); confirm the recipient is the employee's own or a "
        "consumer address; if it is an auto-forward rule, have IT remove it; ask the employee to delete the copy "
        "and record the answer."
    ),
    false_positives=(
        "Mislabelled messages (a public brochure labelled confidential)",
        "Employees sending their own payslip or contract to a private address",
    ),
    examples=(
        Example("a restricted attachment forwarded to a private address", True,
                [ev("2026-02-10T10:00:00Z", action="forward", sensitivity="restricted", personal=True,
                    recipients=["ann.lee@gmail.example"])], _STAYER),
        Example("an auto-forward rule of confidential mail in notice", True,
                [ev("2026-03-10T10:00:00Z", action="auto_forward", sensitivity="confidential", personal=True)],
                _LEAVER),
        Example("internal content to a personal address", False,
                [ev("2026-02-10T10:00:00Z", action="send", sensitivity="internal", personal=True)], _STAYER),
        Example("restricted content to a business partner", False,
                [ev("2026-02-10T10:00:00Z", action="send", sensitivity="restricted", personal=False,
                    external=True)], _STAYER),
        Example("unknown whether the address is personal", False,
                [ev("2026-02-10T10:00:00Z", action="send", sensitivity="restricted")], _STAYER),
        Example("one alert a day, whatever the number of messages", True,
                daily("2026-02-10", 1, per_day=5, action="send", sensitivity="confidential", personal=True),
                _STAYER),
    ),
)
