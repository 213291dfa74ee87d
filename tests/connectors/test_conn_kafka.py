"""The Kafka sink against the real broker (KAFKA_BOOTSTRAP): events, HR records and a dead letter read back."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from connectors.producer import KafkaSink
from connectors.runner import run

from conn_helpers import FIX

pytestmark = pytest.mark.integration
OWN = FIX / "own"


def _read(bootstrap: str, topics: list[str], expect: int, timeout: float = 60.0) -> list:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex[:8]}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(topics)
    got = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expect and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got.append((m.topic(), m.key().decode() if m.key() else None, json.loads(m.value())))
    finally:
        c.close()
    return got


def test_kafka_sink_round_trip(kafka_bootstrap, unique_prefix, kafka_admin, tmp_path):
    p = unique_prefix
    topics = [p + "activity.file", p + "activity.email", p + "deadletter", p + "hr.status", p + "hr.signals"]
    kafka_admin.create_topics(topics)
    bad = tmp_path / "m.jsonl"
    bad.write_text((OWN / "m365_documented.jsonl").read_text() + "{broken\n")
    sink = KafkaSink(kafka_bootstrap, p)
    stats = run("m365", [str(bad)], sink, hr=str(OWN / "hr.jsonl"))
    sink.close()
    assert stats.events == 14 and stats.deadletters == 1 and sink.failures == 0
    sink2 = KafkaSink(kafka_bootstrap, p)
    stats2 = run("hr", [str(OWN / "hr.jsonl")], sink2)
    sink2.close()
    assert stats2.hr == 3 and stats2.signals == 2 and sink2.failures == 0
    got = _read(kafka_bootstrap, topics, 14 + 1 + 5)
    by_topic: dict[str, list] = {}
    for topic, key, value in got:
        by_topic.setdefault(topic[len(p):], []).append((key, value))
    assert len(by_topic["activity.file"]) == 11  # print travels with file and len(by_topic["activity.email"]) == 3
    assert all(k == "E1001" for k, _ in by_topic["activity.file"])
    (dk, dv), = by_topic["deadletter"]
    assert dk == "m365" and set(dv) == {"source", "reason", "raw", "ts"} and dv["raw"] == "{broken"
    assert {k for k, _ in by_topic["hr.status"]} == {"E1001", "E1002"} and len(by_topic["hr.signals"]) == 2


def test_kafka_sink_counts_delivery_failures():
    # nothing listens on this port: every message fails within the short timeouts
    sink = KafkaSink("127.0.0.1:1", "x.", config={"message.timeout.ms": 1500, "socket.timeout.ms": 1000},
                     flush_timeout=5)
    stats = run("synthetic", [str(OWN / "synthetic.jsonl")], sink)
    assert stats.events == 3 and sink.failures >= 3
