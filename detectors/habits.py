"""Habits: what is ordinary for a person (their working hours) and for the company (the destinations many
colleagues use routinely), learned from the activity itself, so that no clock or domain list has to fit it.

**Working hours.** "After hours" judged against a fixed clock (07:00-19:00 UTC) makes every afternoon of a
New York employee and every morning of one in Kolkata "after hours", and a night shift is after hours every
day. Instead each employee's own hours are learned: how many distinct days they were active (by a person,
not an automatic forward or sync) in each hour of the day and on each day of the week, counted up to
:data:`MIN_DAYS` (2 bits each: 24 hours and 7 weekdays fit in one integer), learned only on days that may teach
a baseline (not in the departure period). Once the employee has :data:`WARMUP_DAYS` active days learned, an
event is *off hours* when its hour is not one of theirs (an hour counts as theirs when it or a neighbouring
hour was active on :data:`MIN_DAYS` days: a daylight-saving shift or staying a little late is not new) or its
weekday is not (a weekday is theirs once active on as many days as a five-day week gives it in their learned
days, up to :data:`MIN_DAYS`). The engine marks such events ``attrs.off_hours = True`` for the rules to read (the hour and the
day are in UTC; the comparison is with the person's own, so the time zone does not matter). Before the
warm-up nothing is marked: with no history there is no judging.

The state is ``st.extra["wh"]``, 19 base64 characters of one 106-bit number: the counters (62 bits), the hour
mask of the day being learned (24), the days learned (8, up to 255) and that day modulo 4096 (12).

>>> st = EmployeeState(); h = Habits()
>>> def at(day, hour):
...     return h.off_hours(st, day, day * 86400 + hour * 3600 + 60, True)
>>> _ = [(at(d, 9), at(d, 16)) for d in range(20000, 20021) if weekday(d) < 5]  # 3 weeks of weekdays
>>> at(20021, 10), at(20021, 17), at(20021, 22), at(20022, 10)  # a Friday at 10, 17, 22; Saturday at 10
(False, False, True, True)

**Destinations of the company.** A consumer domain list calls github.com personal, yet in a software company
hundreds of engineers push to the company's organisation there every day. A destination that is listed as
personal but to which many colleagues upload routinely (at least :data:`ROUTINE_DAYS` distinct days each, by
at least :data:`MIN_ROUTINE_USERS` people and :data:`ROUTINE_SHARE` of the employees seen) is the company's
own: the engine treats uploads to it as not personal (``personal`` False, ``attrs.corporate_by_use`` = the
number of routine users). These counts are shared by the employees one engine sees (like
:mod:`detectors.hosts`); after a restart they are learned again (a false alert at worst for the first days).

>>> h = Habits(); h.employees = 100
>>> for emp in range(12):
...     for d in range(3):
...         n = h.destination_routine("www.GitHub.com", f"e{emp}", d)
>>> n, h.destination_routine("dropbox.com", "e1", 3)
(12, 0)
"""

from __future__ import annotations

import base64
from typing import Any

from detectors.state import EmployeeState  # noqa: F401 (the doctest)
from schemas import ActivityEvent

#: st.extra key of the working-hours habit.
HOURS = "wh"
#: Distinct active days that make an hour (or weekday) one of the person's own.
MIN_DAYS = 3
#: Active days learned before anything is judged off hours.
WARMUP_DAYS = 10
#: Actions a person does not cause themselves.
AUTOMATIC = frozenset({"auto_forward", "sync_download"})
#: Distinct days of uploads that make someone a routine user of a destination.
ROUTINE_DAYS = 3
#: Routine users that make a personal-listed destination the company's own: at least this many, and this share
#: of the employees seen.
MIN_ROUTINE_USERS = 10
ROUTINE_SHARE = 0.03
#: Upload actions whose destination is counted.
UPLOAD_KINDS = frozenset({"web", "file"})
#: Employees remembered per destination (beyond that, only the routine count grows: the destination is common).
KEEP_USERS = 4096
KEEP_DESTINATIONS = 512


def _count(counters: int, i: int) -> int:
    return (counters >> (2 * i)) & 3


def _bump(counters: int, i: int) -> int:
    c = _count(counters, i)
    return counters if c >= 3 else counters + (1 << (2 * i))


def weekday(day: int) -> int:
    """0 = Monday (1970-01-01, day 0, was a Thursday)."""
    return (day + 3) % 7


class Habits:
    def __init__(self) -> None:
        #: destination -> {employee: [upload days, last day counted]}
        self.dest: dict[str, dict[str, list[int]]] = {}
        self.routine: dict[str, int] = {}
        #: employees whose hours this engine has started to learn (the company's size as seen)
        self.employees = 0

    # ------------------------------------------------------------------ hours
    def off_hours(self, st: Any, day: int, t: float, learnable: bool) -> bool:
        """Learn this person-caused event's hour and say whether it lies outside the employee's own hours."""
        rec = st.extra.get(HOURS)
        if rec is None:
            self.employees += 1
            pending, mask, counters, n = day, 0, 0, 0
        else:
            x = int.from_bytes(base64.b64decode(rec + "=="), "big")
            counters, mask, n, low = x >> 44, (x >> 20) & 0xFFFFFF, (x >> 12) & 0xFF, x & 0xFFF
            pending = day - ((day - low) % 4096)
        if day > pending:
            if mask:
                for h in range(24):
                    if mask >> h & 1:
                        counters = _bump(counters, h)
                counters = _bump(counters, 24 + weekday(pending))
                n = min(n + 1, 255)
            pending, mask = day, 0
        h = int(t % 86400) // 3600
        if day == pending and learnable:
            mask |= 1 << h
        x = counters << 44 | mask << 20 | n << 12 | pending % 4096
        st.extra[HOURS] = base64.b64encode(x.to_bytes(14, "big")).decode().rstrip("=")
        if n < WARMUP_DAYS:
            return False
        own_hour = any(_count(counters, x % 24) >= MIN_DAYS for x in (h - 1, h, h + 1))
        # a weekday is theirs once seen on as many days as a five-day week gives it so far (up to MIN_DAYS)
        return not own_hour or _count(counters, 24 + weekday(day)) < min(MIN_DAYS, n // 5)

    # ------------------------------------------------------------------ destinations
    def destination_routine(self, destination: str, emp: str, day: int) -> int:
        """Count an upload by ``emp`` to ``destination``; the destination's routine users when it is the company's
        own (see the module), else 0."""
        d = destination.lower().strip()
        if d.startswith("www."):
            d = d[4:]
        users = self.dest.get(d)
        if users is None:
            if len(self.dest) >= KEEP_DESTINATIONS:
                return 0
            users = self.dest[d] = {}
        rec = users.get(emp)
        if rec is None:
            if len(users) < KEEP_USERS:
                users[emp] = [1, day]
        elif rec[1] != day and rec[0] < ROUTINE_DAYS:
            rec[0] += 1
            rec[1] = day
            if rec[0] == ROUTINE_DAYS:
                self.routine[d] = self.routine.get(d, 0) + 1
        n = self.routine.get(d, 0)
        return n if n >= max(MIN_ROUTINE_USERS, ROUTINE_SHARE * self.employees) else 0

    # ------------------------------------------------------------------ the engine's hook
    def annotate(self, st: Any, emp: str, event: ActivityEvent, day: int, t: float,
                 learnable: bool) -> ActivityEvent:
        """The event as the rules should read it: ``attrs.off_hours`` when outside the person's hours; an upload
        to a destination the company uses routinely is not personal."""
        update: dict[str, Any] = {}
        attrs: dict[str, Any] | None = None
        if event.action not in AUTOMATIC and self.off_hours(st, day, t, learnable):
            attrs = {**event.attrs, "off_hours": True}
        if (event.action == "upload" and event.personal is True and event.kind in UPLOAD_KINDS
                and event.destination):
            n = self.destination_routine(event.destination, emp, day)
            if n:
                attrs = {**(attrs if attrs is not None else event.attrs), "corporate_by_use": n}
                update["personal"] = False
        if attrs is not None:
            update["attrs"] = attrs
        return event.model_copy(update=update) if update else event

