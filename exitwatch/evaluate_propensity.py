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
- **River, online**: the same four factors fed to River's ``LogisticRegression`` that learns as notices come
  in (a week's snapshot is learned once its 90 days have passed or a notice came; predicted before), scored
  the same way, to say whether the fitted scorecard or a model learning on site ranks better.

``exitwatch evaluate`` calls :func:`evaluate_propensity` and adds ``propensity.md``/``.json`` to its report;
``python -m exitwatch.evaluate_propensity --data DIR [--data DIR ...] --out reports/propensity`` writes one
report over several companies (how the committed figures are made).
"""

from __future__ import annotations

import argparse
import bisect
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
WINDOW_DAYS = 90


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


def run_model(data: Path, level: float, weights: dict[str, float] | None = None) -> tuple[dict[str, list[tuple[int, float, dict[str, float]]]], list[Any]]:
    """Every employee's propensity after each signal: ``emp -> [(day, p, factor units)]``; and the alerts."""
    model = PropensityModel(level=level, weights=weights)
    series: dict[str, list[tuple[int, float, dict[str, float]]]] = defaultdict(list)

    def sink(emp: str, day: int, p: float, f: dict[str, Any]) -> None:
        series[emp].append((day, p, {k: f[k] for k in FACTORS}))

    model.sink = sink
    engine = Engine(rules=[], models=[model], config=EngineConfig(risk=False))
    alerts: list[Any] = []
    bad: list[str] = []
    counters = {"hr": 0, "signals": 0, "events": 0}
    for kind, obj in merged([data / "hr.jsonl"], [data / "signals.jsonl"], [],
                            lambda s, r, raw: bad.append(r), counters):
        alerts += engine.on_hr(obj) if kind == 0 else engine.on_signal(obj)
    return series, alerts


def _at(ser: list[tuple[int, float, dict[str, float]]], day: int) -> tuple[float, dict[str, float]] | None:
    """The latest value at or before ``day`` (None before the first)."""
    i = bisect.bisect_right(ser, day, key=lambda x: x[0])
    return None if i == 0 else (ser[i - 1][1], ser[i - 1][2])


def evaluate_propensity(data: str | Path, level: float | None = None, weights: dict[str, float] | None = None) -> dict[str, Any]:
    """The figures for one company directory (as written by ``exitwatch generate``)."""
    from schemas.settings import Settings

    data = Path(data)
    level = Settings().propensity_level if level is None else level
    meta = orjson.loads((data / "meta.json").read_bytes()) if (data / "meta.json").exists() else {}
    notice, everyone = _load_hr(data / "hr.jsonl")
    series, alerts = run_model(data, level, weights)
    start = day_number(meta["start"]) if "start" in meta else min(d for s in series.values() for d, _, _ in s)
    end = day_number(meta["end"]) if "end" in meta else max(d for s in series.values() for d, _, _ in s)
    stayers = sorted(everyone - set(notice))
    leavers = sorted(notice)
    # early warning (crossing the level, as the alert does)
    caught = [e for e in leavers if any(notice[e] - 120 <= d <= notice[e] - EARLY_DAYS and p >= level
                                        for d, p, _ in series.get(e, ()))]
    flagged = [e for e in stayers if any(start <= d <= end and p >= level for d, p, _ in series.get(e, ()))]
    alerts_by: dict[str, int] = defaultdict(int)
    for a in alerts:
        alerts_by[a.employee_id] += 1
    # weekly snapshots
    pos: list[float] = []
    neg: list[float] = []
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
            snaps.append((day, emp, v[0], v[1]))
            if emp in notice:
                if notice[emp] - WINDOW_DAYS <= day <= notice[emp] - EARLY_DAYS:
                    pos.append(v[0])
            elif start <= day <= end:
                neg.append(v[0])
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
    return {
        "data": str(data), "profile": meta.get("profile", "baseline"), "seed": meta.get("seed"),
        "signal_drift": meta.get("signal_drift", "default"),
        "employees": len(everyone), "leavers": len(leavers), "stayers": len(stayers), "level": level,
        "period": [dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + start).isoformat(),
                   dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + end).isoformat()],
        "leavers_flagged_14d_before_notice": len(caught),
        "leaver_recall_14d": round(len(caught) / len(leavers), 4) if leavers else None,
        "stayers_flagged": len(flagged),
        "stayer_flag_rate": round(len(flagged) / len(stayers), 4) if stayers else None,
        "auc_weekly": auc(pos, neg),
        "positives": len(pos), "negatives": len(neg),
        "brier": brier, "calibration": bins,
        "river_online_auc_weekly": river,
        "alerts": len(alerts), "alerted_employees": len(alerts_by),
        "weights": dict(weights or WEIGHTS),
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


def fit_weights(dirs: list[Path], epochs: int = 30) -> dict[str, float]:
    """Fit the scorecard's weights with River's LogisticRegression on weekly snapshots of ``dirs``, label:
    notice within the next 90 days. How :data:`detectors.models.propensity.WEIGHTS` was made."""
    import random

    from river import linear_model, optim

    rows: list[tuple[dict[str, float], bool]] = []
    for data in dirs:
        meta = orjson.loads((data / "meta.json").read_bytes())
        end = day_number(meta["end"])
        notice, everyone = _load_hr(data / "hr.jsonl")
        series, _ = run_model(data, 0.99)
        for emp, ser in series.items():
            for day in range(ser[0][0], end + 1 - WINDOW_DAYS, 7):
                v = _at(ser, day)
                if v is None or (emp in notice and day >= notice[emp]):
                    continue
                rows.append((v[1], emp in notice and notice[emp] <= day + WINDOW_DAYS))
    rng = random.Random(0)
    model = linear_model.LogisticRegression(optimizer=optim.SGD(0.02), l2=0.0, intercept_lr=0.02)
    for _ in range(epochs):
        rng.shuffle(rows)
        for x, y in rows:
            model.learn_one(x, y)
    w = {k: round(float(model.weights.get(k, 0.0)), 3) for k in FACTORS}
    return {"intercept": round(float(model.intercept), 3), **w}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def render(reps: list[dict[str, Any]], cmd: str) -> str:
    lines = [
        "# Departure propensity: early warning, ranking and calibration",
        "",
        f"Made with: `{cmd}`",
        "",
        f"A leaver is *flagged early* when `hr.departure_propensity` reached the level at least {EARLY_DAYS} days "
        "(and at most 120 days) before the notice; a stayer is flagged when it reached the level at any time in "
        "the activity period. AUC over weekly snapshots (leavers 14-90 days before notice against stayers). "
        "Brier over snapshots whose 90 days are observed, against \"notice within 90 days\".",
        "",
        "| profile | signal drift | seed | employees | leavers flagged >= 14 d before notice | stayers flagged "
        "| AUC (scorecard) | AUC (River online) | Brier | alerts |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reps:
        lines.append(
            f"| {r['profile']} | {r['signal_drift']} | {r['seed']} | {r['employees']} | **{_pct(r['leaver_recall_14d'])}** "
            f"({r['leavers_flagged_14d_before_notice']}/{r['leavers']}) | **{_pct(r['stayer_flag_rate'])}** "
            f"({r['stayers_flagged']}/{r['stayers']}) | {r['auc_weekly']} | {r['river_online_auc_weekly']} "
            f"| {r['brier']} | {r['alerts']} |")
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
    lines += ["", f"Level: {reps[0]['level'] if reps else '?'}; scorecard weights: `{reps[0]['weights'] if reps else ''}`.",
              ""]
    return "\n".join(lines)


def write_report(reps: list[dict[str, Any]], out: Path, cmd: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "propensity.json").write_bytes(orjson.dumps(reps, option=orjson.OPT_INDENT_2))
    (out / "propensity.md").write_text(render(reps, cmd))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exitwatch.evaluate_propensity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", default=[], metavar="DIR", help="a generated company (repeat)")
    ap.add_argument("--company", action="append", default=[], metavar="PROFILE:SEED[:DRIFT]",
                    help="generate the HR side of this company first (exitwatch.generate profiles; drift default "
                    "or subtle) into --work and evaluate it (repeat)")
    ap.add_argument("--employees", type=int, default=1000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--work", default=None, metavar="DIR", help="where --company data go (default: a temp dir)")
    ap.add_argument("--out", default="reports/propensity", metavar="DIR")
    ap.add_argument("--level", type=float, default=None)
    ap.add_argument("--fit", action="store_true", help="fit the scorecard's weights on --data and print them")
    a = ap.parse_args(argv)
    dirs = [Path(d) for d in a.data]
    if a.company:
        import tempfile

        from exitwatch.generate_signals import write_hr_only

        work = Path(a.work or tempfile.mkdtemp(prefix="exitwatch-propensity-"))
        for spec in a.company:
            parts = spec.split(":")
            if len(parts) not in (2, 3) or not parts[1].isdigit():
                ap.error(f"--company {spec!r}: expected PROFILE:SEED[:DRIFT], e.g. sales_org:11 or baseline:23:subtle")
            prof, seed, drift = parts[0], int(parts[1]), parts[2] if len(parts) == 3 else "default"
            d = work / f"{prof}-{seed}-{drift}"
            write_hr_only(d, a.employees, a.days, seed, profile=prof, signal_drift=drift)
            dirs.append(d)
    if not dirs:
        ap.error("give --data DIR or --company PROFILE:SEED")
    if a.fit:
        print(orjson.dumps(fit_weights(dirs)).decode())
        return 0
    reps = []
    for d in dirs:
        r = evaluate_propensity(d, a.level)
        reps.append(r)
        print(f"{d}: leavers flagged >= 14 d before notice {_pct(r['leaver_recall_14d'])} "
              f"({r['leavers_flagged_14d_before_notice']}/{r['leavers']}), stayers flagged "
              f"{_pct(r['stayer_flag_rate'])} ({r['stayers_flagged']}/{r['stayers']}), AUC {r['auc_weekly']}, "
              f"River online AUC {r['river_online_auc_weekly']}, Brier {r['brier']}", file=sys.stderr)
    cmd = ("python -m exitwatch.evaluate_propensity " + " ".join(f"--data {d}" for d in a.data)
           + "".join(f" --company {c}" for c in a.company) + f" --out {a.out}")
    write_report(reps, Path(a.out), cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
