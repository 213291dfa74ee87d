"""Attachments mailed to personal addresses in the weeks before the last working day, with or without labels.

``email.sensitive_to_personal`` needs a confidential or restricted label, and most companies label little or
nothing. What every mail log has is the attachments (``count``; a message without a count but over 1 MB
counts one) and whether the recipient is a personal address. The value of a message sent or forwarded to a
personal address is its attachments (public-labelled ones count nothing); the rule fires when the 45 days up
to the last working day hold more than 4, graded against the employee's own normal for as many days: someone
who mails a payslip home now and then stays under, someone who mails a tax form home every week is ``low``,
a leaver who sends folders of work home (research mailed to their own private address over three weeks) is
not.

Version 2 (issue 14) also sees the quiet variant: a few attachments at a time, on separate days, to a private
address the employee had not written to before the departure period. The rule keeps, per employee, the
personal addresses they mail (16-bit hashes, the day of the first message and the last days with attachments:
:func:`observe`, ``st.extra["mh"]``, :data:`ADDRESSES` of them). When the departure period (the 45 days up to
the last working day, or from 30 days before the notice if that is earlier, at most 90 days) holds attachments to such a
*new* address on at least 2 different days, 3 or more in all, the rule fires too, graded against the
employee's own normal as above. An address first written to more than 30 days before the period, or in the
employee's first week, is theirs: mailing one's own tax forms home for months is not new. A single mail home
on the last day (contacts, references) stays under. The personal flag is the connectors', decided again by
the detectors for mail that arrives without it (:mod:`detectors.destinations`: regional consumer providers,
the sender's own address on any domain).

Version 3: an address is new when the employee's first message to it came after at least 14 days of their own
history (``MIN_HISTORY_DAYS``, the days any baseline here needs) without it. Version 2 asked for 28 days of
history before the *period*, which reaches back 30 days before the notice: for anyone who resigned in their
first two months of history (a new installation, a new hire) no address was ever new. In three outside
companies (400 employees, 100 days, seeds 1 and 2) that hid 3 of 11 researchers who mailed 1-2 documents home
on 2-3 days (24, 29 and 36 days of history before their first mail home), and nothing else saw them.
With so short a history a habit can look new too: someone who mails one file to their own address every two or
three weeks, first 25 days into the data. The quiet path is therefore graded low when the employee's days
before the departure period (30 days before the last day, or the notice if earlier; up to 60 days, at least 14,
read from the stored days, not from the learned baseline, which a resignation recorded late lets the period's
days teach; a day that alerted is no normal, as for the baselines) already hold a third or more of the period's
attachments: the address is new to the data, the habit is not (a confidential file mailed home, which
``email.sensitive_to_personal`` flagged, is no habit). The quiet path is graded against those days too (the same step as the learned baseline's, ten
times them moving the severity up): a thief's first mail home falls in the departure period. And the days are counted before the last
working day: one file mailed home a week before it and the contacts and references on it are a take-home, as
for ``web.personal_cloud_upload`` (an honest leaver of outside_c seed 1 was flagged high for that).

Version 4: more than 4 attachments is judged against the employee's own pace too. Many people mail a file home
now and then for months; one attachment every ten days is five in the 45 days, the count a researcher reaches
with two mails of research. The count is graded against the employee's days before the departure period, as the
quiet path's habit is: when as many attachments in as many days have a chance of at least 1 in 1,000
(``habit_chance``) under a Poisson of that pace, the count is their habit kept up in the notice, graded low and
told under its own key, so that a count the pace no longer explains (more mails, or bigger ones) is raised again
at the rule's severity. The chance is asked again at every mail of the period, hence 1 in 1,000 and not 1 in 100
for each look. No attachment home before the departure period is a pace of 0 and no habit; too little history
(under 14 days before the period) leaves the grade to the learned baseline, as before. In the 18 evaluation
companies (400 employees, 100 days, seeds 1 and 2) version 3 flagged 6 honest leavers at medium for 5 attachments
over 4-7 weeks, 5 of them at a pace of 1.7-3.5 a month kept for months (chances 0.004-0.3 under it); the
researchers who had mailed home before reach chances under 1 in 1,000 within days (10 or more attachments).

Version 5: a drip that began just before the departure period teaches the count no habit of its own. For the
count over the threshold (version 4's habit), the pace before the period is read before the first message to an
address that is new in the month before the period (first written to less than ``onset_days``, 30, before it,
after the employee's first 14 days), got attachments on one day at most before the period, and again in it
before the last day: that address's mails are the departure's, and one day is no pace. The quiet path's habit
(version 3) is read as before: 3 attachments on as many days, one file every three weeks to a new address,
are an honest leaver's habit as often as a careful thief's (subtle seed 1). A finding under another key graded
above the episode's (a habit's low, then a count no habit explains) is raised again without doubling first
(:func:`detectors.windows.raised_above_episode`, as the habit rules). A physician (outside_b seed 5) mailed 2
research files to a new private address the day before the last 30 days, then 1 and 2 in them; version 4 read
the first mail as their pace, the 5 attachments as "a habit", and nothing else fired.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView, day_date
from detectors.destinations import personal_recipient
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.state import EmployeeState, Series
from detectors.windows import (LOW_BELOW, MIN_HISTORY_DAYS, RATIO_CAP, BeforeLastDay, novelty_hash, raised_above_episode,
                               ratio_of)
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward"})


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean).

    >>> poisson_tail(0, 2.0), round(poisson_tail(5, 3.1), 3), poisson_tail(3, 0.0)
    (1.0, 0.202, 0.0)
    """
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = cdf = math.exp(-mean)
    for i in range(1, k):
        term *= mean / i
        cdf += term
    return max(0.0, 1.0 - cdf)
#: A message with no attachment count but at least this size counts one attachment.
BYTES_PER_ATTACHMENT = 1_000_000
#: Where the personal addresses an employee mails are kept, and how many of them.
MEMORY = "mh"
ADDRESSES = 6
#: Days with attachments kept per address.
DAYS_KEPT = 4


def attachments_to_personal(e: ActivityEvent) -> int:
    if e.kind != "email" or e.action not in SENDS or e.personal is not True or e.sensitivity == "public":
        return 0
    if e.count is not None:
        return e.count
    return int((e.bytes or 0) >= BYTES_PER_ATTACHMENT)


def _home_addresses(e: ActivityEvent) -> list[str]:
    """The personal recipients of a personal mail: those the classification calls personal, else (the source
    knew better) every recipient outside the sender's own domain; at most 3."""
    first = personal_recipient(e)
    if first is not None:
        return [first.strip().lower()]
    dom = e.actor.rsplit("@", 1)[-1].lower() if "@" in e.actor else None
    return [r.strip().lower() for r in (e.recipients or ()) if r and (dom is None or not r.lower().endswith(dom))][:3]


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Remember the personal addresses the employee mails: ``[hash, first day, days with attachments...]``,
    the most recently used last (order of arrival does not change a first day or a set of days)."""
    if e.kind != "email" or e.action not in SENDS or e.personal is not True:
        return
    attached = attachments_to_personal(e) > 0
    mem: list[list[int]] = st.extra.setdefault(MEMORY, [])
    for addr in _home_addresses(e):
        h = novelty_hash(addr)
        entry = next((x for x in mem if x[0] == h), None)
        if entry is None:
            entry = [h, day]
        else:
            mem.remove(entry)
            entry[1] = min(entry[1], day)
        if attached and day not in entry[2:]:
            entry[2:] = sorted(entry[2:] + [day])[-DAYS_KEPT:]
        mem.append(entry)
    del mem[:-ADDRESSES]


@dataclass(frozen=True)
class MailedHome(BeforeLastDay):
    """``BeforeLastDay`` over the attachments, or attachments to a private address new in the departure period
    on ``min_days`` different days (``min_total`` or more in all)."""

    min_days: int = 2
    min_total: float = 3
    #: An address first written to earlier than this many days before the period is the employee's own habit.
    new_days: int = 30
    warmup_days: int = 7
    #: The period reaches back to this many days before the notice (people collect before they resign), at most
    #: ``max_days`` before the last day.
    before_notice_days: int = 30
    max_days: int = 90
    #: Days of the employee's own history before an address's first message needed to call it new (the
    #: baselines' MIN_HISTORY_DAYS).
    min_history_days: int = MIN_HISTORY_DAYS
    #: The quiet path (attachments to a new address) is graded low when the employee's own learned normal gives
    #: a third or more of the period's attachments (ratio below this): the address is new, the habit is not.
    habit_ratio: float = 3.0
    #: Days before the departure period read for that habit.
    ref_days: int = 60
    #: Version 4: the count over the threshold is the employee's habit when as many attachments in as many days
    #: have at least this chance at their own pace before the departure period (Poisson; asked at every mail).
    habit_chance: float = 0.001
    #: Version 5: an address first written to less than this many days before the departure period (after the
    #: employee's first ``min_history_days``) belongs to the departure: the pace before is read before it.
    onset_days: int = 30

    #: Version 5: a finding under another key (a habit's ``H``, then a count no habit explains) graded above the
    #: episode's severity is raised again, as the habit rules' are; a count need not double first
    raises_again = staticmethod(raised_above_episode)

    def horizon(self, lookback_days: int) -> int:
        return max(lookback_days, self.max_days)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if hr.last_day is None or not (hr.within_days_of_last_day(day, self.days) or hr.in_notice(day)):
            return None
        return self._check(s, hr, day, st)

    def _period_start(self, hr: HRView) -> int:
        assert hr.last_day is not None
        start = hr.last_day - self.days + 1
        if hr.notice_from is not None:
            start = min(start, max(hr.notice_from - self.before_notice_days, hr.last_day - self.max_days + 1))
        return start

    def _new_home_days(self, st: EmployeeState, start: int, end: int) -> tuple[list[int], int]:
        """Days in ``start..end`` with attachments to addresses new in the period, and how many such addresses."""
        fs = int(st.extra.get("fs", start))
        days: set[int] = set()
        n = 0
        for entry in st.extra.get(MEMORY, ()):
            first = entry[1]
            # new: first written to in (or shortly before) the period, after min_history_days of the employee's
            # own history without it (version 3: counted to the address's first message, not to the period's
            # start, which for a departure in a company's first weeks lies before any history)
            if first < start - self.new_days or first - fs < max(self.warmup_days, self.min_history_days):
                continue
            mine = [d for d in entry[2:] if start <= d <= end]
            if mine:
                n += 1
                days.update(mine)
        return sorted(days), n

    def _before_departure(self, s: Series, hr: HRView, st: EmployeeState, today: int,
                          onset: bool = False) -> float | None:
        """Attachments mailed home per day before the departure period (30 days before the last day, or the
        notice if earlier), from the stored days (at most ``ref_days``; None with fewer than
        ``min_history_days``), leaving out days that alerted. Not the learned baseline: a resignation recorded
        late lets the period's days teach it, and a thief's mails home would then read as their habit. The
        days are judged as HR knows them now, as the baselines judge them as HR knew them then."""
        assert hr.last_day is not None
        dep = hr.departure_start()
        fs = int(st.extra.get("fs", dep))
        lo = max(fs, dep - self.ref_days, today - self.horizon(0) + 1)
        # version 5 (``onset``, for the count's habit): an address new in the month before the period, sent
        # attachments on one day at most before it and again in it (a drip that began before the last 30 days):
        # the departure's mails, no pace of their own
        cut = dep if not onset else min([dep] + [e[1] for e in st.extra.get(MEMORY, ())
                                                 if self._drip_onset(e, dep, fs, hr.last_day)])
        if cut - lo < self.min_history_days:
            return None
        flagged = set(st.extra.get("flagged", ()))  # a day that alerted is no normal (as for the baselines)
        return sum(v for d, v in s.days.items() if lo <= d < cut and d not in flagged) / (cut - lo)

    def _drip_onset(self, entry: list[int], dep: int, fs: int, last_day: int) -> bool:
        """Version 5: whether the address ``entry`` (:func:`observe`) began the departure's mails home just before
        the departure period (starting ``dep``): first written to less than ``onset_days`` before it, after the
        employee's first ``min_history_days``, with attachments on one day at most before it (one day is no
        pace) and again in it before the last day (a take-home on the last day continues nothing)."""
        first, days = entry[1], entry[2:]
        return (dep - self.onset_days <= first < dep and first - fs >= max(self.warmup_days, self.min_history_days)
                and len([d for d in days if d < dep]) <= 1 and any(dep <= d < last_day for d in days))

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        assert hr.last_day is not None
        end = hr.last_day
        start = self._period_start(hr)
        new_days, n_new = self._new_home_days(st, start, min(today, end))
        extra = {"home_days": len(new_days), "new_addresses": n_new,
                 "period_start": day_date(start).isoformat(), "habit": ""}
        before = self._before_departure(s, hr, st, today)
        f = super()._check(s, hr, today, st)
        if f is not None:
            f = dataclasses.replace(f, extra={**f.extra, **extra})
            habit = self._volume_habit(f, hr, today, self._before_departure(s, hr, st, today, onset=True))
            if habit is None:
                return f
            f = habit  # the employee's own pace of mailing home: told low, unless the quiet path says more
        quiet = self._quiet(s, hr, today, st, start, end, new_days, n_new, before, dict(extra))
        if f is not None and (quiet is None or quiet.key.startswith(("H", "PH"))):
            return f
        return quiet

    def _volume_habit(self, f: Finding, hr: HRView, today: int, before: float | None) -> Finding | None:
        """Version 4: the count over the threshold graded against the employee's own days before the departure
        period (``before``, attachments a day; None with too little history: the finding stands). When the
        chance of as many attachments or more in as many days under that pace (Poisson) is at least
        ``habit_chance``, the count is the employee's habit of mailing home, kept up in the notice: graded low,
        under its own key so that a later count the habit no longer explains is raised again. Nothing before
        (a pace of 0) is no habit."""
        assert hr.last_day is not None
        if before is None or before <= 0:
            return None
        start = hr.last_day - self.days + 1
        elapsed = max(self.min_elapsed, min(hr.last_day, today) - start + 1)
        chance = poisson_tail(int(f.observed), before * elapsed)
        if chance < self.habit_chance:
            return None
        extra = {**f.extra, "habit": (f"; as many in {elapsed} days have a chance of {chance:.2f} at their own pace "
                                      f"before the departure ({before * 30:.1f} a month): a habit (graded low)")}
        ratio = min(f.ratio if f.ratio is not None else RATIO_CAP, LOW_BELOW * 0.99)
        return dataclasses.replace(f, key="PH" if hr.possibly_leaving else f"H{hr.last_day}", ratio=ratio,
                                   extra=extra)

    def _quiet(self, s: Series, hr: HRView, today: int, st: EmployeeState, start: int, end: int,
               new_days: list[int], n_new: int, before: float | None, extra: dict[str, Any]) -> Finding | None:
        """The quiet path: attachments to an address new in the period on ``min_days`` days or more."""
        total = s.total(start, end)
        # the days are counted before the last day: a take-home on it (contacts, references) is no second day
        if len([d for d in new_days if d < end]) < self.min_days or total < self.min_total:
            return None
        elapsed = max(self.min_elapsed, min(end, today) - start + 1)
        habit = False
        if before is None:
            ratio = ratio_of(s, total, per_days=elapsed)
        else:  # graded against the days before the departure period, which late HR news cannot have taught
            ratio = RATIO_CAP if before * elapsed <= 1e-9 else min(RATIO_CAP, total / (before * elapsed))
            if ratio < self.habit_ratio:
                # the quiet path rests on novelty; days before the departure that hold a third of it: a habit
                ratio = min(ratio, LOW_BELOW * 0.99)
                extra["habit"] = ("; their days before the departure already hold a third or more of it: a habit "
                                  "(graded low)")
                habit = True
        return Finding(
            # version 4: a habit is told under its own key, so that a count beyond it can still be raised
            key=("PH" if habit else "P") if hr.possibly_leaving else f"{'H' if habit else 'L'}{end}",
            observed=total,
            threshold=self.threshold,
            window_start=start,
            window_end=end,
            evidence=s.evidence(start, end),
            baseline={"mean": round(s.mean, 4), "sd": round(s.sd, 4), "days": s.n},
            ratio=ratio,
            day=new_days[-1],
            extra=extra,
        )


_LEAVER = [hr("2025-12-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_HOME: dict[str, Any] = dict(action="send", personal=True, external=True, recipients=["ann.lee42@gmail.example"])
_WORK = daily("2025-12-01", 40, per_day=2, action="send", recipients=["bob@corp.example"])
# Someone first seen on 21 February, three weeks before the notice (a new installation).
_SHORT = daily("2026-02-21", 30, per_day=2, action="send", recipients=["bob@corp.example"])

RULE = Rule(
    id="email.attachments_to_personal",
    version="5",
    title=(
        "{observed:.0f} attachment(s) mailed to personal addresses from {window_start} to {window_end}, on "
        "{home_days} day(s) to {new_addresses} address(es) new since {period_start} (flagged: more than "
        "{threshold:.0f}, or attachments on 2 or more days to a new address), {ratio_to_own_normal}x the "
        "employee's usual for as many days{habit}; last working day {last_day}"
    ),
    description=__doc__,
    severity="medium",
    score=50,
    predicate=attachments_to_personal,
    kinds=("email",),
    observe=observe,
    window=MailedHome(days=45, threshold=4),
    runbook=(
        "Read the subjects and attachment names (evidence): work documents, not the employee's own papers; "
        "confirm the address is the employee's own; ask them to delete the copies and record the answer."
    ),
    false_positives=("A leaver mailing their own papers (contract, payslips, references) home",),
    examples=(
        Example("unlabelled research mailed home over three weeks in notice", True,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, **_HOME) for d in (5, 12, 19)], _LEAVER),
        Example("two payslips and a contract: 3 attachments on one day", False,
                _WORK + [ev("2026-03-20T18:00:00Z", count=3, **_HOME)], _LEAVER),
        Example("big messages without a count weigh one attachment each", True,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", bytes=5_000_000, **_HOME) for d in range(2, 8)],
                _LEAVER),
        Example("attachments to colleagues are not personal", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, action="send", recipients=["bob@corp.example"],
                            personal=False) for d in (5, 12, 19)], _LEAVER),
        Example("someone not leaving", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, **_HOME) for d in (5, 12, 19)],
                [hr("2026-01-01T09:00:00Z")]),
        Example("public brochures do not count", False,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", count=3, sensitivity="public", **_HOME)
                         for d in (5, 12, 19)], _LEAVER),
        Example("quiet: 2 and 1 attachments on two days to a private address new in the notice", True,
                _WORK + [ev("2026-03-06T18:00:00Z", count=2, **_HOME), ev("2026-03-17T18:00:00Z", count=1, **_HOME)],
                _LEAVER),
        Example("quiet, to the sender's own address at a provider no list names (decided by the detectors)", True,
                _WORK + [ev(f"2026-03-{d:02d}T18:00:00Z", actor="ann.lee@corp.example", count=c, action="send",
                            personal=False, recipients=["ann.lee42@lee-family.example"]) for d, c in ((4, 1), (18, 2))],
                [{**h, "accounts": ["ann@corp.example", "ann.lee@corp.example"]} for h in _LEAVER]),
        Example("quiet, but to the address the employee has mailed home to since December", False,
                _WORK + [ev(f"2025-12-{d:02d}T18:00:00Z", **_HOME, count=0) for d in (12, 26)]
                + [ev("2026-03-06T18:00:00Z", count=2, **_HOME), ev("2026-03-17T18:00:00Z", count=1, **_HOME)],
                _LEAVER),
        Example("quiet, from someone seen for only 3 weeks before the notice: new after 16 days of history", True,
                _SHORT + [ev("2026-03-09T18:00:00Z", count=2, **_HOME), ev("2026-03-17T18:00:00Z", count=1, **_HOME)],
                _LEAVER),
        Example("quiet, but to an address mailed in the first days of the employee's history", False,
                _SHORT + [ev("2026-02-24T18:00:00Z", count=0, **_HOME),
                          ev("2026-03-09T18:00:00Z", count=2, **_HOME), ev("2026-03-17T18:00:00Z", count=1, **_HOME)],
                _LEAVER),
        Example("one file mailed home in the notice, then contacts and references on the last day", False,
                _WORK + [ev("2026-03-20T18:00:00Z", count=1, **_HOME), ev("2026-03-31T16:00:00Z", count=3, **_HOME)],
                _LEAVER),
        Example("one mail home on the last day: contacts and references", False,
                _WORK + [ev("2026-03-31T16:00:00Z", count=3, **_HOME)], _LEAVER),
    ),
)
