"""Handover items still open when the last working day is three days away or less.

Items come from the HR signals ``handover_item_open`` and ``handover_item_done`` (value: the item's name); an
item is open from its first ``open`` until a ``done`` with the same name. Asked after every input of the
leaver (event, signal or HR record) from three days before the last day on; once per last day. Not a security
finding: it goes to both alert topics but adds nothing to the risk score.
"""

from detectors.examples import ev, hr, sig
from detectors.offboarding import OpenHandover
from detectors.rule import Example, Rule
from schemas import ActivityEvent


def open_handover(e: ActivityEvent) -> bool:
    return False  # judged on the clock (any input of the leaver), not on a matching event


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_ITEMS = [sig("2026-03-03T10:00:00Z", "handover_item_open", "runbook: payroll export"),
          sig("2026-03-03T10:05:00Z", "handover_item_open", "supplier contracts folder")]

RULE = Rule(
    id="offboarding.open_handover",
    version="1",
    title=(
        "{observed:.0f} handover item(s) still open {days_to_last_day} day(s) before the last working day "
        "{last_day}: {open_list} ({items_done} done)"
    ),
    description=__doc__,
    severity="medium",
    score=45,
    predicate=open_handover,
    kinds=(),  # judged on the clock, never on an event
    window=OpenHandover(days_before=3),
    security=False,
    staying_cap=None,
    runbook=(
        "Ask the manager to agree a successor for each open item today; move shared files and mailboxes to "
        "the successor; if an item cannot be handed over in time, ask HR whether the last day can move."
    ),
    false_positives=(
        "Items done in practice but not yet marked done in the HR system",
        "Items that die with the role (nothing to hand over)",
    ),
    examples=(
        Example("two items open two days before the last day", True,
                [ev("2026-03-29T10:00:00Z", action="open")], _LEAVER, _ITEMS),
        Example("all items done", False,
                [ev("2026-03-29T10:00:00Z", action="open")], _LEAVER,
                _ITEMS + [sig("2026-03-20T10:00:00Z", "handover_item_done", "runbook: payroll export"),
                          sig("2026-03-21T10:00:00Z", "handover_item_done", "supplier contracts folder")]),
        Example("open items but the last day is still a week away", False,
                [ev("2026-03-24T10:00:00Z", action="open")], _LEAVER, _ITEMS),
        Example("the signal itself on the last day is enough to ask", True,
                [], _LEAVER, _ITEMS + [sig("2026-03-31T09:00:00Z", "handover_item_done", "runbook: payroll export")]),
        Example("someone not leaving", False,
                [ev("2026-03-29T10:00:00Z", action="open")], [hr("2026-01-01T09:00:00Z")], _ITEMS),
    ),
)
