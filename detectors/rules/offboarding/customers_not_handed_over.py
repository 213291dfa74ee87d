"""A leaver who worked on CRM customers in their notice and whose customers are not handed to someone else.

The leaver's CRM work in the notice counts, as the crm rules already keep it (no second copy in the state):
days with exports (``crm.bulk_export_before_departure``) and days with time in the customer database
(``crm.access_time_spike``, the days still kept). Customers are handed over through HR handover items named ``customer:<account>``: the
rule fires, from five days before the last day, when such items are still open or none was ever done.
Once per last day; not a security finding (the CRM exports themselves are judged by the crm rules).
"""

from detectors.examples import ev, hr, sig
from detectors.offboarding import CustomersNotHandedOver
from detectors.rule import Example, Rule
from schemas import ActivityEvent

def customers_not_handed_over(e: ActivityEvent) -> bool:
    return False  # judged on the clock from the crm rules' series (window ``sources``)


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_CRM = [ev("2026-03-10T10:00:00Z", action="view", object="Account/1001", duration_s=300),
        ev("2026-03-12T10:00:00Z", action="report_export", object="Pipeline report", count=40)]
_OPEN = [sig("2026-03-02T10:00:00Z", "handover_item_open", "customer:Account/1001"),
         sig("2026-03-02T10:01:00Z", "handover_item_open", "customer:Account/2002")]

RULE = Rule(
    id="offboarding.customers_not_handed_over",
    version="1",
    title=(
        "{observed:.0f} CRM record(s) worked on in the notice, customers not handed over {days_to_last_day} "
        "day(s) before the last day {last_day}: {customers_open_text}"
    ),
    description=__doc__,
    severity="medium",
    score=50,
    predicate=customers_not_handed_over,
    kinds=(),  # judged on the clock, never on an event
    window=CustomersNotHandedOver(days_before=5),
    security=False,
    staying_cap=None,
    runbook=(
        "Ask the sales or support manager to name an owner for each open account and move the accounts in "
        "the CRM; remove the leaver's CRM access on the last day; check the CRM exports in the notice."
    ),
    false_positives=(
        "Customers reassigned in the CRM without a handover item in the HR system",
    ),
    examples=(
        Example("CRM work in the notice, two customers still open", True,
                _CRM + [ev("2026-03-28T10:00:00Z", action="view", object="Account/1001", duration_s=120)], _LEAVER, _OPEN),
        Example("CRM work in the notice and no customer handover at all", True,
                _CRM + [ev("2026-03-28T10:00:00Z", action="view", object="Account/1001", duration_s=120)], _LEAVER),
        Example("every customer handed over", False,
                _CRM + [ev("2026-03-28T10:00:00Z", action="view", object="Account/1001", duration_s=120)], _LEAVER,
                _OPEN + [sig("2026-03-20T10:00:00Z", "handover_item_done", "customer:Account/1001"),
                         sig("2026-03-21T10:00:00Z", "handover_item_done", "customer:Account/2002")]),
        Example("no CRM work in the notice", False,
                [ev("2026-03-28T10:00:00Z", action="download")], _LEAVER, _OPEN),
        Example("too early: the last day is two weeks away", False, _CRM, _LEAVER, _OPEN),
    ),
)
