"""Customer-data (CRM) access time on one day above twice the employee's own normal.

Value of an event: its ``duration_s`` when the source reports one; a CRM event without a duration counts as
``SECONDS_PER_ACCESS`` (60 s). So one series in one unit (seconds) measures both access time and, for sources
without session times, access volume, and the per-employee baseline compares like with like (one person's
CRM events come from the same source). Record counts are not added in: they are another unit, and large
record volumes are the job of ``crm.bulk_export_before_departure``.

Version 2 grades the day against the employee's department on the same day (``peers=True``,
:mod:`detectors.peerload`): at month end or in a campaign the whole department is above its usual, and the
ratio is divided by the department's. What fires is unchanged.

Version 3: for someone departing or on the watchlist, one busy day is not told on its own. Honest leavers hand
over their accounts: on six own profiles and three outside companies (seed 1, e6f5935) 11 honest leavers got a
medium alert for one day at 2-4.5x their usual (the alert is raised when the day crosses the limit, so it reads
"2-4x" whatever the day ends at), the same as the day of a thief who reads customer records in bulk. What
differs is that the thief comes back: a day above the limit is told as the second such day in 30 days, or alone
once it reaches 10x the usual (a light user's first hours in the CRM). For people who stay nothing changes
(``staying_cap`` keeps them ``low``).

Version 4 (issue 14) judges a leaver's busy day on the whole day, not at the minute it crosses the limit. The alert
was raised when the day passed the limit, so every such alert read "2-4x usual" whatever the day became: on the
six own profiles and three outside companies (seeds 1 and 2, main 07e039e) 13 honest leavers got a medium alert
for a second busy day, and the days of thieves reading customer records in bulk read the same at that minute. At
the end of the day they differ: the thieves' days (crm_access_spike, 24 of them) ended at 4.8-2000x their usual,
the honest leavers' at 2.0-4.8x (their usual: :func:`detectors.windows.usual`, the mean or half the usual big
day, whichever is larger). So for someone departing (not a provisional departure from the propensity) a day above
the limit is remembered (``ad``) and judged once it is over (the engine asks at the leaver's next input, or at
midnight after the last day: :meth:`WholeDay.on_clock`); it is told when its total reaches
:data:`DEPARTING_FACTOR` times the usual (a day "three times what I do" is the grade's own line between a modest
and a real rise, :func:`detectors.engine.grade`) and it is the ``repeat_days``-th such day in 30, or alone at
``alone_ratio``. A day that reaches ``alone_ratio`` before it is over is told at once, as before (a light user's
first hours in the CRM need no wait). The department's same day (``peers``) is not applied to a day judged
after it is over (the department's day is known only while it lasts); people who stay and people after their
last day are judged as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.examples import daily, hr
from detectors.rule import Example, Finding, Rule
from detectors.state import EmployeeState, Series
from detectors.windows import AboveBaseline, baseline_of, ratio_of, usual
from schemas import ActivityEvent

#: A leaver's day counts as busy when its total reaches this many times the usual (version 4).
DEPARTING_FACTOR = 3.0
#: ``st.extra``: a leaver's days above the limit waiting to be judged whole (at most WAIT_CAP).
WAIT, WAIT_CAP = "ad", 3


@dataclass(frozen=True)
class WholeDay(AboveBaseline):
    """``AboveBaseline`` that judges a departing employee's day above the limit once the day is over, on its
    total (see version 4)."""

    departing_factor: float = DEPARTING_FACTOR

    @staticmethod
    def _whole(hr: HRView, day: int) -> bool:
        return not hr.possibly_leaving and hr.departing(day, 30)

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        if not self._whole(hr, day) or s.n < self.min_history_days:
            return super().check_day(s, hr, day, st, rid)
        v = s.days.get(day, 0.0)
        if v <= self.limit(s):
            return None
        ratio = ratio_of(s, v, min_history=self.min_history_days)
        if ratio is not None and ratio >= self.alone_ratio:
            return super().check_day(s, hr, day, st, rid)  # far beyond anything they do: told at once
        wait: list[int] = st.extra.setdefault(WAIT, [])
        if day not in wait:
            wait.append(day)
            wait.sort()
            del wait[:-WAIT_CAP]
        return None

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        """The leaver's waiting days that are over (a later input, or midnight after the last day): judged on
        their totals, once each."""
        wait = st.extra.get(WAIT)
        if not wait or s is None:
            return None
        due = [d for d in wait if d < day]
        if not due:
            return None
        rest = [d for d in wait if d >= day]
        if rest:
            st.extra[WAIT] = rest
        else:
            del st.extra[WAIT]
        found = None
        for d in due:
            f = self.whole_day(s.as_of(d), hr, d)
            found = found or f
        return found

    def whole_day(self, s: Series, hr: HRView, day: int) -> Finding | None:
        """A day of a departing employee, over: told when it reached ``departing_factor`` times the usual and is
        the ``repeat_days``-th such day in ``within_days``, or reached ``alone_ratio``."""
        if s.n < self.min_history_days or not self._whole(hr, day):
            return None
        v = s.days.get(day, 0.0)
        lim = max(self.limit(s), self.departing_factor * usual(s))
        ratio = ratio_of(s, v, min_history=self.min_history_days)
        alone = ratio is not None and ratio >= self.alone_ratio
        if v <= lim and not alone:
            return None
        above = sum(1 for d, x in s.days.items() if day - self.within_days < d <= day and x > lim)
        if above < self.repeat_days and not alone:
            return None
        return Finding(
            key=f"D{day}",
            observed=round(v, 1),
            threshold=round(lim, 3),
            window_start=day,
            window_end=day,
            evidence=s.evidence(day, day),
            baseline=baseline_of(s),
            ratio=ratio,
            day=day,
            extra={"factor": self.factor, "days_above": above, "judged": "on the whole day"},
        )

#: Seconds an access without ``duration_s`` stands for.
SECONDS_PER_ACCESS = 60.0


def access_time_spike(e: ActivityEvent) -> float:
    if e.kind != "crm":
        return 0.0
    d = e.duration_s
    return SECONDS_PER_ACCESS if d is None else d


_HR = [hr("2026-01-01T09:00:00Z")]
_NOTICE = _HR + [hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-02-27", resignation_date="2026-02-02")]
# 30 normal days: 10 record views of 2 minutes = 1200 s a day.
_HISTORY = daily("2026-01-05", 30, per_day=10, action="view", duration_s=120.0)
# The leaver's next input, the morning after.
_NEXT_DAY = daily("2026-02-18", 1, per_day=1, hour=8, action="view", duration_s=60.0)

RULE = Rule(
    id="crm.access_time_spike",
    version="4",
    title=(
        "{observed:.0f} seconds of customer-data (CRM) access on {day}, {ratio_to_own_normal}x the employee's "
        "usual {baseline[mean]:.0f} seconds a day (limit {threshold:.0f}); {days_above} such day(s) in 30 days"
    ),
    description=__doc__,
    severity="medium",
    score=45,
    predicate=access_time_spike,
    kinds=("crm",),
    window=WholeDay(when="always", factor=2.0, z=3.0, min_value=1800.0, peers=True, repeat_days=2,
                    alone_ratio=10.0),
    runbook=(
        "List the accounts and reports opened that day (evidence); compare with the employee's territory and open "
        "deals; ask the manager whether a campaign, audit or quarter-end explains it; check for exports or "
        "personal mail the same day."
    ),
    false_positives=(
        "Quarter-end, pipeline reviews or a territory handover: graded low when the rise is small",
        "A CRM client left open all day when the source reports session length as duration",
    ),
    examples=(
        Example("40 two-minute views (4800 s) against a normal of 1200 s", True,
                _HISTORY + daily("2026-02-10", 1, per_day=40, action="view", duration_s=120.0), _HR),
        Example("2280 s is under twice the normal of 1200 s", False,
                _HISTORY + daily("2026-02-10", 1, per_day=19, action="view", duration_s=120.0), _HR),
        Example("without durations each access counts 60 s: 50 exports against a normal of 20", True,
                daily("2026-01-05", 30, per_day=20, action="api_query")
                + daily("2026-02-10", 1, per_day=50, action="report_export"), _HR),
        Example("in notice, one day at 4x the usual: a handover day, not told alone", False,
                _HISTORY + daily("2026-02-10", 1, per_day=40, action="view", duration_s=120.0), _NOTICE),
        Example("in notice, a second day at 4x within 30 days is told once it is over (the next input)", True,
                _HISTORY + daily("2026-02-10", 1, per_day=40, action="view", duration_s=120.0)
                + daily("2026-02-17", 1, per_day=40, action="view", duration_s=120.0) + _NEXT_DAY, _NOTICE),
        Example("in notice, the same second day with no later input is not told yet", False,
                _HISTORY + daily("2026-02-10", 1, per_day=40, action="view", duration_s=120.0)
                + daily("2026-02-17", 1, per_day=40, action="view", duration_s=120.0), _NOTICE),
        Example("in notice, two days that end at 2.5x the usual (above the limit of 2x): handover days", False,
                _HISTORY + daily("2026-02-10", 1, per_day=25, action="view", duration_s=120.0)
                + daily("2026-02-17", 1, per_day=25, action="view", duration_s=120.0) + _NEXT_DAY, _NOTICE),
        Example("the same two days for someone who stays: each above the limit is told (low)", True,
                _HISTORY + daily("2026-02-10", 1, per_day=25, action="view", duration_s=120.0), _HR),
        Example("in notice, one day at 15x the usual is told alone", True,
                _HISTORY + daily("2026-02-10", 1, per_day=150, action="view", duration_s=120.0), _NOTICE),
        Example("only 10 days of history: the baseline is not trusted yet", False,
                daily("2026-01-31", 10, per_day=10, action="view", duration_s=120.0)
                + daily("2026-02-10", 1, per_day=40, action="view", duration_s=120.0), _HR),
        Example("a small absolute amount (1500 s) stays under the 1800 s floor", False,
                daily("2026-01-05", 30, per_day=1, action="view", duration_s=300.0)
                + daily("2026-02-10", 1, per_day=5, action="view", duration_s=300.0), _HR),
    ),
)
