"""``python anatomy.py STATES.pkl [TYPICAL,BUSIEST]`` (a pickle of ``{employee: state bytes}``):
what a decoded employee state is made of: bytes per part (rule series and their structures, models' state,
marks, HR, the rest), for the typical (median) and the busiest employee and on average; objects shared between
parts (interned day numbers, an id cited by two series) counted once, where first met."""
import json, pickle, statistics, sys
from collections import Counter
from detectors.state import EmployeeState, Series, _DAYS
from detectors.factory import build_engine

def walk(o, seen):
    stack = [o]; tot = 0
    while stack:
        x = stack.pop()
        if id(x) in seen: continue
        seen.add(id(x)); tot += sys.getsizeof(x)
        if isinstance(x, dict): stack.extend(x.keys()); stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)): stack.extend(x)
        elif hasattr(x, "__dict__"): stack.append(x.__dict__)
        elif hasattr(type(x), "__slots__"): stack.extend(getattr(x, a) for a in type(x).__slots__ if hasattr(x, a))
    return tot

def anatomy(st, names):
    seen = {id(d) for d in _DAYS.values()}
    parts = Counter(); struct = Counter()
    parts["state object, its dicts"] = walk(st, seen) if False else 0
    for o in (st, st.__dict__, st.series, st.extra):
        seen.add(id(o)); parts["state object, its dicts"] += sys.getsizeof(o)
    parts["hr"] = walk(st.hr, seen)
    for k, s in st.series.items():
        seen.add(id(s)); n = sys.getsizeof(s) + walk(k, seen); struct["Series object + key"] += n
        tot = n
        for a in Series.__slots__:
            b = walk(getattr(s, a), seen)
            struct[{"days": "days", "ev": "evidence", "base": "late-days base"}.get(a, "baseline numbers, key, episode")] += b
            tot += b
        parts["series " + names.get(k, k)] += tot
    parts["marks"] = walk(st.marks, seen)
    parts["fired + risk"] = walk(st.fired, seen) + walk(st.risk, seen)
    for k, v in st.extra.items():
        nm = {"hp": "model hr.departure_propensity (hp)", "model.behaviour_anomaly": "model.behaviour_anomaly"}.get(k)
        parts[nm or "extra: rules' own memories"] += walk(k, seen) + walk(v, seen)
    return parts, struct

states = {k: EmployeeState.from_bytes(v) for k, v in pickle.load(open(sys.argv[1], "rb")).items()}
eng = build_engine(models=True)
names = {sk: rid for rid, sk in eng._skey.items()}
rows = {e: anatomy(st, names) for e, st in states.items()}
totals = {e: sum(p.values()) for e, (p, _) in rows.items()}
order = sorted(totals, key=totals.get)
typical, busy = order[len(order) // 2], order[-1]
if len(sys.argv) > 2:  # the same two employees as another run (typical,busiest)
    typical, busy = sys.argv[2].split(",")
n = len(states)
avgp = Counter(); avgs = Counter()
for p, s in rows.values(): avgp.update(p); avgs.update(s)
out = {"employees": n, "mean_bytes": round(sum(totals.values()) / n),
       "typical": {"employee": typical, "bytes": totals[typical], "parts": dict(rows[typical][0].most_common()), "series_structures": dict(rows[typical][1].most_common())},
       "busiest": {"employee": busy, "bytes": totals[busy], "parts": dict(rows[busy][0].most_common()), "series_structures": dict(rows[busy][1].most_common())},
       "mean_parts": {k: round(v / n) for k, v in avgp.most_common()},
       "mean_series_structures": {k: round(v / n) for k, v in avgs.most_common()},
       "serialised_mean_bytes": round(statistics.mean(len(s.to_bytes()) for s in states.values()))}
print(json.dumps(out, indent=1))
