"""``hr.departure_propensity``: how likely an employee is to hand in their notice, from HR signals alone.

Learned online per employee from ``hr.signals`` (CONTRACT.md 4) and HR records, and explained in HR's terms:

- **attendance**: late arrivals, early leaves and absences per week against the person's own usual week
  (exponentially weighted, the last three weeks kept apart so they do not teach it, an anomalous week
  teaching it a quarter as much) and their department's;
  a week counts as anomalous at ``max(2, own + 2 sd, peers + 1)``; the factor is the run of anomalous weeks
  ("3 weeks running");
- **performance**: the latest review score against the best of the reviews five weeks to six months
  earlier ("down 25%"; a drop of 20% is one unit);
- **leave**: leave requests in the last 60 days against the person's own rate before
  (one unit: up by half, and by at least two requests);
- **satisfaction**: the mean of the last two pulse surveys against the person's own mean at least ten weeks
  earlier, beyond
  what the scatter of their own answers explains (1.5 points beyond it is one unit), and the department's
  mean. Without three own answers to fall from (a new hire, a company whose HR data start with the
  monitoring), the answers' place among the company's own answers instead (:meth:`PropensityModel.survey_place`:
  on the survey's own scale, evidence growing with the number of answers).

The five units go into a scorecard, ``p = 1 / (1 + exp(-(b0 + sum w_i x_i)))``, whose weights were fitted by
logistic regression to the event "notice within the next 90 days" on training companies only (generated seeds
101 and 102 of the six profiles), so ``p`` reads as that probability. ``exitwatch/evaluate_propensity.py``
measures it on held-out companies and seeds (ranking, calibration, early warning) and compares it with an
online River ``LogisticRegression`` learning from the notices as they come.

The alert level is relative to the company (:class:`StayerLevel`): the propensity that only
``EXITWATCH_PROPENSITY_STAYER_RATE`` of its employees who stay reach in four weeks, learned online from every
employee's highest propensity per four-week block once 90 days passed after it without a notice; until
enough blocks are known, and with the rate 0, the absolute ``EXITWATCH_PROPENSITY_LEVEL``. The rate was chosen
on the training companies only. An alert goes to ``alerts.hr`` only (``detectors/routing.py``) when ``p``
crosses the level in force for someone not yet leaving, once per crossing (it re-arms when ``p`` falls below
80% of the level), with the factors, the numbers behind them, and the level and its basis. It never adds to the security risk
score and never marks a day as flagged for the security baselines; it does mark the employee as *possibly
leaving* (``st.extra["pl"]``) for 30 days: the departure-anchored rules then look at them through a provisional
departure window, at severity ``low`` (:func:`detectors.engine.possibly_leaving_view`).

Per employee the state is a few dozen numbers in ``st.extra["hp"]``; the shared part is the department means.

>>> from detectors.state import EmployeeState
>>> from detectors.context import HRView
>>> from schemas import HRSignal
>>> m = PropensityModel(level=0.5)
>>> st = EmployeeState()
>>> out = m.on_signal("E1", st, HRView(status="active"), HRSignal.model_validate(
...     {"employee_id": "E1", "ts": "2026-03-02T09:20:00Z", "signal": "late_arrival"}))
>>> out, 0 < st.extra["hp"]["p"] < 0.1
([], True)
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

from detectors.context import HRView, day_date
from detectors.offboarding import signal_ref
from detectors.rule import Finding
from detectors.state import EmployeeState, day_of

ID = "hr.departure_propensity"
STATE_VERSION = 2
KEY = "hp"  # st.extra key of the per-employee state
ATTENDANCE = frozenset({"late_arrival", "early_leave", "absence"})
FACTORS = ("attendance", "performance", "leave", "satisfaction", "absence")

#: The scorecard: logistic regression of "notice within 90 days" on weekly snapshots of the 12 training companies
#: only (generated seeds 101 and 102 of the six profiles, 1,000 people, 120 days; reports/propensity/NOTES.md).
WEIGHTS: dict[str, float] = {
    "intercept": -4.937,
    "attendance": 1.023,
    "performance": 2.294,
    "leave": 0.753,
    "satisfaction": 1.618,
    "absence": 2.017,
}
#: Share of the employees who stay that the level lets the propensity flag in four weeks: the largest rate that kept
#: the stayers flagged at or under 4% on every training company (setting ``EXITWATCH_PROPENSITY_STAYER_RATE``;
#: 0: the absolute level always).
STAYER_RATE = 0.006


@dataclass(frozen=True)
class PropensityMeta:
    """What the engine needs to emit the alert; ``security=False``: no risk, no flagged day."""

    id: str = ID
    version: str = "1"
    severity: str = "low"
    score: float = 50.0
    title: str = (
        "Departure propensity {observed:.0%} (level {threshold:.0%}): {factors_text}"
    )
    description: str = "Likelihood of a notice within 90 days from attendance, performance, leave and surveys"
    security: bool = False
    staying_cap: str | None = None


META = PropensityMeta()


#: Absences: the recent window, the own history it is compared with (days), and the absence days kept.
ABSENCE_WINDOW, ABSENCE_PRIOR, ABSENCE_KEEP = 56, 180, 24

#: Days of own signals before an employee's scores teach the company's level: the longest own history a factor
#: compares with (absence: eight weeks before its eight-week window). Before it, every factor reads low (nothing
#: to compare with), and a level learned from those weeks would be far too low for people whose history is known.
WARM_DAYS = ABSENCE_WINDOW + 56

#: Survey answers of the company kept to place a new answer among (its own scale, whatever the survey's range), the
#: answers needed before a place means anything, the days of a person's answers read against it.
SURVEY_KEEP, SURVEY_MIN, SURVEY_DAYS = 2000, 30, 180

#: A block of the population level: four weeks.
BLOCK_DAYS = 28
#: Blocks the population level is learned from (about a year).
KEEP_BLOCKS = 13
#: A block counts as a stayer's once this many days passed after it without a notice (the horizon of ``p``).
CONFIRM_DAYS = 90
#: Employee-blocks needed before the company's own level replaces the configured one.
MIN_BLOCKS = 100
#: The population level never goes below this probability (twice the usual chance of a notice in 90 days):
#: in a calm company the top few per cent are not a reason to tell HR anything.
FLOOR = 0.08
_NORMAL = NormalDist()
_BINS, _Z0, _DZ = 240, -8.0, 0.05  # histogram of logit(p) from -8 to 4 (p 0.0003 to 0.98)


def _bin(p: float) -> int:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return min(_BINS - 1, max(0, int((math.log(p / (1 - p)) - _Z0) / _DZ)))


def _edge(i: int) -> float:
    return 1.0 / (1.0 + math.exp(-(_Z0 + i * _DZ)))


def quantile_level(counts: list[int], rate: float, fallback: float, floor: float = FLOOR) -> float:
    """The lower edge of the histogram bin holding the ``1 - rate`` quantile, at least ``floor``; ``fallback``
    with fewer than :data:`MIN_BLOCKS` values or ``rate`` 0."""
    n = sum(counts)
    if rate <= 0 or n < MIN_BLOCKS:
        return fallback
    below, i = 0, 0
    while i < _BINS - 1 and below + counts[i] <= (1 - rate) * n:
        below += counts[i]
        i += 1
    return max(floor, _edge(i))


class StayerLevel:
    """The alert level relative to the company: the propensity that only ``rate`` of its employees who stay
    reach in four weeks.

    Every employee's highest propensity in each four-week block (:data:`BLOCK_DAYS`, the same blocks for all)
    is kept with the employee until :data:`CONFIRM_DAYS` have passed after it without a notice (blocks of the
    employee's first :data:`WARM_DAYS` of signals are not kept: their factors have no history yet): then it is a
    stayer's, and goes into the histogram of its block (a notice drops the blocks still waiting, so the drift
    of people about to leave never raises the level for everyone else). The level is the ``1 - rate`` quantile
    of the last :data:`KEEP_BLOCKS` blocks, never below ``floor``; until :data:`MIN_BLOCKS` employee-blocks are
    known, ``fallback`` (the configured absolute level).

    >>> lv = StayerLevel(rate=0.1, fallback=0.25)
    >>> for i in range(200):
    ...     lv.add(0, 0.01 if i < 180 else 0.5)
    >>> lv.level(BLOCK_DAYS * 2) > 0.4, lv.level(BLOCK_DAYS * 2) <= 0.5
    (True, True)
    >>> for i in range(2000):
    ...     lv.add(1, 0.01)
    >>> round(lv.level(BLOCK_DAYS * 2), 2)
    0.08
    """

    def __init__(self, rate: float, fallback: float, floor: float = FLOOR) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"propensity stayer rate {rate} must be in [0, 1) (a share of employees)")
        self.rate, self.fallback, self.floor = rate, fallback, floor
        self.hist: dict[int, list[int]] = {}
        self._cache: tuple[int, float] = (-1, fallback)

    def add(self, block: int, p: float) -> None:
        self.hist.setdefault(block, [0] * _BINS)[_bin(p)] += 1
        self._cache = (-1, self._cache[1])

    def counts(self, day: int) -> list[int]:
        """The histogram the level on ``day`` is taken from (the completed blocks of the last year)."""
        cur = day // BLOCK_DAYS
        for b in [b for b in self.hist if b < cur - KEEP_BLOCKS]:
            del self.hist[b]
        counts = [0] * _BINS
        for b, h in self.hist.items():
            if cur - KEEP_BLOCKS <= b < cur:
                counts = [x + y for x, y in zip(counts, h)]
        return counts

    def level(self, day: int) -> float:
        """The level in force on ``day`` (computed once a day)."""
        if self._cache[0] == day:
            return self._cache[1]
        lv = quantile_level(self.counts(day), self.rate, self.fallback, self.floor)
        self._cache = (day, lv)
        return lv

    def basis(self, day: int) -> str:
        lv = self.level(day)
        if lv == self.fallback and (self.rate == 0 or self._n(day) < MIN_BLOCKS):
            return "configured level (the company's own is not known yet)"
        return (f"reached in four weeks by the top {self.rate:.2%} of the employees who stayed"
                + (f" (floor {self.floor:.0%})" if lv == self.floor else ""))

    def _n(self, day: int) -> int:
        return sum(self.counts(day))


def _ewm(n: int, mean: float, var: float, x: float, memory: int = 26) -> tuple[int, float, float]:
    n += 1
    a = 1.0 / min(n, memory)
    d = x - mean
    mean += a * d
    var = (1 - a) * (var + a * d * d)
    return n, mean, var


class PropensityModel:
    """Per-employee HR-signal features, a fitted scorecard, and the department means they are compared with.

    >>> m = PropensityModel(); m.id, m.level
    ('hr.departure_propensity', 0.25)
    """

    id = ID

    def __init__(self, level: float = 0.25, weights: dict[str, float] | None = None,
                 stayer_rate: float = STAYER_RATE) -> None:
        if not 0 < level < 1:
            raise ValueError(f"propensity level {level} must be between 0 and 1 (a probability)")
        self.level = level
        self.weights = dict(weights or WEIGHTS)
        #: the level relative to the company (``stayer_rate`` 0: ``level`` always)
        self.population = StayerLevel(stayer_rate, level)
        #: department -> [n, mean weekly attendance count]; department -> [n, mean survey]
        self.peer_att: dict[str, list[float]] = {}
        self.peer_sv: dict[str, list[float]] = {}
        #: the company's last survey answers (oldest first) and their counts by value: a new answer's place
        self.sv_all: list[float] = []
        self.sv_count: dict[float, int] = {}
        #: Optional ``sink(employee_id, day, p, features)`` after every update (evaluation).
        self.sink: Any = None

    # ------------------------------------------------------------ persistence of the shared parts
    def state_dict(self) -> bytes:
        return pickle.dumps({"v": STATE_VERSION, "att": self.peer_att, "sv": self.peer_sv,
                             "lv": self.population.hist, "sva": self.sv_all})

    def load_state_dict(self, data: bytes) -> None:
        o = pickle.loads(data)  # noqa: S301 - our own checkpoint
        if o.get("v") not in (1, STATE_VERSION):
            raise ValueError(f"{ID}: state version {o.get('v')} is not {STATE_VERSION}")
        self.peer_att, self.peer_sv = o["att"], o["sv"]
        self.population.hist = o.get("lv", {})  # version 1: learned again
        self.sv_all = list(o.get("sva", []))
        self.sv_count = {}
        for v in self.sv_all:
            self.sv_count[v] = self.sv_count.get(v, 0) + 1

    # ------------------------------------------------------------ engine hooks
    def observe(self, emp: str, st: EmployeeState, hr: HRView, event: Any, day: int, t: float) -> list[Any]:
        return []  # activity does not feed the propensity (HR data only)

    def on_hr(self, emp: str, st: EmployeeState, hr: HRView, record: Any) -> list[Any]:
        s = st.extra.get(KEY)
        if hr.leaving and s is not None:  # a leaver's blocks never become a stayer's
            s.pop("bp", None)
            s.pop("bm", None)
        return []

    def on_signal(self, emp: str, st: EmployeeState, hr: HRView, signal: Any) -> list[tuple[Any, Finding]]:
        if signal.signal not in ATTENDANCE and signal.signal not in (
                "leave_request", "performance_review", "survey"):
            return []
        day = day_of(signal.ts.timestamp())
        s = st.extra.get(KEY)
        if s is None:
            s = st.extra[KEY] = {"s": day, "w": day // 7, "c": 0, "r": [], "n": 0, "m": 0.0, "v": 0.0,
                                 "lr": [], "pf": [], "sv": [], "ev": []}
        dept = hr.department or "?"
        self._roll(s, day, dept)
        name = signal.signal
        if name in ATTENDANCE:
            if day // 7 == s["w"]:
                s["c"] += 1
            if name == "absence":
                ab = s.setdefault("ab", [])
                ab.append(day)
                s["ab"] = [d for d in ab if d > day - ABSENCE_WINDOW - ABSENCE_PRIOR][-ABSENCE_KEEP:]
        elif name == "leave_request":
            s["lr"].append(day)
            s["lr"] = [d for d in s["lr"] if d > day - 240][-16:]
        elif name == "performance_review" and isinstance(signal.value, (int, float)):
            s["pf"].append([day, float(signal.value)])
            del s["pf"][:-5]
        elif name == "survey" and isinstance(signal.value, (int, float)):
            s["sv"].append([day, float(signal.value)])
            del s["sv"][:-8]
            ps = self.peer_sv.setdefault(dept, [0, 0.0])
            ps[0] += 1
            ps[1] += (float(signal.value) - ps[1]) / min(ps[0], 200)
            z = self.survey_place(float(signal.value))
            if z is not None:
                s.setdefault("sz", []).append([day, z])
                del s["sz"][:-8]
        s["ev"].append(signal_ref(signal))
        del s["ev"][:-6]
        feats = self.features(s, day, dept)
        p = self.probability(feats)
        s["p"] = round(p, 4)
        if not hr.leaving:
            self._block(s, day, p)
        level = self.population.level(day)
        if self.sink is not None:
            self.sink(emp, day, p, feats, level)
        return self._maybe_alert(st, s, hr, day, p, feats, level)

    def _block(self, s: dict[str, Any], day: int, p: float) -> None:
        """The highest propensity of the employee's current four-week block; a finished block waits with the
        employee until :data:`CONFIRM_DAYS` passed without a notice, then goes to the population level."""
        if day - s["s"] < WARM_DAYS:
            return  # the factors lack the own history they compare with: such scores do not teach the level
        b = day // BLOCK_DAYS
        bm = s.get("bm")
        if bm is not None and bm[0] < b:
            s.setdefault("bp", []).append(bm)
            del s["bp"][:-(CONFIRM_DAYS // BLOCK_DAYS + 2)]
            bm = None
        bp = s.get("bp")
        while bp and (bp[0][0] + 1) * BLOCK_DAYS + CONFIRM_DAYS <= day:
            ob, op = bp.pop(0)
            self.population.add(int(ob), op)
        if bm is None:
            s["bm"] = [b, round(p, 4)]
        elif p > bm[1]:
            bm[1] = round(p, 4)

    # ------------------------------------------------------------ features
    def survey_place(self, v: float) -> float | None:
        """A survey answer's place among the company's recent answers, as a normal score (mid-rank: ties share
        it; negative: lower than most), then the answer joins them. ``None`` until :data:`SURVEY_MIN` answers are
        known. The survey's own scale decides nothing: 3 on a 0-10 survey where most answer 7 is low, 3 on a 1-5
        survey where most answer 3 is not.

        >>> m = PropensityModel()
        >>> [m.survey_place(x) for x in [7.0] * 20 + [6.0, 8.0] * 5] [-1] is None
        True
        >>> round(m.survey_place(3.0), 2), round(m.survey_place(7.0), 2)
        (-2.14, 0.04)
        """
        n = len(self.sv_all)
        z = None
        if n >= SURVEY_MIN:
            below = sum(c for x, c in self.sv_count.items() if x < v)
            q = (below + (self.sv_count.get(v, 0) + 1) / 2) / (n + 1)
            z = _NORMAL.inv_cdf(q)
        self.sv_all.append(v)
        self.sv_count[v] = self.sv_count.get(v, 0) + 1
        if n + 1 > SURVEY_KEEP:
            old = self.sv_all.pop(0)
            self.sv_count[old] -= 1
            if not self.sv_count[old]:
                del self.sv_count[old]
        return z

    def _roll(self, s: dict[str, Any], day: int, dept: str) -> None:
        """Close the weeks before ``day``'s week: the oldest of the last three teaches the own baseline."""
        w = day // 7
        if w <= s["w"]:
            return
        closing = [s["c"]] + [0] * min(w - s["w"] - 1, 8)
        for c in closing:
            s["r"].append(c)
            pa = self.peer_att.setdefault(dept, [0, 0.0])
            pa[0] += 1
            pa[1] += (c - pa[1]) / min(pa[0], 2000)
            if len(s["r"]) > 3:
                old = s["r"].pop(0)
                # an anomalous week teaches the usual week only a quarter as much (a long drift must not
                # become the new normal within weeks; a lasting change still does, slowly)
                if s["n"] >= 4 and self._anomalous(s, old, dept):
                    mean, var = s["m"], s["v"]
                    _, m2, v2 = _ewm(s["n"], mean, var, old)
                    s["m"], s["v"] = mean + (m2 - mean) / 4, var + (v2 - var) / 4
                else:
                    s["n"], s["m"], s["v"] = _ewm(s["n"], s["m"], s["v"], old)
        s["w"], s["c"] = w, 0

    def _anomalous(self, s: dict[str, Any], c: float, dept: str) -> bool:
        own = s["m"] + 2 * math.sqrt(s["v"] + 0.25) if s["n"] >= 4 else 3.0
        peer = self.peer_att.get(dept, [0, 0.0])[1] + 1
        return c >= max(2.0, own, peer)

    def features(self, s: dict[str, Any], day: int, dept: str) -> dict[str, Any]:
        """The five factors in units (1 = the level HR names) plus the numbers behind them."""
        # attendance: weeks running (the current week counts once it is anomalous already)
        run = 1 if self._anomalous(s, s["c"], dept) else 0
        for c in reversed(s["r"]):
            if not self._anomalous(s, c, dept):
                break
            run += 1
        recent = s["r"][-3:]
        # and how far the last three weeks lie above the usual week (own, or the department's while the own
        # history is short), in units of two of the own standard deviations of a 3-week mean
        usual = s["m"] if s["n"] >= 4 else self.peer_att.get(dept, [0, 1.0])[1]
        sd3 = math.sqrt((s["v"] if s["n"] >= 4 else max(1.0, usual)) / 3 + 0.1)
        mean3 = (sum(recent) + s["c"]) / (len(recent) + 1) if recent else 0.0  # (first week: no weeks to mean yet)
        att_x = min(max(0.0, mean3 - usual - 0.5) / (2 * sd3), 3.0) + min(run, 6) / 6.0
        # performance: latest against the review 45-100 days before it
        perf_x, perf_drop, perf_then, perf_now = 0.0, 0.0, None, None
        if s["pf"]:
            d_now, perf_now = s["pf"][-1]
            before = [v for d, v in s["pf"] if d_now - 200 <= d <= d_now - 35]
            if before and max(before) > 0:
                perf_then = max(before)  # the level of the last six months, at least five weeks back
                perf_drop = (perf_then - perf_now) / perf_then
                perf_x = min(max(0.0, perf_drop) / 0.2, 3.0)
        # leave: requests in the last 60 days against the own rate before (per 60 days)
        lr = s["lr"]
        recent_lr = sum(1 for d in lr if d > day - 60)
        span = max(0, min(180, day - 60 - s["s"]))
        prior = sum(1 for d in lr if day - 60 - span < d <= day - 60)
        prior_rate = prior * 60 / span if span >= 60 else None
        # one unit: up by half and by at least two requests (small counts are noisy)
        usual = prior_rate if prior_rate is not None else 1.0  # a typical employee: ~6 requests a year
        leave_x = min(max(0.0, recent_lr - usual) / max(0.5 * usual, 2.0), 3.0)
        # satisfaction: last two surveys against the own earlier mean and the department's
        sv = s["sv"]
        sat_x, sat_now, sat_before = 0.0, None, None
        if len(sv) >= 3:
            sat_now = (sv[-1][1] + sv[-2][1]) / 2
            # against the answers at least ten weeks older (a slow fall must not hide in its own baseline)
            before_v = [v for d, v in sv[:-2] if d <= sv[-1][0] - 70] or [v for _, v in sv[:-2]]
            sat_before = sum(before_v) / len(before_v)
            # survey answers scatter by about a point: the part of the fall that the scatter of the own earlier
            # answers (at least 0.8) does not explain counts, 1.5 points of it as one unit
            k = len(before_v)
            var = sum((v - sat_before) ** 2 for v in before_v) / (k - 1) if k > 1 else 1.0
            noise = math.sqrt(max(var, 0.64) * (0.5 + 1.0 / k))
            sat_x = min(max(0.0, sat_before - sat_now - noise) / 1.5, 3.0)
        # without an own history to fall from (fewer than three answers), the answers' place among the company's:
        # their normal scores combined (Stouffer: one answer or four weigh as the evidence they are), the part
        # beyond one standard score of chance counting, one more standard score as one unit (an answer lower
        # than about 98% of the company's is one unit)
        sat_place = None
        sz = [z for d, z in s.get("sz", []) if d > day - SURVEY_DAYS]
        if len(sv) < 3 and sz:
            sat_place = sum(sz) / math.sqrt(len(sz))
            sat_x = min(max(0.0, -sat_place - 1.0), 3.0)
        # absence: absences in the last eight weeks against the own rate in the six months before, as a surprise
        # under a Poisson count (lateness is common and noisy; absences are rare, so a few more stand out)
        ab = s.get("ab", [])
        abs_recent = sum(1 for d in ab if d > day - ABSENCE_WINDOW)
        abs_x, abs_usual = 0.0, None
        span = max(0, min(ABSENCE_PRIOR, day - ABSENCE_WINDOW - s["s"]))
        if span >= 56:  # at least eight weeks of own history
            prior = sum(1 for d in ab if day - ABSENCE_WINDOW - span < d <= day - ABSENCE_WINDOW)
            abs_usual = prior * ABSENCE_WINDOW / span
            abs_x = max(0.0, (abs_recent - abs_usual) / math.sqrt(abs_usual + 1.0)) / 3.0
        peer_sat = self.peer_sv.get(dept, [0, None])[1]
        units = {"attendance": min(att_x, 2.0), "performance": min(perf_x, 2.0), "leave": min(leave_x, 2.0),
                 "satisfaction": min(sat_x, 2.0), "absence": min(abs_x, 2.0)}
        return {
            **units,
            "_att_run": run, "_att_week": s["c"], "_att_recent": list(recent), "_att_usual": round(s["m"], 2),
            "_att_peers": round(self.peer_att.get(dept, [0, 0.0])[1], 2),
            "_perf_then": perf_then, "_perf_now": perf_now, "_perf_drop": round(perf_drop, 3),
            "_leave_recent": recent_lr, "_leave_usual": None if prior_rate is None else round(prior_rate, 2),
            "_sat_now": sat_now, "_sat_before": None if sat_before is None else round(sat_before, 2),
            "_sat_place": None if sat_place is None else round(sat_place, 2), "_sat_answers": len(sz),
            "_sat_last": sv[-1][1] if sv else None,
            "_sat_peers": None if peer_sat is None else round(peer_sat, 2),
            "_abs_recent": abs_recent, "_abs_usual": None if abs_usual is None else round(abs_usual, 2),
        }

    def probability(self, f: dict[str, Any]) -> float:
        w = self.weights
        z = w["intercept"] + sum(w.get(k, 0.0) * f[k] for k in FACTORS)
        return 1.0 / (1.0 + math.exp(-z))

    # ------------------------------------------------------------ alert
    def explain(self, f: dict[str, Any]) -> list[dict[str, Any]]:
        """The factors behind a score, largest contribution first, each in HR's words with its numbers."""
        out = []
        w = self.weights
        if f["attendance"] > 0:
            out.append({"factor": "attendance", "contribution": round(w["attendance"] * f["attendance"], 2),
                        "text": (f"late arrivals, early leaves or absences above normal {f['_att_run']} week(s) "
                                 f"running (last weeks {f['_att_recent'] + [f['_att_week']]}; usually "
                                 f"{f['_att_usual']:g} a week, department {f['_att_peers']:g})")})
        if f["performance"] > 0:
            out.append({"factor": "performance", "contribution": round(w["performance"] * f["performance"], 2),
                        "text": (f"performance down {f['_perf_drop']:.0%} ({f['_perf_then']:g} in the last six "
                                 f"months to {f['_perf_now']:g} now)")})
        if f["leave"] > 0:
            usual = "not known" if f["_leave_usual"] is None else f"{f['_leave_usual']:g}"
            out.append({"factor": "leave", "contribution": round(w["leave"] * f["leave"], 2),
                        "text": f"{f['_leave_recent']} leave requests in 60 days (usually {usual})"})
        if f["satisfaction"] > 0 and f.get("_sat_place") is not None:
            share = _NORMAL.cdf(f["_sat_place"])
            out.append({"factor": "satisfaction", "contribution": round(w["satisfaction"] * f["satisfaction"], 2),
                        "text": (f"satisfaction low: {f['_sat_answers']} survey answer(s) lower than "
                                 f"{1 - share:.0%} of the company's (last {f['_sat_last']:g}; no own history "
                                 f"to compare with yet)")})
        elif f["satisfaction"] > 0:
            peers = "" if f["_sat_peers"] is None else f", department {f['_sat_peers']:g}"
            out.append({"factor": "satisfaction", "contribution": round(w["satisfaction"] * f["satisfaction"], 2),
                        "text": (f"satisfaction falling: {f['_sat_now']:g} in the last two surveys against "
                                 f"{f['_sat_before']:g} before{peers}")})
        if f["absence"] > 0:
            out.append({"factor": "absence", "contribution": round(w.get("absence", 0.0) * f["absence"], 2),
                        "text": (f"{f['_abs_recent']} absences in the last {ABSENCE_WINDOW // 7} weeks (usually "
                                 f"{f['_abs_usual']:g} in as long)")})
        out = [x for x in out if x["contribution"] > 0]  # only what raised the score is a reason
        out.sort(key=lambda x: -x["contribution"])
        return out

    def _maybe_alert(self, st: EmployeeState, s: dict[str, Any], hr: HRView, day: int, p: float,
                     f: dict[str, Any], level: float) -> list[tuple[Any, Finding]]:
        if p < level * 0.8:
            s.pop("x", None)  # re-armed
            return []
        if p < level or s.get("x") or hr.leaving:
            return []
        s["x"] = day
        st.extra["pl"] = [day, round(p, 3)]
        factors = self.explain(f)
        meta = replace(META, score=round(min(100.0, 100 * p), 1))
        return [(meta, Finding(
            key=f"P{day}",
            observed=round(p, 4),
            threshold=round(level, 4),
            evidence=list(s["ev"]),
            day=day,
            extra={
                "propensity": round(p, 4),
                "horizon_days": 90,
                "factors": factors,
                "factors_text": "; ".join(x["text"] for x in factors) or "no single factor",
                "possibly_leaving_from": day_date(day).isoformat(),
                "level": round(level, 4),
                "level_basis": self.population.basis(day),
                "model": "scorecard",
            },
        ))]
