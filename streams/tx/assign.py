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

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer

from detectors.state import EmployeeState
from evidence.recorder import settle as settle_evidence
from schemas.transport import kafka_config
from streams import metrics
from streams.tx.txn import Fenced, Transaction

log = logging.getLogger("exitwatch.tx.assign")

#: Decoded states kept between transactions (decoding is a large share of an event's cost).
CACHE_SIZE = 20000


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
            st = self._live[emp]
            settle_evidence(st)  # the evidence kept for the ledger, in its stored form (evidence.recorder)
            out.append((emp, self.partition_of(emp), st.to_bytes()))
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
            unseal: Callable[[bytes, bytes], bytes] = lambda v, _: v, timeout: float = 120.0) -> int:
    """Read ``partitions`` of the changelog ``topic`` from the start to their end into ``store``; returns
    the records read. ``consumer_factory`` makes a read_committed consumer that never joins a group;
    ``unseal(value, employee id)`` opens a sealed value (:class:`schemas.secrets.Sealer`)."""
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
                emp, value = m.key().decode(), m.value()
                store.load(emp, m.partition(), None if value is None else unseal(value, emp.encode()))
                n += 1
            for p in list(ends):  # transaction markers are never delivered: compare positions, not offsets
                pos = c.position([TopicPartition(topic, p)])[0].offset
                if pos >= ends[p]:
                    del ends[p]
        return n
    finally:
        c.close()


class ClientFailed(Exception):
    """The consumer reported a fatal error: it must be made anew."""


class Rebalancing:
    """The worker's side of the group protocol (mixed into :class:`streams.tx.worker.TxWorker`)."""

    _renew_due: str | None = None

    def on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        try:
            self._assign(partitions)
        except Exception:  # an exception here would be swallowed by the client: stop instead
            log.exception("partition assignment failed; stopping the worker")
            self._stop = True
            raise

    def _assign(self, partitions: list[Any]) -> None:
        t0 = time.monotonic()
        new_owned = {tp.partition for tp in partitions if tp.topic == self.names["hr_status"]}
        dropped = self.store.drop_partitions(self.owned - new_owned)
        # Fetching the committed offsets waits for a transaction the previous owner left open (KIP-447), so the
        # changelog read next has every state committed with those offsets.
        committed = self.consumer.committed(partitions, timeout=60) if partitions else []
        self.committed_offsets = {(tp.topic, tp.partition): tp.offset for tp in committed}
        fresh = new_owned - self.owned
        n = restore(self._restore_consumer, self.changelog, fresh, self.store, self.sealer.open)
        self.owned.clear()
        self.owned.update(new_owned)
        self.paused.clear()
        for tp in partitions:
            self.merge.add((tp.topic, tp.partition))
        self.ready, self.rebalancing = True, False
        metrics.REBALANCES.inc()
        log.warning("assigned %d partitions (state partitions %s): %d states restored from %s, %d dropped, in "
                    "%.1f s", len(partitions), sorted(new_owned), n, self.changelog, dropped, time.monotonic() - t0)

    def _restore_consumer(self) -> Consumer:
        return Consumer(kafka_config(self.settings, **{
            "group.id": f"{self.settings.app_id}.tx-restore", "isolation.level": "read_committed",
            "enable.auto.commit": False, "enable.partition.eof": False}))

    def on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        self.rebalancing, self.ready = True, False
        if self.tx.open:
            try:
                self.commit()
            except Fenced as exc:
                self.rollback()
                self._renew_due = str(exc)
            except Exception as exc:  # noqa: BLE001 - the new owner reads from the committed offsets
                log.warning("commit at revoke failed (%s): aborted, the new owner starts from the last commit", exc)
                self.abort_quietly()
                self.renew_producer()
        for tp in partitions:
            self.merge.remove((tp.topic, tp.partition))

    def on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        log.warning("partitions lost (session expired): aborting the open transaction, dropping all state, "
                    "renewing the producer")
        self.abort_quietly()
        self.renew_producer()  # seen after a broker restart: the old producer's next transaction hung
        for tp in partitions:
            self.merge.remove((tp.topic, tp.partition))
        self.store.drop_all()
        self.owned.clear()
        self.ready = False

    def renew_producer(self) -> None:
        """A new transactional producer under the same id (fences and aborts what the old one left open)."""
        try:
            self.tx.close()
        except Exception as exc:  # noqa: BLE001 - replaced anyway
            log.debug("closing the failed producer: %r", exc)
        try:
            self.tx = Transaction(kafka_config(self.settings), self.instance)
        except Exception as exc:  # noqa: BLE001 - broker not back yet: renew everything on the next step
            log.warning("transactional producer not ready (%s); retrying", exc)
            self._renew_due = str(exc)

    def renew(self, why: BaseException | str) -> None:
        """Make the consumer and the transactional producer anew after a fatal error (fenced, a static member
        fenced after a broker restart), dropping all state: the assignment restores it. More than three
        renewals in two minutes mean another live process has this worker's identity: stop."""
        now = time.monotonic()
        self._renewals = [t for t in self._renewals if now - t < 120] + [now]
        if len(self._renewals) > 3:
            log.error("fatal client errors keep coming (%s); is another worker running with the same --data-dir "
                      "and app id? Stopping", why)
            self._stop = True
            return
        log.warning("renewing the Kafka clients after a fatal error: %s", why)
        self._renew_due = None
        for close in (self.tx.close, self.consumer.close):
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - replaced anyway
                log.debug("closing a failed client: %r", exc)
        self.rollback()
        for tp in list(self.merge.buf):
            self.merge.remove(tp)
        self.store.drop_all()
        self.owned.clear()
        self.ready = False
        self.consumer = self.new_consumer()
        try:
            self.tx = Transaction(kafka_config(self.settings), self.instance)
        except Exception as exc:  # noqa: BLE001 - broker not back yet: try again on the next step
            log.warning("transactional producer not ready (%s); retrying", exc)
            self._renew_due = str(exc)
            time.sleep(1.0)
        self.start()
