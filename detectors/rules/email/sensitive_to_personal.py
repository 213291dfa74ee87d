"""Confidential or restricted content sent, forwarded or auto-forwarded to a personal address.

Fires for anyone (``when="always"``): this is a policy breach whoever does it. The engine's grading makes it
weigh more for a leaver: in notice or within 30 days of the last day the score rises (more in the last two
weeks), and someone who does it every day is graded low against their own normal.

Version 2 (issue 14): one labelled message that is part of the employee's own correspondence with their private
address is graded low. Many people mail their own address every week or two (tickets, payslips, a form to
fill in at home); among dozens of such messages one now and then carries a label, and a single one in the
notice read "99x usual" and high. The rule keeps, per employee, the personal addresses they mail
(:func:`observe`, ``st.extra["sp"]``): the first day, and for each day the most attachments in one message.
A day's labelled messages are the employee's habit when each went to an address they had mailed on at least
``HABIT_DAYS`` (3) different days before the departure period (30 days before the last day, or the notice if
earlier; for someone staying, before that day), the first of them at least ``HABIT_AGE_DAYS`` (30) days before,
and carried no more attachments than the largest message they had sent there before that period (magnitude
against their own history), and when it is the only day with such a message in the last 30 days. Then it is
graded low, said in the title. Everything else is as before: a new address, an address mailed once or twice, a
message bigger than any before (a researcher's folder of four documents to the address they mail tickets to),
a second labelled message within 30 days (raised again at the rule's severity: :meth:`HabitOnEvent.raises_again`),
and messages sent during the departure period do not make a habit. In the 36 evaluation companies (400
employees, 100 days, seeds 1-4) version 1 flagged 4 honest people of the own profiles high or critical for one
single-attachment message to the address they had mailed on 5-15 days over months before; the thieves who mail
research home send several attachments a message, or to an address new or hardly used before.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView, day_date
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.email.attachments_to_personal import BYTES_PER_ATTACHMENT, _home_addresses
from detectors.state import EmployeeState, Series
from detectors.windows import LOW_BELOW, RATIO_CAP, OnEvent, novelty_hash, raised_above_episode
from schemas import ActivityEvent
from schemas.models import SENSITIVE

SENDS = frozenset({"send", "forward", "auto_forward"})


def sensitive_to_personal(e: ActivityEvent) -> bool:
    return e.kind == "email" and e.personal is True and e.action in SENDS and e.sensitivity in SENSITIVE


#: Where the personal addresses an employee mails are kept (``[hash, first day, folded days, their largest
#: message, last folded day, day, largest, day, largest...]``), how many addresses, how many recent days each.
MEMORY = "sp"
ADDRESSES = 4
RECENT_DAYS = 6
#: The judgment of the day's labelled messages: ``[day, 1 if every one fits the habit else 0, days, first day]``.
JUDGED = "sj"
#: A habit: mailed on this many different days before the departure period, the first this many days before.
HABIT_DAYS = 3
HABIT_AGE_DAYS = 30
#: Labelled messages on another day within this many days: no single message.
SINGLE_DAYS = 30


def _attachments(e: ActivityEvent) -> int:
    if e.count is not None:
        return e.count
    return int((e.bytes or 0) >= BYTES_PER_ATTACHMENT)


def _before(entry: list[int], cut: int) -> tuple[int, int] | None:
    """Days the address was mailed before day ``cut`` and the most attachments in one message then; None when
    days folded away may lie on or after ``cut`` (unknown: no habit)."""
    n, most, last_folded = entry[2], entry[3], entry[4]
    if n and last_folded >= cut:
        return None
    for i in range(5, len(entry), 2):
        if entry[i] < cut:
            n += 1
            most = max(most, entry[i + 1])
    return n, most


def _fits(entry: list[int] | None, day: int, cut: int, att: int) -> tuple[bool, int, int]:
    if entry is None:
        return False, 0, day
    seen = _before(entry, cut)
    if seen is None:
        return False, 0, entry[1]
    n, most = seen
    return (n >= HABIT_DAYS and day - entry[1] >= HABIT_AGE_DAYS and att <= most), n, entry[1]


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Remember the personal addresses the employee mails, and judge a labelled message against that habit
    before it joins it (:data:`JUDGED`)."""
    if e.kind != "email" or e.action not in SENDS or e.personal is not True:
        return
    att = _attachments(e)
    mem: list[list[int]] = st.extra.setdefault(MEMORY, [])
    addrs = _home_addresses(e)
    if sensitive_to_personal(e):
        cut = day
        if hr is not None and hr.last_day is not None:
            cut = min(day, hr.departure_start())
        fit, n, first = (False, 0, day)
        for addr in addrs or [""]:
            h = novelty_hash(addr) if addr else -1
            fit, n, first = _fits(next((x for x in mem if x[0] == h), None), day, cut, att)
            if not fit:
                break
        j = st.extra.get(JUDGED)
        if j is not None and j[0] == day:
            fit = fit and bool(j[1])
        st.extra[JUDGED] = [day, int(fit), n, first]
    for addr in addrs:
        h = novelty_hash(addr)
        entry = next((x for x in mem if x[0] == h), None)
        if entry is None:
            entry = [h, day, 0, 0, -1]
        else:
            mem.remove(entry)
            entry[1] = min(entry[1], day)
        days = {entry[i]: entry[i + 1] for i in range(5, len(entry), 2)}
        days[day] = max(days.get(day, 0), att)
        recent = sorted(days.items())
        while len(recent) > RECENT_DAYS:  # the oldest day folds into the count
            d, a = recent.pop(0)
            entry[2] += 1
            entry[3] = max(entry[3], a)
            entry[4] = max(entry[4], d)
        entry[5:] = [x for da in recent for x in da]
        mem.append(entry)
    del mem[:-ADDRESSES]


@dataclass(frozen=True)
class HabitOnEvent(OnEvent):
    """``OnEvent`` graded low on a day whose labelled messages fit the employee's habit of mailing their own
    address (:func:`observe`) and that is the only such day in the last ``SINGLE_DAYS``."""

    #: a day other than the one alerted, graded above the episode's severity (a habit's low day, then one that
    #: is no habit), is raised again
    raises_again = staticmethod(raised_above_episode)

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        f = super().check_day(s, hr, day, st, rid)
        if f is None:
            return None
        j = st.extra.get(JUDGED)
        single = not any(day - SINGLE_DAYS <= d < day + SINGLE_DAYS and d != day and v >= self.min_value
                         for d, v in s.days.items())
        if j is None or j[0] != day or not j[1] or not single:
            return dataclasses.replace(f, extra={**f.extra, "habit": ""})
        ratio = min(f.ratio if f.ratio is not None else RATIO_CAP, LOW_BELOW * 0.99)
        habit = (f"; to their own address, mailed on {j[2]} days since {day_date(j[3])} with messages as large: "
                 "their habit (graded low)")
        return dataclasses.replace(f, ratio=ratio, extra={**f.extra, "habit": habit})


_STAYER = [hr("2026-01-01T09:00:00Z")]
_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]

RULE = Rule(
    id="email.sensitive_to_personal",
    version="2",
    title=(
        "{observed:.0f} confidential or restricted message(s) sent to a personal address on {day} "
        "(HR status {status}){habit}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=sensitive_to_personal,
    kinds=("email",),
    observe=observe,
    window=HabitOnEvent(when="always", min_value=1),
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
