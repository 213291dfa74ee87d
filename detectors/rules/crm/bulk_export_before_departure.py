"""A single CRM export of at least 100 records by an employee in notice or within 30 days of the last day.

Exports are ``export``, ``report_export`` and ``bulk_query`` events; the value is the event's ``count``
(records), and a day's value is its largest export (``agg="max"``), so many small exports do not add up to
one bulk export. An export without a count is not judged. HR news that arrives after the export (a
resignation recorded late, a last day set afterwards) re-evaluates the stored days and still fires.

Version 3 grades the export against the largest the employee made *before the departure period* (the stored
days of the last 90, :meth:`detectors.windows.OnEvent.largest_before`), no longer against the learned peak: an
export made before HR knew of the resignation had taught that peak itself, and a 659-record export read as
"1.0x usual". A handover export of the person's usual report size stays low; one several times larger than
anything they exported before is graded up.

Version 4 tells a handover of the person's usual report from a new kind of export: the kind is the action
and the report or object exported (digits left out, so a monthly report stays one kind). A kind the employee
first made more than 30 days earlier, or in their first week of history, is theirs: such an export is graded
against twice their largest before (a successor may get the whole list they used to pull in parts). A kind first
made in the last 30 days (a full object export, a bulk API query, a report they never ran) is graded against
their largest itself. The kinds are kept in a small memory of their own (:func:`detectors.windows.fresh_since`,
8 entries, ``fk``).

Version 5 (issue 14) looks at what happened to the export next, in the mail log every company has. An honest
account manager exports their accounts for a successor and mails the list to them; someone taking the list keeps
it, or mails it home (``sequence.crm_export_then_personal_mail``). An export of 100 records or more now waits
:data:`PASS_HOURS` (2 h) before it is judged: if a mail with attachments to colleagues only (every recipient
internal, none personal) follows within that time, the day's exports were passed on: a handover, not reported,
whatever the size (a low alert would still set the episode's peak that a later export kept or mailed home must
exceed to be raised). The wait is kept in the state (:func:`observe`: the waiting
exports, the days passed on, the time of the latest input) and ends at the employee's first input after it, or
a later day (the engine asks the window after every input of a leaver: :meth:`PassedOn.on_clock`).

Version 6: the mail that follows is evidence of a handover only when it is a change from what the person was doing
just before. Someone who mails attachments to colleagues all day long (a thief in sales_org seed 2 sent dozens a
day, so each of three large exports was followed by one within 2 h and none was reported) passes nothing on by
that: an export made when such a mail went out in the 2 hours before it is graded as kept. One time stamp more in
the state (``xm``).

Version 7 (issue 14): a short history no longer makes an export "unknown". With fewer than 14 days of history the
ratio to the largest export before the departure period is still given when that largest is a real export (at
least :data:`MIN_RECORDS` records, not the floor of half of it); before, such an export was graded at the rule's
own severity (high) whatever its size: churn s1 (seed 1, main 07e039e), a marketing manager's 511-record export
the day after one of 574, 11 days into the data, read as high. An export with nothing real to compare with (a
first large export in a short history) stays at the rule's severity: a thief may start on day 10 too.
(Tried and left out: reading a mail to a colleague in the 2 hours *before* an export as passing it on, counted
only when such a mail is unlikely by chance for the person. Four honest leavers on the outside companies had
mailed their account list before exporting it, but a sales manager who mails colleagues about once a day sent
four such mails on the day of a 1,853-record theft, one of them 71 minutes before it; the theft read as a
handover, and a person's daily rate does not tell a busy day.)

Version 8 (issue 14): the export is also graded against what the person's colleagues export. Honest leavers
export the department's usual reports for a successor; where the department's usual report is large (marketing
lists, finance extracts, account executives' books), such an export read as "2-7x" against the person's own few
and small exports before, and was the largest single source of honest people flagged at medium or higher (11
alerts on 10 honest leavers in the own profiles, 4 on the outside companies, seeds 1 and 2, main e692452). The
reference is now the larger of the person's own (as before) and the largest single export of the colleague at
the department's upper quartile (a quarter of the department's other members who export have made one at least
that large: :mod:`detectors.peerlargest`, at least :data:`PEER_MIN` of them); an export no larger than 1.5 times
that reads as low. A quartile, not the largest, so one colleague's theft does not make the department's exports
ordinary. Two exceptions keep the own grading: an export with no own reference (too little history, version 7:
the rule's severity stands), and an export followed within :data:`PASS_HOURS` by mail that carries something to
a personal address (not labelled public): what happens to the export next tells more than its size, and a
handover does not go to a private mailbox. And passing an export on to a colleague no longer excuses any size: a
sales manager who mails colleagues attachments about once a day had a 1,089-record bulk query on their last day
"passed on" by such a mail 54 minutes later (shifts seed 2, E00128, missed on main e692452). An export passed on is
still not reported while it is below :data:`PASSED_PEERS` (3) times the colleagues' reference (the ratio from which
the grading gives the rule's own severity); above, it is graded as kept.

Version 9 (issue 14): a kind the employee exported before is graded against twice *that kind's* largest before the
departure period, when it is smaller than twice their largest export of any kind. Version 4 graded every known
kind against twice their largest export of any kind: a sales manager whose "Accounts - all customers" exports had
been 11-91 records, and whose largest export of anything was a 242-record opportunities report, exported 715
records of all customers in the notice, read "1.48 times" their usual and stayed low (subtle s3 E00241, missed on
main faebbad). The successor's whole list is twice what the person pulled *of that list*, not of another report.
The rule keeps, per kind exported on a day that may teach (not in the departure period, not on the watchlist) with
at least :data:`SIZE_FROM` records, a log2 bucket of its largest (:data:`SIZES`, the kind's 16-bit hash and one hex
digit, :data:`SIZES_CAP` kinds, most recent last), and, per day with an export of :data:`MIN_RECORDS` or more, the
day's largest export and its kind's largest before (:data:`DAY_KIND`, read back as the bucket's upper end: never
below the kind's real largest). A kind with no size kept (smaller exports only, evicted, or a state written before)
keeps the version 4 grading; colleagues' exports still cap the ratio (version 8).

Version 10 (issue 14): an export with nothing of the person's own to compare with (too little history before the
departure period, version 7) is graded against the colleagues' reference (version 8) when there is one, no longer
at the rule's own severity. A marketing specialist who resigned 10 days into the data exported the department's
usual 754-record customer list for their successor, their first export, and read ``high`` (rnd_lab seed 5,
E00073, main 6c37865), where a quarter of their colleagues had made single exports of that size. With fewer than
:data:`PEER_MIN` colleagues who export, or for an export mailed home, the rule's own severity stands as before
(``peer_first``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.examples import ev, hr
from detectors.peerlargest import upper_largest
from detectors.rule import Example, Finding, Rule
from detectors.state import EmployeeState, Series
from detectors.windows import RATIO_CAP, OnEvent, novelty_hash
from schemas import ActivityEvent

EXPORTS = frozenset({"export", "report_export", "bulk_query"})
SENDS = frozenset({"send", "forward"})
#: Hours after an export within which an internal mail with attachments passes it on.
PASS_HOURS = 2.0
#: Exports waiting for their judgement: ``[time, day, passed on (0/1)]``, at most PENDING_CAP, dropped after
#: PENDING_DAYS; the days whose exports were all passed on (``PASSED``, at most PASSED_CAP); the time of the
#: employee's latest event while an export waits (``NOW``).
PENDING, PASSED, NOW = "xq", "xp", "xn"
#: The times of the employee's latest mails with attachments to colleagues (``MAILED``): a mail that follows an
#: export passes it on only when none went out in the :data:`PASS_HOURS` before it (see version 6). A list (at
#: most MAILS_CAP, within 2 PASS_HOURS of the newest; a state written before holds one int), with the times of
#: the latest mails home with content (``HOMED``), so that a record applied late (after records of later times:
#: the worker's time merge after a resume) is judged as in time order: an export that comes after the mail that
#: passed it on, or a mail that comes after the export it makes "busy".
MAILED, HOMED, MAILS_CAP = "xm", "xg", 6
PENDING_CAP, PASSED_CAP, PENDING_DAYS = 4, 6, 7
#: An export of fewer records is never judged (the window's ``min_value``), so it never waits.
MIN_RECORDS = 100
#: The days whose exports were followed within PASS_HOURS by mail carrying something to a personal address
#: (``SENT_HOME``, at most PASSED_CAP): graded on the person's own normal only (version 8).
SENT_HOME = "xh"
#: Other members of the department with an export, at least, for the colleagues' reference (version 8).
PEER_MIN = 5
#: An export passed on to colleagues is a handover only below this many times the colleagues' reference: the
#: ratio from which the engine grades at the rule's own severity (version 8).
PASSED_PEERS = 3.0
#: Version 9: the largest export per kind on days that may teach, ``"<hash 4 hex><log2 bucket 1 hex>..."``.
SIZES, SIZES_CAP = "xs", 8
#: Exports smaller than this teach no size (the kind keeps the any-kind grading).
SIZE_FROM = MIN_RECORDS // 2
#: Version 9: per day with an export of MIN_RECORDS or more, ``[day, its largest export, that export's kind's
#: largest before (the bucket's upper end; 0 for none)]``, at most PASSED_CAP days.
DAY_KIND = "xk"
#: The employee's latest exports of any size, ``[time, 16-bit hash of what was exported]``, at most
#: NAMES_CAP, kept PASS_HOURS: ``sequence.crm_export_then_personal_mail`` (version 6) asks whether the file mailed
#: home is named like one of them (:func:`export_names`). Kept here because this rule sees an export before the
#: sequence does (a late export completes the sequence as it arrives).
NAMES, NAMES_CAP = "xo", 4


def bulk_export_before_departure(e: ActivityEvent) -> int:
    if e.kind != "crm" or e.action not in EXPORTS:
        return 0
    return e.count or 0


def kind_of_export(e: ActivityEvent) -> str:
    """The kind of an export: its action and what it exported, without digits (dates, ids of a run).

    >>> def k(action, obj): return kind_of_export(ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z",
    ...                                                                         action=action, object=obj)))
    >>> k("report_export", "Pipeline report 2026-03"), k("bulk_query", "Account")
    ('crm:report_export:pipeline report', 'crm:bulk_query:account')
    """
    what = re.sub(r"[\d\W_]+", " ", (e.object or "").lower()).strip()
    return f"crm:{e.action}:{what[:40]}"


def _size_bucket(n: int) -> int:
    """A log2 bucket of a record count (one hex digit), read back as its upper end by :func:`_size_of`.

    >>> [(_size_bucket(n), _size_of(_size_bucket(n))) for n in (50, 78, 242, 10**9)]
    [(5, 64), (6, 128), (7, 256), (15, 65536)]
    """
    return min(15, max(0, int(n).bit_length() - 1))


def _size_of(b: int) -> int:
    return 2 ** (b + 1)


def _kind_size(st: EmployeeState, h: str) -> int:
    """The upper end of the bucket of the largest export of kind ``h`` kept in :data:`SIZES`, 0 without one."""
    mem: str = st.extra.get(SIZES, "")
    for i in range(0, len(mem) - 4, 5):
        if mem[i : i + 4] == h:
            return _size_of(int(mem[i + 4], 16))
    return 0


def _note_size(st: EmployeeState, h: str, n: int) -> None:
    mem: str = st.extra.get(SIZES, "")
    entries = [mem[i : i + 5] for i in range(0, len(mem) - 4, 5)]
    old = next((x for x in entries if x[:4] == h), None)
    b = _size_bucket(n)
    if old is not None:
        entries.remove(old)
        b = max(b, int(old[4], 16))
    st.extra[SIZES] = "".join((entries + [f"{h}{b:x}"])[-SIZES_CAP:])


def name_hash(name: str) -> int:
    """A 16-bit hash of what a report or file is called: lower case, without a file extension, digits and
    punctuation (an export "All accounts with contacts" and an attachment "All accounts with contacts.xlsx", or
    a mail with that subject, have the same hash).

    >>> name_hash("All accounts with contacts") == name_hash("all_accounts_with_contacts 2026-04.XLSX")
    True
    >>> name_hash("Pipeline report") == name_hash("contacts and references")
    False
    """
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]{0,4}$", "", name.strip())
    return novelty_hash(re.sub(r"[\d\W_]+", " ", stem.lower()).strip()[:60])


def export_names(st: EmployeeState, t: float) -> set[int]:
    """The name hashes of the employee's exports in the :data:`PASS_HOURS` up to ``t`` (see :data:`NAMES`)."""
    return {h for te, h in st.extra.get(NAMES, ()) if t - PASS_HOURS * 3600 <= te <= t}


def _internal_attachments(e: ActivityEvent) -> bool:
    """A mail that carries attachments to colleagues only (every recipient internal, none personal)."""
    return (e.kind == "email" and e.action in SENDS and e.external is False and e.personal is not True
            and bool(e.count or (e.bytes or 0) >= 1_000_000))


def _home_with_content(e: ActivityEvent) -> bool:
    """Mail to a personal address that carries something (attachments, or large), not labelled public."""
    return (e.kind == "email" and e.action in SENDS and e.personal is True and e.sensitivity != "public"
            and bool(e.count or (e.bytes or 0) >= 1_000_000))


def _times(st: EmployeeState, key: str) -> list[int]:
    """The mail times kept under ``key`` (:data:`MAILED`, :data:`HOMED`); a state written before holds one int."""
    v = st.extra.get(key)
    return [] if v is None else [v] if isinstance(v, int) else list(v)


def _note_time(st: EmployeeState, key: str, t: float) -> None:
    xs = sorted(set(_times(st, key)) | {int(t)})
    st.extra[key] = [x for x in xs if x >= xs[-1] - 2 * PASS_HOURS * 3600][-MAILS_CAP:]


def _passed_days(st: EmployeeState, pending: list[list[int]]) -> None:
    """The days whose waiting exports were all passed on go into :data:`PASSED`."""
    for d in {p[1] for p in pending}:
        if all(p[2] == 1 for p in pending if p[1] == d):
            passed = st.extra.setdefault(PASSED, [])
            if d not in passed:
                passed.append(d)
                del passed[:-PASSED_CAP]


def _home_day(st: EmployeeState, day: int) -> None:
    home = st.extra.setdefault(SENT_HOME, [])
    if day not in home:
        home.append(day)
        del home[:-PASSED_CAP]


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Exports of :data:`MIN_RECORDS` or more wait :data:`PASS_HOURS` for an internal mail with attachments that
    passes them on (a handover to a successor, a list for the team); the window judges them when that time is
    over (:meth:`PassedOn.on_clock`)."""
    pending: list[list[int]] | None = st.extra.get(PENDING)
    if e.kind == "crm" and e.action in EXPORTS and e.count != 0 and e.object:
        names = [x for x in st.extra.get(NAMES, ()) if x[0] >= t - PASS_HOURS * 3600] + [[int(t), name_hash(e.object)]]
        st.extra[NAMES] = sorted(names)[-NAMES_CAP:]
    if e.kind == "crm" and e.action in EXPORTS and (e.count or 0) >= SIZE_FROM:
        h = f"{novelty_hash(kind_of_export(e)):04x}"
        if (e.count or 0) >= MIN_RECORDS:  # the day's largest export and its kind's largest before (version 9)
            days = st.extra.setdefault(DAY_KIND, [])
            rec = next((x for x in days if x[0] == day), None)
            if rec is None:
                days.append([day, int(e.count or 0), _kind_size(st, h)])
                days.sort()
                del days[:-PASSED_CAP]
            elif (e.count or 0) > rec[1]:
                rec[1:] = [int(e.count or 0), _kind_size(st, h)]
        if hr is not None and hr.learnable(day):
            _note_size(st, h, int(e.count or 0))
    if e.kind == "crm" and e.action in EXPORTS and (e.count or 0) >= MIN_RECORDS:
        pending = [p for p in (pending or []) if p[0] >= t - PENDING_DAYS * 86400]
        # Someone already mailing attachments to colleagues in the hours before the export: a mail after it is
        # their ordinary traffic, no sign of passing it on (-1: never a handover).
        mails = _times(st, MAILED)
        busy = any(0 < t - m <= PASS_HOURS * 3600 for m in mails)
        # A mail of a later time applied before the export (late data) passes it on, or carries it home, as it
        # would have had it come after.
        late = not busy and any(t <= m <= t + PASS_HOURS * 3600 for m in mails)
        pending.append([int(t), day, -1 if busy else 1 if late else 0])
        pending.sort()
        st.extra[PENDING] = pending[-PENDING_CAP:]
        if late:
            _passed_days(st, pending)
        if any(t <= m <= t + PASS_HOURS * 3600 for m in _times(st, HOMED)):
            _home_day(st, day)
    elif _internal_attachments(e):
        _note_time(st, MAILED, t)
        if not pending:
            return
        for p in pending:
            if p[2] == 0 and p[0] <= t <= p[0] + PASS_HOURS * 3600:
                p[2] = 1
            elif p[2] != -1 and 0 < p[0] - t <= PASS_HOURS * 3600:  # applied late: the export was "busy"
                p[2] = -1
                passed = st.extra.get(PASSED, [])
                if p[1] in passed:
                    passed.remove(p[1])
        _passed_days(st, pending)
    elif _home_with_content(e):
        _note_time(st, HOMED, t)
        for p in pending or ():
            if p[0] <= t <= p[0] + PASS_HOURS * 3600:
                _home_day(st, p[1])
    if st.extra.get(PENDING):
        st.extra[NOW] = max(int(t), int(st.extra.get(NOW, 0)))


@dataclass(frozen=True)
class PassedOn(OnEvent):
    """``OnEvent`` that waits ``pass_hours`` after an export before judging it: an export passed on to colleagues
    by mail in that time (every recipient internal, with attachments) is a handover and graded low."""

    pass_hours: float = PASS_HOURS
    #: Graded against the colleagues' largest single exports too (the engine keeps them and asks
    #: :meth:`with_peer_largest`; version 8).
    peer_largest: bool = True
    #: An export with nothing of the person's own to compare with (too little history) is graded against the
    #: colleagues' reference (version 10); False: the rule's own severity, as in version 9.
    peer_first: bool = True

    def _waiting(self, st: EmployeeState, day: int) -> bool:
        now = int(st.extra.get(NOW, 0))
        return any(p[1] == day and now < p[0] + self.pass_hours * 3600 for p in st.extra.get(PENDING, ()))

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        if self._waiting(st, day):
            return None  # judged once the export has had its time to be passed on (on_clock)
        f = super().check_day(s, hr, day, st, rid)
        if f is None:
            return None
        if f.ratio is None and f.extra.get("largest_before", 0) >= self.min_value:
            # Too little history for a baseline, but a real export before the departure period to compare with
            # (version 7).
            known = f.extra.get("new_kind") == "a kind they exported before"
            ref = f.extra["largest_before"] * (self.usual_factor if known else 1.0)
            f = dataclasses.replace(f, ratio=min(RATIO_CAP, f.observed / ref))
        if f.ratio is not None and f.extra.get("new_kind") == "a kind they exported before":
            # graded against twice the largest of the export's own kind, when that is smaller (version 9)
            kind = next((x[2] for x in st.extra.get(DAY_KIND, ()) if x[0] == day and x[1] == f.observed), 0)
            ref = max(f.extra.get("largest_before", 0.0), self.min_value / 2) * self.usual_factor
            if 0 < kind * self.usual_factor < ref:
                f = dataclasses.replace(f, ratio=min(RATIO_CAP, max(f.ratio, f.observed / (kind * self.usual_factor))),
                                        extra={**f.extra, "new_kind": f"a kind they exported before (under {kind} "
                                                                      f"records at a time before the departure period)"})
        home = day in st.extra.get(SENT_HOME, ())
        # Passed on to colleagues (a handover): not reported unless far larger than what colleagues export (the
        # engine decides with their exports, with_peer_largest); without the engine's peers, not reported.
        passed = day in st.extra.get(PASSED, ()) and not home
        return dataclasses.replace(f, extra={
            **f.extra, "peers": "", "passed_on": passed,
            "handover": (f"mailed to a personal address within {self.pass_hours:g} h" if home else
                         f"passed on to colleagues within {self.pass_hours:g} h" if passed else
                         f"not passed on to colleagues within {self.pass_hours:g} h")})

    def with_peer_largest(self, f: Finding, st: EmployeeState, series: str, pr: Any) -> Finding | None:
        """``f`` graded against the colleagues' exports as well (version 8): the ratio to the larger of the own
        reference and the largest single export of the department's upper-quartile member; without an own ratio,
        to that member's alone (version 10, ``peer_first``). Unchanged for a day whose export went to a personal
        address, or with fewer than PEER_MIN colleagues.
        An export passed on to colleagues is not reported (None) unless it is PASSED_PEERS times that member's
        largest or more: then it is graded as kept."""
        if f.day is None or f.day in st.extra.get(SENT_HOME, ()):
            return f
        group = str((st.hr or {}).get("department") or "")
        n, ref = upper_largest(pr, st, series, group) if group else (0, 0.0)
        if f.extra.get("passed_on"):
            if n < PEER_MIN or ref <= 0 or f.observed < PASSED_PEERS * ref:
                return None  # a handover. Not even a low alert: its size would become the episode's peak
            return dataclasses.replace(f, ratio=None if f.ratio is None else min(f.ratio, f.observed / ref), extra={
                **f.extra, "peers": f"; passed on, but {f.observed / ref:.1f} times the largest single export of a "
                                    f"quarter of {n} colleagues in {group}"})
        if n < PEER_MIN or ref <= 0:
            return f
        if f.ratio is None and self.peer_first:  # nothing of their own to compare with: the colleagues' reference
            return dataclasses.replace(f, ratio=min(RATIO_CAP, f.observed / ref), extra={
                **f.extra, "peers": f"; too little history of their own: a quarter of {n} colleagues in {group} "
                                    f"made single exports of {ref:.0f} records or more"})
        if f.ratio is None or f.observed / ref >= f.ratio:
            return f
        return dataclasses.replace(f, ratio=f.observed / ref, extra={
            **f.extra, "peers": f"; a quarter of {n} colleagues in {group} made single exports of {ref:.0f} "
                                f"records or more"})

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        """A waiting export whose time is over (a later input, or a later day): judged now, once."""
        pending = st.extra.get(PENDING)
        if not pending or s is None:
            return None
        now = int(st.extra.get(NOW, 0))
        due = [p for p in pending if now >= p[0] + self.pass_hours * 3600 or day > p[1]]
        if not due:
            return None
        d = due[0][1]
        st.extra[PENDING] = [p for p in pending if p[1] != d]
        if not st.extra[PENDING]:
            del st.extra[PENDING]
            st.extra.pop(NOW, None)
        if not self.ok(hr, d):
            return None
        from detectors.engine import series_key  # the engine is loaded by the time it asks

        return self.check_day(s.as_of(d), hr, d, st, series_key(RULE.id))


_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_STAYER = [hr("2026-01-01T09:00:00Z")]
_NEXT = ev("2026-03-10T15:00:00Z", action="open", object="/sites/sales/notes.docx")  # the employee's next input

RULE = Rule(
    id="crm.bulk_export_before_departure",
    version="10",
    title=(
        "CRM export of {observed:.0f} records on {day} by an employee who is leaving (status {status}, "
        "last working day {last_day}), {new_kind}, {handover}; their largest before the departure period was "
        "{largest_before:.0f}; "
        "exports of {threshold:.0f} records or more are flagged{peers}"
    ),
    description=__doc__,
    severity="high",
    score=70,
    predicate=bulk_export_before_departure,
    # Every kind: the observer sees the mail that passes an export on, and the time of the employee's next input
    # of any kind ends its wait (one dictionary look-up unless an export waits).
    kinds=None,
    agg="max",
    fresh=kind_of_export,
    observe=observe,
    # Graded against the employee's largest export before the departure period (finance and marketing
    # export hundreds routinely; a handover of the usual report is no larger than before).
    window=PassedOn(when="departing", within_days=30, min_value=MIN_RECORDS, relative_to="before",
                    usual_factor=2.0),
    runbook=(
        "Identify the report or object exported and its record count; ask the manager whether the handover "
        "needed it; look for the file leaving by personal mail, USB or personal cloud in the following hours."
    ),
    false_positives=(
        "Handover lists prepared for a successor at the manager's request",
        "Scheduled report exports that run under the employee's account",
    ),
    examples=(
        Example("an export of 250 records in notice (judged at the next input, 2 hours on)", True,
                [ev("2026-03-10T10:00:00Z", action="export", count=250), _NEXT], _LEAVER),
        Example("exactly 100 records is enough", True,
                [ev("2026-03-10T10:00:00Z", action="bulk_query", count=100), _NEXT], _LEAVER),
        Example("99 records is just under", False,
                [ev("2026-03-10T10:00:00Z", action="report_export", count=99)], _LEAVER),
        Example("several small exports do not add up to a bulk export", False,
                [ev(f"2026-03-10T1{i}:00:00Z", action="export", count=60) for i in range(3)], _LEAVER),
        Example("views are not exports", False,
                [ev("2026-03-10T10:00:00Z", action="view", count=500)], _LEAVER),
        Example("someone who is not leaving", False,
                [ev("2026-03-10T10:00:00Z", action="export", count=5000)], _STAYER),
        Example("an export long before the notice", False,
                [ev("2026-01-10T10:00:00Z", action="export", count=5000)], _LEAVER),
        Example("a handover list mailed to a colleague 40 minutes later is not reported", False,
                [ev("2026-03-10T10:00:00Z", action="report_export", count=900, object="My accounts - handover"),
                 ev("2026-03-10T10:40:00Z", action="send", count=1, external=False, personal=False,
                    recipients=["successor@corp.example"]), _NEXT], _LEAVER),
        Example("someone mailing attachments to colleagues before and after the export passes nothing on", True,
                [ev("2026-03-10T09:30:00Z", action="send", count=2, external=False, personal=False,
                    recipients=["team@corp.example"]),
                 ev("2026-03-10T10:00:00Z", action="report_export", count=900, object="Customer master"),
                 ev("2026-03-10T10:40:00Z", action="send", count=1, external=False, personal=False,
                    recipients=["team@corp.example"]), _NEXT], _LEAVER),
        Example("the same export kept: judged at the employee's next input after 2 hours", True,
                [ev("2026-03-10T10:00:00Z", action="report_export", count=900, object="Customer master"),
                 ev("2026-03-10T13:00:00Z", action="open", object="/sites/sales/notes.docx")], _LEAVER),
        Example("HR news of the notice arrives two weeks after the export", True,
                [ev("2026-03-05T10:00:00Z", action="export", count=800)],
                _STAYER + [hr("2026-03-20T09:00:00Z", status="notice", last_day="2026-03-31")]),
    ),
)
