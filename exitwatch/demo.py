"""``exitwatch demo``: the main job on an embedded default, end to end on a real broker and Redis.

1. generates a small company with a few departures (``exitwatch generate``);
2. publishes its HR records and activity through the connectors (``exitwatch connect hr`` / ``synthetic``)
   to fresh topics (a prefix per run);
3. runs the streaming worker (``exitwatch worker``) on them;
4. prints every alert as it arrives on ``alerts.secops`` / ``alerts.hr``, and at the end compares the set
   with what ``exitwatch replay`` finds in the same files.

Kafka and Redis are found through ``KAFKA_BOOTSTRAP`` / ``REDIS_URL`` (``ops/demo.sh`` starts both first).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from detectors.routing import security_finding
from schemas.transport import kafka_config

SEVERITY_COLOUR = {"low": "", "medium": "\033[33m", "high": "\033[31m", "critical": "\033[1;31m"}


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help="generate a small company and run it through connectors and the worker",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--employees", type=int, default=50)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--out", help="folder for the generated files (default: a temporary folder)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the alerts")
    p.add_argument("--idle", type=float, default=30.0, help="stop after this many seconds without a new alert")
    p.add_argument("--view", choices=("secops", "hr"), default="hr", help="which alert topic to print")
    p.add_argument("--feed", choices=("backlog", "daily"), default="backlog",
                   help="backlog: publish everything, then start the worker; daily: start the worker, then "
                        "publish a day at a time as live traffic arrives (exitwatch/demo_daily.py)")
    p.add_argument("--kills", type=int, default=0, help="with --feed daily: SIGKILL the worker this many times on "
                   "the way (restarted at once); activity.enriched must still carry every event once")
    return p


def _cli(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([sys.executable, "-m", "exitwatch.cli", *args], capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"exitwatch {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p


def _line(a: dict[str, Any], colour: bool) -> str:
    c = SEVERITY_COLOUR.get(a["severity"], "") if colour else ""
    end = "\033[0m" if c else ""
    emp = a["employee"]
    who = f"{a['employee_id']:<12} {emp.get('department') or '-':<12} {emp.get('status') or '-':<8}"
    return f"{c}{a['ts'][:10]} {a['severity']:<8} {a['score']:5.1f}  {who} {a['rule_id']:<44}{end} {a['title']}"


def run(args: argparse.Namespace) -> int:
    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient

    from schemas.secrets import declare_dev_mode
    from schemas.settings import Settings
    from schemas.topics import topic_names

    declare_dev_mode()  # a generated company with the development keys; the worker and feed it starts inherit it

    settings = Settings()
    try:
        AdminClient(kafka_config(settings)).list_topics(timeout=10)
    except Exception as exc:
        print(f"demo: no Kafka broker at {settings.kafka_bootstrap} ({exc}); start one with "
              f"`eval \"$(ops/services.sh up)\"` or run `bash ops/demo.sh`", file=sys.stderr)
        return 2
    out = Path(args.out or tempfile.mkdtemp(prefix="exitwatch-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    prefix = f"demo{int(time.time())}."
    names = topic_names(prefix)
    say = lambda msg: print(f"demo: {msg}", file=sys.stderr, flush=True)  # noqa: E731

    say(f"generating {args.employees} employees x {args.days} days into {out}")
    _cli("generate", "--employees", str(args.employees), "--days", str(args.days), "--seed", str(args.seed),
         "--out", str(out), "--no-progress")
    labels = [orjson.loads(x) for x in (out / "labels.jsonl").read_text().splitlines() if x.strip()]
    bad = [x for x in labels if x["scenario"] != "benign_leaver"]
    say(f"{len(labels)} leavers, {len(bad)} of them malicious: "
        + ", ".join(f"{x['employee_id']} {x['scenario']}" for x in bad))

    say("what replay finds in the same files (the reference)")
    _cli("replay", "--hr", str(out / "hr.jsonl"), "--signals", str(out / "signals.jsonl"),
         "--events", str(out / "events.jsonl"), "--alerts", str(out / "replay-alerts.jsonl"), "--no-progress")
    replayed = [orjson.loads(x) for x in (out / "replay-alerts.jsonl").read_text().splitlines() if x]
    # Rule alerts must match replay's exactly; the learned model's shared state (and so its alerts, and the risk
    # they feed) depends on the order in which employees interleave across partitions, so those may differ.
    expected = {a["alert_id"] for a in replayed if not _order_dependent(a["rule_id"])}
    others_expected = len(replayed) - len(expected)
    if args.view == "secops":  # alerts.secops carries keyed alert ids (evidence.privacy)
        from evidence.privacy import secops_alert_id

        pkey = settings.pseudonym_key.get_secret_value().encode()
        expected = {secops_alert_id(i, pkey) for i in expected}

    env = {**os.environ, "KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "REDIS_URL": settings.redis_url}
    # The topics first, with the worker's partition count (co-partitioning by employee id needs it).
    _ensure_topics(settings.kafka_bootstrap, names, settings.partitions)
    if args.feed == "daily":
        from exitwatch.demo_daily import run_daily

        return run_daily(args, out, prefix, names, settings, env, say)
    say(f"publishing through the connectors to topics {prefix}*")
    for src, path in (("hr", out / "hr.jsonl"), ("hr", out / "signals.jsonl"), ("synthetic", out / "events.jsonl")):
        p = _cli("connect", src, str(path), "--topic-prefix", prefix, env=env)
        say(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"{src}: done")

    say("starting the worker")
    worker = subprocess.Popen(
        [sys.executable, "-m", "exitwatch.cli", "worker", "--topic-prefix", prefix, "--app-id", f"{prefix}worker",
         "--data-dir", str(out / "worker-state"), "--metrics-port", "0"],
        env=env, stdout=open(out / "worker.log", "w"), stderr=subprocess.STDOUT,
    )
    topic = names["alerts_hr"] if args.view == "hr" else names["alerts_secops"]
    consumer = Consumer({**kafka_config(settings), "group.id": f"{prefix}demo-reader",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen: dict[str, dict[str, Any]] = {}
    worker_ok = True
    colour = sys.stdout.isatty()
    t0 = time.monotonic()
    print(f"{'day':<10} {'severity':<8} {'score':>5}  {'employee':<12} {'department':<12} {'status':<8} "
          f"{'rule':<44} title")
    try:
        done_at: float | None = None
        last_new = time.monotonic()
        while time.monotonic() - t0 < args.timeout and (done_at is None or time.monotonic() - done_at < 5.0):
            if done_at is None and expected <= set(seen):
                done_at = time.monotonic()  # every rule alert is in: a few more seconds for the rest
            if seen and time.monotonic() - last_new > args.idle:
                break  # nothing new for a while: the backlog is done
            m = consumer.poll(0.5)
            if m is None or m.error():
                if worker.poll() is not None:
                    say(f"the worker stopped (exit {worker.returncode}); see {out / 'worker.log'}")
                    worker_ok = False
                    break
                continue
            a = orjson.loads(m.value())
            if a["alert_id"] not in seen:
                last_new = time.monotonic()
                seen[a["alert_id"]] = a
                print(_line(a, colour), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
    elapsed = time.monotonic() - t0
    caught = {a["employee_id"] for a in seen.values() if a["severity"] in ("medium", "high", "critical")
              and security_finding(a)}  # offboarding reminders are not findings
    if args.view == "hr":
        hit = [x["employee_id"] for x in bad if x["employee_id"] in caught]
        say(f"malicious leavers with a medium+ alert: {len(hit)}/{len(bad)}")
    else:
        hit = []
    missing = expected - set(seen)
    with open(out / "stream-alerts.jsonl", "wb") as fh:
        for a in seen.values():
            fh.write(orjson.dumps(a) + b"\n")
    if missing:
        by_rule: dict[str, int] = {}
        for a in replayed:
            if a["alert_id"] in missing:
                by_rule[a["rule_id"]] = by_rule.get(a["rule_id"], 0) + 1
        say("not arrived, by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
    others = sum(1 for a in seen.values() if _order_dependent(a["rule_id"]))
    say(f"{len(seen)} alerts in {elapsed:.0f} s. Rule alerts: {len(expected) - len(missing)} of the {len(expected)} "
        f"replay finds{'' if not missing else f' ({len(missing)} not arrived)'}; model, risk and HR-side alerts: {others} "
        f"streamed, {others_expected} in replay. Files and worker log in {out}")
    if missing:
        say("the whole backlog was published before the worker started, so its topics and partitions drain at "
            "different speeds and some days reach detection out of time order; baseline-relative rules can then "
            "judge a day differently from replay (live traffic, or `exitwatch faults`, which feeds day by day, "
            "gives replay's alerts)")
    # The demo worked when the worker streamed alerts; the comparison with replay is information.
    return 0 if seen and worker_ok else 1


def _order_dependent(rule_id: str) -> bool:
    # HR-side alerts (offboarding reminders, the propensity with its shared department means) depend on the
    # order in which signals and events meet, like the model's, so they are counted with those.
    return rule_id.startswith(("model.", "offboarding.", "hr.")) or rule_id == "risk.employee"


def _ensure_topics(bootstrap: str, names: dict[str, str], partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    adm = AdminClient(kafka_config(bootstrap=bootstrap))
    futures = adm.create_topics([
        NewTopic(t, partitions, 1, config={"cleanup.policy": "compact"} if k == "hr_status" else {})
        for k, t in names.items()
    ])
    for f in futures.values():
        try:
            f.result()
        except Exception as exc:  # already exists is fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
