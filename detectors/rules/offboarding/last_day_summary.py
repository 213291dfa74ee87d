"""The offboarding summary of every leaver, once, after the last working day.

What was handed over (``handover_item_done``), what is still open, which assets came back
(``asset_returned``), and what the security rules saw while the person was leaving (alerts by rule with the
highest severity, and the risk score). Written as of midnight UTC after the last day, from the records up to
its end, when the first input past it arrives: the leaver's own (the ``departed`` HR record, a signal, any
activity) or anyone's (the event-time watermark, ``Engine.advance``); so also for a leaver never heard of
again, and the same alert in replay and in the workers. Severity ``low``: it is a record for HR and the
manager, not a finding.
"""

from detectors.examples import ev, hr, sig
from detectors.offboarding import LastDaySummary
from detectors.rule import Example, Rule
from schemas import ActivityEvent


def last_day_summary(e: ActivityEvent) -> bool:
    return False  # judged on the clock (any input of the leaver), not on a matching event


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_DEPARTED = [hr("2026-04-01T08:00:00Z", status="departed", last_day="2026-03-31", resignation_date="2026-03-01")]
_SIGNALS = [sig("2026-03-03T10:00:00Z", "handover_item_open", "client list"),
            sig("2026-03-03T10:01:00Z", "handover_item_open", "admin passwords"),
            sig("2026-03-25T10:00:00Z", "handover_item_done", "client list"),
            sig("2026-03-31T16:00:00Z", "asset_returned", "LT-4711")]

RULE = Rule(
    id="offboarding.last_day_summary",
    version="1",
    title=(
        "Offboarding on the last day {last_day}: {handed_over_count} item(s) handed over, {open_count} open, "
        "assets returned {assets_returned}; security: {security_text}; risk {risk_score}"
    ),
    description=__doc__,
    severity="low",
    score=20,
    predicate=last_day_summary,
    kinds=(),  # judged on the clock, never on an event
    window=LastDaySummary(),
    security=False,
    staying_cap=None,
    runbook="Read with the manager: close or reassign open items, collect missing assets, follow up the alerts.",
    false_positives=("None: every leaver gets one",),
    examples=(
        Example("the departed record after the last day", True, [], _LEAVER + _DEPARTED, _SIGNALS),
        Example("activity the day after the last day", True, [ev("2026-04-01T07:00:00Z", action="logon")],
                _LEAVER, _SIGNALS),
        Example("the end of the inputs after the last day (replay)", True,
                [ev("2026-03-31T12:00:00Z", action="open"), ev("2026-04-05T12:00:00Z", actor="bob@corp.example")],
                _LEAVER, _SIGNALS),
        Example("nothing after the last day yet", False, [ev("2026-03-31T12:00:00Z", action="open")],
                _LEAVER, _SIGNALS),
        Example("someone not leaving", False, [ev("2026-04-01T07:00:00Z", action="logon")],
                [hr("2026-01-01T09:00:00Z")], _SIGNALS),
    ),
)
