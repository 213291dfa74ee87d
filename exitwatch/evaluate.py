"""``exitwatch evaluate``: the detectors against a labelled company, with a naive SIEM as the reference.

``exitwatch evaluate --data DIR [--out reports/DIR] [--rules-config F]`` reads ``DIR/hr.jsonl``,
``DIR/signals.jsonl``, ``DIR/events.jsonl`` (or ``.gz``) and ``DIR/labels.jsonl`` (as ``exitwatch generate``
writes them), runs four detectors over one pass of the merged inputs (every record is validated once, by
:func:`detectors.replay.run`, and handed to each detector):

- ``rules``: the rule catalogue alone (``build_engine(models=False)``);
- ``models``: the learned models alone (``build_engine(rules=False)``), "not available" when
  ``detectors.factory.default_models()`` is empty;
- ``both``: rules and models in one engine (the product); the same as ``rules`` when there are no models;
- ``naive``: :mod:`exitwatch.naive`, literal thresholds with no baselines and no departure anchoring;

and writes ``report.json``, ``report.md`` and ``risk.png`` to ``--out``; each detector's alerts go to
``DIR/alerts-<detector>.jsonl`` (``--alerts-dir``) for whoever wants to read them.

Definitions (also written into the report):

- an alert *counts* when its severity is ``medium`` or above; its day is the UTC day of its ``ts`` (when it
  fired, which for a late HR record is when the record arrived, not when the behaviour happened);
- a malicious employee is *caught* when a counting alert names them on a day from the scenario's ``start``
  to ``max(end, last_day) + grace`` days (``--grace-days``, default 7): an alert before the behaviour began
  is about something else, and one more than a week after the last day comes too late to act on;
- *honest* employees are everyone not labelled malicious (benign leavers included); one is *flagged* by any
  counting alert at any time. *Honest flagged per 1,000 per 30 days* counts (employee, 30-day block of the
  period) pairs with a counting alert, per 1,000 honest employees and 30 days;
- *precision* is caught / (caught + honest flagged), in employees;
- *recall* is caught / malicious, per scenario and overall;
- *lead time* is ``last_day`` minus the day of the first counting alert in the window (negative: after the
  last day, as ``after_departure_access`` must be);
- the *trade-off curve* of an engine detector raises a minimum alert score; the naive detector's multiplies
  its thresholds. The headline compares honest people flagged at the same recall.

``exitwatch evaluate --data DIR --model-only`` measures the learned model alone on employee-days instead (day
and employee ROC AUC, recall within a day of the labelled days, state bytes, microseconds per event), and
:func:`measure_model_synthetic` does the same on :func:`exitwatch.generate.workforce` without files:

>>> r = measure_model_synthetic(employees=20, days=45, seed=3)
>>> r["employee_days"] > 500 and r["state_bytes"]["max"] < 1500
True
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import orjson

from detectors.context import day_date, day_number
from detectors.routing import security_finding
from detectors.state import day_of
from exitwatch.generate import BENIGN, SCENARIOS
from exitwatch.generate_outside import INTENDED as OUTSIDE_INTENDED
from exitwatch.generate_outside import PROFILES as OUTSIDE_PROFILES
from exitwatch.naive import RULES as NAIVE_RULES
from exitwatch.naive import NaiveDetector

if TYPE_CHECKING:
    from detectors.models.behaviour import BehaviourConfig, BehaviourModel, DayScore

LEVELS = ("low", "medium", "high", "critical")
COUNTING = frozenset({"medium", "high", "critical"})
DETECTORS = ("rules", "models", "both", "naive")
NAIVE_SCALES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)
#: The catalogue rules meant for each scenario (from the issue), for the notes to rule authors.
INTENDED = {
    "research_to_personal_mail": ("email.sensitive_to_personal",),
    "crm_bulk_export": ("crm.bulk_export_before_departure", "sequence.crm_export_then_personal_mail"),
    "job_search_then_usb": ("sequence.job_search_then_exfiltration", "device.removable_copy_spike"),
    "low_and_slow_downloads": ("file.sensitive_downloads_before_departure",),
    "restricted_consecutive_days": ("file.restricted_downloads_consecutive_days",),
    "crm_access_spike": ("crm.access_time_spike",),
    "after_hours_cloud_upload": ("web.personal_cloud_upload", "activity.after_hours_spike"),
    "mass_deletion": ("file.mass_deletion_before_departure",),
    "after_departure_access": ("activity.after_departure",),
    **OUTSIDE_INTENDED,
}


@dataclass(frozen=True)
class Hit:
    """An alert, reduced to what the metrics need."""

    employee_id: str
    day: int  # UTC day number of the alert's ts
    rule_id: str
    severity: str
    score: float

    @property
    def counts(self) -> bool:
        return self.severity in COUNTING


@dataclass(frozen=True)
class Label:
    employee_id: str
    scenario: str
    start: int
    end: int
    last_day: int

    @property
    def malicious(self) -> bool:
        return self.scenario != BENIGN


@dataclass
class Truth:
    """Labels and population of a company."""

    labels: dict[str, Label]
    population: set[str]
    day0: int
    days: int
    #: Alerts of HR-side rules and models (not detections), by rule: left out of the metrics.
    hr_side: Counter[str] = field(default_factory=Counter)

    @property
    def malicious(self) -> dict[str, Label]:
        return {k: v for k, v in self.labels.items() if v.malicious}

    @property
    def honest(self) -> set[str]:
        return self.population - set(self.malicious)


def load_labels(path: Path) -> dict[str, Label]:
    out = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            o = orjson.loads(line)
            out[o["employee_id"]] = Label(o["employee_id"], o["scenario"], day_number(o["start"]),
                                          day_number(o["end"]), day_number(o["last_day"]))
    return out


def load_population(path: Path) -> set[str]:
    with _open(path) as fh:
        return {orjson.loads(line)["employee_id"] for line in fh if line.strip()}


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def _find(data: Path, name: str, required: bool = True) -> Path | None:
    for cand in (data / f"{name}.jsonl", data / f"{name}.jsonl.gz"):
        if cand.exists():
            return cand
    if required:
        raise FileNotFoundError(f"{data}: no {name}.jsonl (or .gz)")
    return None


# ---------------------------------------------------------------------------------------------- metrics
def in_window(h: Hit, lab: Label, grace: int) -> bool:
    return lab.start <= h.day <= max(lab.end, lab.last_day) + grace


def score_detector(hits: Iterable[Hit], truth: Truth, grace: int = 7) -> dict[str, Any]:
    """Recall per scenario and overall, honest flagged, precision, alert volume and lead time.

    >>> t = Truth({"E1": Label("E1", "mass_deletion", 100, 101, 102)}, {"E1", "E2"}, 70, 60)
    >>> score_detector([], t)["recall"]
    0.0
    >>> s = score_detector([Hit("E1", 101, "r", "high", 70), Hit("E2", 90, "r", "medium", 40)], t)
    >>> s["recall"], s["honest_flagged"], s["precision"], s["scenarios"]["mass_deletion"]["lead_days_median"]
    (1.0, 1, 0.5, 1)
    """
    mal = truth.malicious
    honest = truth.honest
    hits = list(hits)
    first_in: dict[str, int] = {}
    rules_in: dict[str, Counter[str]] = defaultdict(Counter)
    any_sev: dict[str, Counter[str]] = defaultdict(Counter)  # rules firing (any severity) in the window
    outside: set[str] = set()
    honest_pairs: set[tuple[str, int]] = set()
    honest_emps: set[str] = set()
    fp_rules: dict[str, set[str]] = defaultdict(set)
    n_count = 0
    for h in hits:
        lab = mal.get(h.employee_id)
        if lab is not None and in_window(h, lab, grace):
            any_sev[h.employee_id][f"{h.rule_id}:{h.severity}"] += 1
        if not h.counts:
            continue
        n_count += 1
        if lab is not None:
            if in_window(h, lab, grace):
                first_in[h.employee_id] = min(first_in.get(h.employee_id, h.day), h.day)
                rules_in[h.employee_id][h.rule_id] += 1
            else:
                outside.add(h.employee_id)
        elif h.employee_id in honest:
            honest_emps.add(h.employee_id)
            honest_pairs.add((h.employee_id, (h.day - truth.day0) // 30))
            fp_rules[h.rule_id].add(h.employee_id)
    scen: dict[str, Any] = {}
    # the project's scenarios, then those of an outside company (exitwatch/generate_outside.py) or any other
    # labels file, in their order of first appearance
    extra = [s for s in dict.fromkeys(lab.scenario for lab in mal.values()) if s not in SCENARIOS]
    for sc in (*SCENARIOS, *extra):
        members = sorted(e for e, lab in mal.items() if lab.scenario == sc)
        caught = [e for e in members if e in first_in]
        leads = [mal[e].last_day - first_in[e] for e in caught]
        rules: Counter[str] = Counter()
        for e in caught:
            rules.update(set(rules_in[e]))
        scen[sc] = {
            "employees": len(members),
            "caught": len(caught),
            "recall": round(len(caught) / len(members), 4) if members else None,
            "lead_days_median": statistics.median(leads) if leads else None,
            "caught_by": dict(rules.most_common()),
            "missed": [{"employee_id": e, "fired_in_window_any_severity": dict(any_sev[e])}
                       for e in members if e not in first_in],
        }
    n_mal = len(mal)
    caught_n = len(first_in)
    leads_all = [mal[e].last_day - d for e, d in first_in.items()]
    benign_leavers = {e for e, lab in truth.labels.items() if not lab.malicious}
    honest_n = max(1, len(honest))
    per_1000_30 = len(honest_pairs) / (honest_n / 1000) / (truth.days / 30)
    burst = max_rule_alerts_30d(hits, honest)
    return {
        "malicious": n_mal,
        "caught": caught_n,
        "recall": round(caught_n / n_mal, 4) if n_mal else 0.0,
        "honest_employees": len(honest),
        "honest_flagged": len(honest_emps),
        "honest_flagged_per_1000_per_30d": round(per_1000_30, 2),
        "benign_leavers": len(benign_leavers),
        "benign_leavers_flagged": len(honest_emps & benign_leavers),
        "malicious_flagged_outside_window": len(outside - set(first_in)),
        "precision": round(caught_n / (caught_n + len(honest_emps)), 4) if caught_n + len(honest_emps) else None,
        "alerts": len(hits),
        "alerts_per_day": round(len(hits) / truth.days, 2),
        "counting_alerts_per_day": round(n_count / truth.days, 2),
        "lead_days_median": statistics.median(leads_all) if leads_all else None,
        "lead_days_mean": round(statistics.fmean(leads_all), 1) if leads_all else None,
        "leads": sorted(leads_all),
        "honest_pairs": len(honest_pairs),
        "honest_units": round(honest_n / 1000 * truth.days / 30, 4),
        "max_rule_alerts_honest_30d": burst,
        "scenarios": scen,
        "honest_flagged_by_rule": {r: len(v) for r, v in sorted(fp_rules.items(), key=lambda x: -len(x[1]))},
    }


def max_rule_alerts_30d(hits: Iterable[Hit], honest: set[str], span: int = 30) -> dict[str, Any]:
    """The most alerts of any severity one rule gave one honest employee within ``span`` days.

    >>> h = [Hit("E2", d, "r", "low", 10) for d in (1, 5, 29, 31, 70)] + [Hit("E1", 1, "r", "high", 9)]
    >>> max_rule_alerts_30d(h, {"E2"})
    {'alerts': 3, 'rule_id': 'r', 'employee_id': 'E2', 'first_day': 1}
    """
    by: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in hits:
        if h.employee_id in honest:
            by[(h.employee_id, h.rule_id)].append(h.day)
    best: dict[str, Any] = {"alerts": 0, "rule_id": None, "employee_id": None, "first_day": None}
    for (emp, rid), days in sorted(by.items()):
        days.sort()
        j = 0
        for i, d in enumerate(days):
            while days[j] <= d - span:
                j += 1
            if i - j + 1 > best["alerts"]:
                best = {"alerts": i - j + 1, "rule_id": rid, "employee_id": emp, "first_day": days[j]}
    return best


def intended_coverage(hits: Iterable[Hit], truth: Truth, grace: int = 7) -> dict[str, dict[str, dict[str, int]]]:
    """Per scenario and intended rule: on how many of the scenario's employees it fired in the window,
    at medium or above and at any severity."""
    mal = truth.malicious
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in hits:
        lab = mal.get(h.employee_id)
        if lab is None or h.rule_id not in INTENDED.get(lab.scenario, ()) or not in_window(h, lab, grace):
            continue
        seen[(h.rule_id, "any")].add(h.employee_id)
        if h.counts:
            seen[(h.rule_id, "medium_plus")].add(h.employee_id)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for sc, rules in INTENDED.items():
        n = sum(1 for lab in mal.values() if lab.scenario == sc)
        out[sc] = {r: {"employees": n, "medium_plus": len(seen[(r, "medium_plus")] & {e for e, lab in mal.items()
                                                                                     if lab.scenario == sc}),
                       "any": len(seen[(r, "any")] & {e for e, lab in mal.items() if lab.scenario == sc})}
                   for r in rules}
    return out


def score_curve(hits: Iterable[Hit], truth: Truth, grace: int = 7) -> list[dict[str, float]]:
    """Recall and honest flagged per 1,000 per 30 days as the minimum counting-alert score rises."""
    mal = truth.malicious
    honest = truth.honest
    best_mal: dict[str, float] = {}
    best_pair: dict[tuple[str, int], float] = {}
    for h in hits:
        if not h.counts:
            continue
        lab = mal.get(h.employee_id)
        if lab is not None:
            if in_window(h, lab, grace):
                best_mal[h.employee_id] = max(best_mal.get(h.employee_id, 0.0), h.score)
        elif h.employee_id in honest:
            k = (h.employee_id, (h.day - truth.day0) // 30)
            best_pair[k] = max(best_pair.get(k, 0.0), h.score)
    norm = (max(1, len(honest)) / 1000) * (truth.days / 30)
    out = []
    for thr in sorted({0.0, *best_mal.values(), *best_pair.values()}):
        out.append({
            "min_score": thr,
            "recall": round(sum(v >= thr for v in best_mal.values()) / max(1, len(mal)), 4),
            "honest_flagged_per_1000_per_30d": round(sum(v >= thr for v in best_pair.values()) / norm, 2),
        })
    return out


def at_recall(curve: list[dict[str, Any]], recall: float) -> dict[str, Any] | None:
    """The point of ``curve`` with recall >= ``recall`` that flags the fewest honest people."""
    ok = [p for p in curve if p["recall"] >= recall - 1e-9]
    return min(ok, key=lambda p: (p["honest_flagged_per_1000_per_30d"], -p["recall"])) if ok else None


# ---------------------------------------------------------------------------------------------- running
class Fanout:
    """Hands every validated record to each detector once; collects their alerts as :class:`Hit`."""

    def __init__(self, members: dict[str, Any], alert_files: dict[str, IO[bytes]] | None = None) -> None:
        self.members = members
        self.hits: dict[str, list[Hit]] = {k: [] for k in members}
        self.seconds: dict[str, float] = {k: 0.0 for k in members}
        self.files = alert_files or {}
        self.first_day: int | None = None
        self.last_day: int | None = None
        #: HR-side alerts (not security findings) per detector, by rule: counted, left out of the hits.
        self.hr_side: dict[str, Counter[str]] = {k: Counter() for k in members}

    def _call(self, method: str, obj: Any) -> list[Any]:
        for name, m in self.members.items():
            t0 = time.perf_counter()
            alerts = getattr(m, method)(obj)
            self.seconds[name] += time.perf_counter() - t0
            for a in alerts:
                if security_finding(a):  # offboarding reminders and the propensity are HR's, not findings
                    self.hits[name].append(Hit(a.employee_id, day_of(a.ts.timestamp()), a.rule_id, a.severity,
                                               a.score))
                else:
                    self.hr_side[name][a.rule_id] += 1
                fh = self.files.get(name)
                if fh is not None:
                    fh.write(orjson.dumps(a.model_dump(mode="json")) + b"\n")
        return []

    def on_event(self, event: Any) -> list[Any]:
        d = day_of(event.ts.timestamp())
        if self.first_day is None or d < self.first_day:
            self.first_day = d
        if self.last_day is None or d > self.last_day:
            self.last_day = d
        return self._call("on_event", event)

    def on_hr(self, record: Any) -> list[Any]:
        return self._call("on_hr", record)

    def on_signal(self, signal: Any) -> list[Any]:
        return self._call("on_signal", signal)


@dataclass
class Run:
    truth: Truth
    hits: dict[str, list[Hit]]
    naive: NaiveDetector
    available: dict[str, bool]
    seconds: float
    detector_seconds: dict[str, float]
    records: dict[str, int]
    bad: int
    unresolved: int
    rules: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def run_detectors(data: Path, rules_config: str | None = None, alerts_dir: Path | None = None,
                  progress: bool = False) -> Run:
    """One pass over the company's files through every detector."""
    from detectors.factory import build_engine, default_models
    from detectors.replay import run as replay_run

    t0 = time.perf_counter()
    hr = _find(data, "hr")
    signals = _find(data, "signals", required=False)
    events = _find(data, "events")
    labels = load_labels(data / "labels.jsonl")
    assert hr is not None and events is not None
    have_models = bool(default_models())
    rules_engine = build_engine(rules_config=rules_config, models=False)
    members: dict[str, Any] = {"rules": rules_engine}
    if have_models:
        members["models"] = build_engine(rules_config=rules_config, models=True, rules=False)
        members["both"] = build_engine(rules_config=rules_config, models=True, rules=True)
    naive = NaiveDetector()
    members["naive"] = naive
    files: dict[str, IO[bytes]] = {}
    if alerts_dir is not None:
        alerts_dir.mkdir(parents=True, exist_ok=True)
        files = {k: open(alerts_dir / f"alerts-{k}.jsonl", "wb") for k in members if k != "naive"}
    fan = Fanout(members, files)
    dead = 0

    def on_bad(d: Any) -> None:
        nonlocal dead
        dead += 1

    def show(s: Any) -> None:
        if progress:
            sys.stderr.write(f"\revaluate: {sum(s.read.values()):,} records, {s.seconds:.0f} s")
            sys.stderr.flush()

    try:
        stats = replay_run(fan, [hr], [signals] if signals else [], [events], on_alert=lambda a: None,
                           on_bad=on_bad, progress=show)
    finally:
        for fh in files.values():
            fh.close()
    if progress:
        sys.stderr.write("\n")
    hits = dict(fan.hits)
    hits["naive"] = [Hit(a.employee_id, a.day, a.rule_id, a.severity, a.score) for a in naive.alerts()]
    if not have_models:
        hits["both"] = hits["rules"]
    first = fan.first_day if fan.first_day is not None else 0
    last = fan.last_day if fan.last_day is not None else first
    truth = Truth(labels, load_population(hr), first, last - first + 1)
    truth.hr_side = fan.hr_side.get("both", fan.hr_side["rules"])
    return Run(
        truth=truth, hits=hits, naive=naive,
        available={"rules": True, "models": have_models, "both": True, "naive": True},
        seconds=time.perf_counter() - t0, detector_seconds=fan.seconds, records=dict(stats.read), bad=dead,
        unresolved=rules_engine.stats.unresolved,
        rules=[r.id for r in rules_engine.rules],
        models=[getattr(m, "id", type(m).__name__) for m in members["both"].models] if have_models else [],
    )


# ---------------------------------------------------------------------------------------------- report
def build_report(r: Run, grace: int = 7, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    truth = r.truth
    det: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    for name in DETECTORS:
        if not r.available[name]:
            det[name] = {"available": False, "note": "not available: detectors.factory.default_models() is empty"}
            continue
        det[name] = {"available": True, **score_detector(r.hits[name], truth, grace)}
        if name != "naive":
            curves[name] = score_curve(r.hits[name], truth, grace)
    naive_curve = []
    for k in NAIVE_SCALES:
        hits = [Hit(a.employee_id, a.day, a.rule_id, a.severity, a.score) for a in r.naive.alerts(k)]
        s = score_detector(hits, truth, grace)
        naive_curve.append({"scale": k, "recall": s["recall"],
                            "honest_flagged_per_1000_per_30d": s["honest_flagged_per_1000_per_30d"]})
    curves["naive"] = naive_curve
    product = "both" if r.available["models"] else "rules"
    headline = _headline(det, curves, product)
    coverage = intended_coverage(r.hits["rules"], truth, grace)
    notes = _notes(det, r.rules, coverage)
    return {
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "company": meta or {},
        "period": {"start": day_date(truth.day0).isoformat(), "days": truth.days,
                   "employees": len(truth.population), "malicious": len(truth.malicious),
                   "benign_leavers": sum(1 for lab in truth.labels.values() if not lab.malicious)},
        "definitions": {
            "counting_severity": "medium or above",
            "grace_days": grace,
            "caught": "a counting alert on a day from the scenario start to max(end, last_day) + grace_days",
            "honest_flagged_per_1000_per_30d": "(honest employee, 30-day block) pairs with a counting alert, "
                                               "per 1,000 honest employees per 30 days",
            "precision": "caught / (caught + honest employees flagged)",
            "lead_days": "last_day minus the day of the first counting alert in the window",
        },
        "runtime": {"evaluate_seconds": round(r.seconds, 1),
                    "detector_seconds": {k: round(v, 1) for k, v in r.detector_seconds.items()},
                    "generate_seconds": (meta or {}).get("seconds"),
                    "records": r.records, "bad_records": r.bad, "unresolved_actor_events": r.unresolved},
        "catalogue": {"rules": r.rules, "models": r.models},
        "product": product,
        "headline": headline,
        "detectors": det,
        "curves": curves,
        "naive_rules": [{"id": x.id, "rule": x.description} for x in NAIVE_RULES],
        "intended_rule_coverage": coverage,
        "notes_for_rule_authors": notes,
    }


def _headline(det: dict[str, Any], curves: dict[str, Any], product: str) -> dict[str, Any]:
    p, n = det[product], det["naive"]
    out: dict[str, Any] = {"product": product,
                           "product_recall": p["recall"],
                           "product_honest_per_1000_per_30d": p["honest_flagged_per_1000_per_30d"],
                           "naive_recall": n["recall"],
                           "naive_honest_per_1000_per_30d": n["honest_flagged_per_1000_per_30d"]}
    # 1. at the product's recall, the best the naive thresholds can do
    nv = at_recall(curves["naive"], p["recall"])
    out["naive_at_product_recall"] = nv
    # 2. at the naive default's recall, the best the product's score threshold can do
    pv = at_recall(curves[product], n["recall"])
    out["product_at_naive_recall"] = pv
    lines = []
    if nv is not None:
        a, b = p["honest_flagged_per_1000_per_30d"], nv["honest_flagged_per_1000_per_30d"]
        lines.append(f"At recall {p['recall']:.0%}, {product} flags {a:g} honest employees per 1,000 per 30 days; "
                     f"the naive thresholds (best scale x{nv['scale']:g}) flag {b:g}: {b - a:+.1f} "
                     f"({_times(b, a)}).")
    else:
        best = max(c["recall"] for c in curves["naive"])
        lines.append(f"The naive thresholds never reach {product}'s recall of {p['recall']:.0%} "
                     f"(best {best:.0%} at any scale).")
    if pv is not None:
        a, b = pv["honest_flagged_per_1000_per_30d"], n["honest_flagged_per_1000_per_30d"]
        lines.append(f"At the naive default's recall {n['recall']:.0%}, {product} (min score {pv['min_score']:g}) "
                     f"flags {a:g} honest employees per 1,000 per 30 days against the naive {b:g}: "
                     f"{b - a:.1f} fewer ({_times(b, a)}).")
    else:
        lines.append(f"{product} does not reach the naive default's recall of {n['recall']:.0%} at any score.")
    out["text"] = lines
    return out


def _times(b: float, a: float) -> str:
    if a <= 0:
        return "none flagged by us" if b > 0 else "neither flags anyone"
    return f"{b / a:.1f}x as many"


def _notes(det: dict[str, Any], catalogue: list[str], coverage: dict[str, Any]) -> list[str]:
    notes = []
    rules = det["rules"]
    for sc, per_rule in coverage.items():
        for rid, c in per_rule.items():
            if rid in catalogue and c["medium_plus"] < c["employees"] and not rid.startswith("sequence.crm_export"):
                notes.append(f"{rid} (meant for {sc}) fired medium+ on {c['medium_plus']}/{c['employees']} of them "
                             f"(any severity: {c['any']}/{c['employees']}); the scenario was caught by other rules"
                             if rules["scenarios"][sc]["caught"] else
                             f"{rid} (meant for {sc}) fired medium+ on {c['medium_plus']}/{c['employees']} "
                             f"(any severity: {c['any']}/{c['employees']}).")
    for sc, intended in INTENDED.items():
        if sc not in rules["scenarios"]:  # a scenario of the other generator: not in this company
            continue
        s = rules["scenarios"][sc]
        missing = [x for x in intended if x not in catalogue]
        fired: Counter[str] = Counter()
        for m in s["missed"]:
            for key in m["fired_in_window_any_severity"]:
                fired[key.split(":")[0] + " (" + key.split(":")[1] + ")"] += 1
        if s["recall"] is not None and s["recall"] < 1:
            txt = f"{sc}: rules caught {s['caught']}/{s['employees']}."
            if missing:
                txt += f" Intended rule(s) not in the catalogue: {', '.join(missing)}."
            present = [x for x in intended if x in catalogue]
            if present:
                silent = [x for x in present if not any(x in k for k in fired) and x not in s["caught_by"]]
                if silent:
                    txt += f" Present but silent on the missed employees: {', '.join(silent)}."
            if fired:
                txt += " On the missed ones, in the window: " + ", ".join(f"{k} x{v}" for k, v in fired.most_common(6))
                txt += "."
            notes.append(txt)
    for rid, n in list(rules["honest_flagged_by_rule"].items())[:5]:
        notes.append(f"{rid} flags {n} honest employee(s) (medium+).")
    return notes


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def render_markdown(rep: dict[str, Any], cmd: str) -> str:
    det = rep["detectors"]
    per = rep["period"]
    co = rep["company"]
    rt = rep["runtime"]
    L: list[str] = []
    L.append(f"# exitwatch evaluation: {per['employees']:,} employees, {per['days']} days")
    L.append("")
    L.append(f"Synthetic company from `exitwatch generate` (seed {co.get('seed', '?')}, from {per['start']}): "
             f"{rt['records'].get('events', 0):,} events, {rt['records'].get('hr', 0):,} HR records, "
             f"{rt['records'].get('signals', 0):,} HR signals; {per['malicious']} malicious leavers "
             f"({per['malicious'] // max(1, len(SCENARIOS))} per scenario) and {per['benign_leavers']} benign leavers.")
    L.append("")
    L.append(f"Regenerate: `{cmd}`")
    L.append("")
    gen = rt.get("generate_seconds")
    L.append(f"Runtime on this machine (2 cores): generate {gen if gen is not None else '?'} s, evaluate "
             f"{rt['evaluate_seconds']} s (time inside each detector: "
             + ", ".join(f"{k} {v} s" for k, v in rt["detector_seconds"].items())
             + f"; the rest is reading and validating the records once). {rt['bad_records']} bad records, "
             f"{rt['unresolved_actor_events']:,} events by unresolvable actors (service accounts).")
    L.append("")
    L.append(f"Catalogue: {len(rep['catalogue']['rules'])} rule(s): "
             + (", ".join(f"`{x}`" for x in rep["catalogue"]["rules"]) or "none")
             + f"; models: {', '.join(rep['catalogue']['models']) or 'none (not available)'}.")
    L.append("")
    L.append("## Headline")
    L.append("")
    for t in rep["headline"]["text"]:
        L.append(f"- {t}")
    L.append("")
    L.append("## Detectors")
    L.append("")
    L.append("| detector | recall | caught | honest flagged /1,000/30 d | honest flagged | benign leavers flagged "
             "| precision | alerts/day (all) | medium+/day | median lead (days) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for name in DETECTORS:
        d = det[name]
        if not d["available"]:
            L.append(f"| {name} | not available | | | | | | | | |")
            continue
        L.append(f"| {name} | {_pct(d['recall'])} | {d['caught']}/{d['malicious']} | "
                 f"{d['honest_flagged_per_1000_per_30d']:g} | {d['honest_flagged']}/{d['honest_employees']} | "
                 f"{d['benign_leavers_flagged']}/{d['benign_leavers']} | {_pct(d['precision'])} | "
                 f"{d['alerts_per_day']:g} | {d['counting_alerts_per_day']:g} | "
                 f"{'-' if d['lead_days_median'] is None else d['lead_days_median']} |")
    L.append("")
    L.append("## Recall per scenario")
    L.append("")
    avail = [n for n in DETECTORS if det[n]["available"]]
    L.append("| scenario | " + " | ".join(avail) + " | caught by (rules) |")
    L.append("|---|" + "---|" * len(avail) + "---|")
    for sc in SCENARIOS:
        cells = []
        for n in avail:
            s = det[n]["scenarios"][sc]
            cells.append(f"{s['caught']}/{s['employees']}"
                         + (f" ({s['lead_days_median']} d)" if s["lead_days_median"] is not None else ""))
        by = det["rules"]["scenarios"][sc]["caught_by"]
        L.append(f"| {sc} | " + " | ".join(cells) + " | " + (", ".join(f"{k} ({v})" for k, v in by.items()) or "-")
                 + " |")
    L.append("")
    L.append("Cells: caught/malicious (median lead time in days before the last day). *Caught by*: every rule "
             "with a medium+ alert in the window (`risk.employee` is the accumulated risk crossing its level).")
    L.append("")
    L.append("The rules meant for each scenario, on its employees in the window (medium+ / any severity):")
    L.append("")
    L.append("| scenario | rule | medium+ | any severity |")
    L.append("|---|---|---|---|")
    for sc, per_rule in rep["intended_rule_coverage"].items():
        for rid, c in per_rule.items():
            present = rid in rep["catalogue"]["rules"]
            L.append(f"| {sc} | `{rid}`{'' if present else ' (not in the catalogue)'} | "
                     f"{c['medium_plus']}/{c['employees']} | {c['any']}/{c['employees']} |")
    L.append("")
    L.append("## What flags honest people")
    L.append("")
    for n in avail:
        fp = det[n]["honest_flagged_by_rule"]
        L.append(f"- **{n}**: " + (", ".join(f"`{k}` {v}" for k, v in fp.items()) or "nobody"))
    L.append("")
    L.append("## Trade-off curves")
    L.append("")
    L.append("Naive thresholds multiplied by a scale:")
    L.append("")
    L.append("| scale | " + " | ".join(f"x{c['scale']:g}" for c in rep["curves"]["naive"]) + " |")
    L.append("|---|" + "---|" * len(rep["curves"]["naive"]))
    L.append("| recall | " + " | ".join(_pct(c["recall"]) for c in rep["curves"]["naive"]) + " |")
    L.append("| honest /1,000/30 d | " + " | ".join(f"{c['honest_flagged_per_1000_per_30d']:g}"
                                                   for c in rep["curves"]["naive"]) + " |")
    L.append("")
    for n in ("rules", "models", "both"):
        c = rep["curves"].get(n)
        if not c or (n == "both" and not det["models"]["available"]):
            continue
        pts = _thin(c)
        L.append(f"{n}, minimum alert score (medium+ alerts):")
        L.append("")
        L.append("| min score | " + " | ".join(f"{p['min_score']:g}" for p in pts) + " |")
        L.append("|---|" + "---|" * len(pts))
        L.append("| recall | " + " | ".join(_pct(p["recall"]) for p in pts) + " |")
        L.append("| honest /1,000/30 d | " + " | ".join(f"{p['honest_flagged_per_1000_per_30d']:g}" for p in pts) + " |")
        L.append("")
    L.append("## Notes for rule authors")
    L.append("")
    for t in rep["notes_for_rule_authors"] or ["Nothing missed."]:
        L.append(f"- {t}")
    L.append("")
    L.append("## The naive reference (exitwatch/naive.py)")
    L.append("")
    for x in rep["naive_rules"]:
        L.append(f"- `{x['id']}`: {x['rule']}")
    L.append("")
    L.append("## Definitions")
    L.append("")
    for k, v in rep["definitions"].items():
        L.append(f"- **{k}**: {v}")
    L.append("")
    L.append("![risk over time](risk.png)")
    L.append("")
    L.append("Risk over time: each employee's alert scores (all severities, weighted as the engine's risk "
             "score) accumulated per day with a 14-day half-life; dashed line at the last day.")
    L.append("")
    return "\n".join(L)


def _thin(curve: list[dict[str, Any]], k: int = 10) -> list[dict[str, Any]]:
    if len(curve) <= k:
        return curve
    idx = sorted({round(i * (len(curve) - 1) / (k - 1)) for i in range(k)})
    return [curve[i] for i in idx]


def risk_series(hits: Iterable[Hit], emp: str, day0: int, days: int, half_life: float = 14.0) -> list[float]:
    """Per day: alert scores (severity-weighted) accumulated with decay, capped at 100."""
    from detectors.risk import SEVERITY_WEIGHT

    add = [0.0] * days
    for h in hits:
        if h.employee_id == emp and 0 <= h.day - day0 < days:
            add[h.day - day0] += h.score * SEVERITY_WEIGHT.get(h.severity, 0.5)
    out, v, k = [], 0.0, 0.5 ** (1 / half_life)
    for a in add:
        v = min(100.0, v * k + a)
        out.append(v)
    return out


def plot_risk(r: Run, rep: dict[str, Any], path: Path) -> list[str]:
    """PNG of risk over time for a few caught and a few honest employees; returns who is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    product = rep["product"]
    hits = r.hits[product]
    truth = r.truth
    mal = truth.malicious
    caught = []
    for sc in SCENARIOS:
        s = rep["detectors"][product]["scenarios"][sc]
        members = [e for e, lab in mal.items() if lab.scenario == sc]
        missed = {m["employee_id"] for m in s["missed"]}
        caught += [(sc, e) for e in sorted(members) if e not in missed][:1]
    caught = caught[:5]
    peak: dict[str, float] = defaultdict(float)
    for h in hits:
        if h.employee_id in truth.honest:
            peak[h.employee_id] = max(peak[h.employee_id], h.score if h.counts else 0.0)
    flagged = sorted(peak, key=lambda e: -peak[e])[:2]
    benign = sorted(e for e, lab in truth.labels.items() if not lab.malicious and e not in flagged)[:2]
    quiet = sorted(truth.honest - set(truth.labels) - set(flagged))[:1]
    x = [day_date(truth.day0 + i) for i in range(truth.days)]
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    drawn = []
    for sc, e in caught:
        line = axes[0].plot(x, risk_series(hits, e, truth.day0, truth.days), label=f"{e} {sc}")[0]
        axes[0].axvline(day_date(mal[e].last_day), color=line.get_color(), ls="--", lw=0.8)
        drawn.append(e)
    axes[0].set_title(f"Malicious leavers caught ({product})")
    for e, tag in [(e, "benign leaver, most flagged" if e in truth.labels else "honest, most flagged")
                   for e in flagged] + [(e, "benign leaver") for e in benign] + \
            [(e, "honest, stays") for e in quiet]:
        line = axes[1].plot(x, risk_series(hits, e, truth.day0, truth.days), label=f"{e} {tag}")[0]
        lab = truth.labels.get(e)
        if lab is not None:
            axes[1].axvline(day_date(lab.last_day), color=line.get_color(), ls="--", lw=0.8)
        drawn.append(e)
    axes[1].set_title("Honest employees")
    for ax in axes:
        ax.set_ylabel("risk (0-100)")
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return drawn


def evaluate(data: str | Path, out: str | Path, rules_config: str | None = None, grace: int = 7,
             alerts_dir: str | Path | None = None, progress: bool = False, cmd: str | None = None) -> dict[str, Any]:
    """Run the detectors over ``data`` and write ``report.json``, ``report.md`` and ``risk.png`` to ``out``."""
    data, out = Path(data), Path(out)
    t0 = time.perf_counter()
    meta: dict[str, Any] = {}
    if (data / "meta.json").exists():
        meta = orjson.loads((data / "meta.json").read_bytes())
    r = run_detectors(data, rules_config, Path(alerts_dir) if alerts_dir is not None else data, progress)
    rep = build_report(r, grace, meta)
    out.mkdir(parents=True, exist_ok=True)
    rep["chart_employees"] = plot_risk(r, rep, out / "risk.png")
    rep["runtime"]["evaluate_seconds"] = round(time.perf_counter() - t0, 1)
    if cmd is None:
        cmd = (f"exitwatch generate --employees {meta.get('employees', '?')} --days {meta.get('days', '?')} "
               f"--seed {meta.get('seed', '?')} --out {data} && exitwatch evaluate --data {data} --out {out}"
               + (f" --rules-config {rules_config}" if rules_config else ""))
    (out / "report.json").write_bytes(orjson.dumps(rep, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    (out / "report.md").write_text(render_markdown(rep, cmd))
    from exitwatch.evaluate_propensity import evaluate_propensity, write_report  # issue 18: propensity.md

    if (data / "signals.jsonl").exists() and (data / "hr.jsonl").exists():
        rep["propensity"] = evaluate_propensity(data)
        write_report([rep["propensity"]], out, cmd)
    return rep


# ---------------------------------------------------------------------------------------------- the model alone
# Day-level measurement of the learned model (formerly detectors/models/measure.py): ROC AUC on employee-days,
# alerts by severity, per-employee state size and cost per event, through the real Engine (no rules, no risk).
# Employee-days inside a labelled malicious period are positives; see :func:`positive_days` for the label
# shapes read (``start``/``end``, ``window_start``/``window_end``, ``first_day``/``last_day``, ``days``).


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


def measure_model(items: Iterator[tuple[int, Any]], labels: list[dict[str, Any]],
        config: BehaviourConfig | None = None) -> dict[str, Any]:
    """The learned model alone: drive an engine holding only the model over ``(kind, record)`` items (0 HR,
    1 signal, 2 event)."""
    from detectors.context import HRView
    from detectors.engine import Engine, EngineConfig
    from detectors.models.behaviour import ID, BehaviourModel

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
        "state_bytes": {"mean": round(float(np.mean(sizes)), 1) if sizes else 0, "p95": _pctl(sizes, 95),
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


def _pctl(xs: list[int], p: int) -> int:
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else 0


def measure_model_dir(directory: str | Path, config: BehaviourConfig | None = None) -> dict[str, Any]:
    """Measure the model on a generated data set (``hr``, ``events``, ``labels``, optional ``signals``)."""
    from detectors.replay import merged, open_text

    d = Path(directory)
    hr, ev = _find(d, "hr", False), _find(d, "events", False)
    lab = _find(d, "labels", False)
    if hr is None or ev is None:
        raise FileNotFoundError(f"{d}: needs hr.jsonl and events.jsonl")
    sig = _find(d, "signals", False)
    labels: list[dict[str, Any]] = []
    if lab is not None:
        with open_text(lab) as fh:
            labels = [orjson.loads(line) for line in fh if line.strip()]
    counters = {"hr": 0, "signals": 0, "events": 0}
    items = merged([hr], [sig] if sig else [], [ev], lambda *a: None, counters)
    out = measure_model(items, labels, config)
    out["source"] = str(d)
    return out


def measure_model_synthetic(employees: int = 80, days: int = 90, seed: int = 7,
                      config: BehaviourConfig | None = None) -> dict[str, Any]:
    """Measure the model on the generated company in memory (:func:`exitwatch.generate.workforce`, no files)."""
    from exitwatch.generate import workforce

    from schemas import ActivityEvent, HRRecord

    hr, events, labels = workforce(employees=employees, days=days, seed=seed)
    recs: list[tuple[str, int, Any]] = [(h["ts"], 0, HRRecord.model_validate(h)) for h in hr]
    recs += [(e["ts"], 2, ActivityEvent.model_validate(e)) for e in events]
    recs.sort(key=lambda r: (r[0], r[1]))
    out = measure_model(((k, o) for _, k, o in recs), labels, config)
    out["source"] = f"synthetic(employees={employees}, days={days}, seed={seed})"
    return out


# ---------------------------------------------------------------------------------------------- profiles
#: Targets of issue 14 for every profile: recall, honest flagged medium+ per 1,000 per 30 days, median lead
#: before the last day, alerts of any severity from one rule to one honest person in 30 days.
TARGETS = {"recall": 0.97, "honest_flagged_per_1000_per_30d": 1.0, "lead_days_median": 7,
           "max_rule_alerts_honest_30d": 2}
#: Sizes of the profile sweep: ``ci`` for a test, ``full`` for the committed report.
SIZES = {"ci": dict(employees=120, days=60, seeds=(1,)), "full": dict(employees=400, days=100, seeds=(1, 2))}


def run_product(data: Path, rules_config: str | None = None, alerts_dir: Path | None = None,
                progress: str | None = None) -> tuple[Truth, list[Hit], float]:
    """The product alone (rules and models in one engine) over a company's files: truth, hits, seconds."""
    from detectors.factory import build_engine
    from detectors.replay import run as replay_run

    t0 = time.perf_counter()
    hr, events = _find(data, "hr"), _find(data, "events")
    signals = _find(data, "signals", required=False)
    assert hr is not None and events is not None
    engine = build_engine(rules_config=rules_config, models=True, rules=True)
    files: dict[str, IO[bytes]] = {}
    if alerts_dir is not None:
        alerts_dir.mkdir(parents=True, exist_ok=True)
        files = {"product": open(alerts_dir / "alerts-product.jsonl", "wb")}
    fan = Fanout({"product": engine}, files)

    def show(st: Any) -> None:
        if progress is not None:
            sys.stderr.write(f"\r{progress}: {sum(st.read.values()):,} records, {st.seconds:.0f} s")
            sys.stderr.flush()

    try:
        replay_run(fan, [hr], [signals] if signals else [], [events], on_alert=lambda a: None,
                   on_bad=lambda d: None, progress=show)
    finally:
        for fh in files.values():
            fh.close()
    if progress is not None:
        sys.stderr.write("\n")
    first = fan.first_day if fan.first_day is not None else 0
    last = fan.last_day if fan.last_day is not None else first
    truth = Truth(load_labels(data / "labels.jsonl"), load_population(hr), first, last - first + 1)
    hits = fan.hits["product"]
    truth.hr_side = fan.hr_side["product"]
    return truth, hits, time.perf_counter() - t0


def pool(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One profile's figures over its seeds: sums of caught and malicious, of honest (employee, 30-day)
    pairs and honest units, every lead, the worst burst."""
    caught = sum(r["caught"] for r in runs)
    mal = sum(r["malicious"] for r in runs)
    pairs = sum(r["honest_pairs"] for r in runs)
    units = sum(r["honest_units"] for r in runs)
    leads = sorted(x for r in runs for x in r["leads"])
    burst = max((r["max_rule_alerts_honest_30d"] for r in runs), key=lambda b: b["alerts"])
    flagged_by: Counter[str] = Counter()
    for r in runs:
        flagged_by.update(r["honest_flagged_by_rule"])
    missed = [dict(m, scenario=sc, seed=r["seed"]) for r in runs for sc, v in r["scenarios"].items()
              for m in v["missed"]]
    return {
        "malicious": mal, "caught": caught, "recall": round(caught / mal, 4) if mal else 0.0,
        "honest_flagged": sum(r["honest_flagged"] for r in runs),
        "honest_employees": sum(r["honest_employees"] for r in runs),
        "honest_flagged_per_1000_per_30d": round(pairs / units, 2) if units else 0.0,
        "lead_days_median": statistics.median(leads) if leads else None,
        "max_rule_alerts_honest_30d": burst,
        "honest_flagged_by_rule": dict(flagged_by.most_common()),
        "alerts_per_day": round(statistics.fmean(r["alerts_per_day"] for r in runs), 2),
        "hr_side_alerts": dict(sum((Counter(r.get("hr_side_alerts", {})) for r in runs), Counter())),
        "missed": missed,
    }


def misses(p: dict[str, Any]) -> list[str]:
    """The targets a pooled profile misses."""
    out = []
    if p["recall"] < TARGETS["recall"]:
        out.append("recall")
    if p["honest_flagged_per_1000_per_30d"] > TARGETS["honest_flagged_per_1000_per_30d"]:
        out.append("honest flagged")
    if p["lead_days_median"] is None or p["lead_days_median"] < TARGETS["lead_days_median"]:
        out.append("lead")
    if p["max_rule_alerts_honest_30d"]["alerts"] > TARGETS["max_rule_alerts_honest_30d"]:
        out.append("alerts from one rule")
    return out


def worst(profiles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline: the worst profile on each figure, and the worst profile overall (most targets missed,
    then most honest people flagged, then lowest recall)."""
    def pick(key: Any, reverse: bool) -> dict[str, Any]:
        name = sorted(profiles, key=lambda n: (key(profiles[n]), n), reverse=reverse)[0]
        return {"profile": name, "value": key(profiles[name])}

    overall = sorted(profiles, key=lambda n: (-len(misses(profiles[n])),
                                             -profiles[n]["honest_flagged_per_1000_per_30d"],
                                             profiles[n]["recall"], n))[0]
    return {
        "profile": overall,
        "misses": misses(profiles[overall]),
        "recall": pick(lambda p: p["recall"], False),
        "honest_flagged_per_1000_per_30d": pick(lambda p: p["honest_flagged_per_1000_per_30d"], True),
        "lead_days_median": pick(lambda p: -1e9 if p["lead_days_median"] is None else p["lead_days_median"], False),
        "max_rule_alerts_honest_30d": pick(lambda p: p["max_rule_alerts_honest_30d"]["alerts"], True),
    }


def profile_names(profiles: Iterable[str] | None) -> list[str]:
    """The profiles a sweep names: ``own`` (the default: the six of ``exitwatch generate``), ``outside`` (the
    companies of :mod:`exitwatch.generate_outside`), ``all`` (both), or names, comma-separated or listed.

    >>> profile_names(None)[:2], profile_names(["outside"]), profile_names(["baseline", "outside_b"])
    (['baseline', 'sales_org'], ['outside_a', 'outside_b', 'outside_c'], ['baseline', 'outside_b'])
    """
    from exitwatch.generate import PROFILES

    groups = {"own": list(PROFILES), "outside": list(OUTSIDE_PROFILES), "all": [*PROFILES, *OUTSIDE_PROFILES]}
    out: list[str] = []
    for name in profiles or ["own"]:
        for n in groups.get(name, [name]):
            if n not in PROFILES and n not in OUTSIDE_PROFILES:
                raise ValueError(f"unknown profile {n!r}; known: {', '.join(groups['all'])} (or own, outside, all)")
            if n not in out:
                out.append(n)
    return out


def generate_profile(data: Path, name: str, employees: int, days: int, seed: int) -> dict[str, Any]:
    """Write one company of a profile, with the project's generator or the outside one."""
    if name in OUTSIDE_PROFILES:
        from exitwatch.generate_outside import generate as generate_outside

        return generate_outside(data, employees=employees, days=days, seed=seed, profile=name)
    from exitwatch.generate import generate

    return generate(data, employees=employees, days=days, seed=seed, profile=name)


#: Beside a company's ``alerts-product.jsonl``: which detection code and rules config wrote it (``--resume``).
PRODUCT_DONE = "alerts-product.done.json"


def code_fingerprint(rules_config: str | None = None) -> str:
    """A digest of what the product's alerts depend on: every source file of ``detectors`` and ``schemas`` (path
    and bytes) and the rules config's bytes. Two sweeps with the same fingerprint give the same alerts."""
    import hashlib

    import detectors
    import schemas

    h = hashlib.blake2b(digest_size=16)
    for pkg in (detectors, schemas):
        root = Path(pkg.__file__).parent
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root.parent)).encode() + b"\0" + f.read_bytes() + b"\0")
    if rules_config:
        h.update(b"config\0" + Path(rules_config).read_bytes())
    return h.hexdigest()


def product_from_alerts(data: Path) -> tuple[Truth, list[Hit]]:
    """Truth and hits of a company from the product alerts a finished run left in ``data`` (what
    :func:`run_product` returns, read back: the period is the first to the last event day, as the run's)."""
    from exitwatch.whatif import hits_of, read_alerts, truth_of

    alerts = read_alerts(data / "alerts-product.jsonl")
    truth = truth_of(data)
    truth.hr_side = Counter(a["rule_id"] for a in alerts if not security_finding(a))
    return truth, hits_of(alerts)


def evaluate_profiles(out: str | Path | None, profiles: Iterable[str] | None = None,
                      seeds: Iterable[int] = (1, 2), employees: int = 500, days: int = 110,
                      rules_config: str | None = None, grace: int = 7, work: str | Path | None = None,
                      progress: bool = False, cmd: str | None = None, resume: bool = False) -> dict[str, Any]:
    """Generate each profile with each seed (into ``work``, reused when already there), run the product over
    it, and pool the figures per profile; the headline is the worst profile. Writes ``report.json`` and
    ``report.md`` to ``out`` (when given).

    After each company's run, ``PRODUCT_DONE`` beside its alerts records :func:`code_fingerprint`. With
    ``resume`` a company whose record matches the code and rules config in force is not run again: its alerts
    are read back (:func:`product_from_alerts`), so a sweep stopped after some companies goes on from there."""
    import shutil
    import tempfile

    from exitwatch.generate import PROFILES

    names = profile_names(profiles)
    seeds = list(seeds)
    tmp = None
    if work is None:
        tmp = tempfile.mkdtemp(prefix="exitwatch-eval-")
        work = tmp
    work = Path(work)
    t0 = time.perf_counter()
    per: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    runs_meta = []
    total = len(names) * len(seeds)
    fingerprint = code_fingerprint(rules_config)
    try:
        for i, (name, seed) in enumerate(((n, s) for n in names for s in seeds), 1):
            data = work / f"{name}-{employees}x{days}-s{seed}"
            meta_p = data / "meta.json"
            tg = time.perf_counter()
            meta = orjson.loads(meta_p.read_bytes()) if meta_p.exists() else None
            if not meta or meta.get("profile") != name or meta.get("employees") != employees \
                    or meta.get("days") != days or meta.get("seed") != seed:
                meta = generate_profile(data, name, employees, days, seed)
            gen_s = time.perf_counter() - tg
            tag = f"evaluate [{i}/{total}] {name} seed {seed}"
            done_p = data / PRODUCT_DONE
            done = orjson.loads(done_p.read_bytes()) if resume and done_p.exists() else None
            if done and done.get("code") == fingerprint and (data / "alerts-product.jsonl").exists():
                truth, hits = product_from_alerts(data)
                det_s = float(done.get("seconds", 0.0))
                if progress:
                    sys.stderr.write(f"{tag}: alerts of an earlier run with this code reused ({PRODUCT_DONE})\n")
            else:
                done_p.unlink(missing_ok=True)
                truth, hits, det_s = run_product(data, rules_config, data, tag if progress else None)
                done_p.write_bytes(orjson.dumps({"code": fingerprint, "seconds": round(det_s, 1)}))
            sc = score_detector(hits, truth, grace)
            sc["seed"] = seed
            sc["hr_side_alerts"] = dict(truth.hr_side)
            per[name].append(sc)
            runs_meta.append({"profile": name, "seed": seed, "events": meta["events"], "generate_s": round(gen_s, 1),
                              "detect_s": round(det_s, 1), "recall": sc["recall"],
                              "honest_flagged_per_1000_per_30d": sc["honest_flagged_per_1000_per_30d"]})
            if progress:
                b = sc["max_rule_alerts_honest_30d"]
                sys.stderr.write(f"{tag}: {meta['events']:,} events, recall {sc['recall']:.2f} "
                                 f"({sc['caught']}/{sc['malicious']}), honest {sc['honest_flagged_per_1000_per_30d']:g}"
                                 f"/1,000/30 d, lead {sc['lead_days_median']}, burst {b['alerts']} ({b['rule_id']}); "
                                 f"{time.perf_counter() - t0:.0f} s so far\n")
                sys.stderr.flush()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    pooled = {n: pool(v) for n, v in per.items()}
    single = {f"{n} s{r['seed']}": pool([r]) for n in names for r in per[n]}
    about = {**{n: p.about for n, p in PROFILES.items()}, **{n: p.about for n, p in OUTSIDE_PROFILES.items()}}

    rep = {
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "sweep": {"profiles": names, "seeds": seeds, "employees": employees, "days": days, "grace_days": grace,
                  "seconds": round(time.perf_counter() - t0, 1)},
        "targets": TARGETS,
        "headline": worst(pooled),
        "profiles": {n: {"about": about[n], **pooled[n], "misses": misses(pooled[n])} for n in names},
        "runs": runs_meta,
        "per_seed": {n: [{k: v for k, v in r.items() if k not in ("leads",)} for r in per[n]] for n in names},
        "worst_company": worst(single),
        "companies": {c: {k: p[k] for k in ("recall", "caught", "malicious", "honest_flagged_per_1000_per_30d",
                                            "honest_flagged", "honest_employees", "lead_days_median",
                                            "max_rule_alerts_honest_30d")} | {"misses": misses(p)}
                      for c, p in single.items()},
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        cmd = cmd or (f"exitwatch evaluate --profiles {','.join(names)} --seeds {','.join(map(str, seeds))} "
                      f"--employees {employees} --days {days} --out {out}")
        (out / "profiles.json").write_bytes(orjson.dumps(rep, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        (out / "profiles.md").write_text(render_profiles(rep, cmd))
    return rep


def render_companies(rep: dict[str, Any]) -> list[str]:
    """Every company (a profile at one seed) on its own, and the worst single company: pooling seeds can hide a
    bad company behind a good one."""
    comp = rep.get("companies") or {}
    if len(comp) <= len(rep["profiles"]):
        return []
    w = rep["worst_company"]
    L = ["", "## Every company (a profile at one seed)", "",
         f"Worst single company: **{w['profile']}**. Worst figures, each with its company: recall "
         f"{w['recall']['value']:.3f} ({w['recall']['profile']}), honest flagged "
         f"{w['honest_flagged_per_1000_per_30d']['value']:g} /1,000/30 d "
         f"({w['honest_flagged_per_1000_per_30d']['profile']}), median lead "
         f"{'-' if w['lead_days_median']['value'] == -1e9 else w['lead_days_median']['value']} d "
         f"({w['lead_days_median']['profile']}), alerts from one rule to one honest person in 30 days "
         f"{w['max_rule_alerts_honest_30d']['value']} ({w['max_rule_alerts_honest_30d']['profile']}).", "",
         "| company | recall | caught | honest flagged /1,000/30 d | honest flagged | median lead (d) | "
         "max alerts one rule / honest / 30 d | misses |", "|---|---|---|---|---|---|---|---|"]
    for c, p in comp.items():
        L.append(f"| {c} | {p['recall']:.3f} | {p['caught']}/{p['malicious']} | "
                 f"{p['honest_flagged_per_1000_per_30d']:g} | {p['honest_flagged']}/{p['honest_employees']} | "
                 f"{p['lead_days_median']} | {p['max_rule_alerts_honest_30d']['alerts']} | "
                 f"{', '.join(p['misses']) or '-'} |")
    return L


def render_profiles(rep: dict[str, Any], cmd: str) -> str:
    h, sw = rep["headline"], rep["sweep"]
    L = [f"# exitwatch evaluation over {len(sw['profiles'])} company profiles", "",
         f"{sw['employees']:,} employees x {sw['days']} days per company, seeds {', '.join(map(str, sw['seeds']))}; "
         f"the product (every rule, the learned model and the risk score in one engine). An alert counts at medium "
         f"or above; a malicious leaver is caught from the scenario's start to {sw['grace_days']} days after the "
         f"last day. HR-side alerts (offboarding notices, departure propensity: rules and models with "
         f"`security = False`) are workflow, not detections: they are left out and counted under each profile. "
         f"{sw['seconds']:.0f} s on this machine.", "", f"Regenerate: `{cmd}`", "",
         "## Headline: the worst profile", ""]
    L.append(f"Worst profile overall: **{h['profile']}** (targets missed: {', '.join(h['misses']) or 'none'}).")
    L.append("")
    L.append("| figure | worst | profile | target |")
    L.append("|---|---|---|---|")
    L.append(f"| recall | {h['recall']['value']:.3f} | {h['recall']['profile']} | >= {TARGETS['recall']} |")
    L.append(f"| honest flagged medium+ per 1,000 per 30 days | {h['honest_flagged_per_1000_per_30d']['value']:g} | "
             f"{h['honest_flagged_per_1000_per_30d']['profile']} | <= {TARGETS['honest_flagged_per_1000_per_30d']} |")
    lv = h["lead_days_median"]["value"]
    L.append(f"| median lead before the last day (days) | {'-' if lv == -1e9 else lv} | "
             f"{h['lead_days_median']['profile']} | >= {TARGETS['lead_days_median']} |")
    L.append(f"| alerts from one rule to one honest person in 30 days | {h['max_rule_alerts_honest_30d']['value']} | "
             f"{h['max_rule_alerts_honest_30d']['profile']} | <= {TARGETS['max_rule_alerts_honest_30d']} |")
    L += ["", "## Every profile", "",
          "| profile | recall | caught | honest flagged /1,000/30 d | honest flagged | median lead (d) | "
          "max alerts one rule / honest / 30 d | alerts/day | misses |", "|---|---|---|---|---|---|---|---|---|"]
    for n, p in rep["profiles"].items():
        b = p["max_rule_alerts_honest_30d"]
        L.append(f"| {n} | {p['recall']:.3f} | {p['caught']}/{p['malicious']} | {p['honest_flagged_per_1000_per_30d']:g} "
                 f"| {p['honest_flagged']}/{p['honest_employees']} | {p['lead_days_median']} | {b['alerts']}"
                 f"{' (' + str(b['rule_id']) + ')' if b['rule_id'] else ''} | {p['alerts_per_day']:g} | "
                 f"{', '.join(p['misses']) or '-'} |")
    L += render_companies(rep)
    L += ["", "## What the profiles are", ""]
    for n, p in rep["profiles"].items():
        L.append(f"- **{n}**: {p['about']}")
    L += ["", "## What flags honest people, and what is missed", ""]
    for n, p in rep["profiles"].items():
        fl = ", ".join(f"`{k}` {v}" for k, v in p["honest_flagged_by_rule"].items()) or "nobody"
        hs = ", ".join(f"`{k}` {v}" for k, v in p.get("hr_side_alerts", {}).items()) or "none"
        L.append(f"- **{n}**: honest flagged by {fl}. HR-side alerts (not counted): {hs}.")
        for m in p["missed"]:
            fired = ", ".join(f"{k} x{v}" for k, v in m["fired_in_window_any_severity"].items()) or "nothing"
            L.append(f"  - missed {m['employee_id']} ({m['scenario']}, seed {m['seed']}): in the window {fired}")
    L.append("")
    return "\n".join(L)


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("evaluate", help="measure the detectors and a naive reference against a labelled company",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="DIR",
                   help="one company as written by exitwatch generate (every detector and the naive reference); "
                        "without it, every company profile is generated and the product evaluated on each")
    p.add_argument("--profiles", help="profiles to sweep, comma-separated: names, or own (the six of exitwatch "
                                      "generate, the default), outside (outside_a,outside_b,outside_c: companies "
                                      "written apart from the project's generator), all")
    p.add_argument("--seeds", help="seeds per profile, comma-separated (default: from --size)")
    p.add_argument("--size", choices=list(SIZES), default="full",
                   help="companies of the sweep: ci (120 x 60 days, one seed) or full (400 x 100 days, two seeds)")
    p.add_argument("--employees", type=int, help="employees per company (overrides --size)")
    p.add_argument("--days", type=int, help="days per company (overrides --size)")
    p.add_argument("--work", metavar="DIR", help="where the sweep's companies go, reused when already there "
                                                 "(default: a temporary folder, removed afterwards)")
    p.add_argument("--out", default="reports/evaluation", metavar="DIR")
    p.add_argument("--rules-config", metavar="FILE", help="TOML/JSON overrides of rule settings")
    p.add_argument("--grace-days", type=int, default=7, help="days after the last day an alert still catches")
    p.add_argument("--alerts-dir", metavar="DIR", help="where alerts-<detector>.jsonl go (default: --data)")
    p.add_argument("--resume", action="store_true",
                   help=f"sweep: reuse a company's product alerts when its {PRODUCT_DONE} says this detection code "
                        "and rules config wrote them (a stopped sweep goes on where it stopped)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress line on stderr (default: when stderr is a terminal)")
    p.add_argument("--model-only", action="store_true",
                   help="measure the learned model alone on --data (day AUC, alerts, state size, cost per event) "
                        "and print it as JSON; writes no report")
    return p


def run(args: argparse.Namespace) -> int:
    show = sys.stderr.isatty() if args.progress is None else args.progress
    if args.model_only:
        if not args.data:
            raise ValueError("--model-only needs --data DIR")
        print(orjson.dumps(measure_model_dir(args.data), option=orjson.OPT_INDENT_2).decode())
        return 0
    if not args.data:
        size = SIZES[args.size]
        seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else list(size["seeds"])
        rep = evaluate_profiles(args.out, args.profiles.split(",") if args.profiles else None, seeds,
                                args.employees or size["employees"], args.days or size["days"], args.rules_config,
                                args.grace_days, args.work, show, resume=args.resume)
        h = rep["headline"]
        print(f"worst profile: {h['profile']} (targets missed: {', '.join(h['misses']) or 'none'})", file=sys.stderr)
        for n, p in rep["profiles"].items():
            b = p["max_rule_alerts_honest_30d"]
            print(f"  {n:10s} recall {p['recall']:.3f} ({p['caught']}/{p['malicious']}), honest flagged "
                  f"{p['honest_flagged_per_1000_per_30d']:g}/1,000/30 d, median lead {p['lead_days_median']} d, "
                  f"max {b['alerts']} alerts from one rule to one honest person in 30 d", file=sys.stderr)
        print(f"evaluate: report in {args.out}/profiles.md ({rep['sweep']['seconds']} s)", file=sys.stderr)
        return 0
    rep = evaluate(args.data, args.out, args.rules_config, args.grace_days, args.alerts_dir, show)
    for t in rep["headline"]["text"]:
        print(t, file=sys.stderr)
    for name in DETECTORS:
        d = rep["detectors"][name]
        if not d["available"]:
            print(f"  {name:6s} not available", file=sys.stderr)
            continue
        print(f"  {name:6s} recall {d['recall']:.0%} ({d['caught']}/{d['malicious']}), honest flagged "
              f"{d['honest_flagged_per_1000_per_30d']:g}/1,000/30 d, precision {_pct(d['precision'])}",
              file=sys.stderr)
    if "propensity" in rep:
        pr = rep["propensity"]
        print(f"  departure propensity: {pr['leaver_recall_14d']:.0%} of leavers flagged >= 14 days before notice, "
              f"{pr['stayer_flag_rate']:.1%} of stayers, AUC {pr['auc_weekly']} (propensity.md)", file=sys.stderr)
    print(f"evaluate: report in {args.out} ({rep['runtime']['evaluate_seconds']} s)", file=sys.stderr)
    return 0

