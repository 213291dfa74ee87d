"""The time-ordered merge: records of every input partition a worker reads, taken in event-time order.

Kafka Streams synchronises a task's input partitions by timestamp: it always processes the record with the
lowest timestamp among the heads of its partition buffers, and when a partition has nothing buffered it
waits for it (``max.task.idle.ms``) rather than run ahead. Here the same, over all of a worker's input
partitions (``activity.*``, ``hr.status``, ``hr.signals`` and the rekey topic), ordered by each record's own
``ts`` (event time; the Kafka timestamp is ingest time), ties as replay breaks them (HR records, then signals,
then events). An empty partition holds the merge back

* while the broker reports records not yet fetched (lagging), until they are fetched: the worker keeps
  consuming into the buffers meanwhile (the client's one queue may hold other partitions' records first), up
  to :attr:`TimeMerge.lag_wait` seconds (a safety net, logged; never reached in the tests or the demo);
* otherwise (caught up) only for records that arrived less than :attr:`TimeMerge.idle` seconds ago
  (``EXITWATCH_TX_IDLE_MS``): a record waits at most the idle time after it was consumed for a record of
  another partition, sent about when it was, that may still be on its way.

So a backlog published first comes out in event-time order, as ``exitwatch replay`` reads it, and live traffic
waits at most the idle time once: the wait is counted from each record's arrival, not from the moment a
partition ran empty (that made a sparse live feed wait one idle time per partition emptied before the record,
200+ ms at a tenth of the sustained rate). ``idle`` 0 (the default) is Kafka Streams' ``max.task.idle.ms`` 0:
wait only for records known to be on the broker (reports/benchmarks/s10-perf). A record older than what was already processed (late data) is processed
when it comes; the detection core refolds it.

>>> now = [0.0]
>>> m = TimeMerge(idle=0.05, clock=lambda: now[0])
>>> for tp in (("a", 0), ("b", 0)): m.add(tp)
>>> m.push(Rec("a", 0, 0, 20.0, 2)); m.push(Rec("b", 0, 0, 10.0, 2)); m.push(Rec("a", 0, 1, 30.0, 2))
>>> [r.ts for r in m.drain(lambda tp: True)]  # b is empty after its record: a's wait for it
[10.0]
>>> m.wake_at  # when the oldest held record has waited the idle time
0.05
>>> now[0] = 0.06; [r.ts for r in m.drain(lambda tp: True)]  # nothing came within the idle time
[20.0, 30.0]
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("exitwatch.tx.merge")

#: Order of record kinds at equal times (as replay: HR records, signals, events).
KIND_HR, KIND_SIGNAL, KIND_EVENT = 0, 1, 2
BAD_TS = float("-inf")  # the time of a record that cannot be read (taken as soon as it is at its partition's head)


class Rec:
    """One consumed record, decoded: where it came from, its event time and what it holds."""

    __slots__ = ("topic", "partition", "offset", "ts", "rank", "obj", "raw", "reason", "kafka_ts", "headers", "at")

    def __init__(self, topic: str, partition: int, offset: int, ts: float, rank: int, obj: Any = None,
                 raw: bytes | None = None, reason: str | None = None, kafka_ts: float | None = None,
                 headers: Any = None) -> None:
        self.topic, self.partition, self.offset = topic, partition, offset
        self.ts, self.rank, self.obj, self.raw, self.reason = ts, rank, obj, raw, reason
        self.kafka_ts, self.headers = kafka_ts, headers
        self.at = 0.0  # when it was buffered (the merge's clock), set by TimeMerge.push

    @property
    def tp(self) -> tuple[str, int]:
        return (self.topic, self.partition)

    def __repr__(self) -> str:
        return f"Rec({self.topic}[{self.partition}]@{self.offset} ts={self.ts})"


TP = tuple[str, int]


class TimeMerge:
    """Per-partition buffers of :class:`Rec` and the event-time merge over them."""

    def __init__(self, idle: float, lag_wait: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self.lag_wait = max(lag_wait, idle)
        self.clock = clock
        self.buf: dict[TP, deque[Rec]] = {}
        self._empty_since: dict[TP, float] = {}  # since when a lagging partition has been waited for
        #: Partitions that held the last drain back (for the diagnostics and tests).
        self.blocked: list[TP] = []
        #: When the last drain stopped at a record younger than the idle time: the clock at which it may go
        #: (the worker waits for input until then at most); None otherwise.
        self.wake_at: float | None = None
        #: The latest event time released so far by partition number (the same employees on every input
        #: topic), and the records released after one of a later time of the same number (late data, or a
        #: partition whose records reached the client after later ones of another topic): a diagnostic,
        #: logged by the worker (``applied after records of a later event time``).
        self.high: dict[int, float] = {}
        self.late = 0
        self.late_by = 0.0  # the most event-time seconds a released record lay behind :attr:`high`
        self.last_late: Rec | None = None

    # ------------------------------------------------------------------ partitions
    def add(self, tp: TP) -> None:
        self.buf.setdefault(tp, deque())

    def remove(self, tp: TP) -> None:
        self.buf.pop(tp, None)
        self._empty_since.pop(tp, None)

    def clear(self) -> None:
        """Forget every buffered record (after an abort the consumer is sought back to the committed offsets)."""
        for q in self.buf.values():
            q.clear()
        self._empty_since.clear()
        self.high.clear()  # what is applied next is taken up from the committed offsets

    def push(self, rec: Rec, now: float | None = None) -> None:
        """Buffer ``rec``, consumed at ``now`` (the merge's clock; read if not given)."""
        q = self.buf.get(rec.tp)
        if q is None:  # a record of a partition revoked meanwhile
            return
        rec.at = self.clock() if now is None else now
        q.append(rec)
        self._empty_since.pop(rec.tp, None)

    def buffered(self, tp: TP | None = None) -> int:
        if tp is not None:
            q = self.buf.get(tp)
            return len(q) if q is not None else 0
        return sum(len(q) for q in self.buf.values())

    # ------------------------------------------------------------------ the merge
    def lagging(self, tp: TP, caught_up: Callable[[TP], bool], now: float) -> bool:
        """Whether the empty partition ``tp`` must be waited for because the broker holds records of it not
        fetched yet (and :attr:`lag_wait` has not run out)."""
        if caught_up(tp):
            self._empty_since.pop(tp, None)
            return False
        since = self._empty_since.setdefault(tp, now)
        if now - since >= self.lag_wait:
            log.warning("%s[%d]: records reported by the broker were not fetched within %.0f s; going on without "
                        "them (they will be processed late)", tp[0], tp[1], self.lag_wait)
            self._empty_since[tp] = now  # once per lag_wait, not on every drain
            return False
        return True

    def drain(self, caught_up: Callable[[TP], bool], limit: int = 1 << 30) -> list[Rec]:
        """Take up to ``limit`` records in event-time order, stopping where an empty partition must be
        waited for. ``caught_up(tp)``: the consumer has read everything the broker has in ``tp``."""
        now = self.clock()
        self.wake_at = None
        empty = [tp for tp, q in self.buf.items() if not q]
        self.blocked = [tp for tp in empty if self.lagging(tp, caught_up, now)]
        if self.blocked:
            return []
        heap = [(q[0].ts, q[0].rank, i, tp) for i, (tp, q) in enumerate(self.buf.items()) if q]
        heapq.heapify(heap)
        out: list[Rec] = []
        buf, high = self.buf, self.high
        young = now - self.idle  # with an empty partition, a record buffered after this waits
        hold = bool(empty)
        while heap and len(out) < limit:
            _, _, i, tp = heap[0]
            q = buf[tp]
            if hold and q[0].at > young:
                self.blocked = [tp for tp, q in buf.items() if not q]
                self.wake_at = q[0].at + self.idle
                break
            r = q.popleft()
            out.append(r)
            h = high.get(r.partition, BAD_TS)
            if r.ts >= h:
                high[r.partition] = r.ts
            elif r.ts != BAD_TS:
                self.late += 1
                self.late_by = max(self.late_by, h - r.ts)
                self.last_late = r
            if q:
                h = q[0]
                heapq.heapreplace(heap, (h.ts, h.rank, i, tp))
                continue
            heapq.heappop(heap)
            if self.lagging(tp, caught_up, now):
                self.blocked = [tp]
                break
            hold = True
        return out
