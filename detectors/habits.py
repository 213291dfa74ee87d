"""Habits: what is ordinary for a person (their working hours) and for the company (the destinations many
colleagues use routinely), learned from the activity itself, so that no clock or domain list has to fit it.

**Working hours.** "After hours" judged against a fixed clock (07:00-19:00 UTC) makes every afternoon of a
New York employee and every morning of one in Kolkata "after hours", and a night shift is after hours every
day. Instead each employee's own hours are learned: on how many distinct days they were active (by a person,
not an automatic forward or sync) in each two-hour block of the day and on each day of the week, counted up to
:data:`MIN_DAYS` (2 bits each), learned only on days that may teach a baseline (not in the departure period).
Once the employee has :data:`WARMUP_DAYS` active days learned, an event is *off hours* when its block is not
one of theirs (a block counts as theirs when it or a neighbouring block was active on :data:`MIN_DAYS` days: a
daylight-saving shift or staying a little late is not new) or its weekday is not (a weekday is theirs once
active on as many days as a five-day week gives it in their learned days, up to :data:`MIN_DAYS`). Each event
is judged on the employee's days up to :data:`LAG_DAYS` before its own, so that events delivered up to
:data:`LATE_DAYS` late get the same answers as in time order. The engine marks such events
``attrs.off_hours = True`` for the rules to read (the hour and the day are in UTC; the comparison is with the
person's own, so the time zone does not matter). Before the warm-up nothing is marked: with no history there
is no judging.

The same counters say where the employee's own day begins (:func:`day_boundary`: the middle of their longest
quiet stretch). When it begins in the UTC morning (west of UTC, or a night shift), an event before it belongs to
their previous day: the engine marks it ``attrs.previous_day`` (a New York evening past midnight UTC is still
the last working day). For someone with no quiet hours of their own (rotating shifts round the clock, or too new)
or whose day begins in the UTC afternoon (a night worker west of UTC), the company's quietest hours stand in
(:meth:`Habits.company_boundary`). And work that continues a stretch begun on an earlier day (pauses shorter than
:data:`REST_S`, :data:`STRETCH_S` at most: a night shift, a long last evening) belongs to that day
(:meth:`Habits.stretch`, ``st.extra["rn"]``). A day already past the employee's last working day on record is
not marked: either way the event comes after it.

The state is ``st.extra["wh"]``, 20 base64 characters of one 114-bit number: the counters (38 bits), the block
masks of the last :data:`PENDING` days (60), the days learned (4, up to 15) and the latest day modulo 4096 (12).

>>> st = EmployeeState(); h = Habits()
>>> def at(day, hour):
...     return h.off_hours(st, day, day * 86400 + hour * 3600 + 60, True)
>>> _ = [(at(d, 9), at(d, 16)) for d in range(20000, 20021) if weekday(d) < 5]  # 3 weeks of weekdays
>>> at(20021, 10), at(20021, 17), at(20021, 22), at(20022, 10), at(20022, 23)  # Fri 10, 17, 22; Sat 10, 23
(False, False, True, 'weekday', True)

**Team habits.** Some teams' work looks like an attack elsewhere: security analysts read exploit databases
and password crackers, helpdesk staff log on to colleagues' machines every day. For such events (a
hacking-tool site, a logon on a machine whose usual user is someone else, a message to many people, files
copied to removable media) the engine marks
``attrs.routine``: ``"own"`` when the person did it on several earlier occasions, ``"team"`` when several of
their department or role did it too (a share of its members), ``"new"`` in the person's first days of data
(nothing is known yet: caution, not alarm). A first for the person that is unusual for their peers stays
unmarked and is judged as before. The team's habit does not cover someone who is leaving or on the watchlist
(the days that teach no baseline): an administrator in an IT department whose helpdesk logs on to colleagues'
laptops every day, who never did so himself, and who logs on to his manager's laptop during his notice, is
doing something new for *him*; only his own habit ("own") makes it ordinary. A message to many
(:data:`TEAM_EVEN_LEAVING`) is the exception: its recipients read it, so the team's newsletter sent by a
marketing manager in her notice is still the team's habit.

>>> h = Habits(); team = [EmployeeState(hr={"department": "Security"}) for _ in range(5)]
>>> for i, st in enumerate(team):
...     st.extra["fs"] = 0
...     _ = h.off_hours(st, 30, 30 * 86400, True)  # joins the group
>>> [h.routine(st, f"e{i}", "hacking_tools", 30) for i, st in enumerate(team)]
[None, None, None, 'team', 'team']
>>> h.routine(EmployeeState(hr={"department": "Sales"}, extra={"fs": 0}), "s1", "hacking_tools", 30)
>>> h.routine(team[4], "e4", "hacking_tools", 31, leaving=True)  # leaving, done only once before: new for them

A group too small for :data:`TEAM_MIN` others has a habit when every other member has it: the second of an IT
department's two security analysts (the helpdesk never visits such sites).

>>> h = Habits(); it = [EmployeeState(hr={"department": "IT", "role": r}, extra={"fs": 0})
...                    for r in ["helpdesk"] * 4 + ["security_analyst"] * 2]
>>> for st in it:
...     _ = h.off_hours(st, 30, 30 * 86400, True)
>>> [h.routine(it[i], f"i{i}", "hacking_tools", 30) for i in (4, 5, 0)]
[None, 'team', None]

**Destinations of the company.** A consumer domain list calls github.com personal, yet in a software company
hundreds of engineers push to the company's organisation there every day. A destination that is listed as
personal but to which many colleagues upload routinely (at least :data:`ROUTINE_DAYS` distinct days each, by
at least :data:`MIN_ROUTINE_USERS` people and :data:`ROUTINE_SHARE` of the employees seen) is the company's
own: the engine treats uploads to it as not personal (``personal`` False, ``attrs.corporate_by_use`` = the
number of routine users).

**Persisted.** The company's destinations, the team habits and the employees seen (the company's and each
peer group's size) are shared by the employees one engine sees, like :mod:`detectors.hosts`: engine-wide
memories (:mod:`detectors.shared`) held as one contribution per partition of the employees who changed them
(``Habits.part``, set by the engine), which the worker persists with its transactions and reads back when it
starts or its assignment changes. A restarted worker answers as one that never stopped, and as replay.

>>> h = Habits(); h.seen.touch(0, ALL)[0] = 100  # 100 employees seen
>>> for emp in range(12):
...     for d in range(3):
...         n = h.destination_routine("www.GitHub.com", f"e{emp}", d)
>>> n, h.destination_routine("dropbox.com", "e1", 3)
(12, 0)
"""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Any

from detectors.shared import SharedMemory
from detectors.state import EmployeeState  # noqa: F401 (the doctest)
from schemas import ActivityEvent

#: st.extra key of the working-hours habit.
HOURS = "wh"
#: Distinct active days that make an hour (or weekday) one of the person's own.
MIN_DAYS = 3
#: Active days learned before anything is judged off hours.
WARMUP_DAYS = 10
#: Hours are learned in blocks of two (12 a day); the last PENDING days are kept as masks, so that an event up to
#: LATE_DAYS late is learned on its own day, and each event is judged on the days LAG_DAYS and more before it.
BLOCK_HOURS = 2
BLOCKS = 24 // BLOCK_HOURS
BLOCK_MASK = (1 << BLOCKS) - 1
LATE_DAYS = 2
LAG_DAYS = 3
PENDING = LATE_DAYS + LAG_DAYS
#: A day that begins this many blocks after 00:00 UTC or fewer (up to 12:00 UTC) makes the events before it the
#: previous day's (``attrs.previous_day``): west of UTC, and night shifts.
MORNING_BLOCKS = 6
#: Where the company's day begins, for someone whose own is unknown (active round the clock on rotating shifts, or
#: too new): the middle of the quietest QUIET_BLOCKS blocks of everyone's learned days, once COMPANY_DAYS days of
#: people are learned.
QUIET_BLOCKS = 4
COMPANY_DAYS = 50
#: A stretch of work (a shift, a long evening) ends at a pause of REST_S seconds; it is the day it began on for
#: at most STRETCH_S seconds (a double shift with overtime): the night after a last day's evening is still it.
REST_S = 6 * 3600
STRETCH_S = 16 * 3600
_EPOCH = _dt.date(1970, 1, 1)
#: st.extra key of the current stretch: [its first event (s), its latest (s), the employee's day it began on].
STRETCH = "rn"
#: What Habits.off_hours answers (true) for an event at the person's own hours on a day of the week that is not
#: one of theirs (a Saturday of someone who works Monday to Friday); the engine marks it
#: ``attrs.off_weekday_only`` besides ``attrs.off_hours``.
WEEKDAY_ONLY = "weekday"
#: Answers remembered (detectors.habits.Habits.off_hours): cleared when full.
MEMO = 8192
#: Actions a person does not cause themselves.
AUTOMATIC = frozenset({"auto_forward", "sync_download"})
#: Distinct days of uploads that make someone a routine user of a destination.
ROUTINE_DAYS = 3
#: Routine users that make a personal-listed destination the company's own: at least this many, and this share
#: of the employees seen.
MIN_ROUTINE_USERS = 10
ROUTINE_SHARE = 0.03
#: Earlier occasions that make a team habit the person's own; others of a peer group (at least so many, and this
#: share of its members seen) that make it the team's; days of history before which nothing is judged.
OWN_ROUTINE = 3
TEAM_MIN = 3
TEAM_SHARE = 0.4
NEW_DAYS = 14
#: Upload actions whose destination is counted.
UPLOAD_KINDS = frozenset({"web", "file"})
#: Employees remembered per destination (beyond that, only the routine count grows: the destination is common).
KEEP_USERS = 4096
KEEP_DESTINATIONS = 512
#: Team habits of work that anyone sees (marked ``attrs.routine`` like the others): a message to at least
#: MASS_RECIPIENTS people (email.mass_mail counts from the same number: the newsletter or the all-hands mail
#: of a marketing or communications team) and files copied to removable media (field technicians, marketing
#: staff carrying presentations to fairs, test engineers moving builds to rigs).
MAIL_SENDS = frozenset({"send", "forward"})
MASS_RECIPIENTS = 25
#: Habit kinds whose team habit covers someone leaving too: a message to many is read by all of them and hides
#: nothing; sending the newsletter one's team sends is the same job in the notice period as before it. (Files
#: to removable media are not among them: a departing person's first copies are theirs to explain.)
TEAM_EVEN_LEAVING = frozenset({"mass_mail"})


def _count(counters: int, i: int) -> int:
    return (counters >> (2 * i)) & 3


def _bump(counters: int, i: int) -> int:
    c = _count(counters, i)
    return counters if c >= 3 else counters + (1 << (2 * i))


def _groups(st: Any) -> list[str]:
    """The employee's peer groups: their department and their role (as HR names them)."""
    h = st.hr or {}
    return [f"{k[0]}:{h[k]}" for k in ("department", "role") if h.get(k)]


def _habit_kind(e: ActivityEvent) -> str | None:
    if e.kind == "web" and e.attrs.get("category") == "hacking_tools":
        return "hacking_tools"
    if e.kind == "logon" and e.attrs.get("host_usual_user"):
        return "other_machine"
    if e.kind == "email" and e.action in MAIL_SENDS and len(e.recipients) >= MASS_RECIPIENTS:
        return "mass_mail"
    if e.kind == "file" and e.action == "copy_to_removable":
        return "removable"
    return None


def _fold(counters: int, n: int, mask: int, day: int) -> tuple[int, int]:
    """A day's block mask into the counters (and the days learned)."""
    if not mask:
        return counters, n
    for b in range(BLOCKS):
        if mask >> b & 1:
            counters = _bump(counters, b)
    return _bump(counters, BLOCKS + weekday(day)), min(n + 1, 15)


def day_boundary(counters: int) -> int:
    """Where the employee's own day begins, in UTC blocks: the middle of the longest run of blocks they are not
    active in (their night, wherever they are). 0 for someone who works by day near UTC; 4 (08:00 UTC) for a New
    York office worker, whose evenings run past midnight UTC; -1 if every block is theirs.

    >>> own = lambda blocks: sum(3 << (2 * b) for b in blocks)
    >>> day_boundary(own(range(4, 9))), day_boundary(own([7, 8, 9, 10, 11, 0, 1])), day_boundary(own(range(12)))
    (0, 4, -1)
    """
    quiet = [_count(counters, b) < MIN_DAYS for b in range(BLOCKS)]
    if not any(quiet):
        return -1
    best, best_start = 0, 0
    for start in range(BLOCKS):
        if quiet[start] and not quiet[start - 1]:
            n = 0
            while n < BLOCKS and quiet[(start + n) % BLOCKS]:
                n += 1
            if n > best:
                best, best_start = n, start
    if best == 0:  # every block quiet
        return 0
    return (best_start + best // 2) % BLOCKS


def _past_last_day(st: Any, day: int) -> bool:
    """Whether ``day`` lies after the employee's last working day on record."""
    last = (st.hr or {}).get("last_day")
    if not last:
        return False
    try:
        return day > (_dt.date.fromisoformat(str(last)[:10]) - _EPOCH).days
    except ValueError:
        return False


def weekday(day: int) -> int:
    """0 = Monday (1970-01-01, day 0, was a Thursday)."""
    return (day + 3) % 7


#: Name of the count of every employee seen in :class:`Seen` (peer groups are named ``d:<department>``,
#: ``r:<role>``).
ALL = "*"


class Destinations(SharedMemory):
    """``parts``: destination -> partition -> ``[routine users, {employee: [upload days, last day counted]}]``
    (an employee's days stop at :data:`ROUTINE_DAYS`, when they become a routine user)."""

    kind = "d"

    def empty(self) -> Any:
        return [0, {}]

    def routine_users(self, d: str) -> int:
        return sum(c[0] for c in self.parts.get(d, {}).values())


class OwnHabits(SharedMemory):
    """``parts``: habit kind -> partition -> ``{employee: occasions}`` (up to 255)."""

    kind = "o"


class TeamHabits(SharedMemory):
    """``parts``: ``<habit kind>|<peer group>`` -> partition -> ``[employees who did it]``."""

    kind = "t"

    def empty(self) -> Any:
        return []


class Seen(SharedMemory):
    """``parts``: :data:`ALL` or a peer group -> partition -> ``[employees seen]``."""

    kind = "m"

    def empty(self) -> Any:
        return [0]

    def count(self, name: str) -> int:
        return sum(c[0] for c in self.parts.get(name, {}).values())


class CompanyHours(SharedMemory):
    """``parts``: ``"hours"`` -> partition -> person-days active in each block of the day (:data:`BLOCKS`
    counts), over the learned days of its employees (:meth:`Habits.company_boundary`)."""

    kind = "w"
    NAME = "hours"

    def __init__(self) -> None:
        super().__init__()
        self.version = 0  # changes whenever the totals may have (a fold, a restore, another worker's record)

    def empty(self) -> Any:
        return [0] * BLOCKS

    def add(self, part: int, mask: int) -> None:
        c = self.touch(part, self.NAME)
        for x in range(BLOCKS):
            c[x] += mask >> x & 1
        self.version += 1

    def totals(self) -> list[int]:
        out = [0] * BLOCKS
        for c in self.parts.get(self.NAME, {}).values():
            for x in range(BLOCKS):
                out[x] += c[x]
        return out

    def load(self, key: str, value: bytes | None) -> bool:
        self.version += 1
        return super().load(key, value)

    def rollback(self) -> None:
        self.version += 1
        super().rollback()

    def clear(self) -> None:
        self.version += 1
        super().clear()


class Habits:
    def __init__(self) -> None:
        #: The partition of the employee being judged (set by the engine): where the shared memories count.
        self.part = 0
        #: destinations (the company's own), team habits, employees seen: engine-wide memories (see the module)
        self.destinations = Destinations()
        self.own = OwnHabits()
        self.team = TeamHabits()
        self.seen = Seen()
        #: the day boundary (detectors.habits.day_boundary) of the employee judged last, -1 if unknown
        self.last_boundary = -1
        #: person-days active in each block, over everyone's learned days (detectors.habits.company_boundary): an
        #: engine-wide memory too
        self.hours = CompanyHours()
        self._company_boundary: tuple[int, int] | None = None  # (hours.version, boundary)
        #: answers by (hours state, day, block, learnable): a state is a value, so equal keys give equal answers
        self._memo: dict[tuple[Any, ...], tuple[str, bool, int]] = {}

    @property
    def memories(self) -> tuple[SharedMemory, ...]:
        """The engine-wide memories, for the engine to persist with its others (detectors.shared)."""
        return (self.destinations, self.own, self.team, self.seen, self.hours)

    @property
    def employees(self) -> int:
        """Employees whose hours this engine has started to learn (the company's size as seen)."""
        return self.seen.count(ALL)

    # ------------------------------------------------------------------ hours
    def off_hours(self, st: Any, day: int, t: float, learnable: bool) -> bool | str:
        """Learn this person-caused event's hour and say whether it lies outside the employee's own hours, as
        judged from their days up to ``LAG_DAYS`` before it (so that events up to two days late give the same
        answers as in time order: the last ``PENDING`` days are kept as masks, older ones as counters).
        :data:`WEEKDAY_ONLY` (true as well) when the hour is theirs and only the day of the week is not."""
        rec = st.extra.get(HOURS)
        b = int(t % 86400) // 3600 // BLOCK_HOURS
        key = (rec, day, b, learnable)
        got = self._memo.get(key) if rec is not None else None
        if got is not None:  # the same state, day and block as an earlier event (most events): the same answer
            st.extra[HOURS], off, self.last_boundary = got
            return off
        off = self._off_hours(st, rec, day, b, learnable)
        if rec is not None:
            if len(self._memo) >= MEMO:
                self._memo.clear()
            self._memo[key] = (st.extra[HOURS], off, self.last_boundary)
        return off

    def _off_hours(self, st: Any, rec: str | None, day: int, b: int, learnable: bool) -> bool | str:
        if rec is None:
            for g in (ALL, *_groups(st)):
                self.seen.touch(self.part, g)[0] += 1
            top, masks, counters, n = day, [0] * PENDING, 0, 0
        else:
            x = int.from_bytes(base64.b64decode(rec), "big")
            counters, n, low = x >> 76, (x >> 12) & 0xF, x & 0xFFF
            masks = [(x >> (16 + BLOCKS * i)) & BLOCK_MASK for i in range(PENDING)]  # masks[-1]: day ``top``
            delta = (low - day) % 4096  # the latest day seen, ``top``, is near ``day``: a little later or earlier
            top = day + delta if delta < 2048 else day - (4096 - delta)
        for _ in range(min(max(0, day - top), PENDING)):  # a new day: the oldest pending day is folded
            m = masks.pop(0)
            counters, n = _fold(counters, n, m, top - PENDING + 1)
            if m:  # the company's hours
                self.hours.add(self.part, m)
            masks.append(0)
            top += 1
        top = max(top, day)
        if learnable and top - LATE_DAYS <= day <= top:
            masks[PENDING - 1 - (top - day)] |= 1 << b
        x = counters << 76 | sum(m << (16 + BLOCKS * i) for i, m in enumerate(masks)) | n << 12 | top % 4096
        st.extra[HOURS] = base64.b64encode(x.to_bytes(15, "big")).decode()
        # the days up to LAG_DAYS before this one: the counters and the pending days that old
        for i, m in enumerate(masks):
            d = top - PENDING + 1 + i
            if d <= day - LAG_DAYS:
                counters, n = _fold(counters, n, m, d)
        self.last_boundary = -1
        if n < WARMUP_DAYS:
            return False
        # where their day begins matters only for events in the UTC morning (attrs.previous_day)
        self.last_boundary = day_boundary(counters) if b < MORNING_BLOCKS else -1
        own = any(_count(counters, x % BLOCKS) >= MIN_DAYS for x in (b - 1, b, b + 1))
        if not own:
            return True
        # a weekday is theirs once seen on as many days as a five-day week gives it so far (up to MIN_DAYS);
        # "weekday" (true too) when only the day is not theirs: their usual hours on a Saturday
        return WEEKDAY_ONLY if _count(counters, BLOCKS + weekday(day)) < min(MIN_DAYS, n // 5) else False

    def company_boundary(self) -> int:
        """Where the company's day begins, in UTC blocks: the middle of the quietest :data:`QUIET_BLOCKS` blocks
        of everyone's learned days; -1 before :data:`COMPANY_DAYS` days are learned.

        >>> h = Habits(); h.hours.touch(0, "hours")[:] = [8, 4, 1, 0, 0, 1, 10, 40, 60, 60, 50, 20]  # New York
        >>> h.company_boundary()
        4
        >>> h = Habits(); h.hours.touch(1, "hours")[:] = [0] * 6 + [60] * 6; h.company_boundary()  # quiet 0-12 UTC
        3
        """
        cached = self._company_boundary
        if cached is not None and cached[0] == self.hours.version:
            return cached[1]
        c = self.hours.totals()
        if sum(c) < COMPANY_DAYS * 4:  # about four blocks a person-day
            b = -1
        else:
            sums = [sum(c[(s + i) % BLOCKS] for i in range(QUIET_BLOCKS)) for s in range(BLOCKS)]
            ties = [s for s in range(BLOCKS) if sums[s] == min(sums)]  # a longer quiet run: its middle
            b = (ties[len(ties) // 2] + QUIET_BLOCKS // 2) % BLOCKS
        self._company_boundary = (self.hours.version, b)
        return b

    def stretch(self, st: Any, t: float, day: int) -> int:
        """The employee's own day that the stretch of work holding this event began on (see :data:`REST_S`):
        ``day``, or an earlier one when the event continues work begun then (a night shift, a late evening)."""
        rn = st.extra.get(STRETCH)
        ti = int(t)
        if rn is not None and rn[0] <= ti and ti - rn[1] < REST_S and ti - rn[0] <= STRETCH_S:
            if ti > rn[1]:
                st.extra[STRETCH] = [rn[0], ti, rn[2]]
            return min(int(rn[2]), day)
        if rn is None or ti > rn[1]:  # a new stretch (an event older than the latest changes nothing)
            st.extra[STRETCH] = [ti, ti, day]
        return day

    # ------------------------------------------------------------------ destinations
    def destination_routine(self, destination: str, emp: str, day: int) -> int:
        """Count an upload by ``emp`` to ``destination``; the destination's routine users when it is the company's
        own (see the module), else 0."""
        d = destination.lower().strip()
        if d.startswith("www."):
            d = d[4:]
        mem = self.destinations
        by_part = mem.parts.get(d)
        if by_part is None and len(mem.parts) >= KEEP_DESTINATIONS:
            return 0
        mine = None if by_part is None else by_part.get(self.part)
        rec = None if mine is None else mine[1].get(emp)
        if rec is None:
            if mine is None or len(mine[1]) < KEEP_USERS:
                mem.touch(self.part, d)[1][emp] = [1, day]
        elif rec[1] != day and rec[0] < ROUTINE_DAYS:
            c = mem.touch(self.part, d)
            rec = c[1][emp]
            rec[0] += 1
            rec[1] = day
            if rec[0] == ROUTINE_DAYS:
                c[0] += 1
        n = mem.routine_users(d)
        return n if n >= max(MIN_ROUTINE_USERS, ROUTINE_SHARE * self.employees) else 0

    # ------------------------------------------------------------------ team habits
    def routine(self, st: Any, emp: str, kind: str, day: int, leaving: bool = False) -> str | None:
        """Count that ``emp`` did ``kind`` (a habit some teams have: hacking-tool sites, logons on colleagues'
        machines); why it is routine for them, if it is: ``"own"`` (they did it on :data:`OWN_ROUTINE` earlier
        occasions, each event one: a burst of copies soon reads "own"), ``"team"`` (first when both hold; at least :data:`TEAM_MIN` others of their department or role did it, and at
        least :data:`TEAM_SHARE` of its members seen; not when ``leaving``: departing or on the watchlist) or
        ``"new"`` (fewer than :data:`NEW_DAYS` days of their history: nothing is known yet, so nothing is
        alarming); else None."""
        mine = self.own.parts.get(kind, {}).get(self.part)
        before = 0 if mine is None else mine.get(emp, 0)
        if before < 255:
            self.own.touch(self.part, kind)[emp] = before + 1
        why = "own" if before >= OWN_ROUTINE else None
        for g in _groups(st):
            name = f"{kind}|{g}"
            by_part = self.team.parts.get(name, {})
            did = by_part.get(self.part)
            me = did is not None and emp in did
            others = sum(len(c) for c in by_part.values()) - me
            if not me and (did is None or len(did) < KEEP_USERS):
                self.team.touch(self.part, name).append(emp)
            members = self.seen.count(g)
            if why != "team" and not leaving and (others >= max(TEAM_MIN, TEAM_SHARE * members)
                                                  or 1 <= members - 1 <= others):
                # (a group too small for TEAM_MIN others: when every other member does it, it is the team's)
                why = "team"  # the team's habit names it even when it is also the person's own
        if why is None and day - int(st.extra.get("fs", day)) < NEW_DAYS:
            why = "new"
        return why

    # ------------------------------------------------------------------ the engine's hook
    def annotate(self, st: Any, emp: str, event: ActivityEvent, day: int, t: float,
                 learnable: bool) -> ActivityEvent:
        """The event as the rules should read it: ``attrs.off_hours`` when outside the person's hours; an upload
        to a destination the company uses routinely is not personal."""
        update: dict[str, Any] = {}
        attrs: dict[str, Any] | None = None
        if event.action not in AUTOMATIC:
            off = self.off_hours(st, day, t, learnable)
            if off:
                attrs = {**event.attrs, "off_hours": True}
                if off == WEEKDAY_ONLY:  # their usual hours, on a day of the week that is not theirs
                    attrs["off_weekday_only"] = True
            # before the employee's own day begins (a New York evening, a night shift's end: their own hours; the
            # company's for someone active round the clock, or whose own day begins in the UTC afternoon, such as
            # a night worker west of UTC), or continuing work begun on an earlier day: their previous day
            own, blk = day, int(t % 86400) // 3600 // BLOCK_HOURS
            if blk < MORNING_BLOCKS:
                bnd = (self.last_boundary if 0 <= self.last_boundary <= MORNING_BLOCKS
                       else self.company_boundary())
                if 0 < bnd <= MORNING_BLOCKS and blk < bnd:
                    own = day - 1
            own = self.stretch(st, t, own)
            if own < day and not _past_last_day(st, own):
                # (a day already past the employee's last working day is marked nothing: whichever it is, the
                # event comes after their last day)
                attrs = {**(attrs if attrs is not None else event.attrs), "previous_day": True}
        if (event.action == "upload" and event.personal is True and event.kind in UPLOAD_KINDS
                and event.destination):
            n = self.destination_routine(event.destination, emp, day)
            if n:
                attrs = {**(attrs if attrs is not None else event.attrs), "corporate_by_use": n}
                update["personal"] = False
        kind = _habit_kind(event)
        if kind is not None:
            # departing or watched: not the team's (but for acts anyone sees, TEAM_EVEN_LEAVING)
            why = self.routine(st, emp, kind, day, leaving=not learnable and kind not in TEAM_EVEN_LEAVING)
            if why is not None:
                attrs = {**(attrs if attrs is not None else event.attrs), "routine": why}
        if attrs is not None:
            update["attrs"] = attrs
        return event.model_copy(update=update) if update else event

