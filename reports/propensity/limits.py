"""What limits the departure propensity: the level policy, the factors, the model's form, or the data?

Reproduces the figures of NOTES.md ("What limits it", issue 18's third pass). Nothing here chooses anything for
the product; the comparisons that could (factors, model forms) are made on the training companies only (fit on
seed 101, measured on 102, and the other way round); the evaluation companies are only described.

    PYTHONPATH=. .venv/bin/python reports/propensity/limits.py --train-dir /tmp/train --eval-dir /work/evalfinal

``--train-dir`` receives the HR side of the six profiles, seeds 101 and 102 (1,000 people, 120 days,
``write_hr_only``); ``--eval-dir`` holds the evaluation companies (``<profile>-400x100-s<seed>``, as written
by ``exitwatch generate`` / ``generate_outside``). About 15 minutes on a busy 2-core machine.

1. **Factors and forms** (training only): the share of leavers above the score that flags 4% of the stayers
   (a level chosen in hindsight, to compare scores, not levels), for the four change factors; plus two levels
   against the department (satisfaction, attendance); plus pairwise products, squares and the number of fronts.
2. **Fronts** (evaluation companies of ``exitwatch generate``): how many of the leavers the generator made
   drift before their notice, on how many fronts, and how many of each the propensity flagged >= 14 days
   before the notice (the generator's plan is read back by building the same company: a diagnosis only).
3. **Levels on the outside companies**: the AUC of the latest survey answer below the company's mean, and the
   leavers a hindsight level would flag at 5% of stayers; with the leavers who answered any survey in their
   warning window.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson

import detectors.models.propensity as pm
from detectors.context import day_number
from exitwatch import evaluate_propensity as ep

PROFILES = ("baseline", "churn", "rnd_lab", "sales_org", "shifts", "subtle")
LEVELS = ("sat_level", "att_level")


def _with_levels() -> None:
    """Two levels against the department, next to the change factors (for this study only)."""
    orig = pm.PropensityModel.features

    def features(self: Any, s: dict[str, Any], day: int, dept: str) -> dict[str, Any]:
        f = orig(self, s, day, dept)
        sv, peer = s["sv"], self.peer_sv.get(dept, [0, None])[1]
        x = 0.0
        if sv and peer is not None:
            now = sum(v for _, v in sv[-2:]) / len(sv[-2:])
            x = min(max(0.0, peer - now - 1.0) / 1.5, 2.0)  # 1.5 points beyond a point below the department
        f["sat_level"] = x
        recent = s["r"][-3:]
        mean3 = (sum(recent) + s["c"]) / (len(recent) + 1) if recent else s["c"]
        f["att_level"] = min(max(0.0, mean3 - self.peer_att.get(dept, [0, 0.0])[1] - 1.0) / 2.0, 2.0)
        return f

    pm.PropensityModel.features = features  # type: ignore[method-assign]
    ep.FACTORS = pm.FACTORS + LEVELS  # what feature_run keeps


def _expand(u: dict[str, float], form: str) -> list[float]:
    f = pm.FACTORS + LEVELS if form == "levels" else pm.FACTORS
    x = [u[k] for k in f]
    if form in ("pairs", "pairs+squares+fronts"):
        x += [u[a] * u[b] for a, b in itertools.combinations(pm.FACTORS, 2)]
    if form == "pairs+squares+fronts":
        x += [u[k] ** 2 for k in pm.FACTORS] + [float(sum(u[k] > 0.5 for k in pm.FACTORS))]
    return x


def _fit(runs: list[ep.FeatureRun], form: str) -> np.ndarray:
    xs, ys = [], []
    for run in runs:
        for emp, ser in run.units.items():
            days = [d for d, _ in ser]
            for day in range(ser[0][0], run.end + 1 - ep.WINDOW_DAYS, 7):
                i = bisect.bisect_right(days, day)
                if i == 0 or (emp in run.notice and day >= run.notice[emp]):
                    continue
                xs.append([1.0] + _expand(ser[i - 1][1], form))
                ys.append(1.0 if emp in run.notice and run.notice[emp] <= day + ep.WINDOW_DAYS else 0.0)
    x, y = np.array(xs), np.array(ys)
    w = np.zeros(x.shape[1])
    w[0] = math.log(y.mean() / (1 - y.mean()))
    reg = np.eye(x.shape[1])
    reg[0, 0] = 0.0
    for _ in range(60):  # logistic regression, Newton, L2 1 (as fit_weights)
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + reg, x.T @ (p - y) + reg @ w)
        step *= min(1.0, 2.0 / max(1e-12, float(np.abs(step).max())))
        w -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return w


def _hindsight(run: ep.FeatureRun, w: np.ndarray, form: str, share: float = 0.04) -> float:
    def score(u: dict[str, float]) -> float:
        return float(np.dot(w, [1.0] + _expand(u, form)))

    n = run.notice
    lv = [max([score(u) for d, u in run.units.get(e, ()) if n[e] - 120 <= d <= n[e] - ep.EARLY_DAYS] or [-99.0])
          for e in n]
    st = [max([score(u) for d, u in run.units.get(e, ()) if run.start <= d <= run.end] or [-99.0])
          for e in run.everyone - set(n)]
    return ep.hindsight_recall(lv, st, share) or 0.0


def factors_and_forms(train_dir: Path) -> None:
    from exitwatch.generate_signals import write_hr_only

    _with_levels()
    runs: dict[int, list[ep.FeatureRun]] = {}
    for seed in (101, 102):
        dirs = []
        for p in PROFILES:
            d = train_dir / f"{p}-{seed}-default"
            if not (d / "signals.jsonl").exists():
                write_hr_only(d, 1000, 120, seed, profile=p)
            dirs.append(d)
        runs[seed] = [ep.feature_run(d) for d in dirs]
    print("## 1. Factors and forms (training companies; leavers above the score flagging 4% of stayers)\n")
    print("| factors / form | fit 101, measured on 102 (six profiles) | mean | fit 102, measured on 101 | mean |")
    print("|---|---|---|---|---|")
    for form in ("change factors", "levels", "pairs", "pairs+squares+fronts"):
        cells = []
        for a, b in ((101, 102), (102, 101)):
            w = _fit(runs[a], form)
            rec = [_hindsight(r, w, form) for r in runs[b]]
            cells += [" ".join(f"{x:.2f}" for x in rec), f"{np.mean(rec):.3f}"]
        print(f"| {form} | " + " | ".join(cells) + " |", flush=True)


def fronts(eval_dir: Path) -> None:
    from exitwatch.generate import Company, profile_of

    print("\n## 2. Fronts the generator's leavers drift on, and what the propensity flagged\n")
    print("| company | leavers | no front | one | two | three or four | flagged: none / one / two / 3-4 fronts |")
    print("|---|---|---|---|---|---|---|")
    for p in PROFILES:
        for seed in (1, 2):
            d = eval_dir / f"{p}-400x100-s{seed}"
            meta = orjson.loads((d / "meta.json").read_bytes())
            c = Company(meta["employees"], meta["days"], seed, dt.date.fromisoformat(meta["start"]),
                        profile=profile_of(p))
            c.signal_drift = meta.get("signal_drift", "default")  # type: ignore[attr-defined]
            c.build()
            plan = c.drift_plan  # type: ignore[attr-defined]
            from schemas.settings import Settings

            cfg = Settings()
            series, _, _ = ep.run_model(d, cfg.propensity_level, None, cfg.propensity_stayer_rate)
            notice, _ = ep._load_hr(d / "hr.jsonl")
            caught = {e for e in notice if any(notice[e] - 120 <= dd <= notice[e] - ep.EARLY_DAYS and pp >= lv
                                               for dd, pp, _, lv in series.get(e, ()))}
            by: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0])
            for e, eps in plan.items():
                k = min(len(eps), 3)
                by[k][0] += 1
                by[k][1] += e in caught
            print(f"| {p} s{seed} | {len(plan)} | " + " | ".join(str(by[k][0]) for k in range(4))
                  + " | " + " / ".join(f"{by[k][1]}/{by[k][0]}" for k in range(4)) + " |", flush=True)


def outside_levels(eval_dir: Path) -> None:
    print("\n## 3. Levels on the outside companies (latest survey answer below the company's mean)\n")
    print("| company | leavers | answered a survey in the warning window | AUC | leavers at a hindsight level "
          "(5% of stayers) |")
    print("|---|---|---|---|---|")
    for p in ("outside_a", "outside_b", "outside_c"):
        for seed in (1, 2):
            d = eval_dir / f"{p}-400x100-s{seed}"
            meta = orjson.loads((d / "meta.json").read_bytes())
            start = day_number(meta["start"])
            end = start + meta["days"] - 1
            notice, everyone = ep._load_hr(d / "hr.jsonl")
            sv: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
            for line in (d / "signals.jsonl").read_bytes().splitlines():
                s = orjson.loads(line)
                if s["signal"] == "survey":
                    sv[s["employee_id"]].append((day_number(s["ts"][:10]), float(s["value"])))
            allv = [v for x in sv.values() for _, v in x]
            mean = sum(allv) / len(allv)

            def below(e: str, day: int) -> float:
                v = [x for dd, x in sv[e] if dd <= day]
                return mean - v[-1] if v else 0.0

            pos, neg, lv, st = [], [], [], []
            for e in everyone:
                if e in notice:
                    pos += [below(e, day) for day in range(start, end + 1, 7)
                            if notice[e] - ep.WINDOW_DAYS <= day <= notice[e] - ep.EARLY_DAYS]
                    lv.append(max([below(e, day) for day in range(notice[e] - 120, notice[e] - ep.EARLY_DAYS + 1)]))
                else:
                    neg += [below(e, day) for day in range(start, end + 1, 7)]
                    st.append(max(below(e, day) for day in range(start, end + 1)))
            answered = sum(1 for e in notice if any(notice[e] - 120 <= dd <= notice[e] - ep.EARLY_DAYS
                                                    for dd, _ in sv[e]))
            print(f"| {p} s{seed} | {len(notice)} | {answered} | {ep.auc(pos, neg)} "
                  f"| {ep.hindsight_recall(lv, st, 0.05):.0%} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-dir", type=Path, required=True)
    ap.add_argument("--eval-dir", type=Path, required=True)
    a = ap.parse_args()
    fronts(a.eval_dir)
    outside_levels(a.eval_dir)
    factors_and_forms(a.train_dir)


if __name__ == "__main__":
    main()
