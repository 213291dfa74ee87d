"""The worker path harness (issue 15; the fifth session's offline harness, with the sixth's alert digest and
collector time, and this session's per-employee partition cache as TxWorker.partition_of has): the tx worker's
own per-record work without the broker, Processor.decode -> merge order -> Processor.process (enrich from
real Redis, detect, evidence, alerts.secops form) -> StateStore.changes() -> seal, for N events of 10,080
employees (the bench's template company, /tmp/perf/company: `exitwatch generate` seed 7, 250 employees, 45
days, replicated 40 times); the first 20% untimed. Run from the tree to measure, with REDIS_URL set:

    GCT=50000,10,10 PYTHONPATH=$PWD python reports/benchmarks/s8-perf/worker_path.py 48000 [prof]

It preloads the HR records under the prefix s8perfoff. in Redis (CLEAN=1 deletes them afterwards) and caches
the events in /tmp/s8perf/offline-N.pickle. Prints CPU microseconds per event and the alert digest.
"""
import os, sys, time, json, uuid, itertools
from pathlib import Path
sys.path.insert(0, os.getcwd())
from schemas.secrets import declare_dev_mode
declare_dev_mode()
import orjson
from exitwatch.bench import Workload, resolved_events, preload_redis, clear_redis
from schemas.settings import Settings
from schemas.identity import AliasIndex
from schemas.topics import topic_names, activity_topic

import gc
_gc = {"t": 0.0, "n": [0, 0, 0], "t0": 0.0}
def _cb(phase, info):
    if phase == "start": _gc["t0"] = time.perf_counter()
    else: _gc["t"] += time.perf_counter() - _gc["t0"]; _gc["n"][info["generation"]] += 1
gc.callbacks.append(_cb)
if os.environ.get("GCT"): gc.set_threshold(*map(int, os.environ["GCT"].split(",")))
N = int(sys.argv[1]); mode = sys.argv[2] if len(sys.argv) > 2 else ""
redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
wl = Workload(Path("/tmp/perf/company"), 250, 45, 30)
pfx = "s8perfoff."
replicas = 40
hr = [wl.replicate_hr(r, i) for i in range(replicas) for r in wl.hr if r["ts"][:10] < wl.cutoff]
cache = Path(f"/tmp/s8perf/offline-{N}.pickle")
if not cache.exists():
    preload_redis(redis, pfx, hr)
    aliases = AliasIndex()
    for r in hr: aliases.add(r["employee_id"], r.get("accounts") or [])
    evs = list(itertools.islice(resolved_events(wl.event_stream(replicas), aliases), N))
    import pickle; pickle.dump(evs, open(cache, "wb"))
else:
    import pickle; evs = pickle.load(open(cache, "rb"))

class M:
    __slots__ = ("_t", "_p", "_o", "_k", "_v")
    def __init__(s, t, p, o, k, v): s._t, s._p, s._o, s._k, s._v = t, p, o, k, v
    def topic(s): return s._t
    def partition(s): return s._p
    def offset(s): return s._o
    def key(s): return s._k
    def value(s): return s._v
    def headers(s): return None
    def timestamp(s): return (1, 1700000000000)
    def error(s): return None

from streams.app import partition_of
msgs = []
for i, r in enumerate(hr):
    msgs.append(M(pfx + "hr.status", partition_of(r["employee_id"].encode(), 4), i, r["employee_id"].encode(), orjson.dumps(r)))
for i, d in enumerate(evs):
    k = (d.get("employee_id") or d["actor"]).encode()
    msgs.append(M(activity_topic(d["kind"], pfx), partition_of(k, 4), i, k, orjson.dumps(d)))

from streams.tx.worker import TxWorker
from detectors.factory import build_engine
from detectors.engine import EngineConfig
from evidence.outputs import Outputs
from schemas.secrets import sealer as mk_sealer
from streams.tx.store import StateStore
from streams.tx.hr import SyncHRStore
from streams.tx.process import Processor
from schemas.transport import redis_kwargs
s = Settings(topic_prefix=pfx, app_id=pfx + "tx", metrics_port=0, redis_url=redis)
_pc = {}
def part(emp):  # as TxWorker.partition_of: cached per employee
    p = _pc.get(emp)
    if p is None:
        p = _pc[emp] = partition_of(emp.encode(), 4)
    return p
store = StateStore(part)
engine = build_engine(rules_config=s.rules_config, models=s.models, config=EngineConfig(lookback_days=s.lookback_days))
engine.store = store
hrs = SyncHRStore(s.redis_url, prefix=s.topic_prefix, ttl=s.hr_cache_ttl_s, redis_options=redis_kwargs(s))
proc = Processor(engine, hrs, pfx, s.pseudonym_key.get_secret_value().encode(), part, {0, 1, 2, 3},
                 limits=(s.max_record_bytes, s.max_json_depth, s.max_future_skew_s))
proc.outputs = Outputs(engine, s)
for rec in hrs.all_records():
    proc.outputs.on_hr_population(rec)
seal = mk_sealer(s)
out = []
import hashlib
digest = hashlib.sha256(); n_alerts = [0]
def send(topic, value, key=None, partition=None, headers=None):
    out.append((topic, value, key, partition, headers))
    if topic.endswith("alerts.hr"):
        d = orjson.loads(value); digest.update(f"{d['alert_id']} {d['severity']} {d['score']}\n".encode()); n_alerts[0] += 1
proc.send = send

# HR first (as a backlog would: small), not timed
def run(ms):
    for i in range(0, len(ms), 2000):
        recs = [proc.decode(m) for m in ms[i:i + 2000]]
        recs.sort(key=lambda r: (r.ts, r.rank))
        proc.process(recs)
        ch = store.changes()
        for emp, p, raw in ch:
            send("cl", seal.seal(raw, emp.encode()), emp.encode(), p)
        store.committed_changes(ch)
        proc.committed()
        out.clear()
run(msgs[:len(hr)])
# warm 20% of events untimed
w = len(hr) + N // 5
run(msgs[len(hr):w])
ms = msgs[w:]
prof = None
if mode == "prof":
    import cProfile; prof = cProfile.Profile(); prof.enable()
_gc["t"] = 0.0; _gc["n"] = [0, 0, 0]
t0, c0 = time.perf_counter(), time.process_time()
run(ms)
t1, c1 = time.perf_counter(), time.process_time()
if prof: prof.disable(); prof.dump_stats(os.environ.get("PROF", "/tmp/s8perf/offline.prof"))
n = len(ms)
print(json.dumps({"events": n, "cpu_us_per_event": round(1e6 * (c1 - c0) / n, 1), "per_cpu_s": round(n / (c1 - c0)),
                  "wall_per_s": round(n / (t1 - t0)), "alerts": proc.counters["alerts"], "alerts_hr": n_alerts[0], "digest": digest.hexdigest()[:16], "states": len(store), "gc_s": round(_gc["t"], 2), "gc_n": _gc["n"], "run_s": round(t1 - t0, 2), "live": len(store._live)}))

if os.environ.get("CLEAN"):
    clear_redis(redis, pfx)
