"""The transactional worker (``exitwatch worker``, streams/tx) on the real broker and Redis.

* exactly-once across crashes: a backlog processed by a worker killed twice mid-stream (SIGKILL) gives every
  alert replay finds once on ``alerts.hr`` and ``alerts.secops``, no other, and every event once on
  ``activity.enriched``;
* the time-ordered merge: a backlog published before the worker starts gives replay's alerts exactly (ids,
  severities, scores, and every message of an updated alert in order; models on);
* restore: a second worker instance continues an employee's windows from the changelog;
* fencing: a zombie holding the same transactional id cannot commit; nothing it wrote becomes visible.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from kafka_reading import read_topics
from schemas.secrets import MAGIC
from schemas.topics import topic_names
from schemas.transport import kafka_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXITWATCH = [sys.executable, "-m", "exitwatch.cli"]
RULE = "file.sensitive_downloads_before_departure"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*EXITWATCH, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, **(env or {})})
    assert p.returncode == 0, f"exitwatch {' '.join(args)} failed:\n{p.stdout}\n{p.stderr[-3000:]}"
    return p


def start_worker(prefix: str, data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*EXITWATCH, "worker", "--topic-prefix", prefix, "--app-id", f"{prefix}worker",
                             "--data-dir", str(data_dir), "--metrics-port", "0", *extra], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(p: subprocess.Popen[str]) -> str:
    p.send_signal(signal.SIGTERM)
    try:
        return p.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate()[0]


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A generated company (30 employees, 45 days) and replay's alerts over it, with and without models."""
    d = tmp_path_factory.mktemp("company")
    cli("generate", "--employees", "30", "--days", "45", "--seed", "11", "--out", str(d), "--no-progress")
    out: dict[str, Any] = {"dir": d, "events": len(jsonl(d / "events.jsonl"))}
    for name, extra in (("models", ()), ("rules", ("--no-models",))):
        cli("replay", "--hr", str(d / "hr.jsonl"), "--signals", str(d / "signals.jsonl"), "--events",
            str(d / "events.jsonl"), "--alerts", str(d / f"replay-{name}.jsonl"), *extra)
        out[f"{name}_messages"] = jsonl(d / f"replay-{name}.jsonl")  # every message (an update repeats its id)
        out[name] = {a["alert_id"]: a for a in out[f"{name}_messages"]}
    assert any(a["rule_id"] == RULE for a in out["rules"].values())
    return out


def publish(company: dict[str, Any], prefix: str, kafka_admin: Any, env: dict[str, str]) -> None:
    kafka_admin.create_topics(list(topic_names(prefix).values()), partitions=4)
    d = company["dir"]
    for src, path in (("hr", d / "hr.jsonl"), ("hr", d / "signals.jsonl"), ("synthetic", d / "events.jsonl")):
        cli("connect", src, str(path), "--topic-prefix", prefix, env=env)


def read_outputs(bootstrap: str, prefix: str, n_events: int, timeout: float = 30.0) -> dict[str, list[Any]]:
    """The alert topics and activity.enriched, committed records only, once ``n_events`` enriched events are
    there: waits for that, then reads every partition of the three topics to its end."""
    wait_enriched(bootstrap, prefix, n_events, timeout)
    names = topic_names(prefix)
    return read_topics(bootstrap, [names["alerts_hr"], names["alerts_secops"], names["activity_enriched"]],
                       timeout=60, isolation="read_committed", to_end=True)


def wait_enriched(bootstrap: str, prefix: str, n: int, timeout: float) -> int:
    """Committed records on activity.enriched once at least ``n`` are there (or the timeout)."""
    t = topic_names(prefix)["activity_enriched"]
    return len(read_topics(bootstrap, [t], until=lambda g: len(g[t]) >= n, timeout=timeout,
                           isolation="read_committed")[t])


def test_exactly_once_across_kills(kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any,
                                   company: dict[str, Any], tmp_path: Path) -> None:
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url, "EXITWATCH_MODELS": "off",
           "EXITWATCH_TX_BATCH": "200"}  # small transactions, so that the kills land mid-stream
    publish(company, unique_prefix, kafka_admin, env)
    n = company["events"]
    logs = []
    for frac in (0.2, 0.5):  # killed twice, each time once some of the backlog is committed
        w = start_worker(unique_prefix, tmp_path / "w", env)
        seen = wait_enriched(kafka_bootstrap, unique_prefix, int(n * frac), timeout=120)
        w.send_signal(signal.SIGKILL)
        logs.append(w.communicate()[0])
        assert seen < n, "the backlog was done before the kill; make it larger"
    w = start_worker(unique_prefix, tmp_path / "w", env)
    try:
        got = read_outputs(kafka_bootstrap, unique_prefix, n, timeout=180)
        time.sleep(3)  # anything extra after the last event would show now
        got = read_outputs(kafka_bootstrap, unique_prefix, n, timeout=30)
    finally:
        logs.append(stop(w))
    names = topic_names(unique_prefix)
    ids = [e["event_id"] for e in got[names["activity_enriched"]]]
    dup = [k for k, c in Counter(ids).items() if c > 1]
    assert len(ids) == n and not dup, f"{len(ids)} enriched of {n}, repeats {dup[:5]}\n{logs[-1][-3000:]}"
    from detectors.routing import for_secops
    from evidence.privacy import secops_alert_id
    from schemas.settings import Settings

    pkey = Settings().pseudonym_key.get_secret_value().encode()
    expected = {names["alerts_hr"]: set(company["rules"]),  # alerts.secops: keyed ids, no propensity alerts
                names["alerts_secops"]: {secops_alert_id(i, pkey) for i, a in company["rules"].items() if for_secops(a)}}
    # Engine-wide memories (a machine's usual users, what peers did first: detectors/shared.py) are written with
    # each transaction and read back on start (streams/tx/shared.py), so every rule is checked, those too.
    rule_of = {**{i: a["rule_id"] for i, a in company["rules"].items()},
               **{a["alert_id"]: a["rule_id"] for t in expected for a in got[t]}}
    for t, want in expected.items():
        alert_ids = [a["alert_id"] for a in got[t]]
        assert len(alert_ids) == len(set(alert_ids)), f"{t}: an alert sent twice"
        missing, extra = want - set(alert_ids), set(alert_ids) - want
        assert not missing and not extra, (f"{t}: missing {sorted(rule_of.get(i, '?') for i in missing)}, "
                                           f"extra {sorted(rule_of.get(i, '?') for i in extra)}")


def test_backlog_gives_replays_alerts_exactly(kafka_bootstrap: str, redis_url: str, unique_prefix: str,
                                              kafka_admin: Any, company: dict[str, Any], tmp_path: Path) -> None:
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url}
    publish(company, unique_prefix, kafka_admin, env)  # the whole backlog first, then the worker
    w = start_worker(unique_prefix, tmp_path / "w", env)
    try:
        got = read_outputs(kafka_bootstrap, unique_prefix, company["events"], timeout=180)
        time.sleep(2)
        got = read_outputs(kafka_bootstrap, unique_prefix, company["events"], timeout=30)
    finally:
        log = stop(w)
    messages = got[topic_names(unique_prefix)["alerts_hr"]]
    streamed = {a["alert_id"]: a for a in messages}
    expected = company["models"]
    assert set(streamed) == set(expected), (f"missing {Counter(expected[k]['rule_id'] for k in set(expected) - set(streamed))}"
                                            f", extra {Counter(streamed[k]['rule_id'] for k in set(streamed) - set(expected))}"
                                            f"\n{log[-2000:]}")
    differ = [(k, expected[k]["severity"], streamed[k]["severity"], expected[k]["score"], streamed[k]["score"])
              for k in expected if (expected[k]["severity"], expected[k]["score"]) !=
              (streamed[k]["severity"], streamed[k]["score"])]
    assert not differ
    # Every message, not only each id's last: an alert updated in replay is updated in the stream, in the same
    # order (the demo's comparison; exitwatch.demo.compare).
    from exitwatch.demo import compare

    res = compare(company["models_messages"], messages)
    assert res["same_as_replay"], {k: res[k] for k in ("missing", "extra", "different_versions", "by_rule_not_equal",
                                                      "messages_replay", "messages_streamed")}


# ------------------------------------------------------------------------------------------------ restore, fencing
def produce(bootstrap: str, topic: str, records: list[dict[str, Any]], key: str) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap})
    for r in records:
        p.produce(topic, key=key.encode(), value=json.dumps(r).encode())
    assert p.flush(30) == 0


def downloads(first: int, last: int) -> list[dict[str, Any]]:
    return [{"event_id": f"dl-{i}", "ts": f"2026-03-{i:02d}T10:00:00Z", "kind": "file", "action": "download",
             "actor": "ann@corp.example", "employee_id": "E1001", "source": "m365", "sensitivity": "restricted"}
            for i in range(first, last + 1)]


def changelog_records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every (key, raw value) of a changelog topic (values are sealed, not JSON)."""
    from confluent_kafka import Consumer

    c = Consumer({**kafka_config(bootstrap=bootstrap), "group.id": f"cl-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.partition.eof": True})
    c.subscribe([topic])
    out: list[tuple[bytes, bytes]] = []
    deadline, eof = time.monotonic() + 30, 0
    try:
        while time.monotonic() < deadline and (not out or eof < 4):
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                eof += 1
                continue
            out.append((m.key(), m.value()))
    finally:
        c.close()
    return out


HR = {"employee_id": "E1001", "ts": "2026-03-01T09:00:00Z", "status": "notice", "last_day": "2026-03-31",
      "accounts": ["ann@corp.example"]}


def test_state_restored_from_changelog_by_another_instance(kafka_bootstrap: str, redis_url: str,
                                                           unique_prefix: str, kafka_admin: Any,
                                                           tmp_path: Path) -> None:
    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url, "EXITWATCH_MODELS": "off"}
    produce(kafka_bootstrap, names["hr_status"], [HR], "E1001")
    produce(kafka_bootstrap, names["activity_file"], downloads(10, 15), "E1001")  # 6 of the 11 downloads
    w = start_worker(unique_prefix, tmp_path / "a", env)
    try:
        assert wait_enriched(kafka_bootstrap, unique_prefix, 6, timeout=90) == 6
    finally:
        stop(w)
    states = changelog_records(kafka_bootstrap, f"{unique_prefix}{unique_prefix}worker.tx.state-changelog")
    assert states and all(k == b"E1001" for k, _ in states)
    assert all(v.startswith(MAGIC) and b"notice" not in v for _, v in states)  # sealed at rest
    produce(kafka_bootstrap, names["activity_file"], downloads(16, 20), "E1001")  # the other 5
    w = start_worker(unique_prefix, tmp_path / "b", env)  # another instance: nothing local to start from
    try:
        got = read_topics(kafka_bootstrap, [names["alerts_hr"]], timeout=90, isolation="read_committed",
                          until=lambda g: any(a["rule_id"] == RULE for a in g[names["alerts_hr"]]))
    finally:
        log = stop(w)
    fired = [a for a in got[names["alerts_hr"]] if a["rule_id"] == RULE]
    assert len(fired) == 1 and fired[0]["explanation"]["observed"] == 11, log[-3000:]
    assert "states restored" in log


def test_zombie_with_the_same_transactional_id_is_fenced(kafka_bootstrap: str, redis_url: str,
                                                         unique_prefix: str, kafka_admin: Any,
                                                         tmp_path: Path) -> None:
    from schemas.settings import Settings
    from streams.tx.txn import Fenced
    from streams.tx.worker import TxWorker

    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    produce(kafka_bootstrap, names["hr_status"], [HR], "E1001")
    produce(kafka_bootstrap, names["activity_file"], downloads(10, 20), "E1001")
    s = Settings(kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, topic_prefix=unique_prefix,
                 app_id=f"{unique_prefix}worker", data_dir=str(tmp_path / "w"), models=False,
                 tx_interval_ms=600_000.0, tx_commit_min_ms=600_000.0)  # the zombie's transaction stays open
    # until it tries to commit
    zombie = TxWorker(s)
    zombie.start()
    deadline = time.monotonic() + 60
    while zombie.proc.counters["enriched"] < 11 and time.monotonic() < deadline:
        zombie.step()
    assert zombie.tx.open and zombie.proc.alerts, "the zombie should hold an open transaction with the alert"
    fresh = TxWorker(s)  # same instance: same transactional id; init_transactions fences the zombie
    with pytest.raises(Fenced):
        zombie.commit()
    zombie.rollback()  # what the worker does when fenced: drop the transaction's state, stop
    zombie.consumer.close()
    fresh.settings = s
    fresh.interval = 0.1
    fresh.start()
    deadline = time.monotonic() + 60
    while fresh.proc.counters["enriched"] < 11 and time.monotonic() < deadline:
        fresh.step()
    fresh.close()
    got = read_topics(kafka_bootstrap, [names["alerts_hr"], names["activity_enriched"]], timeout=20,
                      isolation="read_committed", to_end=True)
    fired = [a for a in got[names["alerts_hr"]] if a["rule_id"] == RULE]
    assert len(fired) == 1 and len(got[names["activity_enriched"]]) == 11
