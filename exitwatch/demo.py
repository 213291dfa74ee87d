"""``exitwatch demo``: the main job on an embedded default, end to end on a real broker and Redis.

1. generates a small company with a few departures (``exitwatch generate``);
2. publishes its HR records and activity through the connectors (``exitwatch connect hr`` / ``synthetic``)
   to fresh topics (a prefix per run);
3. runs the streaming worker (``exitwatch worker``) on them;
4. prints every alert as it arrives on ``alerts.secops`` / ``alerts.hr``, and at the end compares every
   message with what ``exitwatch replay`` finds in the same files: the same alert ids, and each id's messages
   (an id repeats when an alert is updated) with the same severities and scores in the same order
   (:func:`compare`).

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
from collections import defaultdict
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
    if args.view == "secops":  # alerts.secops carries keyed alert ids (evidence.privacy), no propensity alerts
        from detectors.routing import for_secops
        from evidence.privacy import secops_alert_id

        pkey = settings.pseudonym_key.get_secret_value().encode()
        replayed = [{**a, "alert_id": secops_alert_id(a["alert_id"], pkey)} for a in replayed if for_secops(a)]
    expected = {a["alert_id"] for a in replayed}

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
    seen: dict[str, dict[str, Any]] = {}  # each id's latest message
    messages: list[dict[str, Any]] = []  # every message, in arrival order (an updated alert repeats its id)
    worker_ok = True
    colour = sys.stdout.isatty()
    t0 = time.monotonic()
    print(f"{'day':<10} {'severity':<8} {'score':>5}  {'employee':<12} {'department':<12} {'status':<8} "
          f"{'rule':<44} title")
    try:
        done_at: float | None = None
        last_new = time.monotonic()
        while time.monotonic() - t0 < args.timeout and (done_at is None or time.monotonic() - done_at < 5.0):
            if done_at is None and expected <= set(seen) and len(messages) >= len(replayed):
                done_at = time.monotonic()  # every alert and update replay makes is in: a few seconds for extras
            if seen and time.monotonic() - last_new > args.idle:
                break  # nothing new for a while: the backlog is done
            m = consumer.poll(0.5)
            if m is None or m.error():
                if worker.poll() is not None:
                    say(f"the worker stopped (exit {worker.returncode}); see {out / 'worker.log'}")
                    worker_ok = False
                    break
                continue
            a = orjson.loads(m.value() or b"{}")
            messages.append(a)
            last_new = time.monotonic()
            if a["alert_id"] not in seen:
                print(_line(a, colour), flush=True)
            seen[a["alert_id"]] = a
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
    hit = [x["employee_id"] for x in bad if x["employee_id"] in caught] if args.view == "hr" else []
    with open(out / "stream-alerts.jsonl", "wb") as fh:
        for a in messages:
            fh.write(orjson.dumps(a) + b"\n")
    res = compare(replayed, messages)
    rules = [k for k in expected if not _order_dependent(res["rule_of"][k])]
    rules_ok = [k for k in rules if k not in res["not_equal"]]
    others = [k for k in expected if _order_dependent(res["rule_of"][k])]
    others_ok = [k for k in others if k not in res["not_equal"]]
    summary = {k: v for k, v in res.items() if k not in ("rule_of", "not_equal")}
    summary.update(feed="backlog", view=args.view, seconds=round(elapsed, 1), worker_ok=worker_ok,
                   malicious_caught=f"{len(hit)}/{len(bad)}" if args.view == "hr" else None)
    (out / "demo-summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    if not res["same_as_replay"]:
        say("not equal to replay, by rule: "
            + ", ".join(f"{k} {v}" for k, v in sorted(res["by_rule_not_equal"].items())) + f" (missing {len(res['missing'])}, extra {len(res['extra'])}, other severities, scores or updates "
              f"{len(res['different_versions'])}; {out / 'demo-summary.json'})")
    if args.view == "hr":
        say(f"malicious leavers with a medium+ alert: {len(hit)}/{len(bad)}")
    say(f"{len(seen)} alerts ({len(messages)} messages with their updates) in {elapsed:.0f} s, replay "
        f"{len(expected)} ({len(replayed)} messages): {'the same' if res['same_as_replay'] else 'NOT the same'}. "
        f"Rule alerts: {len(rules_ok)} of the {len(rules)} replay finds; model, risk and HR-side alerts: "
        f"{len(others_ok)} of the {len(others)} replay finds (each with every message the same). Files and "
        f"worker log in {out}")
    # The demo worked when the worker streamed replay's answer, every message of it.
    return 0 if seen and worker_ok and res["same_as_replay"] else 1


def compare(replayed: list[dict[str, Any]], streamed: list[dict[str, Any]]) -> dict[str, Any]:
    """Replay's alert messages against the streamed ones, each id's messages in order as (severity, score): an
    alert updated later repeats its id, so ids alone (or a count of ids against a count of messages) are not
    the comparison.

    >>> a = {"alert_id": "x", "rule_id": "r", "severity": "low", "score": 30.0}
    >>> r = compare([a, {**a, "severity": "medium"}], [a])
    >>> r["same_as_replay"], r["different_versions"], r["messages_replay"], r["messages_streamed"]
    (False, ['x'], 2, 1)
    """
    want, got = _versions(replayed), _versions(streamed)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    rule_of = {a["alert_id"]: a["rule_id"] for a in replayed + streamed}
    by_rule: dict[str, int] = defaultdict(int)
    for k in missing + extra + differ:
        by_rule[rule_of.get(k, "?")] += 1
    return {"alerts_replay": len(want), "alerts_streamed": len(got), "messages_replay": len(replayed),
            "messages_streamed": len(streamed), "missing": missing, "extra": extra, "different_versions": differ,
            "by_rule_not_equal": dict(by_rule), "same_as_replay": not (missing or extra or differ),
            "rule_of": rule_of, "not_equal": set(missing + extra + differ)}


def _versions(alerts: list[dict[str, Any]]) -> dict[str, list[tuple[str, float]]]:
    """Each alert id's messages, in order, as (severity, score)."""
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a in alerts:
        out[a["alert_id"]].append((a["severity"], a["score"]))
    return dict(out)


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
