"""The real services answer: a round trip through the Kafka broker and through Redis.

CI runs this to prove the broker and Redis it started work the way the project uses them: an idempotent
``acks=all`` producer, a consumer group reading from the earliest offset, keyed partitions keeping order,
topic auto-creation, and Redis strings and hashes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Message, Producer

pytestmark = pytest.mark.integration


def _producer(bootstrap: str) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})


def _consume(bootstrap: str, topic: str, group: str, expected: int, timeout: float = 60.0) -> list[Message]:
    """Read ``expected`` messages of ``topic`` from the start as consumer group ``group``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            messages.append(msg)
    finally:
        consumer.close()
    return messages


def _produce(bootstrap: str, topic: str, records: list[tuple[str, dict[str, Any]]]) -> None:
    producer = _producer(bootstrap)
    failures: list[object] = []
    for key, value in records:
        producer.produce(
            topic,
            key=key.encode(),
            value=orjson.dumps(value),
            on_delivery=lambda err, _msg: failures.append(err) if err else None,
        )
    assert producer.flush(30) == 0, "messages still in flight after 30 s"
    assert failures == []


def test_kafka_round_trip_keeps_per_key_order(kafka_bootstrap: str, kafka_admin: Any, unique_prefix: str) -> None:
    topic = unique_prefix + "activity.file"
    kafka_admin.create_topics([topic], partitions=4)
    records = [(f"E{i % 5}", {"event_id": f"ev-{i}", "seq": i, "employee_id": f"E{i % 5}"}) for i in range(200)]

    _produce(kafka_bootstrap, topic, records)
    messages = _consume(kafka_bootstrap, topic, unique_prefix + "g", expected=len(records))

    assert len(messages) == len(records)
    by_key: dict[str, list[int]] = {}
    partition_of: dict[str, set[int]] = {}
    for msg in messages:
        key = msg.key().decode()
        value = orjson.loads(msg.value())
        assert value["employee_id"] == key
        by_key.setdefault(key, []).append(value["seq"])
        partition_of.setdefault(key, set()).add(msg.partition())
    assert all(seqs == sorted(seqs) for seqs in by_key.values()), "order within a key was lost"
    assert all(len(parts) == 1 for parts in partition_of.values()), "one key landed in two partitions"
    assert sum(len(s) for s in by_key.values()) == len(records)


def test_kafka_auto_creates_topics(kafka_bootstrap: str, unique_prefix: str) -> None:
    topic = unique_prefix + "deadletter"
    record = {"source": "test", "reason": "round trip", "raw": "x", "ts": "2026-03-02T09:15:00Z"}

    _produce(kafka_bootstrap, topic, [("test", record)])
    messages = _consume(kafka_bootstrap, topic, unique_prefix + "g", expected=1)

    assert [orjson.loads(m.value()) for m in messages] == [record]


def test_redis_round_trip(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    try:
        assert client.set(key, "notice", ex=60)
        assert client.get(key) == b"notice"
        client.hset(key + ":h", mapping={"status": "notice", "last_day": "2026-03-31"})
        assert client.hgetall(key + ":h") == {b"status": b"notice", b"last_day": b"2026-03-31"}
    finally:
        client.delete(key, key + ":h")
        client.close()
