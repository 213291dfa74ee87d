"""Partition assignment and per-employee state: the store, its changelog topic, restore on assignment.

An employee's state belongs to the partition their id hashes to (Kafka's murmur2, as the connectors key
``hr.status`` and events that name the employee), the same partition number on every input topic and on the
compacted changelog topic ``<prefix><app id>.tx.state-changelog``. A worker owns the states of the partition
numbers of ``hr.status`` assigned to it (the range assignor gives co-partitioned topics' partition ``p`` to
one member). When a partition is assigned, its states are read back from the changelog up to its end
(read_committed: only states committed together with their offsets); when it is revoked they are dropped.

The states themselves are in :class:`streams.tx.store.StateStore`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer

from schemas.transport import kafka_config
from streams import metrics
from streams.tx.store import StateStore
from streams.tx.topics import watermarks
from streams.tx.upkeep import read_leavers
from streams.tx.txn import Fenced, Transaction

log = logging.getLogger("exitwatch.tx.assign")

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
            lo, hi = watermarks(c, TopicPartition(topic, p))
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
    if TYPE_CHECKING:  # provided by TxWorker
        settings: Any
        instance: str
        changelog: str
        names: dict[str, str]
        consumer: Any
        tx: Transaction
        merge: Any
        store: StateStore
        shared: Any
        owned: set[int]
        paused: set[tuple[str, int]]
        unheard: set[tuple[str, int]]
        sealer: Any
        _leavers_jobs: list[Any]
        committed_offsets: dict[tuple[str, int], int]
        ready: bool  # readiness (observe.py)
        rebalancing: bool
        _stop: bool
        resume_due: str | None
        _renewals: list[float]
        abort_quietly: Any
        commit: Any
        rollback: Any
        new_consumer: Any
        start: Any

    def on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        try:
            self._assign(partitions)
        except Exception:  # an exception here would be swallowed by the client: stop instead
            log.exception("partition assignment failed; stopping the worker (exit status 1: a supervisor restarts it)")
            self._stop = True
            self.assignment_failed = True  # `exitwatch worker` exits 1, not 0: a failure, not a requested stop
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
        read_leavers(self, fresh)  # on a thread, meanwhile; noted before the first record (upkeep.note_leavers)
        n = restore(self._restore_consumer, self.changelog, fresh, self.store, self.sealer.open)
        self.shared.reload()  # engine-wide memories: every partition's, as committed (streams/tx/shared.py)
        self.owned.clear()
        self.owned.update(new_owned)
        self.paused.clear()
        for tp in partitions:
            self.merge.add((tp.topic, tp.partition))
        self.unheard.clear()  # (a revoked partition needs nothing more)
        self.unheard.update((tp.topic, tp.partition) for tp in partitions)  # no fetch from them yet: caught_up
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
                # Whether it committed is unknown: forget all state, so that whatever is assigned next is
                # restored from the changelog (after the new producer has settled the old transaction).
                log.warning("commit at revoke failed (%s): the producer is abandoned, the next owner of each "
                            "partition starts from the last commit", exc)
                self.tx.abandon()
                self.rollback()
                self.store.drop_all()
                self.owned.clear()
                self.renew_producer()
                self.resume_due = str(exc)  # the models too, once the old transaction is settled
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
            self.tx = Transaction(kafka_config(self.settings), self.instance, timeout_s=self.settings.tx_call_timeout_s)
        except Exception as exc:  # noqa: BLE001 - broker not back yet: the next step makes one and resumes
            log.warning("transactional producer not ready (%s); retrying", exc)
            self.resume_due = str(exc)

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
            self.tx = Transaction(kafka_config(self.settings), self.instance, timeout_s=self.settings.tx_call_timeout_s)
        except Exception as exc:  # noqa: BLE001 - broker not back yet: the next step makes one (not a renewal)
            log.warning("transactional producer not ready (%s); retrying", exc)
            self.resume_due = str(exc)
        self.start()
