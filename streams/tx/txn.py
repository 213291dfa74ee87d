"""The transaction: a batch's outputs, its state changes and its consumer offsets, committed together.

The pattern of Kafka Streams' ``exactly_once_v2`` (KIP-447): one transactional producer per worker process,
its ``transactional.id`` stable for the worker instance (so that a restarted instance fences its own zombie at
once and aborts what it left open), and the consumer offsets sent with ``send_offsets_to_transaction`` along
with the group metadata, so the group coordinator refuses them from a member of an older generation: a
zombie that lost its partitions cannot commit. Whatever fails (a produce, the offsets, the commit) ends in
:meth:`Transaction.abort`; the worker then rewinds to the committed offsets and state.

Every call that waits for the broker (``init_transactions``, ``begin_transaction``,
``send_offsets_to_transaction``, ``commit_transaction``, ``abort_transaction``, ``flush``) runs on the
producer's own helper thread (:class:`Calls`) and is waited for at most its timeout plus :data:`GRACE_S`:
librdkafka 2.16 has been seen to block in such a call well past its timeout across a broker restart. A call
that overruns raises :class:`Hung` and the producer is abandoned (:meth:`Transaction.abandon`): nothing more
is asked of it, and the new producer the worker makes under the same ``transactional.id`` fences it (its
``init_transactions`` bumps the epoch and settles whatever transaction the old one left, committed or
aborted). Whether a commit that hung went through is then unknown: the worker takes up the committed state
again (:mod:`streams.tx.resume`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

log = logging.getLogger("exitwatch.tx.txn")


#: Seconds a transaction call may overrun its own timeout before the producer is given up as hung.
GRACE_S = 5.0


class Fenced(Exception):
    """Another instance took over this worker's transactional id or partitions: stop, do not retry."""


class Hung(Exception):
    """A producer call did not return by its deadline: the producer is abandoned; whether the transaction
    committed is unknown until a new producer with the same transactional id has fenced it."""


class Calls:
    """One daemon thread that runs a producer's blocking calls, each waited for at most a deadline.

    A call that overruns is left running (a call into librdkafka cannot be interrupted); :meth:`retire` then
    hands the thread the last reference to the producer, so that it is destroyed there, not in the caller.

    >>> c = Calls("doc"); c.run(lambda x: x + 1, 1, deadline=5)
    2
    >>> import threading; gate = threading.Event()
    >>> c.run(gate.wait, deadline=0.05)
    Traceback (most recent call last):
    ...
    streams.tx.txn.Hung: wait did not return within 0.05 s
    >>> gate.set(); c.retire(None)
    """

    def __init__(self, name: str) -> None:
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stuck = False
        threading.Thread(target=self._serve, name=f"tx-calls-{name}", daemon=True).start()

    def run(self, fn: Callable[..., Any], *args: Any, deadline: float) -> Any:
        """``fn(*args)`` on the helper thread; its result or exception, or :class:`Hung` after ``deadline`` s."""
        if self.stuck:
            raise Hung(f"{getattr(fn, '__name__', 'call')}: an earlier call on this producer never returned")
        box: list[Any] = []
        done = threading.Event()
        self._q.put((fn, args, box, done))
        if not done.wait(deadline):
            self.stuck = True
            raise Hung(f"{getattr(fn, '__name__', 'call')} did not return within {deadline:g} s")
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def retire(self, keep: Any) -> None:
        """Stop the thread once the call it is in (if any) returns, dropping ``keep`` (the producer) there."""
        self._q.put((None, keep, None, None))

    def _serve(self) -> None:
        while True:
            fn, args, box, done = self._q.get()
            if fn is None:
                return  # ``args``, the retired producer, is released with this frame
            try:
                box.append((True, fn(*args)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append((False, exc))
            done.set()
            del fn, args, box, done


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
                "transaction.timeout.ms": 10000, "queue.buffering.max.messages": 500000,
                # a commit fails if any record failed: only failures need a callback (one per record otherwise)
                "delivery.report.only.error": True}
        conf.update(config)
        conf["transactional.id"] = transactional_id
        self.transactional_id = transactional_id
        self.producer: Any = Producer(conf)
        self.timeout = timeout_s
        self.open = False
        self.abandoned = False
        self.started = 0.0
        self.records = 0
        self._failed: list[str] = []
        self._calls = Calls(transactional_id)
        try:
            self._call("init_transactions", timeout_s)
        except Exception:
            self.abandoned = True  # not usable: its thread lets it go (no client threads left behind)
            if self.producer is not None:
                self._calls.retire(self.producer)
                self.producer = None
            raise

    def _call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """The producer's ``method(*args)`` waited for at most ``timeout`` (default: the producer's) +
        :data:`GRACE_S`; on :class:`Hung` the producer is abandoned; a fatal error raises :class:`Fenced`."""
        if self.abandoned:
            raise Hung(f"the producer of {self.transactional_id} was abandoned or closed; make a new one")
        fn = getattr(self.producer, method)
        try:
            return self._calls.run(fn, *args, deadline=(self.timeout if timeout is None else timeout) + GRACE_S)
        except Hung:
            self.abandon()
            raise
        except KafkaException as exc:
            if is_fatal(exc):
                raise Fenced(f"transactional id {self.transactional_id} fenced: {exc}") from exc
            raise

    def abandon(self) -> None:
        """Give the producer up (a call hung): ask nothing more of it; a new producer with the same
        transactional id fences it. Its helper thread drops it once the hung call returns."""
        if not self.abandoned:
            log.error("a call on the transactional producer %s hung; abandoning it (a new one fences it)",
                      self.transactional_id)
            self.abandoned, self.open = True, False
            self._calls.retire(self.producer)
            self.producer = None

    def begin(self) -> None:
        if not self.open:
            self._call("begin_transaction")
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
        if self.abandoned:
            raise Hung(f"the producer of {self.transactional_id} was abandoned or closed; make a new one")
        deadline = time.monotonic() + self.timeout + GRACE_S
        while True:
            try:
                self.producer.produce(topic, **kw)
                break
            except BufferError:  # local queue full: let it drain
                if time.monotonic() > deadline:
                    self.abandon()
                    raise Hung(f"the producer's queue stayed full for {self.timeout + GRACE_S:g} s") from None
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
        if offsets:
            self._call("send_offsets_to_transaction", offsets, group_metadata, self.timeout)
        self._call("commit_transaction", self.timeout)
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
        self._call("abort_transaction", self.timeout)

    def close(self) -> None:
        if self.abandoned:
            return
        if self.open:
            try:
                self.abort()
            except Exception as exc:  # noqa: BLE001 - closing anyway
                log.warning("abort at close failed: %s", exc)
        try:
            self._call("flush", 5, timeout=5)
        except Hung:
            return
        self.abandoned = True  # closed: nothing more is asked of it either
        self._calls.retire(self.producer)
        self.producer = None
