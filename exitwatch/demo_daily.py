"""``exitwatch demo --feed daily``: the demo's company fed a day at a time to a running worker, as live traffic
arrives, instead of the whole backlog first; ``--kills N`` SIGKILLs the worker N times along the way.

The generated files go through the connectors (parse, classify, validate), the records are put in replay's
order (by ``ts``; HR, then signals, then events at the same ``ts``), and each UTC day's records are published
while the worker runs; the next day follows once the worker has committed everything published (a quiet
night). At the end the alerts on ``alerts.hr`` are compared with ``exitwatch replay`` over the same files:
the same ids, and each id's messages with the same severities and scores in the same order (an id repeats
when an alert is updated); and ``activity.enriched`` must carry every event once.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from schemas.transport import kafka_config

RANK = {"hr": 0, "signal": 1, "event": 2}


class Collect:
    """A connector sink that keeps what it is sent, in order (``connectors.runner.run``)."""

    failures = 0
    delivered = 0

    def __init__(self, kind: str) -> None:
        self.kind, self.deadletters = kind, 0
        self.records: list[tuple[str, Any]] = []

    def send_event(self, ev: Any) -> None:
        self.records.append(("event", ev))

    def send_hr(self, rec: Any) -> None:
        self.records.append(("hr", rec))

    def send_signal(self, sig: Any) -> None:
        self.records.append(("signal", sig))

    def send_deadletter(self, dl: Any) -> None:
        self.deadletters += 1

    def flush(self) -> int:
        return 0

    def close(self) -> None:
        pass


def days_of(out: Path) -> list[tuple[dt.date, list[tuple[str, Any]]]]:
    """The company's records through the connectors, in replay's order, cut by UTC day."""
    from connectors.runner import make_context, run as run_source

    recs: list[tuple[str, Any]] = []
    for src, name in (("hr", "hr.jsonl"), ("hr", "signals.jsonl"), ("synthetic", "events.jsonl")):
        sink = Collect(src)
        run_source(src, [str(out / name)], sink, ctx=make_context())
        if sink.deadletters:
            raise RuntimeError(f"{name}: {sink.deadletters} records refused by the connector")
        recs += sink.records
    recs.sort(key=lambda kr: (kr[1].ts, RANK[kr[0]]))  # stable: file order within the same ts and kind
    by_day: dict[dt.date, list[tuple[str, Any]]] = defaultdict(list)
    for kind, obj in recs:
        by_day[obj.ts.astimezone(dt.timezone.utc).date()].append((kind, obj))
    return sorted(by_day.items())


class Lag:
    """The worker group's committed offsets against the end of every input partition."""

    def __init__(self, bootstrap: str, group: str, topics: list[str]) -> None:
        from confluent_kafka import Consumer

        self.c = Consumer({**kafka_config(bootstrap=bootstrap), "group.id": group, "enable.auto.commit": False,
                           "log_level": 0})
        md = self.c.list_topics(timeout=10)
        from confluent_kafka import TopicPartition

        self.tps = [TopicPartition(t, p) for t in topics for p in md.topics[t].partitions]

    def lag(self) -> int | None:
        try:
            committed = self.c.committed(self.tps, timeout=10)
            return sum(max(0, self.c.get_watermark_offsets(tp, timeout=10)[1] - max(tp.offset, 0))
                       for tp in committed)
        except Exception:  # noqa: BLE001 - the broker is busy: ask again
            return None

    def wait(self, timeout: float, alive: Any) -> bool:
        t0, zeros = time.monotonic(), 0
        while time.monotonic() - t0 < timeout:
            n = self.lag()
            zeros = zeros + 1 if n == 0 else 0
            if zeros >= 2:
                return True
            alive()
            time.sleep(0.2)
        return False

    def close(self) -> None:
        self.c.close()


def run_daily(args: Any, out: Path, prefix: str, names: dict[str, str], settings: Any, env: dict[str, str],
              say: Any) -> int:
    from connectors.producer import KafkaSink

    days = days_of(out)
    say(f"{sum(len(r) for _, r in days):,} records over {len(days)} days; starting the worker, then publishing "
        "one day at a time" + (f", {args.kills} SIGKILLs of the worker on the way" if args.kills else ""))
    cmd = [sys.executable, "-m", "exitwatch.cli", "worker", "--topic-prefix", prefix, "--app-id", f"{prefix}worker",
           "--data-dir", str(out / "worker-state"), "--metrics-port", "0"]
    starts = [0]

    def start() -> subprocess.Popen[bytes]:
        starts[0] += 1
        with open(out / f"worker-{starts[0]}.log", "wb") as log:
            return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)

    worker = start()
    exits: list[int] = []

    def alive() -> None:
        nonlocal worker
        if worker.poll() is not None:
            exits.append(worker.returncode)
            say(f"the worker exited on its own (code {worker.returncode}); restarting it")
            worker = start()

    inputs = [names[k] for k in names if k.startswith("activity_") and k != "activity_enriched"]
    inputs += [names["hr_status"], names["hr_signals"], prefix + "exitwatch.activity.rekeyed"]
    _wait_topics(settings.kafka_bootstrap, inputs)
    lag = Lag(settings.kafka_bootstrap, f"{prefix}worker", inputs)
    rng = random.Random(args.seed)
    active = [i for i, (_, recs) in enumerate(days) if any(k == "event" for k, _ in recs)]  # (not HR history)
    kill_days = {active[(i + 1) * len(active) // (args.kills + 1)] for i in range(args.kills)} if active else set()
    sink = KafkaSink(settings.kafka_bootstrap, prefix, config={"linger.ms": 20})
    reader = _AlertReader(settings, names["alerts_hr"], f"{prefix}demo-reader")
    t0 = time.monotonic()
    kills = 0
    try:
        for i, (day, recs) in enumerate(days):
            for kind, obj in recs:
                getattr(sink, f"send_{kind}")(obj)
            sink.flush()
            if i in kill_days:
                time.sleep(rng.uniform(0.0, 0.5))  # while the worker is busy with the day
                worker.send_signal(signal.SIGKILL)
                worker.wait(30)
                kills += 1
                worker = start()
            if not lag.wait(600, alive):
                say(f"the worker did not catch up with {day} within 600 s; see {out}/worker-*.log")
                return 1
            reader.poll(args.view == "hr")
        if sink.failures:
            raise RuntimeError(f"{sink.failures} records not delivered: {sink.errors[:3]}")
    finally:
        sink.close()
        lag.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
    reader.poll(args.view == "hr", settle=3.0)
    reader.close()
    return _compare(args, out, settings, names, reader, days, kills, exits, time.monotonic() - t0, say)


def _wait_topics(bootstrap: str, topics: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    adm = AdminClient(kafka_config(bootstrap=bootstrap))
    for _ in range(120):  # the worker creates the rekey and changelog topics when it starts
        if set(topics) <= set(adm.list_topics(timeout=10).topics):
            return
        time.sleep(0.5)
    raise RuntimeError(f"topics not created: {sorted(set(topics) - set(adm.list_topics(timeout=10).topics))}")


class _AlertReader:
    """Reads ``alerts.hr`` (read_committed) as it grows, printing each new alert id once."""

    def __init__(self, settings: Any, topic: str, group: str) -> None:
        from confluent_kafka import Consumer

        self.c = Consumer({**kafka_config(settings), "group.id": group, "auto.offset.reset": "earliest",
                           "isolation.level": "read_committed", "enable.auto.commit": False})
        self.c.subscribe([topic])
        self.messages: list[dict[str, Any]] = []
        self.colour = sys.stdout.isatty()

    def poll(self, show: bool, settle: float = 0.3) -> None:
        from exitwatch.demo import _line

        quiet_since = time.monotonic()
        seen = {a["alert_id"] for a in self.messages}
        while time.monotonic() - quiet_since < settle:
            m = self.c.poll(0.1)
            if m is None or m.error():
                continue
            quiet_since = time.monotonic()
            a = orjson.loads(m.value() or b"{}")
            self.messages.append(a)
            if show and a["alert_id"] not in seen:
                seen.add(a["alert_id"])
                print(_line(a, self.colour), flush=True)

    def close(self) -> None:
        self.c.close()


def _compare(args: Any, out: Path, settings: Any, names: dict[str, str], reader: _AlertReader,
             days: list[tuple[dt.date, list[tuple[str, Any]]]], kills: int, exits: list[int], elapsed: float,
             say: Any) -> int:
    from detectors.routing import security_finding

    from exitwatch.demo import compare

    replayed = [orjson.loads(x) for x in (out / "replay-alerts.jsonl").read_text().splitlines() if x]
    cmp = compare(replayed, reader.messages)
    missing, extra, differ = cmp["missing"], cmp["extra"], cmp["different_versions"]
    n_events = sum(1 for _, recs in days for kind, _ in recs if kind == "event")
    enriched = _enriched_ids(settings, names["activity_enriched"])
    repeats = sum(c - 1 for c in enriched.values() if c > 1)
    labels = [orjson.loads(x) for x in (out / "labels.jsonl").read_text().splitlines() if x.strip()]
    bad = [x["employee_id"] for x in labels if x["scenario"] != "benign_leaver"]
    final = {a["alert_id"]: a for a in reader.messages}
    caught = {a["employee_id"] for a in final.values() if a["severity"] in ("medium", "high", "critical")
              and security_finding(a)}
    res: dict[str, Any] = {"feed": "daily", "days": len(days), "events": n_events, "kills": kills, "unexpected_exits": exits,
           "alerts_replay": cmp["alerts_replay"], "alerts_streamed": cmp["alerts_streamed"],
           "messages_replay": len(replayed), "messages_streamed": len(reader.messages), "missing": missing,
           "extra": extra, "different_versions": differ,
           "enriched": sum(enriched.values()), "enriched_unique": len(enriched), "enriched_repeats": repeats,
           "malicious_caught": f"{len(set(bad) & caught)}/{len(bad)}", "seconds": round(elapsed, 1)}
    res["by_rule_not_equal"] = cmp["by_rule_not_equal"]
    res["same_as_replay"] = cmp["same_as_replay"]
    res["ok"] = res["same_as_replay"] and repeats == 0 and len(enriched) == n_events and not exits
    (out / "demo-summary.json").write_bytes(orjson.dumps(res, option=orjson.OPT_INDENT_2))
    say(f"fed day by day ({len(days)} days, {kills} kills): {cmp['alerts_streamed']} alert ids streamed, "
        f"{cmp['alerts_replay']} in replay; "
        f"{len(missing)} missing, {len(extra)} extra, {len(differ)} with other severities, scores or updates; "
        f"activity.enriched {sum(enriched.values()):,} records for {n_events:,} events, {repeats} repeats; "
        f"malicious leavers with a medium+ alert {res['malicious_caught']}; summary in {out / 'demo-summary.json'}")
    if not res["same_as_replay"]:
        say("not equal, by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(res["by_rule_not_equal"].items())))
    return 0 if res["ok"] else 1


def _enriched_ids(settings: Any, topic: str) -> Counter[str]:
    """Event ids on ``topic`` (committed records only), read to its end."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({**kafka_config(settings), "group.id": f"{topic}.demo-check", "enable.auto.commit": False,
                  "isolation.level": "read_committed", "fetch.max.bytes": 16 << 20})
    ids: Counter[str] = Counter()
    try:
        parts = list(c.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        pending, deadline = {p for p, hi in ends.items() if hi > 0}, time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            for m in c.consume(5000, 0.5):
                if not m.error():
                    ids[orjson.loads(m.value() or b"{}").get("event_id", "?")] += 1
            for p in list(pending):  # transaction markers are never delivered: compare positions
                if c.position([TopicPartition(topic, p)])[0].offset >= ends[p]:
                    pending.discard(p)
    finally:
        c.close()
    return ids
