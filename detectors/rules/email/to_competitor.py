"""Mail to a competitor's domain (``attrs.recipient_categories`` ``competitor``, from the connectors'
classification: you name your competitors) markedly above the employee's own normal.

Sales, partnering and procurement write to competitors every week, so the count alone means little: the rule
fires when a day has more than 3 times the employee's usual messages to competitors, 3 standard deviations
above it and at least 3. The first such message ever counts in ``activity.firsts_together``; job-search
visits followed by competitor mail are context for ``sequence.job_search_then_exfiltration``.
"""

from typing import Any

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.windows import AboveBaseline
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})


def to_competitor(e: ActivityEvent) -> int:
    return int(e.kind == "email" and e.action in SENDS
               and "competitor" in (e.attrs.get("recipient_categories") or ()))


_HR = [hr("2026-01-01T09:00:00Z")]
_C: dict[str, Any] = dict(action="send", recipients=["sam@rival.example"], attrs={"recipient_categories": ["competitor"]})

RULE = Rule(
    id="email.to_competitor",
    version="1",
    title=(
        "{observed:.0f} messages to competitors on {day}, {ratio_to_own_normal}x the employee's usual "
        "{baseline[mean]:.1f} a day (limit {threshold:.1f}); HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=40,
    predicate=to_competitor,
    kinds=("email",),
    window=AboveBaseline(when="always", factor=3.0, z=3.0, min_value=3.0),
    runbook="Read the messages' subjects and attachments (evidence); a job application or data sent to a "
            "competitor in notice goes to HR and legal.",
    false_positives=("Partnering, procurement and trade-association work",),
    examples=(
        Example("5 messages to a competitor, never before", True,
                daily("2026-01-05", 30, per_day=2, action="send", recipients=["a@corp.example"])
                + daily("2026-02-10", 1, per_day=5, **_C), _HR),
        Example("someone who writes to competitors daily", False,
                daily("2026-01-05", 30, per_day=3, **_C) + daily("2026-02-10", 1, per_day=5, **_C), _HR),
        Example("2 messages are under 3", False,
                daily("2026-01-05", 30, per_day=2, action="send", recipients=["a@corp.example"])
                + daily("2026-02-10", 1, per_day=2, **_C), _HR),
    ),
)
