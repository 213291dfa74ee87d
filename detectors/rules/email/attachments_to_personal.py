"""Attachments mailed to personal addresses in the weeks before the last working day, with or without labels.

``email.sensitive_to_personal`` needs a confidential or restricted label, and most companies label little or
nothing. What every mail log has is the attachments (``count``; a message without a count but over 1 MB
counts one) and whether the recipient is a personal address. The value of a message sent or forwarded to a
personal address is its attachments (public-labelled ones count nothing); the rule fires when the 45 days up
to the last working day hold more than 4, graded against the employee's own normal for as many days: someone
who mails a payslip home now and then stays under, someone who mails a tax form home every week is ``low``,
a leaver who sends folders of work home (research mailed to their own private address over three weeks) is
not.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import BeforeLastDay
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})
#: A message with no attachment count but at least this size counts one attachment.
BYTES_PER_ATTACHMENT = 1_000_000


def attachments_to_personal(e: ActivityEvent) -> int:
    if e.kind != "email" or e.action not in SENDS or e.personal is not True or e.sensitivity == "public":
        return 0
    if e.count is not None:
        return e.count
    return int((e.bytes or 0) >= BYTES_PER_ATTACHMENT)


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_HOME: dict[str, Any] = dict(action="send", personal=True, external=True, recipients=["ann.lee42@gmail.example"])
_WORK = daily("2026-01-05", 40, per_day=2, action="send", recipients=["bob@corp.example"])

RULE = Rule(
    id="email.attachments_to_personal",
    version="1",
    title=(
        "{observed:.0f} attachment(s) mailed to personal addresses from {window_start} to {window_end} (more than "
        "{threshold:.0f} is flagged), {ratio_to_own_normal}x the employee's usual for as many days; last working "
        "day {last_day}"
    ),
    description=__doc__,
    severity="medium",
    score=50,
    predicate=attachments_to_personal,
    kinds=("email",),
    window=BeforeLastDay(days=45, threshold=4),
    runbook=(
        "Read the subjects and attachment names (evidence): work documents, not the employee's own papers; "
        "confirm the address is the employee's own; ask them to delete the copies and record the answer."
    ),
    false_positives=("A leaver mailing their own papers (contract, payslips, references) home",),
    examples=(
        Example("unlabelled research mailed home over three weeks in notice", True,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, **_HOME) for d in (5, 12, 19)], _LEAVER),
        Example("two payslips and a contract: 3 attachments", False,
                _WORK + [ev("2026-03-20T18:00:00Z", count=3, **_HOME)], _LEAVER),
        Example("big messages without a count weigh one attachment each", True,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", bytes=5_000_000, **_HOME) for d in range(2, 8)],
                _LEAVER),
        Example("attachments to colleagues are not personal", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, action="send", recipients=["bob@corp.example"],
                            personal=False) for d in (5, 12, 19)], _LEAVER),
        Example("someone not leaving", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, **_HOME) for d in (5, 12, 19)],
                [hr("2026-01-01T09:00:00Z")]),
        Example("public brochures do not count", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, sensitivity="public", **_HOME)
                         for d in (5, 12, 19)], _LEAVER),
    ),
)
