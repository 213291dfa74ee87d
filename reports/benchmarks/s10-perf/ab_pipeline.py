"""Issue 15, tenth session: two trees' tx workers (``exitwatch worker``, the default engine) drain THE SAME
backlog on the real broker, started together, each in its own consumer group: events per CPU-second (and
wall) of each, and the ratio after / before, measured in one run on one machine load. The backlog is the
bench's pipeline workload (exitwatch/bench.py: Prepared, 10,000 employees, 4 partitions; the template company
in /tmp/perf/company as `exitwatch bench` makes it), the rate is the bench's watch_drain (first commit on the
input to 90% committed).

    PYTHONPATH=$PWD python reports/benchmarks/s10-perf/ab_pipeline.py BEFORE_TREE AFTER_TREE [EVENTS] [--spy]

Each worker runs ``python -m exitwatch.cli worker`` with its tree as cwd and PYTHONPATH, on its own copy of
the backlog (its own topic prefix, so its own outputs), produced by the same code from the same stream. The
alerts of both (alerts.hr: id, severity, score) are read back, compared and written to the work folder, once
each worker has committed its whole input (activity.* and hr.status: see settle).
"""
import json, os, subprocess, sys, threading, time, uuid
from pathlib import Path

sys.path.insert(0, os.getcwd())
from schemas.secrets import declare_dev_mode
declare_dev_mode()
from exitwatch.bench import Kafka, Prepared, Workload, watch_drain, clear_redis, say

before, after = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
events = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 150_000
spy = "--spy" in sys.argv
boot = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
work = Path(os.environ.get("AB_WORK", "/tmp/s10perf/ab")) / uuid.uuid4().hex[:6]
work.mkdir(parents=True)
wl = Workload(Path("/tmp/perf/company"), 250, 45, 30)
kafka = Kafka(boot)
# each tree gets its own copy of the backlog (its own prefix: its own output and rekey topics), produced
# by the same code from the same stream, so that the two runs' alerts can be compared
tag = uuid.uuid4().hex[:6]
preps = {}
for name in ("before", "after"):
    pfx = f"s10ab{tag}{name[0]}."
    say(f"producing {events:,} events to {pfx}")
    preps[name] = Prepared(kafka, redis, wl, pfx, 10_000, 4, events)
uptime = open("/proc/loadavg").read().split()[:3]
procs, res = {}, {}
for name, tree in (("before", before), ("after", after)):
    p = preps[name]
    args = [sys.executable, "-m", "exitwatch.cli", "worker", "--bootstrap", boot, "--redis", redis,
            "--topic-prefix", p.prefix, "--app-id", p.prefix + "tx", "--data-dir", str(work / name), "--metrics-port", "0"]
    env = {**os.environ, "PYTHONPATH": str(tree), "EXITWATCH_DEV_MODE": "1"}
    extra = os.environ.get("AB_ENV_" + name.upper(), "")  # e.g. AB_ENV_AFTER="EXITWATCH_TX_BATCH=5000"
    env.update(kv.split("=", 1) for kv in extra.split(",") if kv)
    procs[name] = subprocess.Popen(args, cwd=tree, env=env, stdout=open(work / f"{name}.log", "wb"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
spies = []
if spy:
    for name in procs:
        spies.append(subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(procs[name].pid),
                                       "-o", str(work / f"{name}.spy.txt"), "-f", "raw", "-r", "50", "--nonblocking"],
                                      stdout=subprocess.DEVNULL, stderr=open(work / f"{name}.spy.err", "wb")))

def watch(name):
    p = preps[name]
    try:
        res[name] = watch_drain(Kafka(boot), p.prefix + "tx", p.activity, events, [procs[name].pid], name,
                                alive=lambda: procs[name].poll() is None)
    except Exception as exc:
        res[name] = {"error": str(exc)}

def settle(name):
    """Wait until the worker has also committed every hr.status record: the HR records dated after the last
    event of the backlog come out of the time-ordered merge after it, in the next transaction. Stopping a
    worker as soon as its activity offsets were done cut those off (the first version of this script: the
    worker that finished first kept running while the other drained, and read up to 9 alerts more)."""
    p = preps[name]
    k = Kafka(boot)
    hr_topic = [p.names["hr_status"]]
    end, deadline = k.end_offsets(hr_topic), time.monotonic() + 120
    while k.committed(p.prefix + "tx", hr_topic) < end and time.monotonic() < deadline:
        time.sleep(0.2)
    res.setdefault("hr_settled_s", {})[name] = round(120 - (deadline - time.monotonic()), 1)
    k.close()

ths = [threading.Thread(target=watch, args=(n,)) for n in procs]
for t in ths: t.start()
for t in ths: t.join()
ths = [threading.Thread(target=settle, args=(n,)) for n in procs]
for t in ths: t.start()
for t in ths: t.join()
for s in spies: s.send_signal(2)
for s in spies: s.wait(30)
for p in procs.values():
    p.terminate()
for p in procs.values():
    try: p.wait(30)
    except subprocess.TimeoutExpired: p.kill()

def alerts(prefix):
    """Every committed record of the prefix's alerts.hr, read to the end of each partition (no idle timeout:
    a reader that stopped after 5 s without a message missed a partition's alerts on this loaded machine)."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    from schemas.transport import kafka_config
    c = Consumer({**kafka_config(bootstrap=boot), "group.id": "ab-read-" + uuid.uuid4().hex,
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    t = prefix + "alerts.hr"
    parts = list(c.list_topics(t, timeout=10).topics[t].partitions)
    ends = {p: c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1] for p in parts}
    c.assign([TopicPartition(t, p, OFFSET_BEGINNING) for p in parts])
    out, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        pos = {tp.partition: tp.offset for tp in c.position([TopicPartition(t, p) for p in parts])}
        if all(ends[p] == 0 or pos.get(p, -1) >= ends[p] for p in parts):
            break
        m = c.poll(0.5)
        if m is None or m.error(): continue
        d = json.loads(m.value())
        out.append((d["alert_id"], d["severity"], d["score"], d["rule_id"], d.get("employee_id"), d.get("ts")))
    c.close()
    return sorted(out)
a_b, a_a = alerts(preps["before"].prefix), alerts(preps["after"].prefix)
(work / "alerts-before.json").write_text(json.dumps(a_b)); (work / "alerts-after.json").write_text(json.dumps(a_a))
def key(a):  # id, severity, score: what "the same alerts" means
    return [x[:3] for x in a]
out = {"events": events, "load_at_start": uptime, "load_at_end": open("/proc/loadavg").read().split()[:3],
       "before_tree": str(before), "after_tree": str(after),
       "env_before": os.environ.get("AB_ENV_BEFORE", ""), "env_after": os.environ.get("AB_ENV_AFTER", ""), "before": res.get("before"), "after": res.get("after"), "hr_settled_s": res.get("hr_settled_s"),
       "alerts_before": len(a_b), "alerts_after": len(a_a), "alerts_identical": key(a_b) == key(a_a), "work": str(work)}
try:
    out["ratio_per_cpu_s"] = round(res["after"]["events_per_cpu_s"] / res["before"]["events_per_cpu_s"], 3)
    out["ratio_wall"] = round(res["after"]["events_per_s"] / res["before"]["events_per_s"], 3)
except Exception:
    pass
print(json.dumps(out))
kafka.delete_created()
clear_redis(redis, preps["before"].prefix); clear_redis(redis, preps["after"].prefix)
