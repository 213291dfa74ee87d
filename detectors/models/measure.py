"""Measure the learned model: ROC AUC on employee-days, alerts by severity, memory and cost per event.

Input is a directory of contract files as ``exitwatch generate`` writes them (``hr.jsonl``, ``events.jsonl``,
optionally ``signals.jsonl``, and ``labels.jsonl``; ``.gz`` variants too), or the in-memory synthetic
workforce of :mod:`detectors.models.synthetic`. Everything runs through the real :class:`Engine` (no rules,
no risk score) in ``ts`` order, as ``exitwatch replay`` does.

A label line names an employee and the malicious period: ``employee_id`` with ``start``/``end`` (or
``window_start``/``window_end``, ``first_day``/``last_day``, dates or timestamps, inclusive) or ``days``
(a list of dates); lines with ``"malicious": false`` or a ``scenario`` starting with ``benign`` (benign leavers)
are skipped. Employee-days inside a labelled period are
positives, every other scored employee-day is a negative.

    python -m detectors.models.measure DIR        # a generated data set
    python -m detectors.models.measure --synthetic [--employees 80 --days 90]

>>> r = measure_synthetic(employees=12, days=45, seed=3)
>>> r["employee_days"] > 300 and r["state_bytes"]["max"] < 1500
True
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from detectors.context import HRView, day_number
from detectors.engine import Engine, EngineConfig
from detectors.models.behaviour import ID, BehaviourConfig, BehaviourModel, DayScore
from schemas import ActivityEvent, HRRecord, HRSignal


def roc_auc(labels: list[int] | np.ndarray, scores: list[float] | np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _day(v: str) -> int:
    return day_number(dt.date.fromisoformat(v[:10]))


def positive_days(labels: Iterable[dict[str, Any]]) -> dict[str, set[int]]:
    """Employee -> malicious day numbers, from label records (see the module docstring)."""
    out: dict[str, set[int]] = {}
    for lab in labels:
        if (lab.get("malicious") is False or lab.get("label") in (0, False, "benign")
                or str(lab.get("scenario", "")).startswith("benign")):
            continue
        emp = lab.get("employee_id")
        if not emp:
            continue
        days = out.setdefault(emp, set())
        if lab.get("days"):
            days.update(_day(d) for d in lab["days"])
            continue
        if lab.get("day"):
            days.add(_day(lab["day"]))
            continue
        a = next((lab[k] for k in ("start", "window_start", "first_day", "from") if lab.get(k)), None)
        b = next((lab[k] for k in ("end", "window_end", "last_day", "to") if lab.get(k)), None)
        if a is None:
            continue
        days.update(range(_day(a), _day(b or a) + 1))
    return out


class _Timed:
    """Wraps a model to time its ``observe`` calls (the model path cost per event)."""

    def __init__(self, model: BehaviourModel) -> None:
        self.model = model
        self.id = model.id
        self.seconds = 0.0
        self.calls = 0

    def observe(self, *a: Any) -> Any:
        t0 = time.perf_counter()
        out = self.model.observe(*a)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return out

    def on_hr(self, *a: Any) -> Any:
        return self.model.on_hr(*a)


def run(items: Iterator[tuple[int, Any]], labels: list[dict[str, Any]],
        config: BehaviourConfig | None = None) -> dict[str, Any]:
    """Drive an engine holding only the model over ``(kind, record)`` items (0 HR, 1 signal, 2 event)."""
    model = BehaviourModel(config)
    scores: dict[tuple[str, int], float] = {}
    flagged_days: set[tuple[str, int]] = set()

    def sink(emp: str, day: int, sc: DayScore | None, flagged: bool) -> None:
        scores[(emp, day)] = sc.score if sc is not None else 0.0
        if flagged:
            flagged_days.add((emp, day))

    model.sink = sink
    timed = _Timed(model)
    engine = Engine(rules=[], models=[timed], config=EngineConfig(risk=False))
    alerts = []
    t0 = time.perf_counter()
    for kind, obj in items:
        if kind == 2:
            alerts += engine.on_event(obj)
        elif kind == 0:
            alerts += engine.on_hr(obj)
        else:
            alerts += engine.on_signal(obj)
    wall = time.perf_counter() - t0
    store = engine.store.data  # type: ignore[attr-defined]
    for emp, st in store.items():
        for meta, f in model.finish(emp, st, HRView.of(st.hr)):
            alerts += engine._emit(meta, emp, f, st, HRView.of(st.hr),
                                   dt.datetime.combine(dt.date(1970, 1, 1) + dt.timedelta(days=f.day or 0),
                                                       dt.time(23, 59), dt.timezone.utc))
    pos = positive_days(labels)
    keys = sorted(scores)
    y = [1 if d in pos.get(e, ()) else 0 for e, d in keys]
    s = [scores[k] for k in keys]
    sizes = sorted(len(orjson.dumps(st.extra[ID])) for st in store.values() if ID in st.extra)
    whole = sorted(len(st.to_bytes()) for st in store.values())
    malicious = set(pos)
    by_sev: Counter[str] = Counter(a.severity for a in alerts)
    med_plus = {a.employee_id for a in alerts if a.severity != "low"}
    hit = {a.employee_id for a in alerts
           if a.employee_id in malicious and _day(a.explanation["day"]) in _near(pos[a.employee_id])}
    scen = {lab["employee_id"]: lab.get("scenario", "?") for lab in labels if lab.get("employee_id") in malicious}
    per_scenario: dict[str, list[int]] = {}
    for emp, sc_name in scen.items():
        v = per_scenario.setdefault(sc_name, [0, 0])
        v[0] += emp in hit
        v[1] += 1
    best: dict[str, float] = {}
    for (emp, day), value in scores.items():
        if emp in malicious and day not in pos[emp]:
            continue
        best[emp] = max(best.get(emp, 0.0), value)
    # as exitwatch evaluate counts it: (honest employee, 30-day block) pairs with a medium+ alert
    all_days = [d for _, d in keys]
    day0, span = (min(all_days), max(all_days) - min(all_days) + 1) if all_days else (0, 30)
    honest_pairs = {(a.employee_id, (_day(a.explanation["day"]) - day0) // 30) for a in alerts
                    if a.employee_id not in malicious and a.severity != "low"}
    honest_n = max(1, len(store) - len(malicious))
    honest_flags = Counter(
        f"{a.explanation.get('top_feature')}/{a.explanation.get('status')}" for a in alerts
        if a.employee_id not in malicious and a.severity != "low")
    return {
        "employee_auc": round(roc_auc([int(e in malicious) for e in sorted(best)], [best[e] for e in sorted(best)]),
                              4),
        "per_scenario_caught": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_scenario.items())},
        "honest_medium_plus_by_feature_status": dict(honest_flags.most_common(12)),
        "employee_days": len(keys),
        "positive_days": int(sum(y)),
        "auc": round(roc_auc(y, s), 4),
        "alerts": len(alerts),
        "alerts_by_severity": dict(sorted(by_sev.items())),
        "malicious_employees": len(malicious),
        "malicious_caught": len(hit),
        "recall": round(len(hit) / len(malicious), 3) if malicious else None,
        "benign_employees_medium_plus": len(med_plus - malicious),
        "benign_employees_any_alert": len({a.employee_id for a in alerts} - malicious),
        "honest_flagged_per_1000_per_30d": round(len(honest_pairs) / (honest_n / 1000) / (span / 30), 2),
        "employees": len(store),
        "state_bytes": {"mean": round(float(np.mean(sizes)), 1) if sizes else 0, "p95": _pct(sizes, 95),
                        "max": sizes[-1] if sizes else 0},
        "employee_state_total_bytes_mean": round(float(np.mean(whole)), 1) if whole else 0,
        "shared_state_bytes": len(model.state_dict()),
        "events": timed.calls,
        "model_us_per_event": round(timed.seconds / max(1, timed.calls) * 1e6, 2),
        "engine_us_per_record": round(wall / max(1, engine.stats.events + engine.stats.hr_records) * 1e6, 2),
        "late_events": model.late_events,
        "warmed_up": model.warmed_up(),
    }


def _near(days: set[int], slack: int = 1) -> set[int]:
    return {d + k for d in days for k in range(-slack, slack + 1)}


def _pct(xs: list[int], p: int) -> int:
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else 0


def _find(directory: Path, name: str) -> Path | None:
    for suffix in (".jsonl", ".jsonl.gz"):
        p = directory / f"{name}{suffix}"
        if p.exists():
            return p
    return None


def measure_dir(directory: str | Path, config: BehaviourConfig | None = None) -> dict[str, Any]:
    """Measure on a generated data set (``hr``, ``events``, ``labels``, optional ``signals``)."""
    from detectors.replay import merged, open_text

    d = Path(directory)
    hr, ev, lab = _find(d, "hr"), _find(d, "events"), _find(d, "labels")
    if hr is None or ev is None:
        raise FileNotFoundError(f"{d}: needs hr.jsonl and events.jsonl")
    sig = _find(d, "signals")
    labels: list[dict[str, Any]] = []
    if lab is not None:
        with open_text(lab) as fh:
            labels = [orjson.loads(line) for line in fh if line.strip()]
    counters = {"hr": 0, "signals": 0, "events": 0}
    items = merged([hr], [sig] if sig else [], [ev], lambda *a: None, counters)
    out = run(items, labels, config)
    out["source"] = str(d)
    return out


def measure_synthetic(employees: int = 80, days: int = 90, seed: int = 7,
                      config: BehaviourConfig | None = None) -> dict[str, Any]:
    """Measure on the seeded synthetic workforce (no files)."""
    from detectors.models.synthetic import workforce

    hr, events, labels = workforce(employees=employees, days=days, seed=seed)
    recs: list[tuple[str, int, Any]] = [(h["ts"], 0, HRRecord.model_validate(h)) for h in hr]
    recs += [(e["ts"], 2, ActivityEvent.model_validate(e)) for e in events]
    recs.sort(key=lambda r: (r[0], r[1]))
    out = run(((k, o) for _, k, o in recs), labels, config)
    out["source"] = f"synthetic(employees={employees}, days={days}, seed={seed})"
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", nargs="?")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--employees", type=int, default=80)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--warmup-days", type=int, default=None)
    ap.add_argument("--window-size", type=int, default=None)
    a = ap.parse_args(argv)
    cfg = BehaviourConfig()
    if a.warmup_days is not None or a.window_size is not None:
        from dataclasses import replace

        cfg = replace(cfg, **{k: v for k, v in (("warmup_days", a.warmup_days), ("window_size", a.window_size))
                              if v is not None})
    if a.synthetic or not a.directory:
        r = measure_synthetic(a.employees, a.days, a.seed, cfg)
    else:
        r = measure_dir(a.directory, cfg)
    print(orjson.dumps(r, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()


_ = HRSignal  # signals are read by measure_dir through detectors.replay
