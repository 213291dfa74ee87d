"""The worker's state at rest and its retention, on the real broker and Redis (issue 17).

For each engine (the transactional default and the Faust worker), a worker reads a leaver (last day 2026-01-31) and a colleague who stays, and writes their states to its
table's changelog: every value there is sealed (AES-256-GCM), with no HR field, account or file name in clear.
The worker stops; one started again with ``EXITWATCH_RETENTION_DAYS=30`` restores the table from the changelog
and purges the leaver (more than 30 days past the last day by the wall clock): the last changelog record of
the leaver is a tombstone, the leaver's HR record and aliases are gone from Redis, the colleague's are kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from schemas.secrets import MAGIC

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXITWATCH = [sys.executable, "-m", "exitwatch.cli"]


def changelog(bootstrap: str, topic: str, timeout: float = 30.0) -> list[tuple[str, bytes | None]]:
    """Every (key, raw value) of ``topic`` from the start to its end (None: a tombstone)."""
    from confluent_kafka import Consumer, KafkaError

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False, "enable.partition.eof": True})
    c.subscribe([topic])
    meta = c.list_topics(topic, timeout=30).topics.get(topic)
    parts = set(meta.partitions) if meta is not None else set()
    out: list[tuple[str, bytes | None]] = []
    at_end: set[int] = set()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and (not parts or at_end < parts):
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(m.partition())
                continue
            at_end.discard(m.partition())
            key = m.key().decode()
            out.append((json.loads(key) if key.startswith('"') else key, m.value()))  # Faust: JSON keys
    finally:
        c.close()
    return out


def last_values(records: list[tuple[str, bytes | None]]) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for k, v in records:
        out[k] = v
    return out


@pytest.mark.parametrize("engine", ["tx", "faust"])
def test_state_sealed_in_changelog_and_purged_after_retention(engine: str, kafka_bootstrap: str, redis_url: str,
                                                              unique_prefix: str, kafka_admin: Any,
                                                              tmp_path: Path) -> None:
    from schemas.topics import topic_names
    from streams.tx.topics import changelog_topic

    kafka_admin.create_topics(list(topic_names(unique_prefix).values()), partitions=4)
    app_id = f"{unique_prefix}ret"
    hr = tmp_path / "hr.jsonl"
    hr.write_text("\n".join(json.dumps(r) for r in (
        {"employee_id": "E7001", "ts": "2026-01-02T09:00:00Z", "status": "notice", "department": "Formulation",
         "role": "chemist", "resignation_date": "2026-01-02", "last_day": "2026-01-31",
         "accounts": ["ann.leaver@corp.example"]},
        {"employee_id": "E7002", "ts": "2026-01-02T09:00:00Z", "status": "active", "department": "Formulation",
         "accounts": ["bob.stays@corp.example"]})) + "\n")
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps({
        "event_id": f"ret-{who}-{i}", "ts": f"2026-01-{10 + i:02d}T10:00:00Z", "kind": "file", "action": "download",
        "actor": f"{who}@corp.example", "source": "synthetic", "object": f"/formulas/recipe-{who}-{i}.pdf",
        "sensitivity": "restricted", "bytes": 1000}) for who in ("ann.leaver", "bob.stays") for i in range(6)) + "\n")
    env = {**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url,
           "EXITWATCH_DATA_KEY": "a data key of this test, 32+ characters", "EXITWATCH_RETENTION_CHECK_S": "1"}
    topic = changelog_topic(unique_prefix, app_id) if engine == "tx" else f"{app_id}-employee-state-changelog"

    def run_worker(extra: dict[str, str], until: Any, what: str, timeout: float = 150) -> None:
        log = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*')))}.log"
        w = subprocess.Popen([*EXITWATCH, "worker", "--engine", engine, "--topic-prefix", unique_prefix, "--app-id", app_id,
                              "--data-dir", str(tmp_path / "state"), "--store", "memory://", "--metrics-port", "0",
                              "--loglevel", "info"], cwd=ROOT, env={**env, **extra}, stdout=log.open("wb"),
                             stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if w.poll() is not None:
                    pytest.fail(f"worker exited with {w.returncode}\n{log.read_text()[-3000:]}")
                if until():
                    return
                time.sleep(1.0)
            pytest.fail(f"timed out waiting for {what}\n{log.read_text()[-3000:]}")
        finally:
            w.terminate()
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()

    def start_feed() -> None:
        for args in (["hr", str(hr)], ["synthetic", str(events), "--hr", str(hr)]):
            p = subprocess.run([*EXITWATCH, "connect", *args, "--topic-prefix", unique_prefix], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stderr

    start_feed()

    def both_written() -> bool:  # every event enriched, and both states in the changelog
        enriched = changelog(kafka_bootstrap, f"{unique_prefix}activity.enriched", 10)
        vals = last_values(changelog(kafka_bootstrap, topic, 10))
        return len(enriched) >= 12 and all(vals.get(e) for e in ("E7001", "E7002"))

    run_worker({}, both_written, "all events enriched and both states in the changelog")
    time.sleep(3)  # the last batch's state and offsets
    records = changelog(kafka_bootstrap, topic)
    assert records and all(v is not None and v.startswith(MAGIC) for _, v in records)
    for _, v in records:
        for clear in (b"Formulation", b"chemist", b"ann.leaver", b"recipe", b"2026-01-31"):
            assert clear not in v
    r = redis.Redis.from_url(redis_url)
    try:
        assert r.get(f"{unique_prefix}alias:ann.leaver@corp.example") == b"E7001"

        def purged() -> bool:
            return last_values(changelog(kafka_bootstrap, topic, 10)).get("E7001", b"") is None

        run_worker({"EXITWATCH_RETENTION_DAYS": "30"}, purged, "the leaver's tombstone")
        final = last_values(changelog(kafka_bootstrap, topic))
        assert final["E7001"] is None and final["E7002"] is not None
        assert r.get(f"{unique_prefix}alias:ann.leaver@corp.example") is None
        assert not r.exists(f"{unique_prefix}hr:E7001")
        assert r.get(f"{unique_prefix}alias:bob.stays@corp.example") == b"E7002"
        assert r.exists(f"{unique_prefix}hr:E7002")
    finally:
        for k in r.scan_iter(match=f"{unique_prefix}*"):
            r.delete(k)
        r.close()
