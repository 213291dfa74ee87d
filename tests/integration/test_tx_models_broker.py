"""The learned models across worker restarts, on the real broker and Redis (streams/tx/models.py).

A backlog is processed by a worker SIGKILLed twice mid-stream, models on. The restarted workers load the
models' shared state committed with their last transaction (a snapshot and the journal after it), so every
model alert must come out exactly as replay makes it over the same files: the same ids, severities and
scores. Without the models in the transactions a restart starts them empty and their alerts differ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from kafka_reading import read_topics
from schemas.topics import topic_names

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXITWATCH = [sys.executable, "-m", "exitwatch.cli"]


def cli(*args: str, env: dict[str, str] | None = None) -> None:
    p = subprocess.run([*EXITWATCH, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, **(env or {})})
    assert p.returncode == 0, f"exitwatch {' '.join(args)} failed:\n{p.stderr[-3000:]}"


def test_model_alerts_after_kills_are_replays(kafka_bootstrap: str, redis_url: str, unique_prefix: str,
                                              kafka_admin: Any, tmp_path: Path) -> None:
    d = tmp_path / "co"
    cli("generate", "--employees", "30", "--days", "45", "--seed", "11", "--out", str(d), "--no-progress")
    cli("replay", "--hr", str(d / "hr.jsonl"), "--signals", str(d / "signals.jsonl"), "--events",
        str(d / "events.jsonl"), "--alerts", str(d / "replay.jsonl"))
    replayed = [orjson.loads(x) for x in (d / "replay.jsonl").read_bytes().splitlines() if x.strip()]
    want = {a["alert_id"]: (a["severity"], a["score"]) for a in replayed if a["rule_id"].startswith("model.")}
    assert want, "the company should make model alerts"
    n_events = sum(1 for x in (d / "events.jsonl").read_bytes().splitlines() if x.strip())
    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url, "EXITWATCH_TX_BATCH": "200",
           "EXITWATCH_MODEL_CHECKPOINT_S": "2"}  # small transactions, snapshots and journal records both
    for src, path in (("hr", d / "hr.jsonl"), ("hr", d / "signals.jsonl"), ("synthetic", d / "events.jsonl")):
        cli("connect", src, str(path), "--topic-prefix", unique_prefix, env=env)
    cmd = [*EXITWATCH, "worker", "--topic-prefix", unique_prefix, "--app-id", f"{unique_prefix}worker",
           "--data-dir", str(tmp_path / "w"), "--metrics-port", "0"]
    enriched = names["activity_enriched"]
    logs = []
    for frac in (0.35, 0.7):
        w = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        seen = len(read_topics(kafka_bootstrap, [enriched], until=lambda g: len(g[enriched]) >= frac * n_events,
                               timeout=180, isolation="read_committed")[enriched])
        w.send_signal(signal.SIGKILL)
        logs.append(w.communicate()[0])
        assert seen < n_events, "the backlog was done before the kill; make it larger"
    w = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        read_topics(kafka_bootstrap, [enriched], until=lambda g: len(g[enriched]) >= n_events, timeout=240,
                    isolation="read_committed")
        got = read_topics(kafka_bootstrap, [names["alerts_hr"]], timeout=60, isolation="read_committed",
                          to_end=True)[names["alerts_hr"]]
    finally:
        w.send_signal(signal.SIGTERM)
        logs.append(w.communicate(timeout=60)[0])
    assert any("journal records after it" in x and "snapshot none, 0 journal" not in x for x in logs[1:]), logs[-1][-2000:]
    streamed = {a["alert_id"]: (a["severity"], a["score"]) for a in got if a["rule_id"].startswith("model.")}
    assert streamed == want, (sorted(set(want) ^ set(streamed)),
                              [(k, want[k], streamed[k]) for k in set(want) & set(streamed) if want[k] != streamed[k]])
