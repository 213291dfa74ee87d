"""Partition assignment and per-employee state: the store, its changelog topic, restore on assignment.

An employee's state belongs to the partition their id hashes to (Kafka's murmur2, as the connectors key
``hr.status`` and events that name the employee), the same partition number on every input topic and on the
compacted changelog topic ``<prefix><app id>.tx.state-changelog``. A worker owns the states of the partition
numbers of ``hr.status`` assigned to it (the range assignor gives co-partitioned topics' partition ``p`` to
one member). When a partition is assigned, its states are read back from the changelog up to its end
(read_committed: only states committed together with their offsets); when it is revoked they are dropped.

The store keeps each employee's committed state as bytes (what the changelog holds) and a bounded cache of
decoded states; what a transaction changed is written to the changelog with the transaction, and dropped
again (back to the committed bytes) when the transaction aborts.

>>> s = StateStore(lambda emp: 0)
>>> from detectors.state import EmployeeState
>>> s.put("E1", EmployeeState()); [emp for emp, _, _ in s.changes()]
['E1']
>>> s.rollback(); s.get("E1") is None
True
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from detectors.state import EmployeeState
from schemas.settings import Settings
from schemas.topics import topic_names
from schemas.transport import kafka_config

log = logging.getLogger("exitwatch.tx.assign")

#: Decoded states kept between transactions (decoding is a large share of an event's cost).
CACHE_SIZE = 20000


def instance_id(app_id: str, data_dir: str) -> str:
    """Stable per worker instance (host and state folder): the group instance id and the transactional id,
    so that a restarted instance takes its partitions back at once and fences the process it replaces.

    >>> instance_id("exitwatch", "/srv/a") == instance_id("exitwatch", "/srv/a/")
    True
    """
    key = f"{os.uname().nodename}:{os.path.realpath(data_dir)}"
    return f"{app_id}-tx-{hashlib.blake2s(key.encode(), digest_size=6).hexdigest()}"


def changelog_topic(prefix: str, app_id: str) -> str:
    """The compacted topic of the per-employee states.

    >>> changelog_topic("acme.", "exitwatch")
    'acme.exitwatch.tx.state-changelog'
    """
    return f"{prefix}{app_id}.tx.state-changelog"


class StateStore:
    """The engine's state store (``get``/``put``), by partition, with transactional changes."""

    def __init__(self, partition_of: Callable[[str], int], cache_size: int = CACHE_SIZE) -> None:
        self.partition_of = partition_of
        self.committed: dict[str, bytes] = {}
        self.owner: dict[str, int] = {}
        self._live: OrderedDict[str, EmployeeState] = OrderedDict()
        self._dirty: set[str] = set()
        self.cache_size = cache_size

    def __len__(self) -> int:
        return len(self.committed)

    def get(self, employee_id: str) -> EmployeeState | None:
        st = self._live.get(employee_id)
        if st is not None:
            return st
        raw = self.committed.get(employee_id)
        if raw is None:
            return None
        st = self._live[employee_id] = EmployeeState.from_bytes(raw)
        return st

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self._live[employee_id] = state
        self._dirty.add(employee_id)

    # ------------------------------------------------------------------ transactions
    def changes(self) -> list[tuple[str, int, bytes]]:
        """``(employee, partition, state bytes)`` of every state changed since the last commit."""
        out = []
        for emp in self._dirty:
            out.append((emp, self.partition_of(emp), self._live[emp].to_bytes()))
        return out

    def committed_changes(self, changes: Iterable[tuple[str, int, bytes]]) -> None:
        """The transaction holding ``changes`` committed: they are the committed states now."""
        for emp, part, raw in changes:
            self.committed[emp] = raw
            self.owner[emp] = part
        self._dirty.clear()
        self._trim()

    def rollback(self) -> None:
        """The transaction aborted: forget what it changed (the committed bytes are the truth)."""
        for emp in self._dirty:
            self._live.pop(emp, None)
        self._dirty.clear()

    def _trim(self) -> None:
        live = self._live
        while len(live) > self.cache_size:
            emp = next(iter(live))
            if emp in self._dirty:
                break
            live.popitem(last=False)

    # ------------------------------------------------------------------ partitions
    def load(self, employee_id: str, partition: int, raw: bytes | None) -> None:
        """One changelog record (None: a tombstone)."""
        self._live.pop(employee_id, None)
        if raw is None:
            self.committed.pop(employee_id, None)
            self.owner.pop(employee_id, None)
        else:
            self.committed[employee_id] = raw
            self.owner[employee_id] = partition

    def drop_partitions(self, partitions: set[int]) -> int:
        """Forget the states of ``partitions`` (revoked); returns how many."""
        gone = [emp for emp, p in self.owner.items() if p in partitions]
        for emp in gone:
            self.committed.pop(emp, None)
            self.owner.pop(emp, None)
            self._live.pop(emp, None)
        return len(gone)

    def drop_all(self) -> None:
        self.committed.clear()
        self.owner.clear()
        self._live.clear()
        self._dirty.clear()


def restore(consumer_factory: Callable[[], Any], topic: str, partitions: Iterable[int], store: StateStore,
            timeout: float = 120.0) -> int:
    """Read ``partitions`` of the changelog ``topic`` from the start to their end into ``store``; returns
    the records read. ``consumer_factory`` makes a read_committed consumer that never joins a group."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    parts = sorted(set(partitions))
    if not parts:
        return 0
    c = consumer_factory()
    try:
        ends: dict[int, int] = {}
        for p in parts:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            if hi > lo:
                ends[p] = hi
        if not ends:
            return 0
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        n, deadline = 0, time.monotonic() + timeout
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"restoring {topic} partitions {sorted(ends)} took over {timeout:.0f} s; is the "
                                   "broker reachable?")
            for m in c.consume(5000, 0.5):
                if m.error():
                    continue
                store.load(m.key().decode(), m.partition(), m.value())
                n += 1
            for p in list(ends):  # transaction markers are never delivered: compare positions, not offsets
                pos = c.position([TopicPartition(topic, p)])[0].offset
                if pos >= ends[p]:
                    del ends[p]
        return n
    finally:
        c.close()


def ensure_topics(s: Settings, timeout: float = 30.0) -> int:
    """Create the topics the worker reads and writes that are missing; returns the partition count of the
    state (``hr.status``'s, ``s.partitions`` when it is new): the rekey and changelog topics get the same."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from streams.tx.process import REKEY_TOPIC

    names = topic_names(s.topic_prefix)
    admin = AdminClient(kafka_config(s))
    existing = admin.list_topics(timeout=timeout).topics
    hr = existing.get(names["hr_status"])
    nparts = len(hr.partitions) if hr is not None and hr.partitions else s.partitions
    compact = {"cleanup.policy": "compact"}
    wanted = {t: (nparts, compact if k == "hr_status" else {}) for k, t in names.items()}
    wanted[s.topic_prefix + REKEY_TOPIC] = (nparts, {})
    wanted[changelog_topic(s.topic_prefix, s.app_id)] = (nparts, compact)
    new = [NewTopic(t, n, 1, config=c) for t, (n, c) in wanted.items() if t not in existing]
    for t, fut in (admin.create_topics(new, request_timeout=timeout).items() if new else ()):
        try:
            fut.result(timeout)
        except Exception as exc:  # noqa: BLE001 - created meanwhile by another worker
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return nparts
