"""The window kinds, computed here and only here. A rule declares one; its parameters are tunable.

=====================  =================================================================================
window                 fires when
=====================  =================================================================================
``BeforeLastDay``      the rule's total over the ``days`` days up to and including the last working day is
                       more than ``threshold``
``AboveBaseline``      a day's total is above ``factor`` times the employee's own normal (and ``z`` standard
                       deviations above it, and at least ``min_value``)
``ConsecutiveDays``    the rule matched on ``days`` consecutive days
``Sequence``           the rule's first step was seen ``min_first`` times, then its last step within
                       ``within_hours``
``AfterLastDay``       anything happens after the last working day (plus ``grace_days``)
``OnEvent``            a single day's value reaches ``min_value``
=====================  =================================================================================

Every window also has a ``when``: ``always``, ``departing`` (in notice or within ``within_days`` of the last
day), ``in_notice``, or ``last_days`` (within ``within_days`` of the last day). ``lookback`` re-evaluates the
stored daily buckets when HR news arrives, up to the engine's lookback horizon.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from detectors.context import HRView, day_date
from detectors.rule import Finding
from detectors.state import EmployeeState, Series

#: Days of learned history before a baseline is trusted.
MIN_HISTORY_DAYS = 14
RATIO_CAP = 99.0
#: Share of the employee's usual big day (the fading peak of learned days) that counts as normal too. A
#: mean is no scale for sporadic, heavy-tailed work: someone who spends 0 s in the CRM on most days and an
#: hour on some has a mean of minutes, and an ordinary busy day would read "16x usual". Their usual big day
#: says what is ordinary for them; for steady work half the peak is below the mean and changes nothing.
PEAK_SHARE = 0.5
WHEN = ("always", "departing", "in_notice", "last_days")


def when_ok(when: str, hr: HRView, day: int, within_days: int) -> bool:
    if when == "always":
        return True
    if when == "departing":
        return hr.departing(day, within_days)
    if when == "in_notice":
        return hr.in_notice(day)
    if when == "last_days":
        return hr.within_days_of_last_day(day, within_days)
    raise ValueError(f"unknown when={when!r}; expected one of {WHEN}")


def baseline_of(s: Series) -> dict[str, float]:
    return {"mean": round(s.mean, 4), "sd": round(s.sd, 4), "days": s.n}


def day_finding(s: Series, day: int, observed: float, threshold: float, ratio: float | None,
                extra: dict[str, Any]) -> Finding:
    """A finding about one day of ``s`` (key ``D<day>``): that day's evidence, the series' baseline."""
    return Finding(key=f"D{day}", observed=observed, threshold=threshold, window_start=day, window_end=day,
                   evidence=s.evidence(day, day), baseline=baseline_of(s), ratio=ratio, day=day, extra=extra)


def usual(s: Series, per_days: int = 1) -> float:
    """The employee's usual amount over ``per_days`` days, robust to sporadic, heavy-tailed work: the mean,
    and for a single day at least :data:`PEAK_SHARE` of the usual big day.

    >>> s = Series(n=30, mean=171.0, var=618.0**2, top=2400.0)
    >>> usual(s), usual(Series(n=30, mean=8400.0, var=3000.0**2, top=15000.0))
    (1200.0, 8400.0)
    """
    if per_days > 1:
        return s.mean * per_days
    return max(s.mean, PEAK_SHARE * s.top)


def ratio_of(s: Series, observed: float, per_days: int = 1, min_history: int = MIN_HISTORY_DAYS,
             relative_to: str = "mean") -> float | None:
    """How many times the employee's usual amount (over ``per_days`` days, :func:`usual`) ``observed`` is;
    None if unknown.

    ``relative_to="peak"`` compares with the employee's usual *big* day (the fading peak) instead of the
    daily mean: right for lumpy work such as a large export every few weeks."""
    if s.n < min_history:
        return None
    expected = s.top if relative_to == "peak" else usual(s, per_days)
    if expected <= 1e-9:
        return RATIO_CAP
    return min(RATIO_CAP, observed / expected)


@dataclass(frozen=True)
class Window:
    #: Whether findings form episodes (``detectors.engine``): not for a window whose key is the departure
    #: itself (one alert per last day anyway).
    episodic: ClassVar[bool] = True
    when: str = "always"
    within_days: int = 30
    evidence_cap: int = 3  # most recent matching event ids kept as the alert's evidence (state size)

    def ok(self, hr: HRView, day: int) -> bool:
        return when_ok(self.when, hr, day, self.within_days)

    def horizon(self, lookback_days: int) -> int:
        """Days of daily buckets this window needs: today's alone, unless HR news can make it look back."""
        return 1 if self.when == "always" else lookback_days

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        raise NotImplementedError

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        """Findings over stored days, after an HR change; a window whose ``when`` is ``always`` has none."""
        if self.when == "always":
            return []
        out = []
        for day in sorted(d for d in s.days if today - lookback_days <= d <= today):
            if self.ok(hr, day):
                f = self.check_day(s.as_of(day), hr, day, st, rid)  # the day's own baseline (see on_event)
                if f is not None:
                    out.append(f)
        return out

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        return None

    def compact(self, s: Series, today: int) -> None:
        """Drop what can never make this window fire again (called once a day per employee)."""


#: What a rule's observer adds to the explanation of a finding graded by its record, by record key
#: (``unexplained``): a function of the state giving explanation fields (the rule's title may name them).
NOTES: dict[str, Callable[[EmployeeState], dict[str, Any]]] = {}
#: Where a rule's record is read from when it is not simply ``st.extra[key]``, by key: a function of the
#: state giving the record (or None).
RECORDS: dict[str, Callable[[EmployeeState], list[Any] | None]] = {}


def unexplained_share(st: EmployeeState, key: str, min_judged: float = 3) -> float | None:
    """The share of what a rule counted that its observer (``Rule.observe``) could not explain, from the record
    it keeps under ``st.extra[key]`` ending in ``[amount judged, weight not explained]``; None when there is no
    record or fewer than ``min_judged`` were judged. A window with ``unexplained`` set multiplies its ratio to
    the usual by it: graded on what is left once handovers are taken out (``detectors/rules/file/_handover.py``).

    >>> st = EmployeeState(); st.extra["hs"] = [0, 0, 0, 12, 3.0]
    >>> unexplained_share(st, "hs"), unexplained_share(st, "none")
    (0.25, None)
    """
    rec = RECORDS[key](st) if key in RECORDS else st.extra.get(key)
    if not rec or rec[-2] < min_judged:
        return None
    return float(rec[-1]) / float(rec[-2])


#: A graded ratio below this grades low (detectors.engine.grade).
LOW_BELOW = 1.5


def _regraded(ratio: float | None, st: EmployeeState, key: str, observed: float, limit: float
              ) -> tuple[float | None, dict[str, Any]]:
    """The ratio to the usual times the share left unexplained; graded low (below LOW_BELOW) when what is
    left unexplained (the share of ``observed``) does not exceed the window's own ``limit``."""
    share = unexplained_share(st, key) if key else None
    notes = NOTES[key](st) if key in NOTES else {}
    if share is None:
        return ratio, notes
    why = {"unexplained_share": round(share, 2), "ratio_before_handover": None if ratio is None else round(ratio, 2),
           **notes}
    graded = None if ratio is None else ratio * share  # without a usual (too little history): the severity
    if share * observed <= limit:
        graded = LOW_BELOW * 0.99 if graded is None else min(graded, LOW_BELOW * 0.99)
    return graded, why


@dataclass(frozen=True)
class BeforeLastDay(Window):
    episodic: ClassVar[bool] = False
    days: int = 30
    threshold: float = 10
    evidence_cap: int = 12
    #: Days of the usual amount the count is compared with at least: a burst on the first days of the window
    #: is not a month's excess.
    min_elapsed: int = 7
    #: Where the rule's observer keeps what it could not explain (see :func:`unexplained_share`); "" for none.
    #: With it, a count over ``threshold`` waits until the observer has judged enough of the departure period
    #: to grade it (or the last day has passed, or the employee has too little history to grade at all).
    unexplained: str = ""

    def horizon(self, lookback_days: int) -> int:
        return max(lookback_days, self.days)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if hr.last_day is None or not hr.within_days_of_last_day(day, self.days):
            return None
        return self._check(s, hr, day, st)

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        if hr.last_day is None or hr.last_day < today - lookback_days:
            return []
        f = self._check(s, hr, today, st)
        return [f] if f else []

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        assert hr.last_day is not None
        end = hr.last_day
        start = end - self.days + 1
        total = s.total(start, end)
        if total <= self.threshold:
            return None
        # Unusualness against what this person normally does in as many days as have passed in the window.
        elapsed = max(self.min_elapsed, min(end, today) - start + 1)
        raw = ratio_of(s, total, per_days=elapsed)
        if (self.unexplained and raw is not None and today <= end and not hr.possibly_leaving
                and unexplained_share(st, self.unexplained) is None):
            return None  # judged once enough of the departure has been seen to tell a handover (or the end)
        ratio, why = _regraded(raw, st, self.unexplained, total, self.threshold)
        return Finding(
            # A provisional departure (the departure propensity: detectors.engine.possibly_leaving_view) moves
            # its last day each time the person is flagged again: one such alert per employee, not one per flag;
            # and it must not use up the id of the alert the departure gets once HR records it.
            key="P" if hr.possibly_leaving else f"L{end}",
            observed=total,
            threshold=self.threshold,
            window_start=start,
            window_end=end,
            evidence=s.evidence(start, end),
            baseline=baseline_of(s),
            ratio=ratio,
            day=max((d for d in s.days if start <= d <= end), default=end),
            extra=why,
        )


#: ``EmployeeState.extra`` key of the first day each ``AboveBaseline`` series with ``absent_days`` had a value (by
#: series key). "Nothing of the kind before" was read from the days the series still kept; a day that taught no
#: baseline is pruned once a record of a later day is applied, so a record of that later day applied before the
#: rest of its own (the worker's merge may) made a copy look like the first ever.
FIRST_VALUE = "f1"


@dataclass(frozen=True)
class AboveBaseline(Window):
    factor: float = 2.0
    z: float = 3.0
    min_value: float = 1.0
    min_history_days: int = MIN_HISTORY_DAYS
    #: Grade against the department's same day (the engine divides the ratio by the department's ratio to its
    #: usual today: detectors.peerload).
    peers: bool = False
    #: Where the rule's observer keeps what it could not explain (see :func:`unexplained_share`); "" for none.
    #: With it, a day fires only when the share of its amount left unexplained is above the limit too, and is
    #: graded on that share.
    unexplained: str = ""
    #: For someone departing or on the watchlist (not a provisional departure): a day above the limit is told
    #: only as the ``repeat_days``-th such day within ``within_days`` days, or once the day reaches
    #: ``alone_ratio`` times the usual. One busy day in a notice is what a handover looks like; a pattern of
    #: such days, or one far beyond anything the person does, is not. 0: every day above the limit is told.
    #: The days above the limit are kept (``compact``), the others dropped once folded.
    repeat_days: int = 0
    alone_ratio: float = 10.0
    #: Never doing a thing is a normal too. With fewer than ``min_history_days`` learned days (a departure period
    #: teaches no baseline, so someone terminated on the spot has a month fewer) but at least ``absent_days`` days
    #: of the employee's own history, and nothing of the kind in any learned day (mean and peak 0), a day reaching
    #: ``min_value`` is judged as first-ever (ratio None: the rule's own severity). 0: off.
    absent_days: int = 0
    #: A short history is a normal too, for someone departing or on the watchlist. With fewer than
    #: ``min_history_days`` learned days but at least ``short_days`` (0: off), a day is judged against the
    #: limit of those days with ``short_factor`` in the place of ``factor`` (a few days' usual is less sure);
    #: the rest (``repeat_days``, grading) as with a full baseline. For people who stay nothing changes.
    short_days: int = 0
    short_factor: float = 3.0
    #: With ``repeat_days``, for someone departing or on the watchlist who had learnable days above the limit
    #: before the departure period: the days above the limit since it began (at most ``within_days``) are
    #: told only when they are too many for the person's own share of such days before it, a binomial chance
    #: below ``own_share`` (0: off). Someone whose work is sporadic and heavy-tailed has had days above their
    #: limit before; two more in a notice are their normal. Someone never above it before is told on the
    #: ``repeat_days`` alone. The learnable days above the limit are kept under ``st.extra[above_key]`` (the
    #: last ``ABOVE_CAP``, within ``ABOVE_DAYS``).
    own_share: float = 0.0
    above_key: str = ""

    def horizon(self, lookback_days: int) -> int:
        return max(super().horizon(lookback_days), self.within_days if self.repeat_days else 1)

    def _first_ever(self, s: Series, day: int, st: EmployeeState, rid: str) -> Finding | None:
        v = s.days.get(day, 0.0)
        history = day - int(st.extra.get("fs", day))
        if (not self.absent_days or history < self.absent_days or s.mean > 0 or s.top > 0 or v < self.min_value
                or st.extra.get(FIRST_VALUE, {}).get(rid, day) < day
                or any(x > 0 for d, x in s.days.items() if d < day)):
            return None
        first_ever = f"; the first in {history} days of the employee's history ({s.n} of them learned)"
        return day_finding(s, day, v, self.min_value, None, {"factor": self.factor, "first_ever": first_ever})

    def compact(self, s: Series, today: int) -> None:
        """With ``repeat_days``: only the days above the limit are worth keeping (see ``days_above``)."""
        if not self.repeat_days or s.n < self.min_history_days:
            return
        lim = self.limit(s)
        for d in [d for d, v in s.days.items()
                  if d < today and v <= lim and (s.folded or 0) >= d and not s.refoldable(d)]:
            del s.days[d]

    def days_above(self, s: Series, day: int, lim: float) -> int:
        """Days within ``within_days`` up to ``day`` above ``lim`` (the current limit: the departure period
        teaches no baseline, so the limit stands as it stood before it)."""
        return sum(1 for d, v in s.days.items() if day - self.within_days < d <= day and v > lim)

    def limit(self, s: Series) -> float:
        factor = self.factor if s.n >= self.min_history_days else self.short_factor
        return max(factor * usual(s), s.mean + self.z * s.sd, self.min_value)

    def _short(self, s: Series, hr: HRView, day: int) -> bool:
        """Judged on a short history (see ``short_days``)."""
        return (bool(self.short_days) and self.short_days <= s.n < self.min_history_days and not hr.possibly_leaving
                and (hr.departing(day, 30) or hr.after_departure(day) or hr.watchlist))

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if self.absent_days:  # the first day with a value, whatever the days still kept (see FIRST_VALUE)
            first = st.extra.setdefault(FIRST_VALUE, {})
            if day < first.get(rid, day + 1):
                first[rid] = day
        if not self.ok(hr, day):
            return None
        return self.check_day(s.as_of(day), hr, day, st, rid)  # a late event: its day's own baseline

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        short = s.n < self.min_history_days
        if short and not self._short(s, hr, day):
            return self._first_ever(s, day, st, rid)
        v = s.days.get(day, 0.0)
        lim = self.limit(s)
        if v <= lim:
            return None
        if self.unexplained:
            share = unexplained_share(st, self.unexplained)
            if share is not None and share * v <= lim:
                return None  # explained (one's own files, for deletions): nothing left above the limit
        ratio, why = _regraded(ratio_of(s, v, min_history=min(s.n, self.min_history_days)), st, self.unexplained,
                               v, lim)
        extra: dict[str, Any] = {"factor": self.short_factor if short else self.factor,
                                 "first_ever": f"; judged on {s.n} days of history" if short else "", **why}
        if self.repeat_days:
            above = self.days_above(s, day, lim)
            extra["days_above"] = above
            alarmed = not hr.possibly_leaving and (hr.departing(day, 30) or hr.after_departure(day) or hr.watchlist)
            if self.above_key and hr.learnable(day):
                _note_above(st, self.above_key, day)
            if alarmed and (ratio is None or ratio < self.alone_ratio):
                if above < self.repeat_days:
                    return None  # one busy day in a notice: told when it repeats or grows far beyond the usual
                if self.own_share and not short and not self._beyond_own_share(s, hr, day, lim, st, extra):
                    return None  # as many days above the limit as the person's own share of them makes likely
        return day_finding(s, day, v, round(lim, 3), ratio, extra)

    def _beyond_own_share(self, s: Series, hr: HRView, day: int, lim: float, st: EmployeeState,
                          extra: dict[str, Any]) -> bool:
        """Whether the days above ``lim`` since the departure period began (at most ``within_days``, up to ``day``)
        are too many for the person's share of learnable days above their limit before it (see ``own_share``)."""
        start = hr.departure_start() if hr.last_day is not None else hr.notice_from
        lo = max(day - self.within_days + 1, start if start is not None else day - self.within_days + 1)
        k = sum(1 for d, v in s.days.items() if lo <= d <= day and v > lim)
        m = day - lo + 1
        before = sum(1 for d in st.extra.get(self.above_key, ()) if lo - ABOVE_DAYS <= d < lo)
        if not before:
            return True  # never above the limit before: the days that repeat are the change
        share = (before + 0.5) / (min(s.n, ABOVE_DAYS) + 1)
        chance = binomial_tail(k, m, share)
        extra["own_share"] = (f"; {k} such day(s) in {m} days of the departure period against {before} in the "
                              f"{min(s.n, ABOVE_DAYS)} learned days before (chance {chance:.2g})")
        return chance < self.own_share


#: Learnable days above the limit kept for ``AboveBaseline.own_share``: the last ABOVE_CAP, within ABOVE_DAYS.
ABOVE_CAP, ABOVE_DAYS = 8, 90


def _note_above(st: EmployeeState, key: str, day: int) -> None:
    days = st.extra.setdefault(key, [])
    if day not in days:
        days.append(day)
        days.sort()
        del days[:-ABOVE_CAP]
    while days and days[0] < day - ABOVE_DAYS:
        days.pop(0)
    if not days:
        del st.extra[key]


def raised_above_episode(key: str, episode_key: str, severity: int, episode_severity: int) -> bool:
    """A window's ``raises_again`` hook (``detectors.engine``) for findings that can be graded up: a finding
    other than the one last alerted (another key) graded above the severity the episode was raised at is news
    and raised again; the same finding, or one graded no higher, joins the episode quietly. Shared by
    :class:`ConsecutiveDays` and the rules whose habit grades a day low (``email.sensitive_to_personal``,
    ``web.personal_cloud_upload``).

    >>> raised_above_episode("D20500", "D20490", 2, 0), raised_above_episode("D20500", "D20490", 0, 0)
    (True, False)
    >>> raised_above_episode("D20500", "D20500", 2, 0)
    False
    """
    return key != episode_key and severity > episode_severity


@dataclass(frozen=True)
class ConsecutiveDays(Window):
    when: str = "in_notice"
    days: int = 3
    min_per_day: float = 1
    #: Where the rule's observer keeps what it could not explain (see :func:`unexplained_share`); "" for none.
    unexplained: str = ""

    def horizon(self, lookback_days: int) -> int:
        return max(super().horizon(lookback_days), self.days + 1)

    @staticmethod
    def raises_again(key: str, episode_key: str, severity: int, episode_severity: int) -> bool:
        """Whether a finding joining an ongoing episode is news (``detectors.engine``): a run's ``observed`` is
        its length, which hardly ever doubles, so growth is no test here. A run other than the one last alerted
        (a new run, or the same run no longer excused under a key of its own) graded above the severity the
        episode was raised at is raised again; the budget still holds.

        >>> ConsecutiveDays.raises_again("R20500", "F20479", 2, 0), ConsecutiveDays.raises_again("R20500", "R20479", 0, 0)
        (True, False)
        >>> ConsecutiveDays.raises_again("R20479", "R20479", 3, 1)
        False
        """
        return raised_above_episode(key, episode_key, severity, episode_severity)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self.check_day(s, hr, day, st, rid)

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        if s.days.get(day, 0.0) < self.min_per_day:
            return None
        run_start = day
        while s.days.get(run_start - 1, 0.0) >= self.min_per_day and self.ok(hr, run_start - 1):
            run_start -= 1
        # Later days of the run already seen count too: a day that arrives late can complete a run.
        while s.days.get(day + 1, 0.0) >= self.min_per_day and self.ok(hr, day + 1):
            day += 1
        if day - run_start + 1 < self.days:
            return None
        # The alert belongs to the run: a fourth day adds nothing new, a new run after a gap does.
        first = run_start
        per_day = s.total(first, day) / (day - first + 1)
        ratio, why = _regraded(ratio_of(s.as_of(first), per_day), st, self.unexplained, per_day,
                               self.min_per_day * 0.999)
        return Finding(
            # a provisional departure (possibly leaving) must not use up the id the run gets once HR records it
            key=f"PR{first}" if hr.possibly_leaving else f"R{first}",
            observed=day - run_start + 1,
            threshold=self.days,
            window_start=first,
            window_end=day,
            evidence=s.evidence(first, day),
            baseline=baseline_of(s),
            # Someone who does this every day is not unusual for doing it three days running: the run's daily
            # amount against their usual day grades it.
            ratio=ratio,
            day=day,
            extra={"per_day": [s.days.get(d, 0.0) for d in range(first, day + 1)], **why},
        )


@dataclass(frozen=True)
class Sequence(Window):
    """The rule's ``first`` predicate marks the first step; its own predicate is the last step."""

    within_hours: float = 24 * 30
    min_first: int = 1
    then_min: float = 1.0  # the last step's total that day must reach this
    then_factor: float = 0.0  # ... and be this many times the employee's usual (0 = no baseline check)
    min_history_days: int = MIN_HISTORY_DAYS
    #: With a rule's ``fresh`` key (the last step's destination): it counts only for ``fresh_days`` days after
    #: the key's first use, unless the employee used it in their first ``warmup_days`` (:func:`fresh_since`,
    #: in the memory ``fresh_memory``).
    fresh_days: int = 30
    warmup_days: int = 7
    fresh_memory: str = "dst"
    #: Set by the engine (not a setting): the marks key of an earlier rule with the same first step, whose
    #: first-step marks this rule reads instead of keeping a copy (state size).
    _marks_key: str = ""

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self._check_at(s.as_of(day), t, day, st, rid)

    def on_late_first(self, s: Series | None, hr: HRView, t: float, st: EmployeeState, rid: str) -> Finding | None:
        """A first step that arrives after a last step with a later time (streams of different kinds are read
        in no fixed order): the sequence is judged as if it had arrived in time order."""
        if s is None:
            return None
        for then_t, _ in reversed(st.marks.get(rid + THEN_MARK, [])):
            if t <= then_t <= t + self.within_hours * 3600:
                day = int(then_t // 86400)
                if self.ok(hr, day):
                    return self._check_at(s.as_of(day), then_t, day, st, rid)
        return None

    def _check_at(self, s: Series, t: float, day: int, st: EmployeeState, rid: str) -> Finding | None:
        marks = [m for m in st.marks.get(self._marks_key or rid, []) if t - self.within_hours * 3600 <= m[0] <= t]
        if len(marks) < self.min_first:
            return None
        v = s.days.get(day, 0.0)
        if v < self.then_min:
            return None
        ratio = ratio_of(s, v, min_history=self.min_history_days)
        # "far more than usual" needs a usual: without min_history_days of it nothing is judged
        if self.then_factor > 0 and (ratio is None or ratio < self.then_factor):
            return None
        return Finding(
            key=f"S{day}",
            observed=v,
            threshold=self.then_min,
            window_start=int(marks[0][0] // 86400),
            window_end=day,
            evidence=[m[1] for m in marks] + s.evidence(day, day),
            baseline=baseline_of(s),
            ratio=ratio,
            day=day,
            extra={"first_steps": len(marks), "hours_since_first": round((t - marks[0][0]) / 3600, 1)},
        )


#: Suffix of the marks of a sequence's last steps (kept so that a late first step can still complete it).
THEN_MARK = ">"
#: Last-step marks kept per sequence rule and employee.
THEN_MARKS_CAP = 2


#: First-step marks kept per sequence rule and employee.
MARKS_CAP = 4


def add_mark(st: EmployeeState, rid: str, t: float, event_id: str, keep_s: float, cap: int = MARKS_CAP) -> None:
    marks = [m for m in st.marks.get(rid, []) if m[0] >= t - keep_s]
    marks.append([int(t), event_id])
    marks.sort(key=lambda m: m[0])  # late arrivals go where their time puts them
    st.marks[rid] = marks[-cap:]


@dataclass(frozen=True)
class AfterLastDay(Window):
    episodic: ClassVar[bool] = False
    grace_days: int = 0
    evidence_cap: int = 3

    def horizon(self, lookback_days: int) -> int:
        return lookback_days

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not hr.after_departure(day, self.grace_days):
            return None
        return self._check(s, hr, day)

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        if hr.last_day is None:
            return []
        after = [d for d in s.days if d > hr.last_day + self.grace_days]
        f = self._check(s, hr, max(after)) if after else None
        return [f] if f else []

    def _check(self, s: Series, hr: HRView, day: int) -> Finding | None:
        assert hr.last_day is not None
        start = hr.last_day + self.grace_days + 1
        total = s.total(start, day)
        if total <= 0:
            return None
        return Finding(
            key=f"L{hr.last_day}",
            observed=total,
            threshold=0,
            window_start=start,
            window_end=day,
            evidence=s.evidence(start, day),
            day=day,
        )


@dataclass(frozen=True)
class OnEvent(Window):
    min_value: float = 1.0
    min_history_days: int = MIN_HISTORY_DAYS
    #: grading against the daily mean, "peak": the usual big day, or "before": the largest day before the
    #: departure period (:meth:`largest_before`)
    relative_to: str = "mean"
    #: With ``relative_to="before"`` and a rule's ``fresh`` key (a kind of export): a day whose events are all of
    #: kinds the employee made before is graded against ``usual_factor`` times their largest (a handover gives a
    #: successor the whole list they used to pull in parts); a day with a new kind, against the largest itself.
    usual_factor: float = 1.0
    #: A rule with a ``fresh`` key counts every event and marks the new ones (see detectors.engine).
    fresh_only: bool = False
    fresh_days: int = 30
    warmup_days: int = 7
    fresh_memory: str = "fk"  # kinds of export apart from places and destinations

    def compact(self, s: Series, today: int) -> None:
        """A closed day below ``min_value`` can never fire on lookback: keep only the days that could."""
        low = [d for d, v in s.days.items()
               if d < today and v < self.min_value and (s.folded or 0) >= d and not s.refoldable(d)]
        if low:
            for d in low:
                del s.days[d]
            gone = set(low)
            s.drop_evidence(lambda d: d not in gone)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self.check_day(s.as_of(day), hr, day, st, rid)  # a late event: its day's own baseline

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        v = s.days.get(day, 0.0)
        if v < self.min_value:
            return None
        extra: dict[str, Any] = {}
        if self.relative_to == "before":
            ref = self.largest_before(s, hr, day)
            extra["largest_before"] = ref
            if self.usual_factor != 1.0:
                new = any(int(m[0] // 86400) == day for m in st.marks.get(rid + FRESH_MARK, ()))
                extra["new_kind"] = "a kind they had not exported before" if new else "a kind they exported before"
                if not new:
                    ref *= self.usual_factor
            ratio = None if s.n < self.min_history_days else RATIO_CAP if ref <= 1e-9 else min(RATIO_CAP, v / ref)
        else:
            ratio = ratio_of(s, v, min_history=self.min_history_days, relative_to=self.relative_to)
        return day_finding(s, day, v, self.min_value, ratio, extra)

    def largest_before(self, s: Series, hr: HRView, day: int) -> float:
        """``relative_to="before"``: the employee's largest day before the departure period (from the notice,
        or ``within_days`` before the last day, whichever is earlier), from the stored days. A day of the
        period can have taught the learned peak before HR knew of the departure (a resignation recorded a week
        late), so the peak counts only up to ``min_value``: the stored days hold every larger day of the
        lookback horizon. Never below half of ``min_value``: a first export is not infinitely unusual.

        >>> w = OnEvent(when="departing", min_value=100, relative_to="before")
        >>> s = Series(days={10: 120.0, 40: 90.0, 50: 659.0}, n=45, mean=20.0, top=650.0)
        >>> hr = HRView(status="notice", notice_from=45, last_day=60)
        >>> w.largest_before(s, hr, 50), w.largest_before(Series(days={50: 659.0}, n=45, top=80.0), hr, 50)
        (120.0, 80.0)
        """
        starts = [x for x in (hr.notice_from if hr.in_notice(day) else None,
                              None if hr.last_day is None else hr.last_day - self.within_days + 1) if x is not None]
        start = min(starts) if starts else day
        ref = max((v for d, v in s.days.items() if d < min(start, day)), default=0.0)
        return ref if ref >= self.min_value else max(ref, min(s.top, self.min_value), self.min_value / 2)


#: Where an employee's remembered novelty keys live: ``st.extra[NOVELTY] = "a1b2..."``, shared by every
#: first-time rule (what the employee has ever done), the most recently seen last, at most NOVELTY_MEMORY;
#: the new things of a ``FirstTime`` window with ``min_new > 1``, by name, under ``st.extra[NOVELTY_NAMES]``
#: (a few short strings, for the explanation).
NOVELTY = "nv"
NOVELTY_NAMES = "nvn"
NOVELTY_MEMORY = 24


def novelty_hash(key: str) -> int:
    """A 16-bit hash of a novelty key: what the state keeps instead of the key (a host, a category...). Among
    the NOVELTY_MEMORY keys of one person two collide with a chance of about 0.4%: a new thing then passes as
    known (a miss, never a false alert)."""
    import hashlib

    return int.from_bytes(hashlib.blake2s(key.encode(), digest_size=2).digest(), "big")


def seen_before(st: EmployeeState, key: str) -> bool:
    """Whether the employee produced ``key`` before; remembers it (call once per event and key). The keys are
    kept as one string of 4-hex-digit hashes (the smallest form in the serialised state)."""
    h = f"{novelty_hash(key):04x}"
    seen: str = st.extra.get(NOVELTY, "")
    known = [seen[i : i + 4] for i in range(0, len(seen), 4)]
    if h in known:
        if known[-1] != h:  # most recently seen last: the oldest is forgotten first
            known.remove(h)
            st.extra[NOVELTY] = "".join(known) + h
        return True
    st.extra[NOVELTY] = "".join((known + [h])[-NOVELTY_MEMORY:])
    return False


def first_time(st: EmployeeState, key: str | None, day: int, first_seen: int, window: Any,
               cache: dict[str, Any], peers: Any = None, group: str = "") -> tuple[str, int, int] | None:
    """``(key, peers who did it before, peers seen)`` when the employee never produced ``key`` before, has at
    least the window's ``min_history_days`` of history, and it is not common among their peers (``peers``: a
    :class:`detectors.peers.PeerFirsts`); else None. ``cache`` holds this event's answers, so that every
    first-time rule of one event sees the same novelty."""
    if not key:
        return None
    got = cache.get(key)
    if got is None:
        new = not seen_before(st, key)
        did, n, common = 0, 0, False
        if new and peers is not None:
            did, n = peers.share(group, key)
            common = peers.common(group, key)
            peers.did(group, key)
        got = cache[key] = (new, did, n, common)
    new, did, n, common = got
    if not new or common or day - first_seen < getattr(window, "min_history_days", MIN_HISTORY_DAYS):
        return None
    return key, did, n


@dataclass(frozen=True)
class FirstTime(Window):
    """Fires the first time an employee does something they never did before, once they have
    ``min_history_days`` of history: the rule's ``novelty`` key (a device, a site category, work after hours)
    is remembered per employee (NOVELTY_MEMORY keys, most recently seen kept). With ``min_new`` above 1 it takes
    that many different kinds of new things within ``span_days`` (a cluster of firsts; the kind is the key's
    part before ``:``). A first that most of the
    employee's peers (department) did before does not count (:mod:`detectors.peers`); the explanation says
    how many had (``peers_before``)."""

    min_history_days: int = 28
    min_new: float = 1
    span_days: int = 1
    evidence_cap: int = 6

    @staticmethod
    def raises_again(key: str, episode_key: str, severity: int, episode_severity: int) -> bool:
        """Whether a finding joining an ongoing episode is news (``detectors.engine``): the next new thing (a
        finding keyed ``N...``: another machine, another category) other than the one last alerted.

        >>> FirstTime.raises_again("N5:usb", "N3:web", 0, 0), FirstTime.raises_again("N3:web", "N3:web", 2, 0)
        (True, False)
        """
        return key[:1] == "N" and key != episode_key
    #: Kinds of first that count half in a cluster (the most common firsts: a late evening now and then).
    weak_kinds: tuple[str, ...] = ()

    def horizon(self, lookback_days: int) -> int:
        return max(super().horizon(lookback_days), self.span_days)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        return None  # only what is new counts (the engine calls on_new)

    def on_new(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str, key: str,
               peers: tuple[int, int] = (0, 0)) -> Finding | None:
        names: list[Any] = []
        if self.min_new > 1:
            names = st.extra.setdefault(NOVELTY_NAMES, {}).setdefault(rid, [])
            if [day, key] not in names:
                names.append([day, key])
            del names[: -max(int(self.min_new) + 1, 4)]
        if not self.ok(hr, day):
            return None
        lo = day - self.span_days + 1
        recent = [k for d, k in names if lo <= d <= day] if names else [key]
        # A cluster counts kinds of behaviour: two new machines ("host:a", "host:b") are one kind.
        kinds = {k.split(":", 1)[0] for k in recent}
        n = sum(0.5 if k in self.weak_kinds else 1.0 for k in kinds) if self.min_new > 1 else s.total(lo, day)
        if n < self.min_new:
            return None
        first_day = min((d for d in s.days if lo <= d <= day), default=day)
        fs = st.extra.get("fs", day)
        # One alert per new thing (its key, not the day: the same whichever event of it is read first), or
        # per cluster (the first day of the span that holds it).
        return Finding(
            key=f"N{novelty_hash(key):x}" if self.min_new <= 1 else f"C{first_day}",
            observed=n,
            threshold=self.min_new,
            window_start=lo,
            window_end=day,
            evidence=s.evidence(lo, day),
            baseline={"history_days": day - fs, "times_before": 0},
            ratio=None,
            day=day,
            extra={"new": ", ".join(recent), "history_days": day - fs,
                   "peers_before": f"{peers[0]} of {peers[1]}" if peers[1] else "no peers seen"},
        )


def describe(window: Any) -> str:
    return type(window).__name__


# ---------------------------------------------------------------------------------------------------------
# Recently new things (places, kinds) and sustained elevation over the departure period (issue 14).

#: Where an employee's recently used things of the ``fresh`` rules live: ``st.extra[FRESH] = "hhhhddd..."``, one
#: 7-character entry each (a 16-bit hash of the key, then the day it was first used modulo 4096), the most
#: recently used last, at most FRESH_MEMORY. Someone who uses more places than that regularly sees some as
#: new again: their own normal rate of "new" then says so (the ``Sustained`` window compares with it).
FRESH = "fp"
FRESH_MEMORY = 8
#: Suffix of the marks of events whose ``fresh`` key was new, for a window that counts every event but grades
#: the new ones apart (``fresh_only = False``: a kind of export the employee had not made before); kept per rule.
FRESH_MARK = "*"
FRESH_MARKS_CAP = 3


def fresh_since(st: EmployeeState, key: str | None, day: int, first_seen: int, warmup_days: int,
                memory: str = FRESH) -> int | None:
    """The day ``key`` (a place, a kind of export) was first used by the employee, remembering it now if it is
    new; None when ``key`` is None or it was used in their first ``warmup_days`` (what they worked with from
    the start is theirs). Call once per event. ``memory``: the ``st.extra`` entry holding the keys (rules whose
    keys are of different kinds keep them apart, so that one kind does not push the other out).

    >>> st = EmployeeState()
    >>> fresh_since(st, "sites/support", 100, 100, 7), fresh_since(st, "sites/finance", 110, 100, 7)
    (None, 110)
    >>> fresh_since(st, "sites/finance", 115, 100, 7), fresh_since(st, "sites/support", 140, 100, 7)
    (110, None)
    """
    if not key:
        return None
    h = f"{novelty_hash(key):04x}"
    mem: str = st.extra.get(memory, "")
    entries = [mem[i : i + 7] for i in range(0, len(mem), 7)]
    found = next((x for x in entries if x[:4] == h), None)
    if found is None:
        found = h + f"{day % 4096:03x}"
    else:
        entries.remove(found)
    st.extra[memory] = "".join((entries + [found])[-FRESH_MEMORY:])
    first = day - ((day - int(found[4:], 16)) % 4096)
    return None if first < first_seen + warmup_days else first


def fresh_places_since(st: EmployeeState, lo: int, hi: int) -> int:
    """How many remembered things were first used between days ``lo`` and ``hi``."""
    mem: str = st.extra.get(FRESH, "")
    n = 0
    for i in range(0, len(mem), 7):
        first = hi - ((hi - int(mem[i + 4 : i + 7], 16)) % 4096)
        n += lo <= first <= hi
    return n


def moved_on(st: EmployeeState) -> int | None:
    """The day of the employee's latest move to another department, from the HR versions the state keeps.

    >>> st = EmployeeState(hr={"_t": 86400 * 120, "department": "finance"},
    ...                    extra={"hh": [{"_t": 86400 * 10, "department": "sales"}]})
    >>> moved_on(st), moved_on(EmployeeState(hr={"_t": 86400 * 120, "department": "finance"}))
    (120, None)
    """
    versions = sorted(list(st.extra.get("hh", ())) + ([st.hr] if st.hr else []), key=lambda v: v.get("_t", 0))
    moved = None
    for before, after in zip(versions, versions[1:]):
        if before.get("department") and after.get("department") and before["department"] != after["department"]:
            moved = int(after.get("_t", 0) // 86400)
    return moved


def binomial_tail(k: int, m: int, p: float) -> float:
    """P(K >= k) for K ~ Binomial(m, p).

    >>> round(binomial_tail(2, 2, 0.5), 3), binomial_tail(0, 5, 0.1)
    (0.25, 1.0)
    """
    import math

    if k <= 0:
        return 1.0
    return min(1.0, sum(math.comb(m, i) * p**i * (1 - p) ** (m - i) for i in range(k, m + 1)))


@dataclass(frozen=True)
class Sustained(Window):
    """Fires when the days with the behaviour since the departure period began are too many for the
    employee's own normal before it: a sequential test of the departure period as a whole, for what no single
    day shows (a few downloads a day for weeks).

    The departure period runs from ``days`` days before the last working day (or the start of the notice, if
    earlier) to today; the employee's normal is the share of days with the behaviour in the ``ref_days`` days
    before it, read from the stored days, so days that taught the baseline before HR knew of the departure do
    not hide it. Under that normal (a binomial with the Jeffreys estimate of the share, which stays cautious
    with little history) the chance of as many days or more is computed every time the period grows; the rule
    fires, once per departure, when it falls below ``10 ** -min_evidence`` on at least ``min_days`` days.
    ``ratio`` is the period's share of days against the normal share (the grade); a move to another department
    since ``fresh_days`` before the period (HR) explains new places of work: the alert says so and is low."""

    episodic: ClassVar[bool] = False
    when: str = "departing"
    days: int = 30
    ref_days: int = 30
    min_ref_days: int = 7
    min_days: int = 5
    min_evidence: float = 5.0  # decades: a chance below 1 in 100,000
    evidence_cap: int = 6
    #: With a rule's ``fresh`` key: a thing counts as new for ``fresh_days`` days after its first use, unless
    #: the employee used it in their first ``warmup_days`` (see :func:`fresh_since`).
    fresh_days: int = 30
    warmup_days: int = 7
    #: Highest grade (ratio) the share of days can give: below 10 keeps the rule at its own severity (a share
    #: of days against a small share reads "20x" quickly; what makes it worse is where the data goes).
    ratio_cap: float = RATIO_CAP
    #: Days the period counts as at least: a rare behaviour (a share near zero) seen twice in the first days of
    #: the period is not rarer than twice in the whole period (a sequential test would otherwise fire early on
    #: chance). 0: the days elapsed.
    min_period_days: int = 0

    def horizon(self, lookback_days: int) -> int:
        return max(lookback_days, self.days + self.ref_days)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self._check(s, hr, day, st)

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        if not hr.leaving or (hr.last_day is not None and hr.last_day < today - lookback_days):
            return []
        f = self._check(s, hr, today, st)
        return [f] if f else []

    def period(self, hr: HRView, today: int) -> tuple[int, int] | None:
        starts = [x for x in (None if hr.last_day is None else hr.last_day - self.days + 1, hr.notice_from)
                  if x is not None]
        if not starts:
            return None
        end = today if hr.last_day is None else min(today, hr.last_day)
        return max(min(starts), end - 3 * self.days + 1), end

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        import math

        p = self.period(hr, today)
        if p is None:
            return None
        start, end = p
        fs = int(st.extra.get("fs", start))
        ref_lo = max(fs, start - self.ref_days)
        n, m = start - ref_lo, end - start + 1
        if n < self.min_ref_days or m < 1:
            return None
        k = sum(1 for d, v in s.days.items() if start <= d <= end and v > 0)
        if k < self.min_days:
            return None
        k_ref = sum(1 for d, v in s.days.items() if ref_lo <= d < start and v > 0)
        share = (k_ref + 0.5) / (n + 1)  # Jeffreys: no day in a short history is not a share of zero
        chance = max(binomial_tail(k, max(m, self.min_period_days), share), 1e-300)
        evidence = -math.log10(chance)
        if evidence < self.min_evidence:
            return None
        ratio = min(self.ratio_cap, (k / m) / share)
        extra: dict[str, Any] = {"moved": ""}
        moved = moved_on(st)
        if moved is not None and moved >= start - self.fresh_days:
            # A move to another department brings new places of work with it: reported, graded low.
            ratio = 1.0
            extra["moved"] = f"; moved to another department on {day_date(moved).isoformat()} (graded low)"
        return Finding(
            key=f"L{hr.last_day}" if hr.last_day is not None else f"N{start}",
            observed=k,
            threshold=self.min_days,
            window_start=start,
            window_end=end,
            evidence=s.evidence(start, end),
            baseline={"days": n, "days_with": k_ref, "share": round(share, 4)},
            ratio=ratio,
            day=max((d for d in s.days if start <= d <= end), default=end),
            extra={**extra, "period_days": m, "ref_days": n, "ref_days_with": k_ref, "evidence": round(evidence, 1),
                   "total": round(s.total(start, end), 3),
                   "new_things": fresh_places_since(st, max(start - self.fresh_days, fs + self.warmup_days), end)},
        )


@dataclass(frozen=True)
class SustainedAbove(Sustained):
    """Like :class:`Sustained`, for an amount rather than a behaviour, and for a change that may have begun
    before the departure period: fires when, since some day (the *onset*), the days on which the amount is above
    the employee's own usual day before that onset are too many for their normal.

    The usual day is the ``quantile`` of the ``ref_days`` calendar days before the onset (days without any
    count as 0): a day counts when its amount is above it. Sporadic, heavy-tailed work is its own normal: for
    someone who downloads nothing on most days and a lot on some, the usual day is 0 and their share of days
    above it is high, so only far more such days are evidence; a ratio to a mean near zero is never used. One
    busy day is one day, never enough (``min_days``). The onset is searched from ``onset_days`` before the
    departure period (:meth:`Sustained.period`) to its start, and the chance is multiplied by the number of
    onsets tried (a change that began weeks before the last day is one change, not many chances). From the
    onset, the days must also hold at least ``min_excess`` more than the reference's mean day would give.

    Honest leavers hand over a lot once they have resigned; before the resignation there is nothing to hand
    over. So the grade (``ratio``, the share of days above the usual against the usual share) stands when the
    days *before the notice* (``notice_from``; the last day for someone without notice) are evidence on their
    own; when only the notice's days make the evidence, the grade is multiplied by the share of downloads the
    rule's observer (``unexplained``, :func:`unexplained_share`) could not explain and capped below
    ``LOW_BELOW`` unless ``notice_grade`` is set: in the notice a handover looks the same.

    With ``presence`` (the key under which the rule's observer keeps the days the employee was seen at all,
    :func:`mark_present`), an absence does not teach the usual day: a run of ``away_days`` or more days
    without any event before the onset (a holiday, leave, sick days; longer than a weekend, whose days stay
    judged as before) is not a run of usual days without the amount. Three weeks away made someone's usual day
    0, and their ordinary days back at work read as a change (outside_b seed 2, an honest finance analyst,
    medium on main 50d7dbb). ``min_ref_days`` then counts the days not away. An absence after the onset stays
    judged, as days not above the usual day: it can only weaken the evidence."""

    quantile: float = 0.75
    min_ref_days: int = 14
    min_excess: float = 10.0
    onset_days: int = 30
    unexplained: str = ""
    #: Whether evidence from the notice's days alone may grade above low (after the handover regrading).
    notice_grade: bool = False
    #: The peer fallback (:meth:`on_peers`, :mod:`detectors.peerrates`): for an employee first seen too
    #: recently for the onset search (the change may have begun before any own history), the rate per 30
    #: days before the notice against their peers' (``peer_rank``-th busiest other member, at least
    #: ``peer_floor``): ``peer_times`` as much and ``peer_excess`` more, with ``peer_min`` other members.
    peer_rates: bool = False
    peer_times: float = 3.0
    peer_rank: int = 2
    peer_floor: float = 4.0
    peer_excess: float = 20.0
    peer_min: int = 5
    #: With ``peer_rates``, an own-normal finding stays above low only when the rate per 30 days since the onset
    #: is at least ``peer_typical_times`` the median colleague's (at least ``peer_floor``): back at what the
    #: role usually downloads after a quiet month is no drip.
    peer_typical_times: float = 2.0
    #: Where the rule's observer keeps the days the employee was present (:func:`mark_present`); "" judges
    #: every calendar day (days without any event count as days without the amount). With it, a run of at
    #: least ``away_days`` days without any event (longer than a weekend) is an absence and is not judged.
    presence: str = ""
    away_days: int = 3  # at least ABSENCE_MIN: shorter absences are not kept

    def horizon(self, lookback_days: int) -> int:
        return max(lookback_days, self.days + self.onset_days + self.ref_days)

    def _test(self, vals: list[float], lo: int, first: int, onset: int, end: int,
              present: list[bool] | None = None) -> tuple[float, dict[str, Any]] | None:
        """Evidence (decades) that the days from ``onset`` to ``end`` are above the usual day before it (from
        ``first`` at the earliest); ``vals[i]`` is day ``lo + i``'s amount; with ``present``, the usual day is
        learned only from the days before the onset where it is true (the others were absences)."""
        import math

        ref_lo = max(first, onset - self.ref_days)
        ref = vals[ref_lo - lo : onset - lo]
        after = vals[onset - lo : end - lo + 1]
        if present is not None:  # the usual day is learned from days at work (an absence after the onset
            # stays judged as days not above the usual: it can only weaken the evidence)
            ref = [v for v, p in zip(ref, present[ref_lo - lo : onset - lo]) if p]
        n, m = len(ref), len(after)
        if n < self.min_ref_days or m < self.min_days:
            return None
        usual_day = sorted(ref)[min(n - 1, int(self.quantile * n))]
        k = sum(1 for v in after if v > usual_day)
        mean = sum(ref) / n
        total = sum(after)
        k_ref = sum(1 for v in ref if v > usual_day)
        share = (k_ref + 0.5) / (n + 1)
        evidence = -math.log10(max(_binomial_tail_fast(k, m, share), 1e-300)) if k >= self.min_days else 0.0
        return evidence, {"onset": onset, "k": k, "m": m, "n": n, "usual_day": usual_day, "mean": mean,
                          "total": total, "excess": total - mean * m, "k_ref": k_ref, "share": share}

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        """Judged when the day's amount reaches 1, 2, 4, 8... (a day counts once past the usual day, so later
        events of a day add little; the search over onsets is not repeated for each), and never again once
        this departure's alert was sent."""
        if not self.ok(hr, day) or (hr.last_day is not None and s.last == f"L{hr.last_day}"):
            return None
        v = s.days.get(day, 0.0)
        if v == int(v) and int(v) & (int(v) - 1):
            return None
        return self._check(s, hr, day, st)

    def with_peers(self, f: Finding | None, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str,
                   rates: Any, groups: tuple[str, ...], gated: bool = True) -> Finding | None:
        """Asked by the engine after :meth:`on_event` (and :meth:`lookback`, ``gated`` False) for a window with
        ``peer_rates`` (``rates``: its :class:`detectors.peerrates.PeerRates`; ``groups``: the employee's peer
        groups, finest first): without a finding, the peer fallback (:meth:`on_peers`); with one above low, the
        peers' context: a rate since the onset below ``peer_typical_times`` the median colleague's grades it
        low."""
        if f is None:
            return self.on_peers(s, hr, day, st, rid, rates, groups, gated)
        if f.ratio is None or f.ratio < LOW_BELOW or not f.extra.get("period_days"):
            # a low finding (the notice's days alone) of someone without own normal: the peers may say more
            # about the days before the notice, and the rule fires once per departure
            return self.on_peers(s, hr, day, st, rid, rates, groups, gated=False) or f
        group = self._peer_group(rates.typical, st, rid, groups)
        if group is None:
            return f
        team, n, typical = group
        rate = 30.0 * float(f.extra.get("total", 0.0)) / float(f.extra["period_days"])
        usual = max(self.peer_floor, typical)
        extra = {**f.extra, "peer_group": team, "peer_typical_30d": round(typical, 1), "rate_30d": round(rate, 1)}
        if rate >= self.peer_typical_times * usual:
            return dataclasses.replace(f, extra=extra)
        extra["when"] = (f"{f.extra.get('when', '')}; {rate:.0f} per 30 days, less than {self.peer_typical_times:g}x "
                         f"what their median colleague ({team}, {n} others) downloads ({usual:.1f}): graded low")
        return dataclasses.replace(f, ratio=min(f.ratio, LOW_BELOW * 0.99), extra=extra)

    def _peer_group(self, read: Callable[[str, int | None], tuple[int, float]], st: EmployeeState, rid: str,
                    groups: tuple[str, ...]) -> tuple[str, int, float] | None:
        """(the group's name without the series, other members, the rate ``read`` gives) of the first of
        ``groups`` (finest first) with ``peer_min`` other members, the employee's own bucket left out."""
        own = (st.extra.get("pr" + rid) or [0, 0, [], None])[3]
        for g in groups:
            n, rate = read(g, own)
            if n >= self.peer_min:
                return (g[len(rid) + 1:] if g.startswith(rid + ":") else g), n, rate
        return None

    def on_peers(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str, rates: Any,
                 groups: tuple[str, ...], gated: bool = True) -> Finding | None:
        """The peer fallback, asked by the engine when :meth:`on_event` found nothing (``rates``: its
        :class:`detectors.peerrates.PeerRates`; ``groups``: the employee's peer groups, finest first).

        Someone first seen less than ``onset_days`` + ``min_ref_days`` before the departure period has no
        own normal from before a change that began early: their days from first seen to the day before the
        notice (at least ``min_ref_days`` of them, ``min_days`` with the amount) are compared with their
        peers' rates. Each day counts at most twice the median of their days with the amount (one busy day
        is not a rate). It fires when the rate per 30 days is at least ``peer_times`` the ``peer_rank``-th
        busiest other member's (one unusual colleague does not hide it; at least ``peer_floor``), with
        ``peer_excess`` more than that rate gives, in the first group with ``peer_min`` other members. Only
        the days before the notice count: in the notice a handover looks the same. Graded by the ratio
        (capped at ``ratio_cap``)."""
        if not self.peer_rates or not self.ok(hr, day) or (hr.last_day is not None and s.last == f"L{hr.last_day}"):
            return None
        v = s.days.get(day, 0.0)
        if gated and v == int(v) and int(v) & (int(v) - 1):
            return None
        p = self.period(hr, day)
        if p is None:
            return None
        start, end = p
        fs = int(st.extra.get("fs", start))
        if fs <= start - self.onset_days - self.min_ref_days:
            return None  # an own normal before any onset: the own test judges
        notice = hr.notice_from if hr.notice_from is not None else (hr.last_day + 1 if hr.last_day is not None
                                                                    else end + 1)
        last = min(end, notice - 1)
        m = last - fs + 1
        if m < self.min_ref_days:
            return None
        vals = [float(s.days.get(d, 0.0)) for d in range(fs, last + 1)]
        active = [x for x in vals if x > 0]
        if len(active) < self.min_days:
            return None
        cap = max(1.0, 2 * statistics.median(active))
        total = sum(min(x, cap) for x in vals)
        rate = 30.0 * total / m
        group = self._peer_group(lambda g, own: rates.busiest(g, own, self.peer_rank), st, rid, groups)
        if group is None:
            return None
        team, n, peer = group
        usual = max(self.peer_floor, peer)
        expected = usual * m / 30.0
        if rate < self.peer_times * usual or total - expected < self.peer_excess:
            return None
        return Finding(
            key=f"L{hr.last_day}" if hr.last_day is not None else f"N{start}",
            observed=len(active),
            threshold=self.min_days,
            window_start=fs,
            window_end=last,
            evidence=s.evidence(fs, day),  # the latest of the drip (the series keeps the last few ids)
            baseline={"peers": n, "peer_rate_30d": round(peer, 1), "rank": self.peer_rank},
            ratio=min(self.ratio_cap, rate / usual),
            day=day,  # judged today, in the departure period (the days before the notice are the evidence)
            extra={"period_days": m, "total": round(total, 1), "expected": round(expected, 1),
                   "excess": round(total - expected, 1), "evidence_before_notice": None,
                   "basis": f"their peers' ({team}, {n} others)",
                   "normal": f"the {_ordinal(self.peer_rank)} busiest peer's rate ({usual:.1f} per 30 days) gives",
                   "detail": f"{rate:.1f} per 30 days, {rate / usual:.1f}x ({self.peer_times:g}x needed); no own "
                             f"history before {day_date(fs).isoformat()}",
                   "when": "before the notice", "peer_group": team, "rate_30d": round(rate, 1)},
        )

    def _check(self, s: Series, hr: HRView, today: int, st: EmployeeState) -> Finding | None:
        import math

        p = self.period(hr, today)
        if p is None:
            return None
        start, end = p
        fs = int(st.extra.get("fs", start))
        onsets = range(max(start - self.onset_days, fs + self.min_ref_days), start + 1)
        if not onsets:
            return None
        penalty = math.log10(len(onsets))
        lo = onsets[0] - self.ref_days
        vals = [float(s.days.get(d, 0.0)) for d in range(lo, end + 1)]
        present = None
        if self.presence:
            present = away_dropped(present_days(st, self.presence, lo - self.away_days + 1, end), vals,
                                   self.away_days)
        notice = hr.notice_from if hr.notice_from is not None else (hr.last_day + 1 if hr.last_day is not None
                                                                    else end + 1)
        best: tuple[float, dict[str, Any]] | None = None
        before = 0.0  # the best evidence from the days before the notice alone
        for onset in onsets:
            got = self._test(vals, lo, fs, onset, end, present)
            if got is None:
                continue
            ev, t = got
            if t["excess"] >= self.min_excess and (best is None or ev > best[0]):
                best = got
            if onset < notice:
                pre = self._test(vals, lo, fs, onset, min(end, notice - 1), present)
                if pre is not None and pre[1]["excess"] >= self.min_excess:
                    before = max(before, pre[0])
        if best is None:
            return None
        evidence, t = best[0] - penalty, best[1]
        if evidence < self.min_evidence:
            return None
        raw = min(self.ratio_cap, (t["k"] / t["m"]) / t["share"])
        before -= penalty
        why: dict[str, Any] = {}
        if before >= self.min_evidence:
            ratio: float | None = raw
            when = "before the notice"
        else:
            if (self.unexplained and today <= end and st.extra.get(self.unexplained) is not None
                    and unexplained_share(st, self.unexplained) is None):
                return None  # the observer has begun to judge the notice's downloads: wait for enough of them
            ratio, why = _regraded(raw, st, self.unexplained, t["excess"], self.min_excess)
            if not self.notice_grade and ratio is not None:
                ratio = min(ratio, LOW_BELOW * 0.99)
            when = "in the notice, where handovers look the same (graded low)" if not self.notice_grade else \
                "in the notice"
        return Finding(
            key=f"L{hr.last_day}" if hr.last_day is not None else f"N{start}",
            observed=t["k"],
            threshold=self.min_days,
            window_start=t["onset"],
            window_end=end,
            evidence=s.evidence(t["onset"], end),
            baseline={"days": t["n"], "usual_day": t["usual_day"], "mean": round(t["mean"], 2),
                      "days_above": t["k_ref"], "share": round(t["share"], 4)},
            ratio=ratio,
            day=max((d for d in s.days if t["onset"] <= d <= end), default=end),
            extra={**why, "period_days": t["m"], "ref_days": t["n"], "ref_days_above": t["k_ref"],
                   "usual_day": _num_str(t["usual_day"]), "evidence": round(evidence, 1),
                   "evidence_before_notice": round(max(before, 0.0), 1), "when": when,
                   "total": round(t["total"], 1), "expected": round(t["mean"] * t["m"], 1),
                   "excess": round(t["excess"], 1),
                   "basis": f"the employee's usual day ({_num_str(t['usual_day'])})", "normal": "their normal",
                   "detail": f"before, on {t['k_ref']} of {t['n']} days; a chance of 1 in 10^{round(evidence, 1)} "
                             "under their own normal"},
        )


def _binomial_tail_fast(k: int, m: int, p: float) -> float:
    """:func:`binomial_tail` by the ratio of successive terms (floats, no big integers).

    >>> abs(_binomial_tail_fast(12, 40, 0.1) - binomial_tail(12, 40, 0.1)) < 1e-12, _binomial_tail_fast(0, 5, 0.3)
    (True, 1.0)
    """
    import math

    if k <= 0:
        return 1.0
    if k > m:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_term = (math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1) + k * math.log(p)
                + (m - k) * math.log1p(-p))
    term = math.exp(log_term)
    total, q = term, p / (1 - p)
    for i in range(k, m):
        term *= (m - i) / (i + 1) * q
        total += term
        if term < total * 1e-16:
            break
    return min(1.0, total)


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _num_str(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:.1f}"


@dataclass(frozen=True)
class OnEventTakeHome(OnEvent):
    """An :class:`OnEvent` that knows the last working day: on the last day (or after it, as a UTC day may
    hold a late evening), a day of uploads that is the employee's first in the departure period (``days``
    before the last day, or from the notice if earlier) is graded low. People take their own things home on
    their last day (photos, a CV, contacts); what was taken before it, or again and again, is what tells a theft
    (and other rules weigh it: :mod:`detectors.rules.web.personal_cloud_repeated_before_departure`). The days
    with a value in the last ``days`` + ``within_days`` days are kept for this (rare for most people), and for
    :meth:`lookback`: HR news of a departure re-reads the departure period's days."""

    days: int = 30

    def horizon(self, lookback_days: int) -> int:
        return self.days + self.within_days

    def compact(self, s: Series, today: int) -> None:
        """Nothing to drop: the days with uploads in the departure period are what the grade reads."""

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        """HR news that the employee is leaving re-reads the departure period's days (``days`` before the last
        day, or from the notice if earlier) that were judged under an earlier picture: someone terminated on the
        spot, or a resignation recorded late, uploaded while HR still said active, and those days were graded as
        a stayer's (low). Each such day is found again under the new picture, against the baseline it had; the
        engine raises the rule's episode once for it (an HR picture it was not raised under) and never twice
        for a day that alerted."""
        if not hr.leaving or hr.last_day is None:
            return []
        start = hr.departure_start(self.days)
        start = max(start, today - lookback_days)
        out = []
        for day in sorted(d for d in s.days if start <= d <= min(today, hr.last_day + 1)):
            f = self.check_day(s.as_of(day), hr, day, st, rid)
            if f is not None:
                out.append(f)
        return out

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        f = super().check_day(s, hr, day, st, rid)
        if f is None:
            return f
        f = dataclasses.replace(f, extra={**f.extra, "take_home": ""})
        # the last day, or its evening that a UTC day puts on the next
        if hr.last_day is None or not hr.last_day <= day <= hr.last_day + 1:
            return f
        start = hr.departure_start(self.days)
        if any(v > 0 for d, v in s.days.items() if start <= d < hr.last_day):
            return f
        ratio = LOW_BELOW * 0.99 if f.ratio is None else min(f.ratio, LOW_BELOW * 0.99)
        return dataclasses.replace(f, ratio=ratio, extra={
            **f.extra, "take_home": "; the first in the departure period, on the last working day: a take-home "
                                    "(graded low)"})


#: Absences (runs of days without being seen) shorter than this are not kept by :func:`mark_present`: the
#: rules judge only longer ones (``SustainedAbove.away_days`` is at least this; a weekend is no absence).
ABSENCE_MIN = 3
#: How far back from the last day seen a presence record keeps absences: more than the 90 days a rule reads.
PRESENCE_DAYS = 120


def mark_present(st: EmployeeState, key: str, day: int) -> None:
    """Notes in ``st.extra[key]`` that the employee was seen on ``day``. The record is the last day seen, then
    the absences of :data:`ABSENCE_MIN` or more days (first and last day of each) within :data:`PRESENCE_DAYS`
    before it: ``[last, start, end, ...]``, or the last day alone (an int) when there is none, the common case.
    A day seen late splits the absence it falls in. Days before the first day seen count as present.

    >>> st = EmployeeState(); mark_present(st, "dp", 100); mark_present(st, "dp", 102); st.extra["dp"]
    102
    >>> mark_present(st, "dp", 110); st.extra["dp"], present_days(st, "dp", 101, 111)
    ([110, 103, 109], [True, True, False, False, False, False, False, False, False, True, False])
    >>> mark_present(st, "dp", 105); st.extra["dp"]  # seen late: 103-104 is too short to keep, 106-109 stays
    [110, 106, 109]
    >>> mark_present(st, "dp", 110 + PRESENCE_DAYS); st.extra["dp"]  # 106-109 is out of reach now
    [230, 111, 229]
    """
    rec = st.extra.get(key)
    if rec is None:
        st.extra[key] = day
        return
    last, runs = (rec, []) if isinstance(rec, int) else (rec[0], rec[1:])
    if day > last:
        if day - last - 1 >= ABSENCE_MIN:
            runs += [last + 1, day - 1]
        last = day
        while runs and runs[1] < day - PRESENCE_DAYS:
            del runs[:2]
    elif day < last:
        for i in range(0, len(runs), 2):
            a, b = runs[i], runs[i + 1]
            if a <= day <= b:
                runs[i : i + 2] = [x for lo, hi in ((a, day - 1), (day + 1, b)) if hi - lo + 1 >= ABSENCE_MIN
                                   for x in (lo, hi)]
                break
    st.extra[key] = [last, *runs] if runs else last


def present_days(st: EmployeeState, key: str, lo: int, hi: int) -> list[bool]:
    """Whether the employee was seen on each day from ``lo`` to ``hi`` (:func:`mark_present`), as far as the
    rules read it: a day after the last day seen is not, a day in a kept absence is not, any other is (a
    gap shorter than :data:`ABSENCE_MIN` days reads as present). No record (a state from before the record
    existed): every day is present, which judges it as every calendar day was judged before."""
    rec = st.extra.get(key)
    if rec is None:
        return [True] * (hi - lo + 1)
    last, runs = (rec, []) if isinstance(rec, int) else (rec[0], rec[1:])
    return [d <= last and not any(runs[i] <= d <= runs[i + 1] for i in range(0, len(runs), 2))
            for d in range(lo, hi + 1)]


def away_dropped(seen: list[bool], vals: list[float], run: int) -> list[bool]:
    """Which days of ``vals`` are judged: not those in a run of at least ``run`` days without being seen and
    without any amount (an absence). ``seen`` starts ``run`` - 1 days before ``vals`` (a run may begin before).

    >>> away_dropped([True, True] + [True, False, False, True, False, False, False, True], [0.0] * 8, 3)
    [True, True, True, True, False, False, False, True]
    """
    pad = run - 1
    quiet = [not p for p in seen]
    for i, v in enumerate(vals):
        if v > 0:
            quiet[pad + i] = False
    out = [True] * len(vals)
    i = 0
    while i < len(quiet):
        j = i
        while j < len(quiet) and quiet[j]:
            j += 1
        if j - i >= run:
            for k in range(max(i, pad), j):
                out[k - pad] = False
        i = max(j, i + 1)
    return out
