"""Files deleted far above the employee's own normal in the last 14 days before the last working day.

Sabotage, or covering tracks. Counts ``file`` ``delete`` events, each worth its ``count`` (files) or 1, three
times that for a confidential or restricted object (sabotage goes for what matters; clearing one's own home
folder deletes drafts and personal files). Fires when a day within 14 days of the last day weighs more than 5
times the usual, 3 standard deviations above it and more than 150. The baseline learns from days before the
departure window only. A last day recorded after the deletions re-evaluates the stored days.

Version 2 (weights, floor 150 instead of 50): version 1 flagged 19 of 44 benign leavers in the evaluation
for clearing 51-120 ordinary files in their last week.

Version 3 grades the day against the employee's department on the same day (``peers=True``,
:mod:`detectors.peerload`): an agreed clean-up that the whole team does at once is not one person's
anomaly. What fires is unchanged.

Version 4 grades by whose files they are, from the paths every log names: a deletion in a container (a site's
library, a share's top folders: ``detectors/rules/file/_handover.py``) the employee worked in before the
departure period is tidying up their own work and weighs :data:`OWN_WEIGHT`; one in a place they never touched
(another team's share, a server's archive) or with no path weighs fully. A day fires only when its amount times
the departure period's share so weighed is still above the limit, and is graded on that share: clearing a few
hundred of one's own files on the last days fires nothing; wiping other people's fires as before, and so does
clearing more than four times the limit of one's own. Version 3 flagged 9 of 51 honest leavers of two outside
companies (400 employees, 100 days, seed 1) critical for clearing 85-450 files of their own team's library.

Version 5: a confidential or restricted file weighs fully even in the employee's own container. Sabotage goes for
what matters in the place the saboteur knows: two saboteurs of the own profiles (subtle and shifts, seed 1) wiped
66-71 files of their own team's site, 21-37 of them labelled, and version 4 read it as tidying up (both caught by
version 3). A clean-up of one's own drafts rarely holds labelled files.

Version 6: ... unless the departure period's deletions in the employee's own containers are clearly their own
working files. A memory of the files the employee opened, downloaded or otherwise worked with on ordinary days
(a sampled Bloom filter: ``detectors/rules/file/_ownfiles.py``, with its false "own" rate) tests a sample of the
deleted files: when at least :data:`OWN_SHARE` of them (a tenth) were the employee's own, beyond what the
filter's false rate and chance explain (:func:`own_cleanup`), the labelled ones weigh :data:`OWN_WEIGHT` as
the rest of their own container does. Cleaning up one's own work before leaving takes one's own files with it;
wiping a shared or unfamiliar store takes files one never opened. Measured on the departing deletions of six
outside companies and the own profiles: honest leavers 2-60% own files, saboteurs 0-1.4%. Version 5 flagged
two honest leavers of an outside company (400 employees, 100 days, seed 2) high for clearing 262-430 files of
their own team's library, most of them labelled, 15% and 60% of them files they had worked with. The
alert names the share (``own_files``).

Version 7: a deletion at an hour or on a weekday that is not the employee's own (the engine's ``off_hours`` mark,
learned from their own activity: a time zone or a shift is part of their normal) weighs twice
(:data:`OFF_HOURS_WEIGHT`), and is no tidying up of their own container unless the deletions are their own working
files, as for labelled files. Honest leavers clear their files in their working hours; saboteurs wipe when nobody
watches. Over 11 companies (the three outside profiles at seeds 1, 2, 5 and 6, churn and shifts seed 6), of the
departure-period days with deletions weighing 80 or more, 16 of 21 saboteurs' days fell on a weekday holding under
1% of the person's earlier activity or in hours holding under 1% of it, and none of 89 honest leavers' days
(reports/evaluation/NOTES.md). Version 6 missed a desktop-support administrator of an outside company (400
employees, 100 days, seed 6) who deleted 147 unlabelled files of the IT share on a Sunday five days before the last
day: under the floor of 150. Replayed on 10 development companies (``exitwatch whatif``), version 7 caught him and
flagged one honest leaver more, critical (baseline seed 5: deletions weighing 164 against 150 on the day before
the last day, part of them at hours the engine had not learned as theirs); on the 9 companies of the held-out
seed 7 it changed nobody's outcome.

Version 8: deletions in places the employee never worked in fire from a floor of :data:`NOVEL_FLOOR` (60) instead
of 150, when such places hold at least :data:`NOVEL_SHARE` (three quarters) of the departure period's weight judged
(:class:`DeletionDays`, :func:`in_new_places`); the rest of the test (5 times the usual, 3 standard deviations,
the share not explained) is unchanged. The floor of 150 is there for honest leavers, who clear their own files in
their last days; they clear them where they worked. On the 31 development companies (400 employees, 100 days,
seeds 5-8 of the nine profiles; ``reports/evaluation/studies/deletions_in_new_places.py``), of the leavers' days
with 60 to 149 files deleted in the 14 days up to the last day, 142 were honest leavers' and every one of them lay
mostly (three quarters or more) in containers the person had worked in before; 7 of the 19 saboteurs' such days
were wipes of a server share they had never touched (69-148 files: IT administrators of the outside companies).
Honest leaver-days mostly in places never worked in: 3 of the 328 with 20 files or more (55, 190 and 202 files).
And a deletion no longer teaches a place (:func:`detectors.rules.file._handover.teaches_place`): deleting in a
share on an ordinary day made it "worked in", so a wipe done before HR recorded the resignation (a systems administrator of outside_b seed 8 deleted 148
files of two IT shares at night, 14 hours before the notice record) read as a clean-up of their own places when
the news arrived and the day was judged again.
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from detectors import windows
from detectors.context import HRView
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.activity._firsts import is_after_hours
from detectors.rules.file import _ownfiles
from detectors.rules.file._handover import MIN_HISTORY_DAYS, container, known_container, teaches_place
from detectors.state import EmployeeState, Series
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


SENSITIVE_WEIGHT = 3
#: A deletion at an hour or on a weekday that is not the employee's own (the engine's ``off_hours`` mark,
#: :func:`detectors.rules.activity._firsts.is_after_hours`) weighs twice, and is no tidying up of their own
#: container unless the deletions are their own working files (version 7).
OFF_HOURS_WEIGHT = 2
#: What a deletion in a container the employee worked in weighs in the grading (a quarter: a clean-up of up to
#: four times the limit of one's own files stays low).
OWN_WEIGHT = 0.25
#: Share of the tested deletions in the employee's own containers that must be their own files (beyond the
#: filter's false rate and chance) for the labelled ones to count as tidying up too (version 6).
OWN_SHARE = 0.1
#: Deleted files tested (a sample: ``_ownfiles.SAMPLE``) before the share says anything.
MIN_TESTED = 8
#: st.extra key of the departure period's deletions: [files tested in own containers, of them own, weight of
#: labelled files in own containers, weight not explained besides, weight in places the employee never worked
#: in, weight judged, weight not explained]. (Version 5 kept [weight judged, weight not explained], version 7 the
#: six fields without the places never worked in: read as such, by :func:`_fields`.)
KEY = "md"
T_TESTED, T_OWN, T_SENS, T_BASE, T_NOVEL, T_JUDGED, T_WEIGHT = range(7)
FIELDS = 7
#: A day whose deletions lie in places the employee never worked in (at least :data:`NOVEL_SHARE` of the
#: departure period's weight judged) fires from this floor instead of the window's ``min_value`` (version 8).
NOVEL_FLOOR = 60.0
NOVEL_SHARE = 0.75


def own_cleanup(tested: int, own: int, false: float) -> bool:
    """Whether ``own`` of ``tested`` deleted files reading as the employee's own (a filter with false "own"
    rate ``false``) show a clean-up of their own work: at least :data:`OWN_SHARE` own beyond the false rate,
    and two standard deviations of chance more.

    >>> own_cleanup(114, 24, 0.003), own_cleanup(68, 45, 0.078), own_cleanup(232, 9, 0.019), own_cleanup(5, 5, 0.0)
    (True, True, False, False)
    """
    if tested < MIN_TESTED or false > _ownfiles.MAX_FALSE:
        return False
    need = tested * (false + OWN_SHARE * (1.0 - false)) + 2.0 * math.sqrt(tested * false * (1.0 - false))
    return own >= need


#: st.extra keys of deletions on ordinary days, kept in case a last day recorded later puts them in the
#: departure window: [day, then the seven fields of KEY] of the latest day (``TODAY``) and of the days before it
#: that weighed at least :data:`MIN_DAY` or held :data:`NOVEL_FLOOR` in places never worked in (``BIG``, the
#: latest such day first; dropped after ``WITHIN`` days).
TODAY, BIG = "mt", "mb"
#: A day weighing less can never fire (the window's floor), unless its deletions lie in places the employee never
#: worked in (:data:`NOVEL_FLOOR`).
MIN_DAY = 150.0
#: Days before the last day the window looks at.
WITHIN = 14


def _empty() -> list[Any]:
    return [0, 0, 0, 0.0, 0, 0, 0.0]


def _fields(rec: list[Any] | None) -> list[Any] | None:
    """``rec`` with the seven fields of KEY: a record of version 7 (six fields) has no weight in places never
    worked in (0), one of version 5 ([weight judged, weight not explained]) is everything judged as it was then.

    >>> _fields([1, 0, 0, 2.0, 4, 2.0]), _fields([4, 2.0]), _fields(None)
    ([1, 0, 0, 2.0, 0, 4, 2.0], [0, 0, 0, 2.0, 0, 4, 2.0], None)
    """
    if not rec or len(rec) == FIELDS:
        return rec
    if len(rec) == 2:
        return [0, 0, 0, rec[1], 0, rec[0], rec[1]]
    return rec[:T_NOVEL] + [0] + rec[T_NOVEL:]


def _merged(*recs: list[Any] | None) -> list[Any]:
    """The fields of KEY summed over ``recs`` (each a record's fields, None for none)."""
    out = _empty()
    for r in recs:
        r = _fields(r)
        if r:
            out = [round(a + b, 2) for a, b in zip(out, r)]
    return out


def _judge(rec: list[Any], e: ActivityEvent, w: int, st: EmployeeState) -> None:
    """Weigh deletion ``e`` (weight ``w``) into ``rec`` (the seven fields of KEY)."""
    rec[T_JUDGED] += w
    if container(e.object) is not None and known_container(st, e.object, False):
        tested = _ownfiles.is_own(st, e.object)
        if tested is not None:
            rec[T_TESTED] += 1
            rec[T_OWN] += int(tested)
        if e.sensitive or is_after_hours(e):
            # Labelled files are not tidying up (version 5), nor is a deletion at hours the employee never works
            # (version 7), unless the deletions are the employee's own work.
            rec[T_SENS] += w
        else:
            rec[T_BASE] = round(rec[T_BASE] + w * OWN_WEIGHT, 2)
    else:
        rec[T_BASE] = round(rec[T_BASE] + w, 2)
        if container(e.object) is not None:  # a place they never worked in (version 8); no path says nothing
            rec[T_NOVEL] = round(rec[T_NOVEL] + w, 2)
    _reweigh(rec, st)


def _reweigh(rec: list[Any], st: EmployeeState) -> list[Any]:
    """``rec``'s weight not explained from its parts: the labelled files in own containers weigh OWN_WEIGHT
    when the deletions so far are the employee's own work (:func:`own_cleanup`), fully otherwise."""
    sens = OWN_WEIGHT if own_cleanup(rec[T_TESTED], rec[T_OWN], _ownfiles.false_rate(st)) else 1.0
    rec[T_WEIGHT] = round(rec[T_BASE] + rec[T_SENS] * sens, 2)
    return rec


def _ordinary(st: EmployeeState, e: ActivityEvent, w: int, day: int) -> None:
    """A deletion on a day that may teach a baseline: kept with its day (TODAY); the day before it moves to BIG
    when it weighed MIN_DAY or more, else goes; BIG goes after WITHIN days."""
    today = st.extra.get(TODAY)
    if today is not None and today[0] < day:  # (a late event of an earlier day counts with the latest day's)
        rec = _fields(today[1:])
        if rec[T_JUDGED] >= MIN_DAY or rec[T_NOVEL] >= NOVEL_FLOOR:
            big = st.extra.get(BIG)
            keep = big is not None and big[0] >= today[0] - WITHIN
            st.extra[BIG] = [today[0]] + _reweigh(_merged(big[1:] if keep else None, today[1:]), st)
        today = None
    big = st.extra.get(BIG)
    if big is not None and big[0] < day - WITHIN:
        del st.extra[BIG]
    if today is None:
        today = st.extra[TODAY] = [day] + _empty()
    rec = _fields(today[1:])
    _judge(rec, e, w, st)
    today[1:] = rec


def _record(st: EmployeeState, day: int) -> list[Any]:
    """The departure period's record, begun with the deletions of ordinary days kept (TODAY, BIG)."""
    rec = st.extra.get(KEY)
    if rec is None:
        rec = st.extra[KEY] = _reweigh(_before(st, day), st)
        st.extra.pop(TODAY, None)
        st.extra.pop(BIG, None)
    elif len(rec) != FIELDS:  # an earlier version's record (see _fields)
        rec = st.extra[KEY] = _fields(rec)
    return rec


def _before(st: EmployeeState, day: int | None = None) -> list[Any]:
    """The kept ordinary days' deletions as the seven fields of KEY (with ``day``: only those of its WITHIN days)."""
    recs = [st.extra.get(TODAY), st.extra.get(BIG)]
    return _merged(*(r[1:] for r in recs if r and (day is None or r[0] >= day - WITHIN)))


def departure_record(st: EmployeeState) -> list[Any] | None:
    """What the window grades by (:func:`detectors.windows.unexplained_share`): the departure period's record,
    or, before any deletion was seen as departing (a last day recorded after them), the ordinary days' kept."""
    rec = st.extra.get(KEY)
    if rec is not None:
        return _fields(rec)
    if st.extra.get(TODAY) is None and st.extra.get(BIG) is None:
        return None
    return _reweigh(_before(st), st)


def own_files_note(st: EmployeeState) -> dict[str, Any]:
    """The explanation's ``own_files`` (and the numbers behind it) for the departure period so far."""
    rec = departure_record(st)
    novel = {"novel_places": (f"; {rec[T_NOVEL]:.0f} of the weight in places the employee never worked in"
                              if rec and rec[T_NOVEL] else "")}
    if not rec or not rec[T_TESTED]:
        return {"own_files": "", **novel}
    false = _ownfiles.false_rate(st)
    share = _ownfiles.own_share(rec[T_TESTED], rec[T_OWN], false)
    told = "too full to tell" if share is None else f"share {share:.2f}"
    return {"own_files": (f"; {rec[T_OWN]} of {rec[T_TESTED]} deleted files tested in the employee's own places "
                          f"were files they had worked with ({told}; false \"own\" rate {false:.3f})"),
            "own_share": None if share is None else round(share, 3),
            "own_cleanup": own_cleanup(rec[T_TESTED], rec[T_OWN], false), **novel}


windows.RECORDS[KEY] = departure_record
windows.NOTES[KEY] = own_files_note


def in_new_places(st: EmployeeState) -> bool:
    """Whether the departure period's deletions (or the ordinary days' kept) lie in places the employee never
    worked in: at least :data:`NOVEL_SHARE` of the weight judged (version 8)."""
    rec = departure_record(st)
    return bool(rec) and rec[T_NOVEL] >= NOVEL_FLOOR and rec[T_NOVEL] >= NOVEL_SHARE * rec[T_JUDGED]


@dataclass(frozen=True)
class DeletionDays(AboveBaseline):
    """:class:`AboveBaseline` whose floor is ``novel_min_value`` instead of ``min_value`` when the deletions lie
    in places the employee never worked in (:func:`in_new_places`): another team's share, a server's archive."""

    novel_min_value: float = NOVEL_FLOOR

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        f = super().check_day(s, hr, day, st, rid)
        if f is not None or s.days.get(day, 0.0) < self.novel_min_value or not in_new_places(st):
            return f
        return AboveBaseline.check_day(dataclasses.replace(self, min_value=self.novel_min_value), s, hr, day, st,
                                       rid)


def mass_deletion_before_departure(e: ActivityEvent) -> int:
    if e.kind != "file" or e.action != "delete":
        return 0
    return (e.count or 1) * (SENSITIVE_WEIGHT if e.sensitive else 1) * (OFF_HOURS_WEIGHT if is_after_hours(e) else 1)


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Learn the containers the employee works in (file events on days that may teach a baseline, and every day
    of their first weeks); while they are departing, weigh each deletion by whether its container is theirs."""
    if e.kind != "file":
        return
    learn = hr.learnable(day)
    mature = day - st.extra.get("fs", day) >= MIN_HISTORY_DAYS
    w = mass_deletion_before_departure(e)
    if learn and not w:
        _ownfiles.remember(st, e.object)  # the files they work with (version 6)
    if not w or learn or not mature:
        if w and learn and mature:
            _ordinary(st, e, w, day)  # judged as if departing, in case a last day recorded later says so
        known_container(st, e.object, (learn or not mature) and teaches_place(e))
        if learn:
            st.extra.pop(KEY, None)  # back to ordinary days: nothing to keep
        return
    _judge(_record(st, day), e, w, st)


_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# A working day: activity from 09:00 to 18:00 on 30 days (the employee's own hours, learned by the engine).
_DAYS = [e for h in range(9, 19, 2) for e in daily("2026-01-10", 30, hour=h, action="open", object="notes.txt")]
# 30 days with 5 deletions each.
_HISTORY = _DAYS + daily("2026-01-10", 30, per_day=5, action="delete")
# 30 days of work in the team's library, a few deletions among it.
_LIB = "https://corp.sharepoint.com/sites/clinical/Shared Documents/plans/"
_OWN = (_DAYS + daily("2026-01-10", 30, per_day=3, action="open", object=_LIB + "plan.docx")
        + daily("2026-01-10", 30, per_day=2, action="delete", object=_LIB + "tmp.docx"))
# 120 case files of the library the employee worked with over three weeks (version 6).
_CASES = [ev(f"2026-01-{10 + i % 20:02d}T10:{i % 60:02d}:00Z", action="open", object=_LIB + f"case {i}.docx")
          for i in range(120)]


# A server's share the employee never worked in.
_SHARE = "\\\\srv08\\it\\archive\\runbook.docx"


def _wipe(names: str, n: int) -> list[dict[str, Any]]:
    """``n`` confidential files of the library deleted one by one on the last day."""
    return [ev(f"2026-03-31T15:{i % 60:02d}:{i // 60:02d}Z", action="delete", object=_LIB + names.format(i),
               sensitivity="confidential") for i in range(n)]


RULE = Rule(
    id="file.mass_deletion_before_departure",
    version="8",
    title=(
        "Deletions weighing {observed:.0f} (restricted and confidential files count 3) on {day}, {days_to_last_day} day(s) before the last working day "
        "({last_day}): {ratio_to_own_normal}x the employee's usual {baseline[mean]:.1f} a day "
        "(limit {threshold:.0f}){own_files}{novel_places}"
    ),
    description=__doc__,
    severity="high",
    score=75,
    predicate=mass_deletion_before_departure,
    kinds=("file",),
    window=DeletionDays(when="last_days", within_days=14, factor=5.0, z=3.0, min_value=150.0, peers=True,
                        unexplained=KEY),
    observe=observe,
    runbook=(
        "Stop further loss first: restore from the recycle bin, version history or backup; list the deleted "
        "objects (evidence) and their owners; ask the manager whether a clean-up was agreed as part of the "
        "handover; preserve the audit trail."
    ),
    false_positives=(
        "An agreed clean-up of personal drafts and duplicates before leaving",
        "Mailbox or drive clean-up tools run at IT's request",
    ),
    examples=(
        Example("clearing 300 files of one's own team library on the last day is tidying up", False,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=300, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("wiping 50 restricted files of one's own team library is not tidying up", True,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=50, object=_LIB + "contract.docx",
                           sensitivity="restricted"),
                        ev("2026-03-31T16:05:00Z", action="delete", count=30, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("clearing 60 confidential case files one worked on and 60 old drafts beside them is tidying up", False,
                _OWN + _CASES + _wipe("case {}.docx", 60) + _wipe("old draft {}.docx", 60), _LEAVER),
        Example("... 120 confidential files of the same library one never opened is not", True,
                _OWN + _CASES + _wipe("contract {}.docx", 120), _LEAVER),
        Example("the same tidying up, the last day recorded after it", False,
                _OWN + _CASES + _wipe("case {}.docx", 60) + _wipe("old draft {}.docx", 60),
                [hr("2026-01-01T09:00:00Z"), hr("2026-03-31T18:00:00Z", status="notice", last_day="2026-03-31")]),
        Example("the same wipe of files never opened, the last day recorded after it", True,
                _OWN + _CASES + _wipe("contract {}.docx", 120),
                [hr("2026-01-01T09:00:00Z"), hr("2026-03-31T18:00:00Z", status="notice", last_day="2026-03-31")]),
        Example("147 ordinary files of one's own team library deleted at 02:00, hours never worked: not tidying up "
                "(version 7)", True,
                _OWN + [ev("2026-03-26T02:00:00Z", action="delete", count=147, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("... the same 147 at the employee's own hours are", False,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=147, object=_LIB + "old draft.docx")],
                _LEAVER),
        Example("... 300 of a share never worked in is not", True,
                _OWN + [ev("2026-03-31T16:00:00Z", action="delete", count=300,
                           object="\\\\srv08\\it\\archive\\runbook.docx")], _LEAVER),
        Example("100 files of a share never worked in, at the employee's own hours: under 150, but in a place "
                "that is not theirs (version 8)", True,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=100, object=_SHARE)], _LEAVER),
        Example("... 50 of them are under that floor of 60", False,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=50, object=_SHARE)], _LEAVER),
        Example("... the 100, the notice recorded the next day", True,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=100, object=_SHARE)],
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-27T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-26")]),
        Example("... the 100, a few of one's own the next day, the notice recorded the day after", True,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=100, object=_SHARE),
                        ev("2026-03-27T15:00:00Z", action="delete", count=3, object=_LIB + "tmp.docx")],
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-28T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-26")]),
        Example("... 100 files of the share one by one, two days after resigning, the notice recorded that afternoon: "
                "a deletion on an ordinary day makes no place the employee's", True,
                _OWN + [ev(f"2026-03-20T{10 + i // 60:02d}:{i % 60:02d}:00Z", action="delete",
                           object=f"\\\\srv08\\it\\archive\\runbook {i}.docx") for i in range(100)],
                [hr("2026-01-01T09:00:00Z"),
                 hr("2026-03-20T14:30:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-18")]),
        Example("... 100 of the share among 200 of one's own library is a clean-up of one's own", False,
                _OWN + [ev("2026-03-26T15:00:00Z", action="delete", count=200, object=_LIB + "old draft.docx"),
                        ev("2026-03-26T15:30:00Z", action="delete", count=100, object=_SHARE)], _LEAVER),
        Example("200 files deleted 6 days before the last day", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("120 ordinary files (a home-folder clean-up) is under the floor of 150", False,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=120)], _LEAVER),
        Example("60 restricted files weigh 180", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=60, sensitivity="restricted")],
                _LEAVER),
        Example("the same deletions 3 weeks before the last day", False,
                _HISTORY + [ev("2026-03-10T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("someone not leaving", False,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)],
                [hr("2026-01-01T09:00:00Z")]),
        Example("someone who usually deletes about 100 a day", False,
                _DAYS + daily("2026-01-10", 30, per_day=1, action="delete", count=100)
                + [ev("2026-03-25T16:00:00Z", action="delete", count=200)], _LEAVER),
        Example("last day recorded after the deletions", True,
                _HISTORY + [ev("2026-03-25T16:00:00Z", action="delete", count=200)],
                [hr("2026-01-01T09:00:00Z"), hr("2026-03-27T09:00:00Z", status="notice", last_day="2026-04-02")]),
    ),
)
