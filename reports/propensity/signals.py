"""Which HR signals tell future leavers from stayers, in each generator, read three ways (twelfth session).

Research only (aggregates printed, nothing fitted or chosen by this script). For every company directory given
(``signals.jsonl``, ``hr.jsonl``, ``meta.json`` as ``exitwatch generate`` or ``generate_outside`` write them),
each leaver is read at their **warning day** ``t = notice - 14`` (the latest day the goal lets the propensity
flag them) and compared with every stayer read at the **same day** (so that a window that starts before the data,
or a season, cannot pass for a difference: every comparison is at matched calendar days, a pairwise AUC):

- **level against peers**: the signal in the 56 days up to ``t`` (counts; answers: their mean) against the
  stayers' in the same 56 days;
- **change against the own recent normal**: the count (or mean answer) in those 56 days against the person's
  own rate in up to 180 days before them (at least 28 days of own history, else the person has no normal and
  is left out), as a Poisson surprise ``(recent - usual) / sqrt(usual + 1)`` for counts and a difference of means
  for answers; ranked by the signed **change** (a rise ranks higher) and by its size in **either** direction;
- **coverage**: the leavers who have any such signal in the 56 days, and the leavers who have an own normal.

Every AUC ranks *more / higher* above: 0.5 is chance, under 0.5 leavers have fewer / lower answers / a fall (the
direction the literature names for surveys and reviews). The history a company's HR
data hold decides what "own normal" can mean: the own generator writes 180 days before the activity, the outside
one none.

    PYTHONPATH=. python reports/propensity/signals.py /work/evaldata/*-400x100-s[1-5] > /tmp/signals.md
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

COUNTS = ("absence", "late_arrival", "early_leave", "leave_request", "survey#")  # survey#: answers given
ANSWERS = ("survey", "performance_review")
RECENT, PRIOR, MIN_OWN, EARLY = 56, 180, 28, 14
WAYS = ("level", "change", "either")


def _day(s: str) -> int:
    return dt.date.fromisoformat(s[:10]).toordinal()


def load(data: Path) -> dict[str, Any]:
    meta = orjson.loads((data / "meta.json").read_bytes())
    notice: dict[str, int] = {}
    everyone: set[str] = set()
    with open(data / "hr.jsonl", "rb") as fh:
        for line in fh:
            if line.strip():
                r = orjson.loads(line)
                everyone.add(r["employee_id"])
                if r.get("status") in ("notice", "departed") and r["employee_id"] not in notice:
                    notice[r["employee_id"]] = _day(r.get("resignation_date") or r["ts"])
    per: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    first_seen: dict[str, int] = {}
    first = None
    with open(data / "signals.jsonl", "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = orjson.loads(line)
            k, e = r.get("signal"), r["employee_id"]
            d = _day(r["ts"])
            first = d if first is None else min(first, d)
            if k in COUNTS or k in ANSWERS:
                first_seen[e] = min(first_seen.get(e, d), d)
                v = r.get("value")
                per[e][k].append((d, float(v) if isinstance(v, (int, float)) else 1.0))
                if k == "survey":
                    per[e]["survey#"].append((d, 1.0))
    for e in per:
        for k in per[e]:
            per[e][k].sort()
    return {"meta": meta, "notice": notice, "everyone": everyone, "per": per, "first": first,
            "first_seen": first_seen, "start": _day(meta["start"]), "end": _day(meta["end"])}


def _window(rows: list[tuple[int, float]], lo: int, hi: int) -> list[float]:
    """Values of the rows with ``lo <= day <= hi``."""
    days = [d for d, _ in rows]
    return [v for _, v in rows[bisect.bisect_left(days, lo):bisect.bisect_right(days, hi)]]


def reading(c: dict[str, Any], e: str, kind: str, t: int) -> dict[str, float | None]:
    """One person's level and change of one signal at day ``t`` (``None``: nothing to read)."""
    rows = c["per"].get(e, {}).get(kind, [])
    lo = t - RECENT + 1
    recent = _window(rows, lo, t)
    own_from = max(c["first"], lo - PRIOR)  # the HR data's first day (hire dates are not read: a few new hires)
    span = lo - own_from
    out: dict[str, float | None] = {"level": None, "change": None}
    if kind in COUNTS:
        out["level"] = float(len(recent))
        if span >= MIN_OWN:
            usual = len(_window(rows, own_from, lo - 1)) * RECENT / span
            out["change"] = (len(recent) - usual) / math.sqrt(usual + 1.0)
    else:
        if recent:
            out["level"] = sum(recent) / len(recent)
            before = _window(rows, own_from, lo - 1) if span >= MIN_OWN else []
            if before:
                out["change"] = sum(recent) / len(recent) - sum(before) / len(before)
    return out


def _pairs(pos: float, negs: list[float]) -> tuple[float, int]:
    wins = sum(1.0 if pos > n else 0.5 if pos == n else 0.0 for n in negs)
    return wins, len(negs)


def study(c: dict[str, Any]) -> dict[str, Any]:
    """Matched-day AUCs per signal and way, and coverage, for one company."""
    start, end = c["start"], c["end"]
    leavers = [e for e, n in c["notice"].items() if start <= n - EARLY <= end]
    stayers = sorted(c["everyone"] - set(c["notice"]))
    out: dict[str, Any] = {"leavers": len(leavers), "stayers": len(stayers), "history_days": start - c["first"]}
    cache: dict[tuple[str, str, int], dict[str, float | None]] = {}

    def rd(e: str, k: str, t: int) -> dict[str, float | None]:
        key = (e, k, t)
        if key not in cache:
            cache[key] = reading(c, e, k, t)
        return cache[key]

    for kind in COUNTS + ANSWERS:
        acc = {w: [0.0, 0] for w in WAYS}
        covered = own = 0
        for e in leavers:
            t = c["notice"][e] - EARLY
            r = rd(e, kind, t)
            if r["level"] is not None and (kind in ANSWERS or r["level"] > 0):
                covered += 1
            if r["change"] is not None:
                own += 1
            neg = [rd(s, kind, t) for s in stayers]
            if r["level"] is not None:
                w, n = _pairs(r["level"], [x["level"] for x in neg if x["level"] is not None])
                acc["level"][0] += w
                acc["level"][1] += n
            if r["change"] is not None:
                ch = [x["change"] for x in neg if x["change"] is not None]
                for way, f in (("change", lambda v: v), ("either", abs)):
                    w, n = _pairs(f(r["change"]), [f(v) for v in ch])
                    acc[way][0] += w
                    acc[way][1] += n
        out[kind] = {"auc": {w: (round(a / n, 3) if n else None) for w, (a, n) in acc.items()},
                     "leavers_with_signal": covered, "leavers_with_own_normal": own}
    return out


def survey_ceiling(c: dict[str, Any], share: float = 0.05) -> dict[str, Any]:
    """The most a reader of survey *levels* could flag, chosen in hindsight: the threshold on a person's lowest
    answer that flags at most ``share`` of all stayers (their lowest answer in the period; a stayer who never
    answers cannot be flagged), and the leavers whose lowest answer in their warning window (120 to 14 days
    before the notice, within the HR data, history included) is at or under it. No model of surveys alone can beat this on the company."""
    start, end = c["start"], c["end"]
    leavers = [e for e, n in c["notice"].items() if start <= n - EARLY <= end]
    stayers = sorted(c["everyone"] - set(c["notice"]))

    def lowest(e: str, lo: int, hi: int) -> float | None:
        v = _window(c["per"].get(e, {}).get("survey", []), lo, hi)
        return min(v) if v else None

    st = sorted(x for x in (lowest(e, start, end) for e in stayers) if x is not None)
    first = c["first"]  # the warning window reaches into the HR history where there is one (as the evaluation's)
    lv = [lowest(e, max(c["notice"][e] - 120, first), c["notice"][e] - EARLY) for e in leavers]
    allowed = int(share * len(stayers))
    best = None  # the highest threshold flagging at most `allowed` stayers
    for tau in sorted(set(st + [x for x in lv if x is not None])):
        if sum(1 for x in st if x <= tau) <= allowed:
            best = tau
    flagged = sum(1 for x in lv if x is not None and best is not None and x <= best)
    anything = sum(1 for e in leavers if any(
        _window(rows, max(c["notice"][e] - 120, first), c["notice"][e] - EARLY)
        for k, rows in c["per"].get(e, {}).items() if k != "survey#"))
    return {"leavers": len(leavers), "answered": sum(1 for x in lv if x is not None), "threshold": best,
            "any_signal": anything, "window_days_median": sorted(
                c["notice"][e] - EARLY - max(c["notice"][e] - 120, first) + 1 for e in leavers)[
                len(leavers) // 2] if leavers else None,
            "flagged": flagged, "stayers_flagged": sum(1 for x in st if best is not None and x <= best),
            "stayers": len(stayers)}


def main(argv: list[str]) -> int:
    dirs = [Path(a) for a in argv if (Path(a) / "meta.json").exists()]
    print("| company | history days | leavers / stayers | " + " | ".join(
        f"{k}: level / change / either [leavers with it; with an own normal]" for k in COUNTS + ANSWERS) + " |")
    print("|---|---|---|" + "---|" * len(COUNTS + ANSWERS))
    allres = {}
    for d in dirs:
        c = load(d)
        r = study(c)
        r["survey_ceiling"] = survey_ceiling(c)
        allres[d.name] = r
        cells = []
        for k in COUNTS + ANSWERS:
            a = r[k]["auc"]
            cells.append(" / ".join("-" if a[w] is None else f"{a[w]:.2f}" for w in WAYS)
                         + f" [{r[k]['leavers_with_signal']}; {r[k]['leavers_with_own_normal']}]")
        print(f"| {d.name} | {r['history_days']} | {r['leavers']} / {r['stayers']} | " + " | ".join(cells) + " |",
              flush=True)
    print("\n| company | leavers | days of HR data in their window (median) | with any HR signal in it | answered a survey in it | lowest answer "
          "flagging <= 5% of stayers | leavers flagged at it (stayers) |\n|---|---|---|---|---|---|---|")
    for d in dirs:
        q = allres[d.name]["survey_ceiling"]
        print(f"| {d.name} | {q['leavers']} | {q['window_days_median']} | {q['any_signal']} | "
              f"{q['answered']} ({q['answered'] / max(1, q['leavers']):.0%}) | "
              f"{q['threshold']} | {q['flagged']} ({q['flagged'] / max(1, q['leavers']):.0%}; "
              f"{q['stayers_flagged']}/{q['stayers']}) |", flush=True)
    if "--json" in argv:
        sys.stderr.write(orjson.dumps(allres).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
