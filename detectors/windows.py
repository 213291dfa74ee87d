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

from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.rule import Finding
from detectors.state import EmployeeState, Series

#: Days of learned history before a baseline is trusted.
MIN_HISTORY_DAYS = 14
RATIO_CAP = 99.0
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


def ratio_of(s: Series, observed: float, per_days: int = 1, min_history: int = MIN_HISTORY_DAYS,
             relative_to: str = "mean") -> float | None:
    """How many times the employee's usual amount (over ``per_days`` days) ``observed`` is; None if unknown.

    ``relative_to="peak"`` compares with the employee's usual *big* day (the fading peak) instead of the
    daily mean: right for lumpy work such as a large export every few weeks."""
    if s.n < min_history:
        return None
    expected = s.top if relative_to == "peak" else s.mean * per_days
    if expected <= 1e-9:
        return RATIO_CAP
    return min(RATIO_CAP, observed / expected)


@dataclass(frozen=True)
class Window:
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
                f = self.check_day(s, hr, day, st, rid)
                if f is not None:
                    out.append(f)
        return out

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        return None

    def compact(self, s: Series, today: int) -> None:
        """Drop what can never make this window fire again (called once a day per employee)."""


@dataclass(frozen=True)
class BeforeLastDay(Window):
    days: int = 30
    threshold: float = 10
    evidence_cap: int = 12

    def horizon(self, lookback_days: int) -> int:
        return max(lookback_days, self.days)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if hr.last_day is None or not hr.within_days_of_last_day(day, self.days):
            return None
        return self._check(s, hr, day)

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        if hr.last_day is None or hr.last_day < today - lookback_days:
            return []
        f = self._check(s, hr, today)
        return [f] if f else []

    def _check(self, s: Series, hr: HRView, today: int) -> Finding | None:
        assert hr.last_day is not None
        end = hr.last_day
        start = end - self.days + 1
        total = s.total(start, end)
        if total <= self.threshold:
            return None
        # Unusualness against what this person normally does in as many days as have passed in the window.
        elapsed = max(1, min(end, today) - start + 1)
        return Finding(
            key=f"L{end}",
            observed=total,
            threshold=self.threshold,
            window_start=start,
            window_end=end,
            evidence=s.evidence(start, end),
            baseline=baseline_of(s),
            ratio=ratio_of(s, total, per_days=elapsed),
            day=max((d for d in s.days if start <= d <= end), default=end),
        )


@dataclass(frozen=True)
class AboveBaseline(Window):
    factor: float = 2.0
    z: float = 3.0
    min_value: float = 1.0
    min_history_days: int = MIN_HISTORY_DAYS

    def limit(self, s: Series) -> float:
        return max(self.factor * s.mean, s.mean + self.z * s.sd, self.min_value)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self.check_day(s.as_of(day), hr, day, st, rid)  # a late event: its day's own baseline

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        if s.n < self.min_history_days:
            return None
        v = s.days.get(day, 0.0)
        lim = self.limit(s)
        if v <= lim:
            return None
        return Finding(
            key=f"D{day}",
            observed=v,
            threshold=round(lim, 3),
            window_start=day,
            window_end=day,
            evidence=s.evidence(day, day),
            baseline=baseline_of(s),
            ratio=ratio_of(s, v, min_history=self.min_history_days),
            day=day,
            extra={"factor": self.factor},
        )


@dataclass(frozen=True)
class ConsecutiveDays(Window):
    when: str = "in_notice"
    days: int = 3
    min_per_day: float = 1

    def horizon(self, lookback_days: int) -> int:
        return max(super().horizon(lookback_days), self.days + 1)

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
        return Finding(
            key=f"R{first}",
            observed=day - run_start + 1,
            threshold=self.days,
            window_start=first,
            window_end=day,
            evidence=s.evidence(first, day),
            baseline=baseline_of(s),
            ratio=None,
            day=day,
            extra={"per_day": [s.days.get(d, 0.0) for d in range(first, day + 1)]},
        )


@dataclass(frozen=True)
class Sequence(Window):
    """The rule's ``first`` predicate marks the first step; its own predicate is the last step."""

    within_hours: float = 24 * 30
    min_first: int = 1
    then_min: float = 1.0  # the last step's total that day must reach this
    then_factor: float = 0.0  # ... and be this many times the employee's usual (0 = no baseline check)
    min_history_days: int = MIN_HISTORY_DAYS

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
        marks = [m for m in st.marks.get(rid, []) if t - self.within_hours * 3600 <= m[0] <= t]
        if len(marks) < self.min_first:
            return None
        v = s.days.get(day, 0.0)
        if v < self.then_min:
            return None
        ratio = ratio_of(s, v, min_history=self.min_history_days)
        if self.then_factor > 0 and ratio is not None and ratio < self.then_factor:
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
    relative_to: str = "mean"  # grading against the daily mean, or "peak": the usual big day

    def compact(self, s: Series, today: int) -> None:
        """A closed day below ``min_value`` can never fire on lookback: keep only the days that could."""
        low = [d for d, v in s.days.items()
               if d < today and v < self.min_value and (s.folded or 0) >= d and not s.refoldable(d)]
        if low:
            for d in low:
                del s.days[d]
            gone = set(low)
            s.ev = [x for x in s.ev if x[0] not in gone]

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        if not self.ok(hr, day):
            return None
        return self.check_day(s.as_of(day), hr, day, st, rid)  # a late event: its day's own baseline

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        v = s.days.get(day, 0.0)
        if v < self.min_value:
            return None
        return Finding(
            key=f"D{day}",
            observed=v,
            threshold=self.min_value,
            window_start=day,
            window_end=day,
            evidence=s.evidence(day, day),
            baseline=baseline_of(s),
            ratio=ratio_of(s, v, min_history=self.min_history_days, relative_to=self.relative_to),
            day=day,
        )


def describe(window: Any) -> str:
    return type(window).__name__
