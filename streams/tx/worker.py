"""The transactional worker: consume, merge by event time, process, commit, in one loop (see the package
docstring for the picture). ``exitwatch worker`` runs it; ``--engine faust`` runs the Faust worker instead.

Rebalances (eager, range assignor: partition ``p`` of every input topic goes to one member): on revoke the
open transaction is committed; on assign the committed offsets are fetched (which waits for a transaction a
previous owner left pending, KIP-447) and only then the states of newly owned partitions are restored from the
changelog; on a lost assignment the open transaction is aborted and all state dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from detectors.engine import Engine, EngineConfig
from detectors.factory import build_engine
from schemas.settings import Settings
from schemas.topics import topic_names
from evidence.keys import require_signing_key
from evidence.outputs import Outputs
from schemas.secrets import require_keys, sealer
from schemas.transport import kafka_config, redis_kwargs
from streams.common import MAX_MESSAGE_BYTES, partition_of
from streams.tx.assign import ClientFailed, Rebalancing
from streams.tx.store import StateStore
from streams.tx.topics import changelog_topic, ensure_topics, instance_id
from streams.tx.hr import SyncHRStore
from streams.tx.merge import TimeMerge
from streams.tx.models import ModelLog, models_topic
from streams.tx.observe import start_watchdog
from streams.tx.process import Processor
from streams.tx import intake, resume, upkeep
from streams.tx.trace import Trace
from streams.tx.txn import Fenced, Hung, Transaction
from streams.tx.shared import SharedMemories, shared_topic

log = logging.getLogger("exitwatch.tx")

#: Seconds one loop iteration may take before the watchdog exits the process (``EXITWATCH_WATCHDOG_S``, as the
#: Faust worker's stall watchdog; 0 turns it off) and the exit code it uses.
STALL_S = float(os.environ.get("EXITWATCH_WATCHDOG_S", "60"))
STALL_EXIT_CODE = 3


class TxWorker(Rebalancing):
    """One worker process of the transactional engine."""

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None,
                 instance: str | None = None) -> None:
        s = self.settings = settings or Settings()
        require_keys(s, "exitwatch worker")
        require_signing_key(s, "exitwatch worker")
        self.sealer = sealer(s)  # the changelog's values are sealed (AES-256-GCM, bound to the employee id)
        self.names = topic_names(s.topic_prefix)
        self.nparts = ensure_topics(s)
        self.changelog = changelog_topic(s.topic_prefix, s.app_id)
        self.instance = instance or instance_id(s.app_id, s.data_dir)
        self._part: dict[str, int] = {}
        # committed states in a local file (a cache of the changelog), decoded ones in a bounded cache
        self.store = StateStore(self.partition_of, cache_size=s.tx_state_cache,
                                path=os.path.join(s.data_dir, "tx-states.db"))
        self.engine = engine or build_engine(rules_config=s.rules_config, models=s.models,
                                             config=EngineConfig(lookback_days=s.lookback_days))
        self.engine.store = self.store
        self.engine.partition_of = self.partition_of  # engine-wide memories kept by partition (detectors.shared)
        self.shared = SharedMemories(self.engine, shared_topic(s.topic_prefix, s.app_id), self.nparts,
                                     self._restore_consumer, self.sealer.seal, self.sealer.open)
        self.hr = SyncHRStore(s.redis_url, prefix=s.topic_prefix, ttl=s.hr_cache_ttl_s, redis_options=redis_kwargs(s))
        self.owned: set[int] = set()
        self.proc = Processor(self.engine, self.hr, s.topic_prefix, s.pseudonym_key.get_secret_value().encode(),
                              self.partition_of, self.owned,
                              limits=(s.max_record_bytes, s.max_json_depth, s.max_future_skew_s))
        self.proc.outputs = Outputs(self.engine, s)  # evidence ledger, alerts.secops form (k-anonymous)
        self.merge = TimeMerge(idle=s.tx_idle_ms / 1000.0)
        self.batch, self.interval = s.tx_batch, s.tx_interval_ms / 1000.0
        self.commit_min = s.tx_commit_min_ms / 1000.0
        self._more = False  # the last drain stopped at its limit: records are ready without waiting
        self.trace = Trace(s.tx_trace_prefix) if s.tx_trace_prefix else None  # stage times (streams/tx/trace.py)
        self.consumer = self.new_consumer()
        self.tx = Transaction(kafka_config(s), self.instance, timeout_s=s.tx_call_timeout_s)
        self.models = ModelLog(self.engine, models_topic(s.topic_prefix, s.app_id), self.instance,
                               self.sealer.seal, self.sealer.open, s.model_checkpoint_s)  # streams/tx/models.py
        self.models.restore(self._restore_consumer)
        self.resume_due: str | None = None  # a transaction's outcome is unknown: take up the committed state
        self._renewals: list[float] = []
        self.loop_at = time.monotonic()
        self._idle_check_at = 0.0
        self._population_at = 0.0
        self._population_job: Any = None  # a later refresh of the HR population, read on a thread (upkeep)
        self._leavers_jobs: list[Any] = []  # reads of the leavers of newly owned partitions (upkeep.read_leavers)
        self._retention_at = 0.0
        self._late_logged, self._late_log_at = 0, 0.0  # the merge's late records reported so far (_log_late)
        self.next_offsets: dict[tuple[str, int], int] = {}  # processed in the open transaction
        self.committed_offsets: dict[tuple[str, int], int] = {}  # as last committed (lag, caught_up)
        self.paused: set[tuple[str, int]] = set()
        #: Partitions whose fetch position was set (assigned, or sought back by a resumption) and from which
        #: neither a record nor an end-of-partition event has come since: what the client knows of their end
        #: may be older than the position (see :meth:`caught_up`).
        self.unheard: set[tuple[str, int]] = set()
        self.ready = False
        self.rebalancing = False
        self._stop = False
        self.assignment_failed = False  # set by on_assign when it failed: the process exits 1
        self.observability: Any = None

    def new_consumer(self) -> Consumer:
        return Consumer(kafka_config(self.settings, **{
            "group.id": self.settings.app_id, "group.instance.id": self.instance, "isolation.level": "read_committed",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "enable.partition.eof": True,
            "partition.assignment.strategy": "range", "session.timeout.ms": 15000,
            "fetch.wait.max.ms": 20, "queued.min.messages": 20000, "fetch.max.bytes": 16 * MAX_MESSAGE_BYTES,
        }))

    def partition_of(self, emp: str) -> int:
        p = self._part.get(emp)
        if p is None:
            p = self._part[emp] = partition_of(emp.encode(), self.nparts)
        return p

    # ------------------------------------------------------------------ rebalances
    def start(self) -> None:
        self.consumer.subscribe(self.proc.input_topics, on_assign=self.on_assign, on_revoke=self.on_revoke,
                                on_lost=self.on_lost)

    # ------------------------------------------------------------------ the loop
    def run(self, idle_exit: float | None = None) -> None:
        """Loop until :meth:`stop` (or ``idle_exit`` seconds with nothing to do, for tests and benchmarks)."""
        self.start()
        if STALL_S > 0:
            start_watchdog(self, STALL_S, STALL_EXIT_CODE)
        last_work = time.monotonic()
        try:
            while not self._stop:
                if self.step():
                    last_work = time.monotonic()
                elif idle_exit is not None and time.monotonic() - last_work > idle_exit:
                    break
        finally:
            self.close()

    def step(self) -> int:
        """One iteration: consume, merge, process, and commit when due. Returns the records processed."""
        self.loop_at = time.monotonic()
        if self.observability is not None:
            self.observability.heartbeat_now()
        if self._renew_due:
            self.renew(self._renew_due)
        if self.resume_due and not resume.resume(self):
            return 0
        try:
            msgs = intake.consume(self, intake.wait_s(self))
            now, push, trace, unheard = self.merge.clock(), self.merge.push, self.trace, self.unheard
            for m in msgs:
                if m.error():
                    self._consume_error(m)
                    continue
                rec = self.proc.decode(m)
                push(rec, now)
                if unheard:
                    unheard.discard(rec.tp)
                if trace is not None:
                    trace.consumed([rec])
            intake.flow_control(self)
            recs = self.merge.drain(self.caught_up, self.batch)
            if self.merge.late != self._late_logged:
                self._log_late()
            self._more = len(recs) >= self.batch  # the merge may hold more records ready
            if self._leavers_jobs:  # read on assignment: noted before the records of those partitions
                upkeep.note_leavers(self, wait=bool(recs))
            if recs:
                if trace is not None:
                    trace.stage(recs, "merged")
                self.tx.begin()  # also when the records write nothing but state: their offsets must be committed
                self.proc.send = self.tx.send
                self.proc.process(recs)
                for r in recs:
                    self.next_offsets[r.tp] = r.offset + 1
                if self.observability is not None:
                    self.observability.processed(recs)
                if trace is not None:
                    trace.stage(recs, "processed")
            # commit when due, and once everything at hand is processed: nothing more was waiting in the client
            # and the merge released all it could (outputs are visible only once committed)
            if self.tx.open:
                age = time.monotonic() - self.tx.started
                drained = len(msgs) < self.batch and not self._more and age >= self.commit_min
                if not recs or drained or age >= self.interval:
                    self.commit()
            if self.hr.pending:
                self.hr.flush_pending()
            if not recs and not self.tx.open:
                upkeep.commit_idle_positions(self)
                upkeep.refresh_population(self)
                upkeep.refresh_shared(self)
                upkeep.retention(self)
            return len(recs)
        except (Fenced, ClientFailed) as exc:
            self.renew(exc)
            return 0
        except (Hung, KafkaException) as exc:
            # Kafka Streams' answer too: a failed transaction ends with a new producer (its init_transactions
            # fences the old one and settles what it left open); whether the failed or hung commit went
            # through is unknown, so the worker takes up the committed state again (streams/tx/resume.py).
            resume.failed(self, exc)
            return 0

    def _log_late(self) -> None:
        """At most once a second: how many records the merge released after records of a later event time
        since the last report (late data, or records that reached the client after later ones of another
        partition); the fault harness counts these lines."""
        now = time.monotonic()
        if now < self._late_log_at:
            return
        m = self.merge
        log.warning("%d records applied after records of a later event time (of the same partition number; up to "
                    "%.0f s behind; the last: %s)", m.late - self._late_logged, m.late_by, m.last_late)
        self._late_logged, self._late_log_at, m.late_by = m.late, now + 1.0, 0.0

    def _consume_error(self, m: Any) -> None:
        err = m.error()
        if err.code() == KafkaError._PARTITION_EOF:  # the fetcher reached the partition's end
            self.unheard.discard((m.topic(), m.partition()))
            return
        if err.fatal() or err.code() == KafkaError._FATAL:  # (a message's error never has the fatal flag set)
            raise ClientFailed(str(err))
        log.warning("consumer: %s", err)

    def caught_up(self, tp: tuple[str, int]) -> bool:
        """Whether the consumer has read everything the broker last said ``tp`` holds.

        Not before the client has heard from ``tp`` since its position was last set (:attr:`unheard`): until
        then the position is unknown (-1001 after a seek) and stands for the committed offset, while the end
        the client caches is the one of its last fetch from ``tp`` before, which may be older than that
        offset's records, e.g. across a broker restart, when partitions come back at different moments.
        Taking such a partition as caught up let the merge release later records of another topic before
        its own (the merge then waits for it, at most ``TimeMerge.lag_wait``)."""
        if tp in self.unheard:
            return False
        k = TopicPartition(*tp)
        try:
            lo, hi = self.consumer.get_watermark_offsets(k, cached=True)
            pos = self.consumer.position([k])[0].offset
        except KafkaException:  # not (or no longer) assigned: nothing to wait for
            return True
        if hi < 0:
            return False
        if pos < 0:  # nothing consumed since the assignment: reading starts at the committed offset or the start
            pos = self.committed_offsets.get(tp, -1)
            if pos < 0:
                pos = lo
        return pos >= hi

    # ------------------------------------------------------------------ the transaction
    def retention(self, today: dt.date | None = None) -> list[str]:
        """Purge expired employees now (:func:`streams.tx.upkeep.retention`); the purged ids."""
        return upkeep.retention(self, today)

    def commit(self) -> None:
        """Changed states to the changelog, offsets with the group metadata, commit."""
        changes = self.store.changes()
        for emp, part, raw in changes:
            self.tx.send(self.changelog, self.sealer.seal(raw, emp.encode()), emp.encode(), partition=part)
        self.models.send(self.tx.send)
        self.shared.send(self.tx.send)
        held: dict[tuple[str, int], int] = {}
        for topic, part, off in self.hr.pending_tokens():  # not in Redis yet: read again after a restart
            held[(topic, part)] = min(off, held.get((topic, part), off))
        offsets = {tp: min(off, held.get(tp, off)) for tp, off in self._offsets().items()}
        if self.trace is not None:
            self.trace.commit_began()
        self.tx.commit([TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                       self.consumer.consumer_group_metadata())
        if self.trace is not None:
            self.trace.committed()
        self.store.committed_changes(changes)
        self.models.committed()
        self.shared.committed()
        self.proc.committed()
        self.committed_offsets.update(offsets)
        self.next_offsets.clear()

    def _offsets(self) -> dict[tuple[str, int], int]:
        """The offsets to commit: after the last record processed, or the consumer's position when everything
        consumed from the partition is processed (past transaction markers, which are never delivered)."""
        out = dict(self.next_offsets)
        empty = [TopicPartition(*tp) for tp, q in self.merge.buf.items() if not q]
        for tp in self.consumer.position(empty) if empty else ():
            key = (tp.topic, tp.partition)
            if tp.offset >= 0 and tp.offset > max(out.get(key, -1), self.committed_offsets.get(key, -1)):
                out[key] = tp.offset
        return out

    def rollback(self) -> None:
        if self.trace is not None:
            self.trace.aborted()
        self.store.rollback()
        self.models.rollback()
        self.shared.rollback()
        self.proc.aborted()
        self.next_offsets.clear()

    def abort_quietly(self) -> None:
        try:
            self.tx.abort()
        except Exception as exc:  # noqa: BLE001 - the transaction times out on the broker anyway
            log.warning("abort failed: %s", exc)
        self.rollback()

    def stop(self, *_: Any) -> None:
        self._stop = True

    def close(self) -> None:
        try:
            if self.tx.open:
                self.commit()
        except Exception as exc:  # noqa: BLE001 - aborted: a restart reads from the committed offsets
            log.warning("final commit failed (%s); aborted", exc)
            self.abort_quietly()
        try:
            self.consumer.close()  # leaves the group (on_revoke: nothing open any more)
        finally:
            self.tx.close()
            self.hr.close()
            self.shared.close()
            self.store.close()
