"""Any activity by the employee's accounts after their last working day.

Every event that touches data counts, automatic ones included: a sync client still pulling files or a mail
rule still forwarding after the last day is what this rule is for. Sessions alone (``logon`` events: a logon,
a logoff, a phone's mail sync the morning after) do not: they are an offboarding matter for IT, and an
honest leaver's phone makes them (version 2). Days are the employee's own (version 3): an event before their
own day begins (``attrs.previous_day``, ``detectors.habits``: a New York evening that runs past midnight UTC, the
end of a night shift) belongs to the day before, so the last evening's clean-up is not "after the last day". HR news that arrives late (a departure recorded with a last day in the past) re-evaluates the stored days.
One alert per last day; later events add evidence only to later re-runs.

Version 4: the own day also holds for people whose day no learned quiet hours can cut (nurses and call-centre
agents on rotating shifts are active round the clock; newcomers have no hours yet): the company's quietest hours
stand in (``Habits.company_boundary``), and work that continues a stretch begun the day before (pauses under
six hours, at most sixteen hours in all: ``REST_S``, ``STRETCH_S``) belongs to that day. A night shift that
starts on the last day and ends the next morning, or a last evening that runs past midnight, is the last day;
the account active again after a rest is not. Version 3 flagged 8 honest leavers of a US hospital (400
employees, 100 days), all on rotating shifts.
"""

import datetime as _dt

from detectors.examples import ev, hr
from detectors.rule import Example, Rule
from detectors.windows import AfterLastDay
from schemas import ActivityEvent


def after_departure(e: ActivityEvent) -> bool:
    return e.kind != "logon" and not e.attrs.get("previous_day")


# Nine weeks of a New York working day (09:00-22:00 local: 14:00-03:00 UTC), before the notice.
_WEEKDAYS = [d for d in (_dt.date(2026, 1, 5) + _dt.timedelta(days=i) for i in range(60)) if d.weekday() < 5]
_NEW_YORK = ([ev(f"{d}T{h:02d}:30:00Z") for d in _WEEKDAYS for h in (14, 18, 21)]
             + [ev(f"{d + _dt.timedelta(days=1)}T01:30:00Z") for d in _WEEKDAYS])
_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# The last shift: a night from 21:00 UTC on the last day to 09:00 the next morning, something every 45 minutes.
_NIGHT = [ev(f"2026-0{3 + (h >= 24)}-{31 if h < 24 else 1:02d}T{h % 24:02d}:{m:02d}:00Z", action="view")
          for h in range(21, 34) for m in (0, 45) if h < 33 or m == 0]

RULE = Rule(
    id="activity.after_departure",
    version="4",
    title=(
        "{observed:.0f} event(s) by the account after the last working day {last_day} "
        "({window_start} to {window_end}); HR status {status}"
    ),
    description=__doc__,
    severity="high",
    score=75,
    predicate=after_departure,
    kinds=("crm", "device", "email", "file", "print", "web"),
    window=AfterLastDay(grace_days=0),
    runbook=(
        "Disable the accounts and revoke sessions and tokens now; identify the device (host) and whether it was "
        "returned; check what the events touched (evidence); remove mail forwarding rules; confirm with HR that "
        "the last day on record is right."
    ),
    false_positives=(
        "A last day extended in practice but not yet in the HR system",
        "Service jobs or shared mailboxes still running under the leaver's account",
    ),
    examples=(
        Example("a download two days after the last day", True,
                [ev("2026-04-02T08:00:00Z", action="download")], _LEAVER),
        Example("a lone session (a phone syncing mail the morning after) touches no data", False,
                [ev("2026-04-01T06:30:00Z", action="logon")], _LEAVER),
        Example("a New York employee's last evening, past midnight UTC, is still the last day", False,
                _NEW_YORK + [ev("2026-04-01T01:30:00Z", action="delete")],
                [hr("2026-01-01T09:00:00Z")] + _LEAVER),
        Example("... and a download the next afternoon is after it", True,
                _NEW_YORK + [ev("2026-04-01T18:30:00Z", action="download")],
                [hr("2026-01-01T09:00:00Z")] + _LEAVER),
        Example("a night shift that starts on the last day and ends the next morning is the last day", False,
                _NIGHT, _LEAVER),
        Example("... the account active again after a rest is not", True,
                _NIGHT + [ev("2026-04-01T19:30:00Z", action="send", kind="email")], _LEAVER),
        Example("work on the last day itself is fine", False,
                [ev("2026-03-31T17:00:00Z", action="download")], _LEAVER),
        Example("someone not leaving", False,
                [ev("2026-04-02T08:00:00Z", action="download")], [hr("2026-01-01T09:00:00Z")]),
        Example("a departure recorded late, with the last day in the past", True,
                [ev("2026-04-03T08:00:00Z", action="sync_download")],
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-04-10T09:00:00Z", status="departed", last_day="2026-03-31")]),
        Example("departed without a last day: the day before the record is taken", True,
                [ev("2026-04-02T08:00:00Z", action="auto_forward", personal=True)],
                [hr("2026-01-01T09:00:00Z"), hr("2026-04-01T09:00:00Z", status="departed")]),
    ),
)
