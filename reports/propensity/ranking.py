"""Can the departure propensity's ranking be improved? Issue 18's fifth pass (s9-prop): the study behind NOTES.md.

Nothing here chooses anything for the product. Every comparison that could choose is made on the training
companies only: weights fitted on seed 101 and measured on seed 102, then the other way round. The measure is
the share of leavers whose highest score 120 to 14 days before their notice is above the highest score of all
but 4% of the stayers in the period (a level chosen in hindsight, to compare scores, not levels). The
evaluation companies are only described (``--held``: when the leavers' scores first reach the level that
flags 5% of the stayers).

    PYTHONPATH=. .venv/bin/python reports/propensity/ranking.py --train-dir /tmp/train [--candidates] \\
        [--runs-cache FILE] [--held /work/evalfinal/baseline-400x100-s1 ...]

``--train-dir`` holds the HR side of the six profiles, seeds 101 and 102 (``<profile>-<seed>-default``,
1,000 people, 120 days, as ``python -m exitwatch.evaluate_propensity --train-company`` writes them).

1. **Same factors, other fits and forms** (from one factor run per company): the label aligned with the goal
   (notice 14-90 or 14-120 days ahead, the last 14 days left out); the score smoothed over time; each factor's
   highest value in the last weeks (so that fronts seen at different times add up); transforms of the units
   (caps, square root, tanh); the number of fronts; pairwise products; any shape per factor (a step function:
   what a monotone additive model can at best do); the L2 strength; equal weights.
2. **Other readings of the HR terms** (``--candidates``: one more factor run per company with these computed
   beside the five): the own usual absences and leave requests scaled by how the department's own rate moved
   (so that a change for everyone is nobody's); absences in the last 4 or 8 weeks against the department's
   per-person rate; satisfaction level against the department; performance "over two months" (against the
   reviews 5-11 weeks back); attendance anomalies against the own normal only (no department floor); leave
   requests "up by half" with one request as the least unit.
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import detectors.models.propensity as pm
from detectors.state import day_of
from exitwatch import evaluate_propensity as ep

PROFILES = ("baseline", "churn", "rnd_lab", "sales_org", "shifts", "subtle")
F = pm.FACTORS
Units = dict[str, float]


def _rows(runs: list[ep.FeatureRun], lo: int = 0, hi: int = 90, skip_late: bool = False
          ) -> tuple[list[Units], list[bool]]:
    """Weekly snapshots labelled "notice lo to hi days ahead" (``skip_late``: the last ``lo`` days left out):
    :func:`exitwatch.evaluate_propensity.snapshot_rows` as two lists."""
    rows = ep.snapshot_rows(runs, lo, hi, skip_late)
    return [u for u, _ in rows], [y for _, y in rows]


def _value(u: Units, k: str) -> float:
    if "*" in k:
        a, b = k.split("*")
        return u[a] * u[b]
    if ">" in k:
        a, edge = k.split(">")
        return 1.0 if u[a] > float(edge) else 0.0
    if k == "fronts":
        return float(sum(1 for f in F if u[f] > 0.5))
    return u[k]


def _fit(xs: list[Units], ys: list[bool], feats: tuple[str, ...], l2: float = 1.0) -> dict[str, float]:
    """Logistic regression by Newton's method (:func:`exitwatch.evaluate_propensity.newton_logistic`)."""
    x = np.array([[1.0] + [_value(r, k) for k in feats] for r in xs])
    w = ep.newton_logistic(x, np.array(ys, float), l2)
    return dict(zip(("intercept", *feats), (float(v) for v in w)))


Smooth = Callable[[list[tuple[int, float]]], list[tuple[int, float]]]


def _z(run: ep.FeatureRun, w: dict[str, float], feats: tuple[str, ...]) -> dict[str, list[tuple[int, float]]]:
    return {e: [(d, w["intercept"] + sum(w[k] * _value(u, k) for k in feats)) for d, u in ser]
            for e, ser in run.units.items()}


def hindsight(run: ep.FeatureRun, zs: dict[str, list[tuple[int, float]]], share: float = 0.04,
              smooth: Smooth | None = None) -> float:
    """Leavers above the level that flags ``share`` of the stayers (each side by its highest score)."""
    n = run.notice

    def top(e: str, lo: int, hi: int) -> float:
        ser = zs.get(e, [])
        ser = smooth(ser) if smooth else ser
        return max((z for d, z in ser if lo <= d <= hi), default=-99.0)

    lv = [top(e, n[e] - 120, n[e] - ep.EARLY_DAYS) for e in n]
    st = sorted(top(e, run.start, run.end) for e in run.everyone - set(n))
    thr = st[int(math.ceil((1 - share) * len(st))) - 1]
    return sum(1 for x in lv if x > thr) / len(lv)


def compare(tag: str, r1: list[ep.FeatureRun], r2: list[ep.FeatureRun], feats: tuple[str, ...] = F,
            smooth: Smooth | None = None, l2: float = 1.0, **label: Any) -> None:
    got = []
    for tr, te in ((r1, r2), (r2, r1)):
        xs, ys = _rows(tr, **label)
        w = _fit(xs, ys, feats, l2)
        got.append(float(np.mean([hindsight(r, _z(r, w, feats), smooth=smooth) for r in te])))
    print(f"| {tag} | {got[0]:.1%} | {got[1]:.1%} |", flush=True)


def _transform(runs: list[ep.FeatureRun], fn: Callable[[str, float, list[tuple[int, Units]], int], float]
               ) -> list[ep.FeatureRun]:
    out = []
    for run in runs:
        units = {}
        for emp, ser in run.units.items():
            units[emp] = [(d, {**u, **{f: fn(f, u[f], ser, i) for f in F}}) for i, (d, u) in enumerate(ser)]
        out.append(ep.FeatureRun(run.data, units, run.notice, run.told, run.everyone, run.start, run.end))
    return out


def _recent_max(days: int) -> Callable[[str, float, list[tuple[int, Units]], int], float]:
    def fn(f: str, x: float, ser: list[tuple[int, Units]], i: int) -> float:
        d = ser[i][0]
        return max(u[f] for dd, u in ser[: i + 1] if dd >= d - days)
    return fn


def _unitwise(g: Callable[[float], float]) -> Callable[[str, float, list[tuple[int, Units]], int], float]:
    return lambda f, x, ser, i: g(x)


def _window(days: int, agg: Callable[[list[float]], float]) -> Smooth:
    def fn(ser: list[tuple[int, float]]) -> list[tuple[int, float]]:
        return [(d, agg([zz for dd, zz in ser[: i + 1] if dd >= d - days])) for i, (d, _) in enumerate(ser)]
    return fn


def _last(k: int) -> Smooth:
    def fn(ser: list[tuple[int, float]]) -> list[tuple[int, float]]:
        return [(d, statistics.fmean(z for _, z in ser[max(0, i - k + 1): i + 1])) for i, (d, _) in enumerate(ser)]
    return fn


def same_factors(r1: list[ep.FeatureRun], r2: list[ep.FeatureRun]) -> None:
    print("| variant (training only) | fit 101 -> 102 | fit 102 -> 101 |\n|---|---|---|")
    compare("the five factors, label: notice within 90 days (the product)", r1, r2)
    compare("label: notice 14-90 days ahead, the last 14 days left out", r1, r2, lo=14, hi=90, skip_late=True)
    compare("label: notice 14-120 days ahead, the last 14 days left out", r1, r2, lo=14, hi=120, skip_late=True)
    for k in (3, 6):
        compare(f"score: mean of the last {k} signals' scores", r1, r2, smooth=_last(k))
    for days in (7, 14, 21):
        compare(f"score: mean over the last {days} days", r1, r2, smooth=_window(days, statistics.fmean))
    for days in (14, 28, 42):
        compare(f"each factor: its highest value in the last {days} days",
                _transform(r1, _recent_max(days)), _transform(r2, _recent_max(days)))
    for tag, g in (("units capped at 1", lambda x: min(x, 1.0)), ("units capped at 1.5", lambda x: min(x, 1.5)),
                   ("square root of the units", math.sqrt), ("tanh of the units", math.tanh)):
        compare(tag, _transform(r1, _unitwise(g)), _transform(r2, _unitwise(g)))
    compare("+ the number of fronts above half a unit", r1, r2, feats=F + ("fronts",))
    compare("+ all pairwise products", r1, r2, feats=F + tuple(f"{a}*{b}" for i, a in enumerate(F) for b in F[i + 1:]))
    compare("any shape per factor (steps at 0, 0.5, 1, 1.5 units; bounds a monotone additive model)", r1, r2,
            feats=tuple(f"{f}>{e}" for f in F for e in (0, 0.5, 1, 1.5)))
    for l2 in (0.01, 30, 300, 3000):
        compare(f"L2 strength {l2:g} (product: 1)", r1, r2, l2=l2)
    got = [float(np.mean([hindsight(r, _z(r, {"intercept": 0.0, **{f: 1.0 for f in F}}, F)) for r in te]))
           for te in (r2, r1)]
    print(f"| equal weights (nothing fitted) | {got[0]:.1%} | {got[1]:.1%} |")


# ---------------------------------------------------------------------------------------------- candidates
CANDIDATES = ("absence_dept", "leave_dept", "abs_peer", "abs_peer28", "sat_peer", "perf2m", "att_own", "leave1")


def _with_candidates() -> dict[str, Any]:
    """Compute the candidate readings beside the five factors (this study only: the patches stay for the rest of
    the process, so :func:`candidates` runs last)."""
    side: dict[str, Any] = {"dept": {}, "cur": None}
    orig_sig = pm.PropensityModel.on_signal
    orig_f = pm.PropensityModel.features

    def on_signal(self: Any, emp: str, st: Any, hr: Any, signal: Any) -> Any:
        d = day_of(signal.ts.timestamp())
        dept = hr.department or "?"
        side["cur"] = dept
        dd = side["dept"].setdefault(dept, {"ab": collections.Counter(), "lr": collections.Counter(), "seen": {}})
        dd["seen"][emp] = d
        if signal.signal == "absence":
            dd["ab"][d] += 1
        elif signal.signal == "leave_request":
            dd["lr"][d] += 1
        return orig_sig(self, emp, st, hr, signal)

    def ratio(dd: dict[str, Any], key: str, day: int, window: int, span: int) -> float:
        if span < 56:
            return 1.0
        recent = sum(v for d, v in dd[key].items() if day - window < d <= day)
        prior = sum(v for d, v in dd[key].items() if day - window - span < d <= day - window)
        return 1.0 if prior < 10 else min(2.0, max(0.5, recent / (prior * window / span)))

    def perf(s: dict[str, Any], lo: int, hi: int) -> float:
        if not s["pf"]:
            return 0.0
        d_now, now = s["pf"][-1]
        before = [v for d, v in s["pf"] if d_now - hi <= d <= d_now - lo]
        return min(max(0.0, (max(before) - now) / max(before)) / 0.2, 2.0) if before else 0.0

    def features(self: Any, s: dict[str, Any], day: int, dept: str) -> dict[str, Any]:
        f = orig_f(self, s, day, dept)
        dd = side["dept"].get(dept) or {"ab": {}, "lr": {}, "seen": {}}
        # own usual scaled by the department's move
        ab = s.get("ab", [])
        span = max(0, min(pm.ABSENCE_PRIOR, day - pm.ABSENCE_WINDOW - s["s"]))
        x = 0.0
        if span >= 56:
            prior = sum(1 for d in ab if day - pm.ABSENCE_WINDOW - span < d <= day - pm.ABSENCE_WINDOW)
            usual = prior * pm.ABSENCE_WINDOW / span * ratio(dd, "ab", day, pm.ABSENCE_WINDOW, span)
            x = max(0.0, (f["_abs_recent"] - usual) / math.sqrt(usual + 1.0)) / 3.0
        f["absence_dept"] = min(x, 2.0)
        lr = s["lr"]
        rec = sum(1 for d in lr if d > day - 60)
        span = max(0, min(180, day - 60 - s["s"]))
        prior = sum(1 for d in lr if day - 60 - span < d <= day - 60)
        usual = prior * 60 / span * ratio(dd, "lr", day, 60, span) if span >= 60 else 1.0
        f["leave_dept"] = min(max(0.0, rec - usual) / max(0.5 * usual, 2.0), 2.0)
        u1 = prior * 60 / span if span >= 60 else 1.0
        f["leave1"] = min(max(0.0, rec - u1) / max(0.5 * u1, 1.0), 2.0)
        # absences against the department's per-person rate
        heads = sum(1 for ld in dd["seen"].values() if ld > day - 90)
        for name, win in (("abs_peer", 56), ("abs_peer28", 28)):
            rate = sum(v for d, v in dd["ab"].items() if day - win < d <= day) / heads if heads >= 10 else None
            own = sum(1 for d in ab if d > day - win)
            f[name] = 0.0 if rate is None else min(max(0.0, (own - rate) / math.sqrt(rate + 1.0)) / 3.0, 2.0)
        sv, ps = s["sv"], self.peer_sv.get(dept)
        f["sat_peer"] = (min(max(0.0, ps[1] - (sv[-1][1] + sv[-2][1]) / 2 - 1.0) / 1.5, 2.0)
                         if len(sv) >= 2 and ps else 0.0)
        f["perf2m"] = perf(s, 35, 75)

        def anomalous(c: float) -> bool:
            own = s["m"] + 2 * math.sqrt(s["v"] + 0.25) if s["n"] >= 4 else 3.0
            return c >= max(2.0, own)

        run = 1 if anomalous(s["c"]) else 0
        for c in reversed(s["r"]):
            if not anomalous(c):
                break
            run += 1
        recent = s["r"][-3:]
        usual_w = s["m"] if s["n"] >= 4 else self.peer_att.get(dept, [0, 1.0])[1]
        sd3 = math.sqrt((s["v"] if s["n"] >= 4 else max(1.0, usual_w)) / 3 + 0.1)
        mean3 = (sum(recent) + s["c"]) / (len(recent) + 1) if recent else s["c"]
        f["att_own"] = min(min(max(0.0, mean3 - usual_w - 0.5) / (2 * sd3), 3.0) + min(run, 6) / 6.0, 2.0)
        return f

    pm.PropensityModel.on_signal = on_signal  # type: ignore[method-assign]
    pm.PropensityModel.features = features  # type: ignore[method-assign]
    ep.FACTORS = F + CANDIDATES  # type: ignore[assignment]  # feature_run keeps these units too
    return side


def candidates(dirs: dict[int, list[Path]]) -> None:
    side = _with_candidates()
    runs: dict[int, list[ep.FeatureRun]] = {}
    for seed, ds in dirs.items():
        runs[seed] = []
        for d in ds:
            side["dept"].clear()
            runs[seed].append(ep.feature_run(d))
    r1, r2 = runs[101], runs[102]
    print("\n| other readings (training only) | fit 101 -> 102 | fit 102 -> 101 |\n|---|---|---|")
    compare("the five factors (the product)", r1, r2)
    compare("absence and leave: own usual scaled by the department's move (instead)", r1, r2,
            feats=("attendance", "performance", "satisfaction", "absence_dept", "leave_dept"))
    for k in ("abs_peer", "abs_peer28", "sat_peer"):
        compare(f"+ {k}", r1, r2, feats=F + (k,))
    for new, old in (("perf2m", "performance"), ("att_own", "attendance"), ("leave1", "leave"),
                     ("abs_peer", "absence")):
        compare(f"{old} -> {new}", r1, r2, feats=tuple(new if f == old else f for f in F))


def timing(held: list[Path]) -> None:
    """When each leaver's score first reaches the level flagging 5% of the stayers (hindsight), per company."""
    w = dict(pm.WEIGHTS)
    print("\n| held-out company (described only) | first reached >= 14 d before notice | 0-13 d before | "
          "after the notice | never |\n|---|---|---|---|---|")
    tot: collections.Counter[str] = collections.Counter()
    for d in held:
        run = ep.feature_run(d)
        n = run.notice
        zs = _z(run, w, F)
        st = sorted((max((z for dd, z in zs.get(e, []) if run.start <= dd <= run.end), default=-99.0)
                     for e in run.everyone - set(n)), reverse=True)
        thr = st[int(0.05 * len(st))]
        c: collections.Counter[str] = collections.Counter()
        for e in n:
            first = next((dd for dd, z in zs.get(e, []) if dd >= n[e] - 120 and z > thr), None)
            c["never" if first is None else "early" if first <= n[e] - ep.EARLY_DAYS
              else "late" if first < n[e] else "after"] += 1
        tot.update(c)
        print(f"| {d.name} | {c['early']} | {c['late']} | {c['after']} | {c['never']} |", flush=True)
    print(f"| all | {tot['early']} | {tot['late']} | {tot['after']} | {tot['never']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-dir", type=Path, required=True)
    ap.add_argument("--candidates", action="store_true", help="also the other readings of the HR terms")
    ap.add_argument("--held", type=Path, action="append", default=[], help="an evaluation company to describe")
    ap.add_argument("--runs-cache", type=Path, default=None,
                    help="the training companies' factor runs kept by evaluate_propensity --runs-cache (read only)")
    a = ap.parse_args()
    dirs = {s: [a.train_dir / f"{p}-{s}-default" for p in PROFILES] for s in (101, 102)}
    if a.held:
        timing(a.held)
    cached: dict[str, ep.FeatureRun] = {}
    if a.runs_cache and a.runs_cache.exists():
        import pickle

        cached = {str(r.data): r for r in pickle.loads(a.runs_cache.read_bytes())}  # noqa: S301 - our own file
    runs = {s: [cached.get(str(d)) or ep.feature_run(d) for d in ds] for s, ds in dirs.items()}
    same_factors(runs[101], runs[102])
    if a.candidates:
        candidates(dirs)


if __name__ == "__main__":
    main()
