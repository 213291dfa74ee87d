"""Would low alerts from several rules about someone leaving make a counting (medium) alert? A study on alerts
already written, no replay.

    PYTHONPATH=. python reports/evaluation/studies/low_corroboration.py COMPANY:ALERTS [COMPANY:ALERTS ...]

COMPANY is a company folder as ``exitwatch generate`` writes it (labels, HR, events), ALERTS its product alerts
(``alerts-product.jsonl`` of ``exitwatch evaluate``). For each variant (distinct rules or distinct behaviours, 2
or 3 of them, within 14 or 30 days, every alert of any severity made while the person's HR status says they are
leaving) a synthetic medium alert is added on the day the variant is met, and the company is scored with the
evaluator's own metric: thieves newly caught, honest people newly flagged, thieves caught earlier.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from detectors.risk import behaviour
from exitwatch.evaluate import Hit
from exitwatch.whatif import first_catch, hits_of, honest_flagged, read_alerts, to_hit, truth_of

VARIANTS = [(key, n, w) for key in ("rule", "behaviour") for n in (2, 3) for w in (14, 30)]


def leaving(a: dict) -> bool:
    ex = a.get("explanation") or {}
    return bool(ex.get("in_notice")) or ex.get("last_day") is not None


def corroborated(alerts: list[dict], key: str, n: int, window: int) -> list[Hit]:
    out, seen = [], defaultdict(list)
    for a in sorted(alerts, key=lambda a: a["ts"]):
        h = to_hit(a)
        if h is None or not leaving(a):
            continue
        k = behaviour(a["rule_id"], (a.get("explanation") or {}).get("top_feature")) if key == "behaviour" \
            else a["rule_id"]
        seen[h.employee_id].append((h.day, k))
        if len({kk for d, kk in seen[h.employee_id] if h.day - d < window}) >= n:
            out.append(Hit(h.employee_id, h.day, "corroborated", "medium", 50.0))
    return out


def main(specs: list[str]) -> None:
    total = {v: [0, 0, 0] for v in VARIANTS}
    for spec in specs:
        data, _, path = spec.partition(":")
        alerts = read_alerts(Path(path))
        truth = truth_of(Path(data))
        base = hits_of(alerts)
        fb, hb = first_catch(base, truth), honest_flagged(base, truth)
        row = [Path(data).name]
        for v in VARIANTS:
            new = base + corroborated(alerts, *v)
            fn, hn = first_catch(new, truth), honest_flagged(new, truth)
            t = total[v]
            t[0] += len(set(fn) - set(fb))
            t[1] += len(hn - hb)
            t[2] += sum(1 for e in fb if fn.get(e, 10**9) < fb[e])
            row.append(f"{v}: +{len(set(fn) - set(fb))} thieves +{len(hn - hb)} honest")
        print(" | ".join(row), flush=True)
    for v, (t, h, e) in total.items():
        print(f"TOTAL {v}: thieves +{t}, honest +{h}, thieves caught earlier {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
