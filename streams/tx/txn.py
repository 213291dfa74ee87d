"""The transaction: a batch's outputs, its state changes and its consumer offsets, committed together.

The pattern of Kafka Streams' ``exactly_once_v2`` (KIP-447): one transactional producer per worker process,
its ``transactional.id`` stable for the worker instance (so that a restarted instance fences its own zombie at
once and aborts what it left open), and the consumer offsets sent with ``send_offsets_to_transaction`` along
with the group metadata, so the group coordinator refuses them from a member of an older generation: a
zombie that lost its partitions cannot commit. Whatever fails (a produce, the offsets, the commit) ends in
:meth:`Transaction.abort`; the worker then rewinds to the committed offsets and state.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

log = logging.getLogger("exitwatch.tx.txn")


class Fenced(Exception):
    """Another instance took over this worker's transactional id or partitions: stop, do not retry."""


def is_fatal(exc: BaseException) -> bool:
    """A producer or transaction error after which this producer can do nothing more (fenced, fatal)."""
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    if not isinstance(err, KafkaError):
        return False
    return bool(err.fatal()) or err.code() in (KafkaError._FATAL, KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                               KafkaError.INVALID_PRODUCER_EPOCH)


class Transaction:
    """The worker's transactional producer, one transaction open at a time."""

    def __init__(self, config: dict[str, Any], transactional_id: str, timeout_s: float = 30.0) -> None:
        conf = {"linger.ms": 5, "compression.type": "lz4", "partitioner": "murmur2_random",
                "transaction.timeout.ms": 10000, "queue.buffering.max.messages": 500000}
        conf.update(config)
        conf["transactional.id"] = transactional_id
        self.transactional_id = transactional_id
        self.producer = Producer(conf)
        self.timeout = timeout_s
        self.open = False
        self.started = 0.0
        self.records = 0
        self._failed: list[str] = []
        self.producer.init_transactions(timeout_s)

    def begin(self) -> None:
        if not self.open:
            self.producer.begin_transaction()
            self.open, self.started, self.records = True, time.monotonic(), 0

    def send(self, topic: str, value: bytes | None, key: bytes | None = None, partition: int | None = None,
             headers: Any = None) -> None:
        """Produce one record in the open transaction (opening one if needed)."""
        self.begin()
        kw: dict[str, Any] = {"key": key, "value": value, "on_delivery": self._on_delivery}
        if partition is not None:
            kw["partition"] = partition
        if headers:
            kw["headers"] = headers
        while True:
            try:
                self.producer.produce(topic, **kw)
                break
            except BufferError:  # local queue full: let it drain
                self.producer.poll(0.1)
            except KafkaException as exc:
                if is_fatal(exc):
                    raise Fenced(f"transactional id {self.transactional_id} fenced: {exc}") from exc
                raise
        self.records += 1
        if self.records % 1000 == 0:
            self.producer.poll(0)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failed.append(f"{msg.topic()}[{msg.partition()}]: {err}")

    def commit(self, offsets: list[TopicPartition], group_metadata: Any) -> None:
        """Send ``offsets`` with the group metadata and commit everything since :meth:`begin`."""
        self.begin()
        try:
            if offsets:
                self.producer.send_offsets_to_transaction(offsets, group_metadata, self.timeout)
            self.producer.commit_transaction(self.timeout)
        except KafkaException as exc:
            if is_fatal(exc):
                raise Fenced(f"transactional id {self.transactional_id} fenced: {exc}") from exc
            raise
        if self._failed:  # cannot happen after a successful commit; say so loudly if it does
            failed, self._failed = self._failed, []
            log.error("records reported failed in a committed transaction: %s", failed[:3])
        self.open = False

    def abort(self) -> None:
        """Abort the open transaction (nothing it wrote becomes visible to read_committed readers)."""
        self._failed = []
        if not self.open:
            return
        self.open = False
        try:
            self.producer.abort_transaction(self.timeout)
        except KafkaException as exc:
            if is_fatal(exc):
                raise Fenced(f"transactional id {self.transactional_id} fenced: {exc}") from exc
            raise

    def close(self) -> None:
        if self.open:
            try:
                self.abort()
            except Exception as exc:  # noqa: BLE001 - closing anyway
                log.warning("abort at close failed: %s", exc)
        self.producer.flush(5)
