"""How well the departure propensity ranks and warns: per generated company (profile and seed).

Runs ``hr.departure_propensity`` (:mod:`detectors.models.propensity`) through the detection core over a
company's ``hr.jsonl`` and ``signals.jsonl`` (activity is not needed) and measures, with the notice dates
from ``hr.jsonl`` (``resignation_date``) as the truth:

- **early warning**: the share of future leavers whose propensity reached the level at least 14 days (and at
  most 120 days) before their notice, against the share of people who stay whose propensity reached it at
  any time in the activity period (the "same period": the data's first to last day);
- **ranking** (AUC): weekly snapshots of every employee's propensity; positives are leavers' weeks 14 to 90
  days before their notice, negatives are stayers' weeks in the period;
- **calibration**: Brier score and a reliability table of ``p`` against "notice within 90 days" on the weekly
  snapshots whose 90 days are fully observed;
- **River, online**: the same five factors fed to River's ``LogisticRegression`` that learns as notices come
  in (a week's snapshot is learned once its 90 days have passed or a notice came; predicted before), scored
  the same way, to say whether the fitted scorecard or a model learning on site ranks better.

``exitwatch evaluate`` calls :func:`evaluate_propensity` and adds ``propensity.md``/``.json`` to its report;
``python -m exitwatch.evaluate_propensity --data DIR [--data DIR ...] --out reports/propensity`` writes one
report over several companies (how the committed figures are made).
"""

from __future__ import annotations

import argparse
import bisect
from dataclasses import dataclass
import datetime as dt
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from detectors.context import day_number
from detectors.engine import Engine, EngineConfig
from detectors.models.propensity import FACTORS, WEIGHTS, PropensityModel
from detectors.replay import merged

EARLY_DAYS = 14
#: Issue 18's goal: at least this share of future leavers flagged 14 days before their notice ...
GOAL_LEAVERS = 0.60
#: ... while flagging at most this share of the people who stay.
GOAL_STAYERS = 0.05
#: The stayer rates tried on the training companies (0.1% to 0.6% in steps of 0.05%).
RATES = tuple(i / 10000 for i in range(10, 61, 5))
WINDOW_DAYS = 90
#: Marks a factor unit whose satisfaction is the answers' place among the company's (no own history to fall from).
#: The weights are fitted on the factors as the own history reads them: that reading is put into the same units
#: by its definition, not fitted (on the training companies, whose HR data have six months of history, it only
#: appears in the first weeks of that history, when no notice is within 90 days, and would teach the
#: satisfaction weight that a low answer means nothing).
PLACE = "_sat_place"


def auc(pos: list[float], neg: list[float]) -> float | None:
    """Mann-Whitney AUC (ties count a half).

    >>> auc([0.9, 0.8], [0.1, 0.8])
    0.875
    """
    if not pos or not neg:
        return None
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    ranks = [0.0] * len(allv)
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    rp = sum(r for r, (_, lab) in zip(ranks, allv) if lab)
    return round((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)), 4)


def _load_hr(path: Path) -> tuple[dict[str, int], set[str]]:
    notice: dict[str, int] = {}
    everyone: set[str] = set()
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = orjson.loads(line)
            everyone.add(r["employee_id"])
            if r.get("status") in ("notice", "departed") and r["employee_id"] not in notice:
                nd = r.get("resignation_date") or r["ts"][:10]
                notice[r["employee_id"]] = day_number(nd)
    return notice, everyone


#: The signals the propensity reads, and those that carry a level it can compare (a survey answer, a review).
READ = frozenset({"late_arrival", "early_leave", "absence", "leave_request", "performance_review", "survey"})
SCORED = frozenset({"performance_review", "survey"})


def coverage(path: Path, notice: dict[str, int], stayers: list[str], start: int, end: int) -> dict[str, Any]:
    """What the company's HR signals let any model see, whatever its form: the signals the propensity reads per
    person and 30 days (leavers in their warning window, 120 to 14 days before the notice; stayers in the
    period), and the leavers with at least one survey answer or performance review in that window (without
    one, a leaver's satisfaction and performance are unknown before the notice, as the level of any score)."""
    per: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                r = orjson.loads(line)
                if r.get("signal") in READ:
                    per[r["employee_id"]].append((day_number(r["ts"][:10]), r["signal"]))
    first = min((d for v in per.values() for d, _ in v), default=start)  # the HR history's first day
    lo = {e: max(n - 120, first) for e, n in notice.items()}
    hi = {e: n - EARLY_DAYS for e, n in notice.items()}
    lsig = sum(1 for e in notice for d, _ in per.get(e, ()) if lo[e] <= d <= hi[e])
    lspan = sum(max(0, hi[e] - lo[e] + 1) for e in notice)
    scored = sum(1 for e in notice if any(lo[e] <= d <= hi[e] and k in SCORED for d, k in per.get(e, ())))
    ssig = sum(1 for e in stayers for d, _ in per.get(e, ()) if start <= d <= end)
    return {
        "leaver_signals_per_30d": round(30 * lsig / lspan, 2) if lspan else None,
        "stayer_signals_per_30d": round(30 * ssig / (len(stayers) * (end - start + 1)), 2) if stayers else None,
        "leavers_scored_in_window": scored,
    }


#: A company whose score and every factor alone rank the leavers' weeks within this of chance (0.5) carries no
#: HR signal the propensity can read: its goal is reported as "no signal", with the figures that show it.
NO_SIGNAL_AUC = 0.05


def no_signal(score_auc: float | None, factor_auc: dict[str, float | None]) -> bool:
    """Whether neither the score nor any factor alone ranks leavers above stayers by more than
    :data:`NO_SIGNAL_AUC` over chance (a factor that is never above zero ranks at exactly 0.5).

    >>> no_signal(0.53, {"attendance": 0.53, "performance": 0.5}), no_signal(0.69, {"attendance": 0.6})
    (True, False)
    """
    vals = [v for v in [score_auc, *factor_auc.values()] if v is not None]
    return bool(vals) and all(v < 0.5 + NO_SIGNAL_AUC for v in vals)


#: The HR signals looked at one by one (:func:`signal_auc`): counts, and answers whose level is compared.
COUNTED = ("absence", "late_arrival", "early_leave", "leave_request")
LEVELS = ("survey", "performance_review")


def signal_auc(path: Path, notice: dict[str, int], stayers: list[str], start: int,
               end: int) -> dict[str, dict[str, Any]]:
    """Whether each HR signal alone tells leavers from stayers, whatever a model makes of it: per person, leavers
    in their warning window within the period (``max(notice - 120, start)`` to ``notice - 14``) against stayers
    in the period; for counts the number per 30 days (more ranks higher, nobody is left out), for surveys and
    reviews the mean answer (lower ranks higher; people without an answer in their window are left out, and
    ``leavers`` says how many leavers had one). Within the period only, so that a history recorded differently
    (another rate of sick days before the data) does not pass for a difference.

    Returns ``{signal: {"auc": .., "leavers": .., "stayers": ..}}``."""
    per: dict[str, list[tuple[int, str, Any]]] = defaultdict(list)
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                r = orjson.loads(line)
                if r.get("signal") in READ:
                    per[r["employee_id"]].append((day_number(r["ts"][:10]), r["signal"], r.get("value")))
    windows = {e: (max(n - 120, start), n - EARLY_DAYS) for e, n in notice.items()}
    windows = {e: w for e, w in windows.items() if w[1] >= w[0]}
    windows.update({e: (start, end) for e in stayers})
    out: dict[str, dict[str, Any]] = {}
    for kind in COUNTED + LEVELS:
        vals: dict[bool, list[float]] = {True: [], False: []}
        for e, (lo, hi) in windows.items():
            got = [v for d, k, v in per.get(e, ()) if k == kind and lo <= d <= hi]
            if kind in LEVELS:
                nums = [float(v) for v in got if isinstance(v, (int, float))]
                if not nums:
                    continue
                vals[e in notice].append(-sum(nums) / len(nums))
            else:
                vals[e in notice].append(30 * len(got) / (hi - lo + 1))
        out[kind] = {"auc": auc(vals[True], vals[False]), "leavers": len(vals[True]), "stayers": len(vals[False])}
    return out


def hindsight_recall(leavers: list[float], stayers: list[float], share: float) -> float | None:
    """The share of leavers above the highest level that flags at most ``share`` of the stayers, each side by
    its highest score (leavers in the warning window, stayers in the period): what the best level chosen in
    hindsight on the company's own truth would give with this score, an upper bound for any level policy.

    >>> hindsight_recall([0.9, 0.5, 0.2], [0.1] * 18 + [0.6, 0.3], 0.05)  # 1 of 20 stayers may be flagged
    0.6667
    """
    if not leavers or not stayers:
        return None
    top = sorted(stayers, reverse=True)
    k = int(share * len(top) + 1e-9)
    level = top[k] if k < len(top) else -math.inf
    return round(sum(1 for v in leavers if v > level) / len(leavers), 4)


Series = dict[str, list[tuple[int, float, dict[str, float], float]]]


def run_model(data: Path, level: float, weights: dict[str, float] | None = None,
              stayer_rate: float | None = None) -> tuple[Series, list[Any], dict[int, list[int]]]:
    """Every employee's propensity after each signal: ``emp -> [(day, p, factor units, level in force)]``;
    the alerts; and per day the population histogram the level was taken from (to try other stayer rates)."""
    kw = {} if stayer_rate is None else {"stayer_rate": stayer_rate}
    model = PropensityModel(level=level, weights=weights, **kw)
    series: Series = defaultdict(list)
    daily: dict[int, list[int]] = {}

    def sink(emp: str, day: int, p: float, f: dict[str, Any], lv: float) -> None:
        units = {k: f[k] for k in FACTORS}
        if f.get("_sat_place") is not None:
            units[PLACE] = 1.0  # satisfaction read from the company's answers (no own history): not fitted
        series[emp].append((day, p, units, lv))
        if day not in daily:
            daily[day] = model.population.counts(day)

    model.sink = sink
    engine = Engine(rules=[], models=[model], config=EngineConfig(risk=False))
    alerts: list[Any] = []
    bad: list[str] = []
    counters = {"hr": 0, "signals": 0, "events": 0}
    for kind, obj in merged([data / "hr.jsonl"], [data / "signals.jsonl"], [],
                            lambda s, r, raw: bad.append(r), counters):
        alerts += engine.on_hr(obj) if kind == 0 else engine.on_signal(obj)
    return series, alerts, daily


@dataclass
class FeatureRun:
    """One company's factor units after every signal (they do not depend on the weights or the level), with
    the truth: what fitting the weights and choosing the stayer rate need, without running the model again."""

    data: Path
    units: dict[str, list[tuple[int, dict[str, float]]]]
    notice: dict[str, int]  # resignation day (the truth)
    told: dict[str, int]  # day HR recorded the notice (when the model learns it)
    everyone: set[str]
    start: int
    end: int


def feature_run(data: Path) -> FeatureRun:
    series, _, _ = run_model(data, 0.99, stayer_rate=0.0)
    meta = orjson.loads((data / "meta.json").read_bytes())
    notice, everyone = _load_hr(data / "hr.jsonl")
    told: dict[str, int] = {}
    for line in (data / "hr.jsonl").read_bytes().splitlines():
        r = orjson.loads(line) if line.strip() else None
        if r and r.get("status") in ("notice", "departed") and r["employee_id"] not in told:
            told[r["employee_id"]] = day_number(r["ts"][:10])
    return FeatureRun(data, {e: [(d, u) for d, _, u, _ in ser] for e, ser in series.items()}, notice, told,
                      everyone, day_number(meta["start"]), day_number(meta["end"]))


def simulate(run: FeatureRun, weights: dict[str, float], rate: float, fallback: float) -> tuple[float, float]:
    """(share of leavers flagged >= 14 days before notice, share of stayers flagged in the period) with these
    weights and stayer rate: the model's population level replayed day by day from the factor units (within a
    day the order of signals and HR records is not kept: close to, not exactly, what the model does)."""
    from detectors.models.propensity import BLOCK_DAYS, CONFIRM_DAYS, WARM_DAYS, StayerLevel

    w = weights
    pts: dict[int, list[tuple[str, float]]] = defaultdict(list)
    first = {emp: ser[0][0] for emp, ser in run.units.items() if ser}
    for emp, ser in run.units.items():
        for d, u in ser:
            z = w["intercept"] + sum(w.get(k, 0.0) * u[k] for k in FACTORS)
            pts[d].append((emp, 1.0 / (1.0 + math.exp(-z))))
    told_on: dict[int, list[str]] = defaultdict(list)
    for emp, d in run.told.items():
        told_on[d].append(emp)
    pop = StayerLevel(rate, fallback)
    bm: dict[str, list[float]] = {}
    bp: dict[str, list[list[float]]] = defaultdict(list)
    leaving: set[str] = set()
    hit: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for day in sorted(set(pts) | set(told_on)):
        for emp in told_on.get(day, ()):
            leaving.add(emp)
            bp.pop(emp, None)
            bm.pop(emp, None)
        b = day // BLOCK_DAYS
        level = None
        for emp, p in pts.get(day, ()):
            if emp not in leaving and day - first[emp] >= WARM_DAYS:
                cur = bm.get(emp)
                if cur is not None and cur[0] < b:
                    bp[emp].append(cur)
                    cur = None
                if cur is None:
                    bm[emp] = [b, p]
                elif p > cur[1]:
                    cur[1] = p
                q = bp.get(emp)
                while q and (q[0][0] + 1) * BLOCK_DAYS + CONFIRM_DAYS <= day:
                    ob, op = q.pop(0)
                    pop.add(int(ob), op)
            if level is None:
                level = pop.level(day)
            hit[emp].append((day, p, level))
    n = run.notice
    caught = sum(1 for e in n if any(n[e] - 120 <= d <= n[e] - EARLY_DAYS and p >= lv for d, p, lv in hit.get(e, ())))
    stayers = run.everyone - set(n)
    flagged = sum(1 for e in stayers if any(run.start <= d <= run.end and p >= lv for d, p, lv in hit.get(e, ())))
    return caught / max(1, len(n)), flagged / max(1, len(stayers))


def _at(ser: list[tuple[int, float, dict[str, float], float]], day: int) -> tuple[float, dict[str, float]] | None:
    """The latest value at or before ``day`` (None before the first)."""
    i = bisect.bisect_right(ser, day, key=lambda x: x[0])
    return None if i == 0 else (ser[i - 1][1], ser[i - 1][2])


def evaluate_propensity(data: str | Path, level: float | None = None, weights: dict[str, float] | None = None,
                        stayer_rate: float | None = None) -> dict[str, Any]:
    """The figures for one company directory (as written by ``exitwatch generate``). ``level``: the absolute
    level (used until the company's own is known, or always with ``stayer_rate`` 0); defaults from the
    settings."""
    from schemas.settings import Settings

    data = Path(data)
    cfg = Settings()
    level = cfg.propensity_level if level is None else level
    stayer_rate = cfg.propensity_stayer_rate if stayer_rate is None else stayer_rate
    meta = orjson.loads((data / "meta.json").read_bytes()) if (data / "meta.json").exists() else {}
    notice, everyone = _load_hr(data / "hr.jsonl")
    series, alerts, _ = run_model(data, level, weights, stayer_rate)
    start = day_number(meta["start"]) if "start" in meta else min(d for s in series.values() for d, *_ in s)
    end = day_number(meta["end"]) if "end" in meta else max(d for s in series.values() for d, *_ in s)
    stayers = sorted(everyone - set(notice))
    leavers = sorted(notice)
    # early warning (crossing the level, as the alert does)
    caught = [e for e in leavers if any(notice[e] - 120 <= d <= notice[e] - EARLY_DAYS and p >= lv
                                        for d, p, _, lv in series.get(e, ()))]
    flagged = [e for e in stayers if any(start <= d <= end and p >= lv for d, p, _, lv in series.get(e, ()))]
    hindsight = hindsight_recall(
        [max((p for d, p, _, _ in series.get(e, ()) if notice[e] - 120 <= d <= notice[e] - EARLY_DAYS), default=0.0)
         for e in leavers],
        [max((p for d, p, _, _ in series.get(e, ()) if start <= d <= end), default=0.0) for e in stayers],
        GOAL_STAYERS)
    levels = [lv for e in everyone for d, _, _, lv in series.get(e, ()) if start <= d <= end]
    alerts_by: dict[str, int] = defaultdict(int)
    for a in alerts:
        alerts_by[a.employee_id] += 1
    # weekly snapshots
    pos: list[float] = []
    neg: list[float] = []
    posf: list[dict[str, float]] = []
    negf: list[dict[str, float]] = []
    snaps: list[tuple[int, str, float, dict[str, float]]] = []
    lo = min((notice[e] - WINDOW_DAYS for e in leavers), default=start)
    for emp in everyone:
        ser = series.get(emp, [])
        if not ser:
            continue
        for day in range(min(lo, start), end + 1, 7):
            v = _at(ser, day)
            if v is None:
                continue
            snaps.append((day, emp, v[0], {k: v[1][k] for k in FACTORS}))
            if emp in notice:
                if notice[emp] - WINDOW_DAYS <= day <= notice[emp] - EARLY_DAYS:
                    pos.append(v[0])
                    posf.append(v[1])
            elif start <= day <= end:
                neg.append(v[0])
                negf.append(v[1])
    snaps.sort(key=lambda x: x[0])
    # calibration on snapshots whose 90 days are observed (and before the employee's notice)
    cal = [(p, 1 if emp in notice and day < notice[emp] <= day + WINDOW_DAYS else 0)
           for day, emp, p, _ in snaps if day + WINDOW_DAYS <= end and (emp not in notice or day < notice[emp])]
    brier = round(sum((p - y) ** 2 for p, y in cal) / len(cal), 4) if cal else None
    bins = []
    for lo_p, hi_p in ((0, 0.05), (0.05, 0.15), (0.15, 0.35), (0.35, 0.6), (0.6, 1.01)):
        sel = [(p, y) for p, y in cal if lo_p <= p < hi_p]
        if sel:
            bins.append({"p_from": lo_p, "p_to": min(1.0, hi_p), "snapshots": len(sel),
                         "mean_p": round(sum(p for p, _ in sel) / len(sel), 3),
                         "observed": round(sum(y for _, y in sel) / len(sel), 3)})
    river = _river_online(snaps, notice, end)
    cover = coverage(data / "signals.jsonl", notice, stayers, start, end)
    factor_auc = {k: auc([f[k] for f in posf], [f[k] for f in negf]) for k in FACTORS}
    score_auc = auc(pos, neg)
    return {
        "data": str(data), "profile": meta.get("profile", "baseline"), "seed": meta.get("seed"),
        "signal_drift": meta.get("signal_drift", "default"),
        "employees": len(everyone), "leavers": len(leavers), "stayers": len(stayers), "level": level,
        "stayer_rate": stayer_rate,
        "level_in_period": [round(min(levels), 3), round(max(levels), 3)] if levels else None,
        "period": [dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + start).isoformat(),
                   dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + end).isoformat()],
        "leavers_flagged_14d_before_notice": len(caught),
        "leaver_recall_14d": round(len(caught) / len(leavers), 4) if leavers else None,
        "stayers_flagged": len(flagged),
        "stayer_flag_rate": round(len(flagged) / len(stayers), 4) if stayers else None,
        "hindsight_recall_at_goal": hindsight,
        "auc_weekly": score_auc,
        "factor_auc_weekly": factor_auc,
        "signal_auc_person": signal_auc(data / "signals.jsonl", notice, stayers, start, end),
        "no_signal": no_signal(score_auc, factor_auc),
        "positives": len(pos), "negatives": len(neg),
        "brier": brier, "calibration": bins,
        "river_online_auc_weekly": river,
        "alerts": len(alerts), "alerted_employees": len(alerts_by),
        "weights": dict(weights or WEIGHTS),
        **cover,
    }


def _river_online(snaps: list[tuple[int, str, float, dict[str, float]]], notice: dict[str, int], end: int) -> float | None:
    """AUC of River's LogisticRegression learning online from the notices (progressive validation)."""
    try:
        from river import linear_model, optim
    except ModuleNotFoundError:
        return None
    model = linear_model.LogisticRegression(optimizer=optim.SGD(0.05))
    pending: list[tuple[int, str, dict[str, float]]] = []
    pos: list[float] = []
    neg: list[float] = []
    today = None
    for day, emp, _, f in snaps:
        if day != today:  # labels that became known by ``day``
            today = day
            keep = []
            for d0, e0, f0 in pending:
                n = notice.get(e0)
                if n is not None and d0 < n <= day:
                    model.learn_one(f0, True)
                elif day >= d0 + WINDOW_DAYS:
                    model.learn_one(f0, False)
                else:
                    keep.append((d0, e0, f0))
            pending = keep
        if emp in notice and day >= notice[emp]:
            continue
        p = model.predict_proba_one(f).get(True, 0.0)
        if emp in notice:
            if notice[emp] - WINDOW_DAYS <= day <= notice[emp] - EARLY_DAYS:
                pos.append(p)
        else:
            neg.append(p)
        pending.append((day, emp, f))
    return auc(pos, neg)


def snapshot_rows(runs: list[FeatureRun], lo: int = 0, hi: int = WINDOW_DAYS,
                  skip_late: bool = False) -> list[tuple[dict[str, float], bool]]:
    """Weekly snapshots of every employee's factor units with the label "notice within the next 90 days"
    (only snapshots whose 90 days are observed, before any notice). ``lo``/``hi``: the label "notice ``lo`` to
    ``hi`` days ahead" instead; ``skip_late``: the last ``lo`` days before a notice left out."""
    rows: list[tuple[dict[str, float], bool]] = []
    for run in runs:
        notice = run.notice
        for emp, ser in run.units.items():
            days = [d for d, _ in ser]
            for day in range(ser[0][0], run.end + 1 - hi, 7):
                i = bisect.bisect_right(days, day)
                if i == 0 or (emp in notice and (day >= notice[emp] or (skip_late and notice[emp] - lo < day))):
                    continue
                rows.append((ser[i - 1][1], emp in notice and notice[emp] - hi <= day < notice[emp] - lo))
    return rows


def newton_logistic(x: Any, y: Any, l2: float = 1.0) -> Any:
    """A logistic regression's coefficients by damped Newton steps (at most 2 per step), L2 ``l2`` on every
    coefficient but the first (the intercept: ``x``'s first column is ones). ``x``, ``y``: numpy arrays.

    >>> import numpy as np
    >>> x = np.array([[1.0, v] for v in (0, 0, 1, 1, 2, 2, 3, 3)]); y = np.array([0, 0, 0, 1, 0, 1, 1, 1.0])
    >>> w = newton_logistic(x, y, l2=0.0); bool(w[1] > 0), abs(round(float(w[0] + 1.5 * w[1]), 6))  # even odds at 1.5
    (True, 0.0)
    """
    import numpy as np

    w = np.zeros(x.shape[1])
    w[0] = math.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6))
    reg = np.eye(x.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        g = x.T @ (p - y) + reg @ w
        h = (x * (p * (1 - p))[:, None]).T @ x + reg + np.eye(x.shape[1]) * 1e-9
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        step *= min(1.0, 2.0 / max(1e-12, float(np.abs(step).max())))  # damped: at most 2 per step
        w -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return w


def fit_weights(runs: list[FeatureRun], l2: float = 1.0, factors: tuple[str, ...] = FACTORS,
                rows: list[tuple[dict[str, float], bool]] | None = None) -> dict[str, float]:
    """The scorecard's weights: a logistic regression (Newton's method, L2 ``l2`` on the factor weights) of
    "notice within 90 days" on the weekly snapshots of ``dirs`` (:func:`snapshot_rows`). How
    :data:`detectors.models.propensity.WEIGHTS` was made, on training companies only."""
    import numpy as np

    rows = snapshot_rows(runs) if rows is None else rows
    x = np.array([[1.0] + [0.0 if k == "satisfaction" and r.get(PLACE) else float(r[k]) for k in factors]
                  for r, _ in rows])
    y = np.array([1.0 if lab else 0.0 for _, lab in rows])
    w = newton_logistic(x, y, l2)
    out = {"intercept": round(float(w[0]), 3)}
    out.update({k: round(float(v), 3) for k, v in zip(factors, w[1:])})
    return {**{k: 0.0 for k in FACTORS}, **out}


def choose_rate(runs: list[FeatureRun], weights: dict[str, float], fallback: float, goal: float = 0.04,
                rates: tuple[float, ...] | None = None) -> tuple[float, list[Any]]:
    """The largest stayer rate whose stayers flagged stay within ``goal`` on every company of ``runs`` (the
    training companies); and the sweep (rate, [(recall, stayers flagged) per company])."""
    rates = rates or RATES
    sweep = []
    best = rates[0]
    for r in rates:
        got = [simulate(run, weights, r, fallback) for run in runs]
        sweep.append((r, [(round(a, 4), round(b, 4)) for a, b in got]))
        if all(b <= goal for _, b in got):
            best = r
    return best, sweep


def goal_met(r: dict[str, Any]) -> bool:
    """Whether a company's figures meet issue 18's goal (no leavers: not met, nothing was shown)."""
    return (r["leaver_recall_14d"] is not None and r["leaver_recall_14d"] >= GOAL_LEAVERS
            and r["stayer_flag_rate"] is not None and r["stayer_flag_rate"] <= GOAL_STAYERS)


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _verdict(r: dict[str, Any]) -> str:
    if goal_met(r):
        return "met"
    return "not met: no signal" if r.get("no_signal") else "not met"


def _aucs(got: dict[str, float | None] | None, keys: tuple[str, ...]) -> str:
    if not got:
        return ""
    return " / ".join("-" if got.get(k) is None else f"{got[k]:.2f}" for k in keys)


def _signal_aucs(got: dict[str, dict[str, Any]] | None) -> str:
    if not got:
        return ""
    out = []
    for k in COUNTED + LEVELS:
        g = got.get(k) or {}
        a = "-" if g.get("auc") is None else f"{g['auc']:.2f}"
        out.append(a + (f" [{g.get('leavers', 0)}]" if k in LEVELS else ""))
    return " / ".join(out)


def render(reps: list[dict[str, Any]], cmd: str, protocol: dict[str, Any] | None = None) -> str:
    lines = [
        "# Departure propensity: early warning, ranking and calibration",
        "",
        f"Made with: `{cmd}`",
        "",
        f"A leaver is *flagged early* when `hr.departure_propensity` reached the level in force at least "
        f"{EARLY_DAYS} days (and at most 120 days) before the notice; a stayer is flagged when it reached the "
        "level in force at any time in the activity period. AUC over weekly snapshots (leavers 14-90 days before "
        "notice against stayers). Brier over snapshots whose 90 days are observed, against \"notice within 90 "
        "days\". *Role*: `train` companies chose the weights and the stayer rate; `held out` ones did not.",
        "",
    ]
    if protocol:
        lines += [f"Protocol: weights fitted and stayer rate chosen on the {len(protocol['train'])} training "
                  f"companies only (the largest rate keeping stayers flagged <= {protocol['goal']:.0%} on each): "
                  f"stayer rate **{protocol['stayer_rate']}**, weights `{protocol['weights']}`.", ""]
    lines += [
        "| role | profile | signal drift | seed | employees | leavers flagged >= 14 d before notice | stayers flagged "
        f"| goal ({GOAL_LEAVERS:.0%} / {GOAL_STAYERS:.0%}) | leavers at a level chosen in hindsight ({GOAL_STAYERS:.0%} of stayers) "
        "| AUC (scorecard) | AUC (River online) | Brier | level in the period | alerts "
        "| HR signals a person per 30 d (leavers in window / stayers) | leavers with a survey or review in window "
        f"| AUC of each factor alone ({' / '.join(FACTORS)}) "
        f"| AUC of each HR signal alone, per person ({' / '.join(COUNTED + LEVELS)}; [leavers with an answer]) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reps:
        lv = r.get("level_in_period")
        lines.append(
            f"| {r.get('role', '')} | {r['profile']} | {r['signal_drift']} | {r['seed']} | {r['employees']} "
            f"| **{_pct(r['leaver_recall_14d'])}** "
            f"({r['leavers_flagged_14d_before_notice']}/{r['leavers']}) | **{_pct(r['stayer_flag_rate'], 1)}** "
            f"({r['stayers_flagged']}/{r['stayers']}) | {_verdict(r)} "
            f"| {_pct(r.get('hindsight_recall_at_goal'))} "
            f"| {r['auc_weekly']} | {r['river_online_auc_weekly']} "
            f"| {r['brier']} | {'' if not lv else f'{lv[0]:.2f}-{lv[1]:.2f}'} | {r['alerts']} "
            f"| {r.get('leaver_signals_per_30d')} / {r.get('stayer_signals_per_30d')} "
            f"| {r.get('leavers_scored_in_window')}/{r['leavers']} "
            f"| {_aucs(r.get('factor_auc_weekly'), FACTORS)} | {_signal_aucs(r.get('signal_auc_person'))} |")
    quiet = [r for r in reps if r.get("no_signal")]
    if quiet:
        lines += ["", f"*No signal* ({len(quiet)} companies: "
                  + ", ".join(f"{r['profile']} {r['seed']}" for r in quiet)
                  + f"): the score and every factor alone rank the leavers' weeks within {NO_SIGNAL_AUC} of chance "
                  "(exactly 0.5: the factor is never above zero), so the HR data give the propensity nothing to read there; "
                  "the last column shows whether any HR signal alone tells leavers from stayers at all, and for how "
                  "many leavers a survey or review level is known in their window."]
    lines += ["", "Calibration (weekly snapshots, all companies):", "",
              "| p from | p to | snapshots | mean p | observed notice within 90 days |", "|---|---|---|---|---|"]
    agg: dict[tuple[float, float], list[float]] = {}
    for r in reps:
        for b in r["calibration"]:
            a = agg.setdefault((b["p_from"], b["p_to"]), [0, 0.0, 0.0])
            a[0] += b["snapshots"]
            a[1] += b["mean_p"] * b["snapshots"]
            a[2] += b["observed"] * b["snapshots"]
    for (lo, hi), (n, sp, so) in sorted(agg.items()):
        lines.append(f"| {lo:g} | {hi:g} | {int(n)} | {sp / n:.3f} | {so / n:.3f} |")
    if reps:
        lines += ["", f"Configured level (until the company's own is known): {reps[0]['level']}; stayer rate: "
                  f"{reps[0].get('stayer_rate')}; scorecard weights: `{reps[0]['weights']}`."]
    if protocol and protocol.get("sweep"):
        lines += ["", "Stayer-rate sweep on the training companies (how the rate was chosen):", "",
                  "| stayer rate | leavers flagged (mean) | stayers flagged (highest company) |", "|---|---|---|"]
        for rate, got in protocol["sweep"]:
            lines.append(f"| {rate} | {sum(a for a, _ in got) / len(got):.1%} | {max(b for _, b in got):.1%} |")
    lines.append("")
    return "\n".join(lines)


def write_report(reps: list[dict[str, Any]], out: Path, cmd: str, protocol: dict[str, Any] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    body: Any = reps if protocol is None else {"protocol": protocol, "companies": reps}
    (out / "propensity.json").write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    (out / "propensity.md").write_text(render(reps, cmd, protocol))


def _cached_runs(dirs: list[Path], cache: str | None) -> list[FeatureRun]:
    import pickle

    got: dict[str, FeatureRun] = {}
    if cache and Path(cache).exists():
        got = {str(r.data): r for r in pickle.loads(Path(cache).read_bytes())}  # noqa: S301 - our own file
    runs = [got.get(str(d)) or feature_run(d) for d in dirs]
    if cache:
        Path(cache).write_bytes(pickle.dumps(runs))
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exitwatch.evaluate_propensity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", default=[], metavar="DIR", help="a generated company (repeat)")
    ap.add_argument("--company", action="append", default=[], metavar="PROFILE:SEED[:DRIFT]",
                    help="generate the HR side of this company first (exitwatch.generate profiles; drift default "
                    "or subtle) into --work and evaluate it (repeat)")
    ap.add_argument("--train", action="append", default=[], metavar="DIR",
                    help="a training company (repeat): the weights are fitted and the stayer rate chosen on these "
                    "only, then every company is evaluated with them (role train / held out)")
    ap.add_argument("--train-company", action="append", default=[], metavar="PROFILE:SEED[:DRIFT]",
                    help="as --company, as a training company")
    ap.add_argument("--goal", type=float, default=0.04,
                    help="with --train: the largest share of stayers flagged any training company may have")
    ap.add_argument("--report-train", action="store_true",
                    help="also evaluate the training companies with the fitted model (their rows marked train)")
    ap.add_argument("--runs-cache", default=None, metavar="FILE",
                    help="keep the training companies' factor runs in this pickle and reuse them (they depend on "
                    "the factor definitions only, not on the weights or the level; delete it after changing those)")
    ap.add_argument("--employees", type=int, default=1000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--work", default=None, metavar="DIR",
                    help="where --company data go (default: a temp dir); a company already there with the same "
                    "meta.json (employees, days, seed, profile, drift) is reused, not generated again")
    ap.add_argument("--out", default="reports/propensity", metavar="DIR")
    ap.add_argument("--level", type=float, default=None)
    ap.add_argument("--stayer-rate", type=float, default=None)
    ap.add_argument("--fit", action="store_true", help="fit the scorecard's weights on --data and print them")
    a = ap.parse_args(argv)
    work: Path | None = None

    def gen(spec: str) -> Path:
        nonlocal work
        import tempfile

        from exitwatch.generate_signals import write_hr_only

        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[1].isdigit():
            ap.error(f"--company {spec!r}: expected PROFILE:SEED[:DRIFT], e.g. sales_org:11 or baseline:23:subtle")
        work = work or Path(a.work or tempfile.mkdtemp(prefix="exitwatch-propensity-"))
        prof, seed, drift = parts[0], int(parts[1]), parts[2] if len(parts) == 3 else "default"
        d = work / f"{prof}-{seed}-{drift}"
        want = {"employees": a.employees, "days": a.days, "seed": seed, "profile": prof, "signal_drift": drift}
        try:
            meta = orjson.loads((d / "meta.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            meta = {}
        if all(meta.get(k) == v for k, v in want.items()) and (d / "signals.jsonl").exists():
            print(f"{d}: reused (same meta.json; delete it after changing the generator)", file=sys.stderr)
        else:
            write_hr_only(d, a.employees, a.days, seed, profile=prof, signal_drift=drift)
        return d

    dirs = [Path(d) for d in a.data] + [gen(c) for c in a.company]
    train = [Path(d) for d in a.train] + [gen(c) for c in a.train_company]
    if not dirs and not train:
        ap.error("give --data DIR or --company PROFILE:SEED (and --train DIR for a train / held-out protocol)")
    if a.fit:
        print(orjson.dumps(fit_weights([feature_run(d) for d in dirs])).decode())
        return 0
    from schemas.settings import Settings

    level = Settings().propensity_level if a.level is None else a.level
    weights, rate, protocol = None, a.stayer_rate, None
    if train:
        runs = _cached_runs(train, a.runs_cache)
        weights = fit_weights(runs)
        rate, sweep = choose_rate(runs, weights, level, a.goal)
        protocol = {"train": [str(d) for d in train], "weights": weights, "stayer_rate": rate, "goal": a.goal,
                    "sweep": sweep}
        print(f"fitted on {len(train)} training companies: weights {weights}, stayer rate {rate}", file=sys.stderr)
    reps = []
    for d, role in [(d, "train") for d in train if a.report_train] + [(d, "held out") for d in dirs]:
        r = evaluate_propensity(d, level, weights, rate)
        r["role"] = role if train else ""
        reps.append(r)
        print(f"{d} ({role}): leavers flagged >= 14 d before notice {_pct(r['leaver_recall_14d'])} "
              f"({r['leavers_flagged_14d_before_notice']}/{r['leavers']}), stayers flagged "
              f"{_pct(r['stayer_flag_rate'], 1)} ({r['stayers_flagged']}/{r['stayers']}), AUC {r['auc_weekly']}, "
              f"River online AUC {r['river_online_auc_weekly']}, Brier {r['brier']}", file=sys.stderr)
    cmd = ("python -m exitwatch.evaluate_propensity" + "".join(f" --train {d}" for d in a.train)
           + "".join(f" --train-company {c}" for c in a.train_company) + "".join(f" --data {d}" for d in a.data)
           + "".join(f" --company {c}" for c in a.company) + f" --out {a.out}")
    write_report(reps, Path(a.out), cmd, protocol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
