"""Reading topics back in integration tests: every message of some topics from the start, as JSON."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError


def read_topics(bootstrap: str, topics: list[str], until: Callable[[dict[str, list[Any]]], bool] | None = None,
                timeout: float = 60.0, keys: bool = False, isolation: str | None = None,
                to_end: bool = False) -> dict[str, list[Any]]:
    """Decoded values (or ``(key, value)`` pairs with ``keys``) per topic, read from the earliest offset by a
    fresh consumer group until ``until(got)`` is true or ``timeout`` seconds have passed.

    ``isolation``: ``"read_committed"`` or ``"read_uncommitted"`` (default: the client's, read_committed).
    ``to_end``: also stop once every partition of the topics has been read to its end (then ``until`` may be
    None), so that nothing after a count reached is missed."""
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time_ns()}",
                            "auto.offset.reset": "earliest", "enable.auto.commit": False}
    if isolation:
        conf["isolation.level"] = isolation
    if to_end:
        conf["enable.partition.eof"] = True
    c = Consumer(conf)
    c.subscribe(topics)
    got: dict[str, list[Any]] = {t: [] for t in topics}
    parts: set[tuple[str, int]] = set()
    if to_end:
        meta = c.list_topics(timeout=30).topics
        parts = {(t, p) for t in topics if t in meta for p in meta[t].partitions}
    at_end: set[tuple[str, int]] = set()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if until is not None and until(got):
                break
            if to_end and parts and at_end >= parts:
                break
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add((m.topic(), m.partition()))
                continue
            at_end.discard((m.topic(), m.partition()))
            v = orjson.loads(m.value())
            got[m.topic()].append((m.key(), v) if keys else v)
    finally:
        c.close()
    return got
