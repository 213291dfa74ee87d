"""``exitwatch whatif``: judge a rule change on many companies in minutes, against their base alerts.

A full ``exitwatch evaluate`` runs every rule and the learned models over a company (minutes each). A rule
change touches a few rules; the rest of the alerts stay what they were. So the what-if

1. reads each company's **base alerts** (``alerts-product.jsonl`` of a full run of the product: ``exitwatch
   evaluate`` writes it into each company folder of a sweep, or ``--alerts-dir`` of ``evaluate --data``),
2. replays **only the named rules** (``--rules``, plus ``--also``) with the code on ``PYTHONPATH`` over the
   company's files, in one rules-only engine (no models: :func:`detectors.factory.build_engine` with just
   those rules),
3. replaces those rules' alerts in the base alerts with the new ones, and
4. scores base and what-if with the evaluator's own metric (:func:`exitwatch.evaluate.score_detector`:
   recall, honest people flagged at medium or above per 1,000 per 30 days, honest people, median lead, the
   most alerts one rule gave one honest person in 30 days), per company and pooled
   (:func:`exitwatch.evaluate.pool`), naming the thieves caught or lost, the honest people added or removed
   and each thief's change of lead.

``--without R1,R2`` drops those rules' alerts from the base (no replay: what a rule is worth), and ``--value``
reports, for every rule in the base alerts, the honest people it alone flags, the thieves it alone catches and
the lead lost without it.

**What the other rules leave behind.** Rules are not independent: a day any security alert fired on is
*flagged*, and flagged days teach no rule's baseline (:meth:`detectors.engine.Engine.on_event`, ``learn``);
``sequence.crm_export_then_personal_mail`` and ``email.attachments_to_personal`` read the flagged days
themselves (a day that alerted is no habit), and so does the learned model; the risk score
(``risk.employee``) adds up every rule's alerts; the departure propensity (an HR-side model) makes
departure-anchored rules look at someone as possibly leaving (``st.extra["pl"]``); and
``sequence.crm_export_then_personal_mail`` reads ``crm.bulk_export_before_departure``'s series
(:data:`READS_SERIES_OF`: the what-if replays that rule with it). A replay of a few rules alone would
lose all of that, so the base alerts of the rules *not* replayed are fed back into the replay's engine at their
own time (:class:`Injected`): each flags its day, remembers its id, adds to the risk score, and a propensity
alert marks its person as possibly leaving, as in the full run. The risk score is therefore recomputed from the
base's other alerts and the replayed ones (its base alerts are replaced too). What stays approximate: a
changed rule that flags other days changes the other rules' baselines, and those rules are not replayed; their
alerts are the base's. For such a change add the rules that may move to the replay (``--also``), or compare a
what-if of the changed code with a what-if of the base code (the same ``--rules``, the other tree on
``PYTHONPATH``), which carries the same approximation.

>>> t = Truth({"E1": Label("E1", "mass_deletion", 100, 101, 102)}, {"E1", "E2", "E3"}, 70, 60)
>>> base = [Hit("E1", 100, "a", "high", 70), Hit("E1", 101, "b", "medium", 50), Hit("E2", 90, "b", "medium", 40)]
>>> v = rule_value(base, t)
>>> v["b"]["honest_alone"], v["b"]["thieves_alone"], v["a"]["thieves_alone"], v["a"]["lead_lost_days"]
(['E2'], [], [], {'E1': 1})
>>> d = diff(base, [h for h in base if h.rule_id != "a"], t)
>>> d["thieves_lost"], d["honest_removed"], d["lead_changed"]["E1"]["days"]
([], [], -1)
>>> d = diff(base, [h for h in base if h.rule_id != "b"], t)
>>> d["thieves_lost"], d["honest_removed"]
([], ['E2'])
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from detectors.context import day_number
from detectors.routing import security_finding
from detectors.state import day_of
from exitwatch.evaluate import (COUNTING, Hit, Label, Truth, _find, in_window, load_labels, load_population, pool,
                                score_detector)

#: The risk score's rule id: recomputed in every replay from the base's other alerts and the replayed ones.
RISK_ID = "risk.employee"
#: Rules that read another rule's state (its series in the employee state), not only the flagged days: a
#: replay of the first always replays the second too (``tests/evaluation/test_whatif.py`` checks the rule
#: modules for any other).
READS_SERIES_OF = {"sequence.crm_export_then_personal_mail": ("crm.bulk_export_before_departure",)}
#: The base alerts' file in a company's base folder.
BASE_FILE = "alerts-product.jsonl"


# ---------------------------------------------------------------------------------------------- inputs
def read_alerts(path: Path) -> list[dict[str, Any]]:
    """Alerts of a JSON-lines file (the ``alerts.hr`` form)."""
    with open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def _epoch(ts: str) -> float:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def to_hit(a: dict[str, Any]) -> Hit | None:
    """The metric's view of an alert dict (None for an HR-side alert: not a security finding)."""
    if not security_finding(a):
        return None
    return Hit(a["employee_id"], day_of(_epoch(a["ts"])), a["rule_id"], a["severity"], float(a["score"]))


def hits_of(alerts: Iterable[dict[str, Any]]) -> list[Hit]:
    return [h for h in map(to_hit, alerts) if h is not None]


_TS = re.compile(rb'"ts"\s*:\s*"([^"]+)"')


def event_span(data: Path) -> tuple[int, int]:
    """The first and last UTC day of the company's events (what the evaluator's day 0 and length are made of),
    read without parsing every event: the ``ts`` of each line, by date where it is in UTC (``Z``)."""
    events = _find(data, "events")
    assert events is not None
    from exitwatch.evaluate import _open

    lo: int | None = None
    hi: int | None = None
    dates: set[bytes] = set()
    with _open(events) as fh:
        for chunk in iter(lambda: fh.read(1 << 24), b""):
            while not chunk.endswith(b"\n"):
                more = fh.read(1 << 16)
                if not more:
                    break
                chunk += more
            for m in _TS.finditer(chunk):
                v = m.group(1)
                if v.endswith(b"Z"):
                    dates.add(v[:10])
                else:
                    d = day_of(_epoch(v.decode()))
                    lo = d if lo is None else min(lo, d)
                    hi = d if hi is None else max(hi, d)
    for s in dates:
        d = day_number(s.decode())
        lo = d if lo is None else min(lo, d)
        hi = d if hi is None else max(hi, d)
    if lo is None or hi is None:
        raise ValueError(f"{events}: no events")
    return lo, hi


def truth_of(data: Path, span: tuple[int, int] | None = None) -> Truth:
    """The company's labels and population, with the evaluator's period (first to last event day)."""
    hr = _find(data, "hr")
    assert hr is not None
    lo, hi = span or event_span(data)
    return Truth(load_labels(data / "labels.jsonl"), load_population(hr), lo, hi - lo + 1)


def base_file(base: Path | None, data: Path) -> Path:
    """The base alerts of company ``data``: ``BASE/<company>/alerts-product.jsonl``, else
    ``BASE/alerts-product.jsonl`` (one company), else the company folder's own (a sweep writes it there)."""
    cands = [] if base is None else [base / data.name / BASE_FILE, base / BASE_FILE, base]
    cands.append(data / BASE_FILE)
    for c in cands:
        if c.is_file():
            return c
    raise FileNotFoundError(f"no base alerts for {data.name}: looked for {', '.join(map(str, cands))}")


# ---------------------------------------------------------------------------------------------- metrics
def first_catch(hits: Iterable[Hit], truth: Truth, grace: int = 7) -> dict[str, int]:
    """Each caught thief's first counting alert's day in their window (as :func:`score_detector` counts)."""
    mal = truth.malicious
    out: dict[str, int] = {}
    for h in hits:
        lab = mal.get(h.employee_id)
        if lab is not None and h.counts and in_window(h, lab, grace):
            out[h.employee_id] = min(out.get(h.employee_id, h.day), h.day)
    return out


def honest_flagged(hits: Iterable[Hit], truth: Truth) -> set[str]:
    honest = truth.honest
    return {h.employee_id for h in hits if h.counts and h.employee_id in honest}


def diff(base: list[Hit], new: list[Hit], truth: Truth, grace: int = 7) -> dict[str, Any]:
    """Who moved between ``base`` and ``new``: thieves caught and lost, honest people added and removed (by
    employee id), and each thief caught by both whose lead changed (days: positive is earlier)."""
    fb, fn = first_catch(base, truth, grace), first_catch(new, truth, grace)
    hb, hn = honest_flagged(base, truth), honest_flagged(new, truth)
    mal = truth.malicious
    lead = {e: fb[e] - fn[e] for e in sorted(set(fb) & set(fn)) if fb[e] != fn[e]}
    return {
        "thieves_caught": sorted(set(fn) - set(fb)),
        "thieves_lost": sorted(set(fb) - set(fn)),
        "honest_added": sorted(hn - hb),
        "honest_removed": sorted(hb - hn),
        "lead_changed": {e: {"days": d, "scenario": mal[e].scenario, "base_lead": mal[e].last_day - fb[e],
                             "lead": mal[e].last_day - fn[e]} for e, d in lead.items()},
    }


def rule_value(hits: list[Hit], truth: Truth, grace: int = 7) -> dict[str, dict[str, Any]]:
    """Per rule of ``hits``: the honest people it alone flags (medium or above), the thieves it alone
    catches, and per thief the days of lead lost without it (from these alerts only, no replay; a
    ``risk.employee`` alert stays where a dropped rule was behind it)."""
    by_rule: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        by_rule[h.rule_id].append(h)
    fa = first_catch(hits, truth, grace)
    mal = truth.malicious
    out: dict[str, dict[str, Any]] = {}
    for rid in sorted(by_rule):
        rest = [h for h in hits if h.rule_id != rid]
        fr = first_catch(rest, truth, grace)
        own = by_rule[rid]
        out[rid] = {
            "alerts": len(own),
            "medium_plus": sum(h.counts for h in own),
            "honest_flagged": sorted(honest_flagged(own, truth)),
            "honest_alone": sorted(honest_flagged(hits, truth) - honest_flagged(rest, truth)),
            "thieves_caught": sorted(first_catch(own, truth, grace)),
            "thieves_alone": sorted(set(fa) - set(fr)),
            "lead_lost_days": {e: fr[e] - fa[e] for e in sorted(set(fa) & set(fr)) if fr[e] != fa[e]},
            "scenarios_alone": sorted({mal[e].scenario for e in set(fa) - set(fr)}),
        }
    return out


def _brief(sc: dict[str, Any]) -> dict[str, Any]:
    keys = ("recall", "caught", "malicious", "honest_flagged", "honest_employees", "honest_flagged_per_1000_per_30d",
            "lead_days_median")
    out = {k: sc[k] for k in keys}
    out["max_rule_alerts_honest_30d"] = sc["max_rule_alerts_honest_30d"]
    return out


# ---------------------------------------------------------------------------------------------- replay
@dataclass
class _Past:
    """A base alert fed back into the replay (what :func:`detectors.risk.update_risk` reads of an alert)."""

    rule_id: str
    score: float
    severity: str
    ts: dt.datetime
    explanation: dict[str, Any]
    evidence: list[str]


class Injected:
    """A rules-only engine with the base alerts of the rules it does not run fed back at their own time.

    Before each record, every base alert older than the record is applied to its employee's state as the full
    run's engine applied it when it emitted it (:meth:`detectors.engine.Engine._emit`): a security finding
    flags its day (no baseline learns it; the days folded already unlearn it), its id is remembered, and it adds
    to the risk score, which emits a ``risk.employee`` alert when it crosses; a propensity alert marks its
    person as possibly leaving. Exposes only ``on_event``, ``on_hr`` and ``on_signal``, as the evaluator's
    :class:`exitwatch.evaluate.Fanout` does (so :func:`detectors.replay.run` drives it the same way)."""

    def __init__(self, engine: Any, past: list[dict[str, Any]]) -> None:
        self.engine = engine
        keyed = [(_epoch(a["ts"]), i, a) for i, a in enumerate(past)]
        keyed.sort(key=lambda x: (x[0], x[1]))
        self.past = keyed
        self.i = 0
        self.injected = 0

    def _catch_up(self, t: float) -> list[Any]:
        """Apply the base alerts older than ``t``. An alert of time ``t`` itself was made by a record of that
        time (an event, or HR news that re-judged earlier days), so it is applied once the records of that
        time have been: after the HR record it answers, graded under the HR picture that record made."""
        out: list[Any] = []
        while self.i < len(self.past) and self.past[self.i][0] < t:
            out += self._apply(self.past[self.i][2])
            self.i += 1
        return out

    def _apply(self, a: dict[str, Any]) -> list[Any]:
        from detectors.context import HRView
        from detectors.engine import possibly_leaving_view
        from detectors.risk import RISK_RULE, update_risk

        eng = self.engine
        emp = a["employee_id"]
        st = eng._state(emp)
        ex = a.get("explanation") or {}
        ts = dt.datetime.fromisoformat(a["ts"].replace("Z", "+00:00"))
        day = day_number(ex["day"]) if ex.get("day") else day_of(ts.timestamp())
        st.remember(a["alert_id"])
        self.injected += 1
        out: list[Any] = []
        rid = a["rule_id"]
        if not security_finding(a):
            if "propensity" in rid and ex.get("propensity") is not None:
                st.extra["pl"] = [day, round(float(ex["propensity"]), 3)]
        else:
            flagged = st.extra.setdefault("flagged", [])
            if day not in flagged:
                flagged.append(day)
                del flagged[:-6]
                for s in st.series.values():
                    s.unlearn(day)
            if eng.config.risk and rid != RISK_ID:
                hr = HRView.of(st.hr)
                if ex.get("possibly_leaving"):
                    hr = possibly_leaving_view(st, hr, day) or hr
                past = _Past(rid, float(a["score"]), a["severity"], ts, ex, list(a.get("evidence") or ()))
                rf = update_risk(st, hr, past, day, eng.config)
                if rf is not None:
                    out += eng._emit(RISK_RULE, emp, rf, st, hr, ts)
        eng.store.put(emp, st)
        return out

    def flush(self) -> list[Any]:
        """Apply the base alerts left (those of the last records' time)."""
        return self._catch_up(float("inf"))

    def on_event(self, event: Any) -> list[Any]:
        return self._catch_up(event.ts.timestamp()) + self.engine.on_event(event)

    def on_hr(self, record: Any) -> list[Any]:
        return self._catch_up(record.ts.timestamp()) + self.engine.on_hr(record)

    def on_signal(self, signal: Any) -> list[Any]:
        return self._catch_up(signal.ts.timestamp()) + self.engine.on_signal(signal)


def replay_set(rules: Iterable[str], also: Iterable[str] = ()) -> list[str]:
    """The rules a what-if replays: the named ones, ``also``, and any rule a replayed one reads the state of
    (:data:`READS_SERIES_OF`), in order, each once.

    >>> replay_set(["sequence.crm_export_then_personal_mail"])
    ['sequence.crm_export_then_personal_mail', 'crm.bulk_export_before_departure']
    """
    out: list[str] = []
    todo = [*rules, *also]
    while todo:
        r = todo.pop(0)
        if r not in out:
            out.append(r)
            todo.extend(READS_SERIES_OF.get(r, ()))
    return out


def check_rule_ids(ids: Iterable[str], rules_config: str | None = None) -> None:
    from detectors.catalogue import load_rules

    known = {r.id for r in load_rules(rules_config, include_disabled=True)}
    bad = sorted(set(ids) - known - {RISK_ID})
    if bad:
        raise ValueError(f"unknown rule id(s) {bad}; `exitwatch rules` lists them")


def replay(data: Path, rule_ids: list[str], base: list[dict[str, Any]], rules_config: str | None = None,
           alerts_out: Path | None = None, progress: str | None = None) -> tuple[list[dict[str, Any]], tuple[int, int], float]:
    """The named rules over company ``data`` with the base alerts of every other rule fed back
    (:class:`Injected`); returns the replay's alerts (the named rules' and ``risk.employee``), the first and
    last event day, and the seconds it took."""
    from detectors.catalogue import load_rules
    from detectors.engine import Engine
    from detectors.replay import run as replay_run
    from exitwatch.evaluate import Fanout

    t0 = time.perf_counter()
    hr, events = _find(data, "hr"), _find(data, "events")
    signals = _find(data, "signals", required=False)
    assert hr is not None and events is not None
    wanted = set(rule_ids)
    engine = Engine(rules=[r for r in load_rules(rules_config) if r.id in wanted], models=[])
    past = [a for a in base if a["rule_id"] not in wanted and a["rule_id"] != RISK_ID]
    member = Injected(engine, past)
    out: list[dict[str, Any]] = []

    class Sink:
        def write(self, b: bytes) -> int:
            out.append(orjson.loads(b))
            return len(b)

    fan = Fanout({"whatif": member}, {"whatif": Sink()})  # type: ignore[dict-item]

    def show(st: Any) -> None:
        if progress is not None:
            sys.stderr.write(f"\r{progress}: {sum(st.read.values()):,} records, {st.seconds:.0f} s")
            sys.stderr.flush()

    replay_run(fan, [hr], [signals] if signals else [], [events], on_alert=lambda a: None, on_bad=lambda d: None,
               progress=show)
    out += [a.model_dump(mode="json") for a in member.flush()]
    if progress is not None:
        sys.stderr.write("\n")
    if alerts_out is not None:
        alerts_out.parent.mkdir(parents=True, exist_ok=True)
        alerts_out.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in out))
    first = fan.first_day if fan.first_day is not None else 0
    last = fan.last_day if fan.last_day is not None else first
    return out, (first, last), time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- driver
def whatif(datas: list[Path], base_root: Path | None = None, rules: Iterable[str] = (), also: Iterable[str] = (),
           without: Iterable[str] = (), rules_config: str | None = None, grace: int = 7,
           out: Path | None = None, progress: bool = False) -> dict[str, Any]:
    """The what-if over companies ``datas`` (in sequence, one process): base vs what-if per company and pooled."""
    rules, also, without = list(rules), list(also), list(without)
    replayed = replay_set(rules, also) if rules or also else []
    check_rule_ids([*replayed, *without], rules_config)
    t0 = time.perf_counter()
    companies: dict[str, Any] = {}
    base_runs, new_runs = [], []
    for i, data in enumerate(datas, 1):
        tag = f"whatif [{i}/{len(datas)}] {data.name}"
        bpath = base_file(base_root, data)
        base = read_alerts(bpath)
        tc = time.perf_counter()
        if replayed:
            new_alerts, span, secs = replay(data, replayed, base, rules_config,
                                            None if out is None else out / data.name / "alerts-whatif.jsonl",
                                            tag if progress else None)
            drop = set(replayed) | {RISK_ID}
            merged = [a for a in base if a["rule_id"] not in drop] + new_alerts
        else:
            span, secs, new_alerts = None, 0.0, []
            merged = list(base)
        merged = [a for a in merged if a["rule_id"] not in set(without)]
        truth = truth_of(data, span)
        bh, nh = hits_of(base), hits_of(merged)
        meta_p = data / "meta.json"
        seed = orjson.loads(meta_p.read_bytes()).get("seed") if meta_p.exists() else None
        sb, sn = score_detector(bh, truth, grace), score_detector(nh, truth, grace)
        sb["seed"] = sn["seed"] = seed
        base_runs.append(sb)
        new_runs.append(sn)
        per_rule = {}
        for rid in sorted({*replayed, *without, *([RISK_ID] if replayed else [])}):
            b = [h for h in bh if h.rule_id == rid]
            n = [h for h in nh if h.rule_id == rid]
            per_rule[rid] = {"base_alerts": len(b), "alerts": len(n), "base_medium_plus": sum(h.counts for h in b),
                             "medium_plus": sum(h.counts for h in n)}
        companies[data.name] = {"base_alerts": str(bpath), "seconds": round(time.perf_counter() - tc, 1),
                                "replay_seconds": round(secs, 1), "base": _brief(sb), "whatif": _brief(sn),
                                "rules": per_rule, **diff(bh, nh, truth, grace)}
        if progress:
            c = companies[data.name]
            sys.stderr.write(f"{tag}: recall {sb['recall']:.3f} -> {sn['recall']:.3f}, honest flagged "
                             f"{sb['honest_flagged']} -> {sn['honest_flagged']}, median lead {sb['lead_days_median']} -> "
                             f"{sn['lead_days_median']}; thieves lost {c['thieves_lost'] or '-'}, caught "
                             f"{c['thieves_caught'] or '-'}, honest +{c['honest_added'] or '-'} "
                             f"-{c['honest_removed'] or '-'} ({c['seconds']:.0f} s)\n")
            sys.stderr.flush()
    pb, pn = pool(base_runs), pool(new_runs)
    keep = ("recall", "caught", "malicious", "honest_flagged", "honest_employees", "honest_flagged_per_1000_per_30d",
            "lead_days_median", "max_rule_alerts_honest_30d")
    rep = {
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "rules": rules, "also": [r for r in replayed if r not in rules], "replayed": replayed, "without": without,
        "rules_config": rules_config, "grace_days": grace, "seconds": round(time.perf_counter() - t0, 1),
        "total": {"base": {k: pb[k] for k in keep}, "whatif": {k: pn[k] for k in keep},
                  **{k: sum(len(c[k]) for c in companies.values())
                     for k in ("thieves_caught", "thieves_lost", "honest_added", "honest_removed")},
                  "lead_changed": sum(len(c["lead_changed"]) for c in companies.values()),
                  "lead_days_gained": sum(v["days"] for c in companies.values() for v in c["lead_changed"].values())},
        "companies": companies,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "whatif.json").write_bytes(orjson.dumps(rep, option=orjson.OPT_INDENT_2))
        (out / "whatif.md").write_text(render(rep))
    return rep


def value(datas: list[Path], base_root: Path | None = None, grace: int = 7, out: Path | None = None,
          progress: bool = False) -> dict[str, Any]:
    """:func:`rule_value` per company and summed over them (base alerts only, no replay)."""
    t0 = time.perf_counter()
    per: dict[str, Any] = {}
    tot: dict[str, dict[str, Any]] = defaultdict(lambda: {"alerts": 0, "medium_plus": 0, "honest_flagged": 0,
                                                          "honest_alone": 0, "thieves_caught": 0,
                                                          "thieves_alone": 0, "lead_lost_days": [],
                                                          "companies": 0})
    for i, data in enumerate(datas, 1):
        tc = time.perf_counter()
        truth = truth_of(data)
        v = rule_value(hits_of(read_alerts(base_file(base_root, data))), truth, grace)
        per[data.name] = v
        for rid, r in v.items():
            t = tot[rid]
            t["companies"] += 1
            for k in ("alerts", "medium_plus"):
                t[k] += r[k]
            for k in ("honest_flagged", "honest_alone", "thieves_caught", "thieves_alone"):
                t[k] += len(r[k])
            t["lead_lost_days"] += list(r["lead_lost_days"].values())
        if progress:
            sys.stderr.write(f"whatif --value [{i}/{len(datas)}] {data.name}: {len(v)} rules "
                             f"({time.perf_counter() - tc:.0f} s)\n")
            sys.stderr.flush()
    total = {rid: {**t, "lead_lost_days_total": sum(t["lead_lost_days"]),
                   "lead_lost_days": sorted(t["lead_lost_days"], reverse=True)} for rid, t in sorted(tot.items())}
    rep = {"generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(), "grace_days": grace,
           "seconds": round(time.perf_counter() - t0, 1), "companies": list(per), "total": total, "per_company": per}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "value.json").write_bytes(orjson.dumps(rep, option=orjson.OPT_INDENT_2))
        (out / "value.md").write_text(render_value(rep))
    return rep


# ---------------------------------------------------------------------------------------------- report
def _lead(v: Any) -> str:
    return "-" if v is None else f"{v:g}"


def render(rep: dict[str, Any]) -> str:
    what = []
    if rep["replayed"]:
        what.append(f"replayed {', '.join(f'`{r}`' for r in rep['replayed'])} (and `{RISK_ID}`)")
    if rep["without"]:
        what.append(f"without {', '.join(f'`{r}`' for r in rep['without'])}")
    tb, tn = rep["total"]["base"], rep["total"]["whatif"]
    t = rep["total"]
    L = [f"# What if: {'; '.join(what) or 'nothing changed'}", "",
         f"{len(rep['companies'])} companies, {rep['seconds']:.0f} s. An alert counts at medium or above; a thief is "
         f"caught from the scenario's start to {rep['grace_days']} days after the last day (the evaluator's metric).",
         "", "| | recall | caught | honest flagged | honest /1,000/30 d | median lead (d) | max one rule / honest / 30 d |",
         "|---|---|---|---|---|---|---|"]
    for name, s in (("base", tb), ("what-if", tn)):
        L.append(f"| {name} | {s['recall']:.3f} | {s['caught']}/{s['malicious']} | {s['honest_flagged']} | "
                 f"{s['honest_flagged_per_1000_per_30d']:g} | {_lead(s['lead_days_median'])} | "
                 f"{s['max_rule_alerts_honest_30d']['alerts']} |")
    L += ["", f"Thieves caught {t['thieves_caught']}, lost {t['thieves_lost']}; honest people added "
              f"{t['honest_added']}, removed {t['honest_removed']}; lead changed for {t['lead_changed']} thieves "
              f"({t['lead_days_gained']:+d} days in all).", "",
          "| company | recall | honest flagged | honest /1,000/30 d | median lead | thieves caught / lost | "
          "honest added / removed | lead changed (days) |", "|---|---|---|---|---|---|---|---|"]
    for c, v in rep["companies"].items():
        b, n = v["base"], v["whatif"]
        lc = ", ".join(f"{e} {x['days']:+d}" for e, x in v["lead_changed"].items()) or "-"
        L.append(f"| {c} | {b['recall']:.3f} -> {n['recall']:.3f} | {b['honest_flagged']} -> {n['honest_flagged']} | "
                 f"{b['honest_flagged_per_1000_per_30d']:g} -> {n['honest_flagged_per_1000_per_30d']:g} | "
                 f"{_lead(b['lead_days_median'])} -> {_lead(n['lead_days_median'])} | "
                 f"{' '.join(v['thieves_caught']) or '-'} / {' '.join(v['thieves_lost']) or '-'} | "
                 f"{' '.join(v['honest_added']) or '-'} / {' '.join(v['honest_removed']) or '-'} | {lc} |")
    L += ["", "Alerts per rule (any severity / medium or above), base -> what-if:", ""]
    rules = sorted({r for v in rep["companies"].values() for r in v["rules"]})
    for r in rules:
        b = sum(v["rules"][r]["base_alerts"] for v in rep["companies"].values() if r in v["rules"])
        n = sum(v["rules"][r]["alerts"] for v in rep["companies"].values() if r in v["rules"])
        bm = sum(v["rules"][r]["base_medium_plus"] for v in rep["companies"].values() if r in v["rules"])
        nm = sum(v["rules"][r]["medium_plus"] for v in rep["companies"].values() if r in v["rules"])
        L.append(f"- `{r}`: {b} / {bm} -> {n} / {nm}")
    L.append("")
    return "\n".join(L)


def render_value(rep: dict[str, Any]) -> str:
    L = [f"# What each rule is worth ({len(rep['companies'])} companies, base alerts only)", "",
         "Per rule: honest people it alone flags at medium or above (gone without it), thieves it alone catches "
         "(lost without it), days of lead lost without it (thieves it catches first), from the base alerts with no "
         f"replay (a `{RISK_ID}` alert stays where the rule was behind it).", "",
         "| rule | alerts | medium+ | honest flagged | honest alone | thieves caught | thieves alone | "
         "lead lost (thieves, days) |", "|---|---|---|---|---|---|---|---|"]
    for rid, t in sorted(rep["total"].items(), key=lambda x: (-x[1]["honest_alone"], x[0])):
        ll = t["lead_lost_days"]
        L.append(f"| `{rid}` | {t['alerts']} | {t['medium_plus']} | {t['honest_flagged']} | {t['honest_alone']} | "
                 f"{t['thieves_caught']} | {t['thieves_alone']} | "
                 f"{f'{len(ll)}, {sum(ll)} (max {max(ll)})' if ll else '-'} |")
    L.append("")
    return "\n".join(L)


# ---------------------------------------------------------------------------------------------- CLI
def _ids(v: str | None) -> list[str]:
    return [x.strip() for x in (v or "").split(",") if x.strip()]


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("whatif", help="a rule change judged on many companies against their base alerts "
                                      "(replays only the named rules)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", metavar="DIR", help="company folders (as exitwatch generate writes them)")
    p.add_argument("--base", metavar="DIR",
                   help=f"base alerts: DIR/<company>/{BASE_FILE} (or DIR/{BASE_FILE} for one company); default: "
                        f"each company folder's own {BASE_FILE} (what an evaluate sweep leaves there)")
    p.add_argument("--rules", metavar="R1,R2", help="rules to replay with the code on PYTHONPATH; their alerts "
                                                    f"(and {RISK_ID}'s) replace the base's")
    p.add_argument("--also", metavar="R3,R4", help="more rules to replay (rules whose baselines a change of "
                                                   "flagged days may move)")
    p.add_argument("--without", metavar="R1,R2", help="drop these rules' alerts from the base (no replay)")
    p.add_argument("--value", action="store_true", help="per rule of the base alerts: honest people it alone "
                                                        "flags, thieves it alone catches, lead lost without it")
    p.add_argument("--rules-config", metavar="FILE", help="TOML/JSON overrides of rule settings for the replay")
    p.add_argument("--grace-days", type=int, default=7, help="days after the last day an alert still catches")
    p.add_argument("--out", metavar="DIR", help="write whatif.json and whatif.md (value.json, value.md) and each "
                                                "company's replayed alerts (DIR/<company>/alerts-whatif.jsonl)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of markdown")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="progress on stderr (default on)")
    return p


def run(args: argparse.Namespace) -> int:
    datas = [Path(d) for d in args.data]
    for d in datas:
        if not (d / "labels.jsonl").exists():
            raise FileNotFoundError(f"{d}: no labels.jsonl (a company folder as exitwatch generate writes it)")
    base = Path(args.base) if args.base else None
    out = Path(args.out) if args.out else None
    if args.value:
        rep = value(datas, base, args.grace_days, out, args.progress)
        text = render_value(rep)
    else:
        if not (args.rules or args.also or args.without):
            raise ValueError("name --rules (and --also) to replay, --without to drop, or --value")
        rep = whatif(datas, base, _ids(args.rules), _ids(args.also), _ids(args.without), args.rules_config,
                     args.grace_days, out, args.progress)
        text = render(rep)
    print(orjson.dumps(rep, option=orjson.OPT_INDENT_2).decode() if args.json else text)
    return 0
