"""The engine-wide memories of the transactional worker (a machine's usual users, what a department did
first: :mod:`detectors.shared`) on a compacted topic, ``<prefix><app id>.tx.shared-changelog``.

Each memory is kept as contributions by partition (the partition of the employee whose event changed it), so
each contribution has one writer: the worker that owns the partition. The contributions a batch changed are
written in the batch's transaction, beside the per-employee states, to the topic partition of the same number
(record key ``h3|pc-17``, value sealed as the states are). When the assignment changes the worker reads the
whole topic back (read_committed: what was committed with the offsets it resumes from) into the engine,
so a restart forgets nothing; while idle it reads the contributions that other workers committed since.

>>> shared_topic("acme.", "exitwatch")
'acme.exitwatch.tx.shared-changelog'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from detectors.engine import Engine
from streams.tx.topics import watermarks

log = logging.getLogger("exitwatch.tx.shared")

#: Seconds between reads of the other workers' contributions while idle.
REFRESH_S = 5.0


def shared_topic(prefix: str, app_id: str) -> str:
    return f"{prefix}{app_id}.tx.shared-changelog"


class SharedMemories:
    """Writes the engine's changed contributions with a transaction, reads the topic back."""

    def __init__(self, engine: Engine, topic: str, nparts: int, consumer_factory: Callable[[], Consumer],
                 seal: Callable[[bytes, bytes], bytes], unseal: Callable[[bytes, bytes], bytes]) -> None:
        self.engine, self.topic, self.nparts = engine, topic, nparts
        self.consumer_factory, self.seal, self.unseal = consumer_factory, seal, unseal
        self.consumer: Consumer | None = None
        self.refresh_at = 0.0

    def send(self, send: Callable[..., None]) -> int:
        """Every contribution changed since the last commit, to the open transaction; how many."""
        changes = self.engine.shared_changes()
        for key, part, raw in changes:
            k = key.encode()
            send(self.topic, None if raw is None else self.seal(raw, k), k, partition=part)
        return len(changes)

    def committed(self) -> None:
        self.engine.shared_committed()

    def rollback(self) -> None:
        self.engine.shared_rollback()

    def reload(self, timeout: float = 120.0) -> int:
        """The engine's memories anew from the whole topic (every partition, to its end); records read."""
        self.engine.shared_rollback()
        self.engine.shared_clear()
        if self.consumer is None:
            self.consumer = self.consumer_factory()
        c = self.consumer
        ends: dict[int, int] = {}
        for p in range(self.nparts):
            lo, hi = watermarks(c, TopicPartition(self.topic, p))
            ends[p] = hi
        c.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.nparts)])
        n = 0
        deadline = time.monotonic() + timeout
        pending = {p for p, hi in ends.items() if hi > 0}
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {self.topic} took over {timeout:.0f} s; is the broker reachable?")
            n += self._apply(c.consume(5000, 0.2), owned=None)
            for p in list(pending):  # transaction markers are never delivered: compare positions
                if c.position([TopicPartition(self.topic, p)])[0].offset >= ends[p]:
                    pending.discard(p)
        return n

    def refresh(self, owned: set[int]) -> int:
        """While idle, at most every :data:`REFRESH_S`: the contributions other workers committed since."""
        now = time.monotonic()
        if self.consumer is None or now < self.refresh_at:
            return 0
        self.refresh_at = now + REFRESH_S
        try:
            return self._apply(self.consumer.consume(5000, 0.0), owned=owned)
        except KafkaException as exc:  # the next refresh tries again
            log.warning("reading other workers' engine-wide memories failed: %s", exc)
            return 0

    def _apply(self, msgs: list[Any], owned: set[int] | None) -> int:
        n = 0
        for m in msgs:
            if m.error():
                continue
            if owned is not None and m.partition() in owned:
                continue  # this worker's own contribution: it is the writer
            k, value = m.key(), m.value()
            self.engine.shared_load(k.decode(), None if value is None else self.unseal(value, k))
            n += 1
        return n

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
