"""Reading topics back in integration tests: every message of some topics from the start, as JSON."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Consumer


def read_topics(bootstrap: str, topics: list[str], until: Callable[[dict[str, list[Any]]], bool],
                timeout: float = 60.0, keys: bool = False) -> dict[str, list[Any]]:
    """Decoded values (or ``(key, value)`` pairs with ``keys``) per topic, read from the earliest offset by a
    fresh consumer group until ``until(got)`` is true or ``timeout`` seconds have passed."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(topics)
    got: dict[str, list[Any]] = {t: [] for t in topics}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(got):
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            v = orjson.loads(m.value())
            got[m.topic()].append((m.key(), v) if keys else v)
    finally:
        c.close()
    return got
