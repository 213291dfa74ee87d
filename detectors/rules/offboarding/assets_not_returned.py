"""No company asset (laptop, phone, badge, token) returned by the end of the last working day.

Returned assets come from the HR signal ``asset_returned`` (value: the asset id). Asked as of the end of the
last day once an input past it arrives (the leaver's own, or anyone's: the event-time watermark) and at the end
of a replay; once per last day. Without an asset register the rule cannot know *which* assets are missing, only that none came back.
"""

from detectors.examples import ev, hr, sig
from detectors.offboarding import AssetsNotReturned
from detectors.rule import Example, Rule
from schemas import ActivityEvent


def assets_not_returned(e: ActivityEvent) -> bool:
    return False  # judged on the clock (any input of the leaver), not on a matching event


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_DEPARTED = [hr("2026-04-01T08:00:00Z", status="departed", last_day="2026-03-31", resignation_date="2026-03-01")]
_ITEM = [sig("2026-03-03T10:00:00Z", "handover_item_open", "client list"),
         sig("2026-03-30T10:00:00Z", "handover_item_done", "client list")]

RULE = Rule(
    id="offboarding.assets_not_returned",
    version="1",
    title="No asset returned by the end of the last working day {last_day} (HR status {status})",
    description=__doc__,
    severity="medium",
    score=50,
    predicate=assets_not_returned,
    kinds=(),  # judged on the clock, never on an event
    window=AssetsNotReturned(),
    security=False,
    staying_cap=None,
    runbook=(
        "Ask IT which devices and tokens were issued to the leaver; block them in the device management and "
        "revoke certificates; arrange the return; if a device holds company data, treat it as lost."
    ),
    false_positives=(
        "Assets returned but not recorded as asset_returned",
        "Leavers who were never issued a device",
    ),
    examples=(
        Example("departed with nothing returned", True, [], _LEAVER + _DEPARTED, _ITEM),
        Example("a laptop returned on the last day", False, [], _LEAVER + _DEPARTED,
                _ITEM + [sig("2026-03-31T16:00:00Z", "asset_returned", "LT-4711")]),
        Example("activity the morning after, nothing returned", True,
                [ev("2026-04-01T07:30:00Z", action="logon")], _LEAVER),
        Example("on the last day itself it is too early to say", False,
                [ev("2026-03-31T12:00:00Z", action="logon")], _LEAVER),
    ),
)
