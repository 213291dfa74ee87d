"""Sinks: where connector outputs go. All have ``send_event``, ``send_hr``, ``send_signal``,
``send_deadletter``, ``flush()`` and ``close()``, and count ``failures``.

* :class:`KafkaSink`: the contract topics (``activity.*``, ``hr.status``, ``hr.signals``, ``deadletter``),
  with ``acks=all``, idempotence, delivery reports checked, back-pressure handled by polling, never dropping.
  With ``transactional_id`` (``connect --follow --checkpoint``) the records of each sync point and the
  checkpoint (on ``connect.checkpoints``) commit in one Kafka transaction: exactly once for
  ``read_committed`` readers across a crash and restart.
* :class:`FileSink`: JSON lines; dead letters go to ``OUT.jsonl.deadletter``; HR records and signals of a
  connector other than ``hr`` go beside OUT (``OUT.hr.jsonl``, ``OUT.signals.jsonl``).
* :class:`NullSink`: counts only (benchmarks).

Sinks that can resume a follow run exactly (``resumable``) have ``resume(doc)`` (called once at start with
the checkpoint file's document, returns the document to start from) and ``checkpoint(doc)`` (called at
each sync point before the checkpoint file is written; it may add to ``doc``).

>>> import tempfile, os
>>> from schemas.models import ActivityEvent
>>> out = os.path.join(tempfile.mkdtemp(), "out.jsonl")
>>> with FileSink(out) as s:
...     s.send_event(ActivityEvent.model_validate({"event_id": "e1", "ts": "2026-03-02T09:15:00Z",
...         "kind": "file", "action": "open", "actor": "ann", "source": "synthetic"}))
>>> open(out).read()[:40]
'{"event_id":"e1","ts":"2026-03-02T09:15:'
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import IO, Any

import orjson

from schemas.models import ActivityEvent, DeadLetter, HRRecord, HRSignal
from schemas.topics import CHECKPOINT_TOPIC, activity_topic, topic_names
from schemas.transport import kafka_config


class ConnectorError(RuntimeError):
    """The connector cannot go on; the message says why and what to do. The CLI exits 1 with it."""


def transactional_id(source: str, checkpoint: str) -> str:
    """The Kafka ``transactional.id`` of a follow run: the same for the same connector and checkpoint
    file, so a restarted connector fences the old one and aborts its open transaction."""
    digest = hashlib.sha256(os.path.abspath(checkpoint).encode("utf-8")).hexdigest()[:16]
    return f"exitwatch-connect.{source}.{digest}"


def to_json(model: Any) -> bytes:
    """Contract JSON of a model: times RFC 3339 with offset, ``Z`` for UTC."""
    d = model.model_dump(mode="json")
    return orjson.dumps(d)


def _deadletter_json(dl: DeadLetter) -> bytes:
    return orjson.dumps(
        {"source": dl.source, "reason": dl.reason, "raw": dl.raw, "ts": dl.ts.isoformat().replace("+00:00", "Z")}
    )


def event_json(ev: ActivityEvent) -> bytes:
    d = ev.model_dump(mode="json", exclude_none=False)
    return orjson.dumps(d)


class _Base:
    failures = 0
    delivered = 0

    def __enter__(self) -> "_Base":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.flush()


class NullSink(_Base):
    """Counts what it is sent; for benchmarks and dry runs."""

    def __init__(self) -> None:
        self.counts = {"event": 0, "hr": 0, "signal": 0, "deadletter": 0}

    def send_event(self, ev: ActivityEvent) -> None:
        self.counts["event"] += 1

    def send_hr(self, rec: HRRecord) -> None:
        self.counts["hr"] += 1

    def send_signal(self, sig: HRSignal) -> None:
        self.counts["signal"] += 1

    def send_deadletter(self, dl: DeadLetter) -> None:
        self.counts["deadletter"] += 1

    def flush(self) -> int:
        return 0


def side_path(path: str, tag: str) -> str:
    """``out.jsonl`` -> ``out.<tag>.jsonl``."""
    base, ext = os.path.splitext(path)
    if ext.lower() in (".jsonl", ".json", ".ndjson"):
        return f"{base}.{tag}{ext}"
    return f"{path}.{tag}.jsonl"


class FileSink(_Base):
    """JSON lines to ``path``; dead letters to ``path + ".deadletter"``.

    ``hr_path`` / ``signals_path`` say where HR records and signals go (default: ``path`` itself when
    ``primary`` is ``"hr"``, else beside it). ``append`` keeps what the files hold (follow mode, restarts).
    """

    def __init__(
        self,
        path: str,
        *,
        append: bool = False,
        primary: str = "event",
        hr_path: str | None = None,
        signals_path: str | None = None,
        deadletter_path: str | None = None,
    ) -> None:
        self.path = path
        self.mode = "ab" if append else "wb"
        self.paths = {
            "event": path,
            "hr": hr_path or (path if primary == "hr" else side_path(path, "hr")),
            "signal": signals_path or side_path(path, "signals"),
            "deadletter": deadletter_path or f"{path}.deadletter",
        }
        self._fh: dict[str, IO[bytes]] = {}
        self.counts = {"event": 0, "hr": 0, "signal": 0, "deadletter": 0}
        self.failures = 0
        # the main file exists after a run even when nothing was written to it
        self._open("event" if primary != "hr" else "hr")
        self._open("deadletter")  # emptied when not appending: no stale dead letters of an earlier run

    def _open(self, kind: str) -> IO[bytes]:
        p = self.paths[kind]
        for k, fh in self._fh.items():
            if self.paths[k] == p:
                self._fh[kind] = fh
                return fh
        d = os.path.dirname(os.path.abspath(p))
        os.makedirs(d, exist_ok=True)
        fh = open(p, self.mode)
        self._fh[kind] = fh
        return fh

    def _write(self, kind: str, data: bytes) -> None:
        fh = self._fh.get(kind) or self._open(kind)
        fh.write(data + b"\n")
        self.counts[kind] += 1
        self.delivered += 1

    def send_event(self, ev: ActivityEvent) -> None:
        self._write("event", event_json(ev))

    def send_hr(self, rec: HRRecord) -> None:
        self._write("hr", to_json(rec))

    def send_signal(self, sig: HRSignal) -> None:
        self._write("signal", to_json(sig))

    def send_deadletter(self, dl: DeadLetter) -> None:
        self._write("deadletter", _deadletter_json(dl))

    resumable = True

    def _sizes(self) -> dict[str, int]:
        """Size of every output file (0 for one not there), after a flush."""
        self.flush()
        out: dict[str, int] = {}
        for kind, p in self.paths.items():
            ap = os.path.abspath(p)
            if ap in out:
                continue
            fh = self._fh.get(kind)
            if fh is not None:
                out[ap] = os.fstat(fh.fileno()).st_size
            else:
                out[ap] = os.path.getsize(p) if os.path.exists(p) else 0
        return out

    def resume(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """Cut every output file back to its size at the checkpoint: what was written after it is written
        again from the inputs (so nothing repeats). The output files must belong to this connector alone."""
        outputs = (doc or {}).get("outputs") or {}
        for ap, size in outputs.items():
            try:
                if os.path.getsize(ap) > int(size):
                    os.truncate(ap, int(size))
            except FileNotFoundError:
                pass
        return doc

    def checkpoint(self, doc: dict[str, Any]) -> None:
        doc["outputs"] = self._sizes()

    def flush(self) -> int:
        seen = set()
        for fh in self._fh.values():
            if id(fh) in seen:
                continue
            seen.add(id(fh))
            fh.flush()
            try:
                os.fsync(fh.fileno())
            except OSError:
                pass
        return 0

    def close(self) -> None:
        self.flush()
        seen = set()
        for fh in self._fh.values():
            if id(fh) not in seen:
                seen.add(id(fh))
                fh.close()
        self._fh = {}


class KafkaSink(_Base):
    """Produce to the contract topics; key = employee id if known, else the actor.

    ``failures`` counts records whose delivery failed (reported by the broker or still queued after
    ``flush``); the CLI exits non-zero when it is not 0.

    With ``transactional_id`` the sink is transactional (``resumable``): :meth:`resume` starts the
    transactions (fencing an older producer with the same id and aborting its open transaction) and returns
    the last checkpoint committed on ``<prefix>connect.checkpoints``; :meth:`checkpoint` produces the
    checkpoint into the open transaction and commits it with every record sent since the last one. A
    transaction that must be aborted is sent again (its records are kept until it commits); an error that
    cannot be got past raises :class:`ConnectorError` with what to do.
    """

    TXN_ATTEMPTS = 5  # abort-and-resend rounds of one sync point before giving up

    def __init__(
        self,
        bootstrap: str,
        prefix: str = "",
        *,
        config: dict[str, Any] | None = None,
        flush_timeout: float = 60.0,
        transactional_id: str | None = None,
        transaction_timeout: float = 60.0,
    ) -> None:
        from confluent_kafka import Producer

        self.bootstrap = bootstrap
        self.prefix = prefix
        self.topics = topic_names(prefix)
        self.checkpoint_topic = prefix + CHECKPOINT_TOPIC
        conf: dict[str, Any] = {
            **kafka_config(bootstrap=bootstrap),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 20,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",  # same partitions as the Java client and aiokafka (Faust)
            "message.timeout.ms": 120000,
            "queue.buffering.max.messages": 200000,
        }
        self.transactional_id = transactional_id
        self.transactional = self.resumable = transactional_id is not None
        if transactional_id is not None:
            conf["transactional.id"] = transactional_id
            # how long a killed connector's open transaction holds read_committed readers back, at most
            conf["transaction.timeout.ms"] = int(transaction_timeout * 1000)
            del conf["message.timeout.ms"]  # librdkafka derives it from the transaction timeout
            conf["error_cb"] = self._on_error
        conf.update(config or {})
        self._producer = Producer(conf)
        self.flush_timeout = flush_timeout
        self.failures = 0
        self.delivered = 0
        self.errors: list[str] = []
        self.commits = 0
        self.aborts = 0
        self._pending: list[tuple[str, bytes | None, bytes]] = []  # sent in the open transaction
        self._in_txn = False
        self._txn_failed = 0
        self._last_committed: bytes | None = None
        self._fatal: str | None = None
        self.log: Any = None  # a callable given a line about the transactions (the CLI: stderr)

    def _on_error(self, err: Any) -> None:
        if err.fatal():
            self._fatal = str(err)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            if self.transactional:
                self._txn_failed += 1  # the commit fails and the transaction is sent again
            else:
                self.failures += 1
            if len(self.errors) < 20:
                self.errors.append(f"{msg.topic()}: {err}")
        else:
            self.delivered += 1

    def _produce(self, topic: str, key: bytes | None, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: serve delivery reports and try again (never drop)
                self._producer.poll(0.1)
        self._producer.poll(0)

    def produce(self, topic: str, key: str | None, value: bytes) -> None:
        """Produce one message; on a full local queue, serve delivery reports and try again (never drop)."""
        k = key.encode("utf-8") if key is not None else None
        if not self.transactional:
            self._produce(topic, k, value)
            return
        from confluent_kafka import KafkaException

        self._pending.append((topic, k, value))
        try:
            self._produce(topic, k, value)
        except KafkaException as e:
            # the producer is fenced or failed fatally (an abortable error surfaces at the commit)
            raise ConnectorError(self.explain(e.args[0], "sending")) from e

    def send_event(self, ev: ActivityEvent) -> None:
        self.produce(activity_topic(ev.kind, self.prefix), ev.employee_id or ev.actor, event_json(ev))

    def send_hr(self, rec: HRRecord) -> None:
        self.produce(self.topics["hr_status"], rec.employee_id, to_json(rec))

    def send_signal(self, sig: HRSignal) -> None:
        self.produce(self.topics["hr_signals"], sig.employee_id, to_json(sig))

    def send_deadletter(self, dl: DeadLetter) -> None:
        self.produce(self.topics["deadletter"], dl.source, _deadletter_json(dl))

    def flush(self, timeout: float | None = None) -> int:
        """Wait for every delivery report; what is still queued after the timeout counts as failed."""
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        left = self._producer.flush(max(0.0, deadline - time.monotonic()))
        while left and time.monotonic() < deadline:
            left = self._producer.flush(max(0.0, deadline - time.monotonic()))
        if left and not self.transactional:  # in a transaction, the commit says whether they arrived
            self.failures += left
            self.errors.append(f"{left} messages not delivered within the flush timeout")
        return left

    # -- transactions (follow mode)
    def explain(self, err: Any, when: str) -> str:
        """A ``KafkaError`` of the transactional producer, said with what to do about it."""
        from confluent_kafka import KafkaError, KafkaException

        code = err.code()
        if code == KafkaError._FATAL and self._fatal is None:
            try:
                self._producer.poll(0)  # serve the error callback: it says which fatal error
            except KafkaException as e:  # the client may raise the fatal error itself here
                self._fatal = str(e.args[0])
        tid = self.transactional_id
        if code in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH,
                    KafkaError.TRANSACTION_COORDINATOR_FENCED) or "fenced" in str(self._fatal or "").lower():
            return (f"another connector with the same checkpoint is running (transactional id {tid} was taken "
                    f"over while {when}); stop one of them, or give each its own --checkpoint. This one "
                    "stops; what it sent since its last checkpoint is aborted and not lost.")
        if code in (KafkaError._UNSUPPORTED_FEATURE, KafkaError.UNSUPPORTED_VERSION,
                    KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT):
            return (f"the broker at {self.bootstrap} does not support transactions ({err.str()}); use a "
                    "broker with transactions (Kafka 0.11 or later), or run with --no-transactions (at least "
                    "once: after a crash, records sent after the last checkpoint are sent again).")
        if code == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return (f"not allowed to use transactional id {tid} ({err.str()}); grant WRITE and DESCRIBE on "
                    "TransactionalId 'exitwatch-connect.' (prefixed) to this principal, or run with "
                    "--no-transactions.")
        if code == KafkaError.INVALID_TRANSACTION_TIMEOUT:
            return (f"the broker refuses the transaction timeout ({err.str()}); raise its "
                    "transaction.max.timeout.ms to at least 60000.")
        if when == "starting" and code in (KafkaError._TIMED_OUT, KafkaError.COORDINATOR_NOT_AVAILABLE):
            return (f"no transaction coordinator answered at {self.bootstrap} ({err.str()}); check the broker "
                    "is up and that its transaction.state.log.replication.factor and .min.isr are not above "
                    "the number of brokers (1 on a single broker), or run with --no-transactions.")
        return (f"Kafka transaction failed while {when} ({err.str()}"
                + (f"; {self._fatal}" if self._fatal and self._fatal not in err.str() else "")
                + "); restart the connector: it resumes from its last committed checkpoint and sends the "
                "records after it again, which read_committed readers see once.")

    def _ensure_checkpoint_topic(self) -> None:
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(kafka_config(bootstrap=self.bootstrap))
        try:
            if self.checkpoint_topic in admin.list_topics(timeout=30).topics:
                return
            fut = admin.create_topics([NewTopic(self.checkpoint_topic, num_partitions=1,
                                                config={"cleanup.policy": "compact"})],
                                      operation_timeout=30)[self.checkpoint_topic]
            fut.result(60)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ConnectorError(f"cannot create the checkpoint topic {self.checkpoint_topic} at "
                                     f"{self.bootstrap} ({e.args[0].str()}); create it with "
                                     "cleanup.policy=compact, or run with --no-transactions.") from e

    def read_checkpoint(self, timeout: float = 60.0) -> dict[str, Any] | None:
        """The last checkpoint committed under this transactional id (read_committed), or None."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

        topic = self.checkpoint_topic
        key = (self.transactional_id or "").encode("utf-8")
        c = Consumer({**kafka_config(bootstrap=self.bootstrap), "group.id": f"{self.transactional_id}.checkpoint",
                      "enable.auto.commit": False, "isolation.level": "read_committed",
                      "enable.partition.eof": True, "auto.offset.reset": "earliest"})
        latest: bytes | None = None
        try:
            meta = c.list_topics(topic, timeout=30).topics.get(topic)
            ends: dict[int, int] = {}
            for p in sorted(meta.partitions if meta is not None else []):
                lo, hi = self._watermarks(c, TopicPartition(topic, p))
                if hi > lo:
                    ends[p] = hi
            if not ends:
                return None
            c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
            deadline = time.monotonic() + timeout
            while ends:
                if time.monotonic() > deadline:
                    raise ConnectorError(f"could not read {topic} to its end within {timeout:.0f} s (partitions "
                                         f"{sorted(ends)} left); is the broker healthy? Start the connector again.")
                m = c.poll(0.5)
                if m is None:
                    continue
                part, merr = m.partition() or 0, m.error()
                if merr is not None:
                    if merr.code() == KafkaError._PARTITION_EOF:
                        ends.pop(part, None)
                        continue
                    raise ConnectorError(f"cannot read the checkpoint topic {topic}: {merr}")
                if m.key() == key:
                    latest = m.value()
                if (m.offset() or 0) + 1 >= ends.get(part, 0):
                    ends.pop(part, None)
        finally:
            c.close()
        if not latest:  # none, or a tombstone
            return None
        doc = orjson.loads(latest)
        self._last_committed = latest
        return doc

    @staticmethod
    def _watermarks(consumer: Any, tp: Any, timeout: float = 30.0) -> tuple[int, int]:
        """A partition's offsets; a just-created topic may have no leader for a moment: asked again
        (:func:`streams.tx.topics.watermarks`, the worker's reader of its changelog, with retriable errors too)."""
        from confluent_kafka import KafkaException

        from streams.tx.topics import watermarks

        try:
            return watermarks(consumer, tp, timeout=timeout, pause=0.2, retriable=True)
        except KafkaException as e:
            err = e.args[0] if e.args else e
            detail = err.str() if hasattr(err, "str") else str(err)
            raise ConnectorError(f"cannot read the offsets of {tp.topic} [{tp.partition}] ({detail}); is the "
                                 "broker healthy? Start the connector again.") from e

    def resume(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """Start the transactions and return the checkpoint to resume from: the one committed on the
        checkpoint topic when there is one (the file may be older or newer than what committed), else
        ``doc`` (the checkpoint file's)."""
        if not self.transactional:
            return doc
        from confluent_kafka import KafkaException

        self._ensure_checkpoint_topic()
        try:
            self._producer.init_transactions(60)
        except KafkaException as e:
            raise ConnectorError(self.explain(e.args[0], "starting")) from e
        committed = self.read_checkpoint()
        self._begin()
        if self.log is not None:
            where = (f"the checkpoint committed on {self.checkpoint_topic}" if committed is not None
                     else "the checkpoint file" if doc is not None else "the start of the inputs")
            self.log(f"exactly-once follow mode (transactional id {self.transactional_id}); resuming from {where}")
        return committed if committed is not None else doc

    def _begin(self) -> None:
        from confluent_kafka import KafkaException

        try:
            self._producer.begin_transaction()
        except KafkaException as e:
            raise ConnectorError(self.explain(e.args[0], "starting a transaction")) from e
        self._in_txn = True
        self._txn_failed = 0

    def checkpoint(self, doc: dict[str, Any]) -> None:
        """Commit everything sent since the last checkpoint together with ``doc``. Retriable errors are
        retried, an abortable one aborts and sends the transaction again; else :class:`ConnectorError`."""
        if not self.transactional:
            return
        from confluent_kafka import KafkaException

        value = orjson.dumps(doc)
        if not self._pending and value == self._last_committed:
            return  # nothing new: no empty transaction
        key = (self.transactional_id or "").encode("utf-8")
        attempt = 0
        while True:
            try:
                if attempt:
                    for topic, k, v in self._pending:  # send the aborted transaction again
                        self._produce(topic, k, v)
                self._produce(self.checkpoint_topic, key, value)
                self._commit_transaction()
                break
            except KafkaException as e:
                err = e.args[0]
                if err.fatal() or not err.txn_requires_abort() or attempt >= self.TXN_ATTEMPTS:
                    raise ConnectorError(self.explain(err, "committing a checkpoint")) from e
                attempt += 1
                self._abort(err)
        self.commits += 1
        self._pending.clear()
        self._last_committed = value
        self._in_txn = False
        self._begin()

    def _commit_transaction(self) -> None:
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + self.flush_timeout
        while True:
            try:
                self._producer.commit_transaction(max(1.0, deadline - time.monotonic()))
                return
            except KafkaException as e:
                err = e.args[0]
                if err.retriable() and not err.txn_requires_abort() and time.monotonic() < deadline:
                    continue  # e.g. timed out: committing again is allowed
                raise

    def _abort(self, err: Any) -> None:
        from confluent_kafka import KafkaException

        self.aborts += 1
        if len(self.errors) < 20:
            self.errors.append(f"transaction aborted and sent again: {err}")
        try:
            self._producer.abort_transaction(self.flush_timeout)
        except KafkaException as e:
            raise ConnectorError(self.explain(e.args[0], "aborting a transaction")) from e
        self._in_txn = False
        self._begin()

    def close(self) -> None:
        if not self.transactional:
            self.flush()
            return
        # everything up to the last sync point is committed; an open transaction with records (a run
        # stopped by an error) is aborted now rather than holding read_committed readers until it times out
        if self._in_txn and self._pending and self._fatal is None:
            try:
                self._producer.abort_transaction(10)
            except Exception:  # noqa: BLE001 - fenced or broker gone: the coordinator aborts it anyway
                pass
        self._in_txn = False
        self._pending.clear()


__all__ = ["ConnectorError", "FileSink", "KafkaSink", "NullSink", "event_json", "side_path",
           "transactional_id"]
