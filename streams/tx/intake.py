"""The loop's input: what to take from the consumer, how long to wait for it, and when to pause a partition.

A live, lightly loaded feed should pay only what it must between a record's arrival in the client and its
processing: the loop waits for input only while nothing is ready, returns as soon as a record comes, and never
past the moment the time-ordered merge releases a record it holds (``TimeMerge.wake_at``) or the open
transaction is due. ``Consumer.consume(n, timeout)`` alone would not do: it returns only once it has ``n``
records or the timeout has run out, so at a low rate every loop waited its whole timeout.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import TopicPartition

#: Longest the loop waits for input (it returns as soon as a record comes): the pace of the heartbeat and of
#: the upkeep done while idle.
MAX_WAIT_S = 0.05

#: Records buffered per input partition before fetching from it pauses (bounded memory on a backlog).
MAX_BUFFERED = 10000


def consume(w: Any, timeout: float) -> list[Any]:
    """What the worker's client holds now (up to a batch), else the first record to come within ``timeout``
    seconds and whatever came with it."""
    msgs = w.consumer.consume(w.batch, 0)
    if msgs or timeout <= 0:
        return msgs
    first = w.consumer.poll(timeout)
    if first is None:
        return []
    return [first, *w.consumer.consume(w.batch - 1, 0)]


def wait_s(w: Any) -> float:
    """How long the loop may wait for input: at most :data:`MAX_WAIT_S`, not past the moment the merge
    releases a record it holds nor past the open transaction's due time, not at all with records ready."""
    if w._more:
        return 0.0
    now, wait = time.monotonic(), MAX_WAIT_S
    if w.merge.wake_at is not None:
        wait = min(wait, w.merge.wake_at - now)
    if w.tx.open:
        wait = min(wait, w.tx.started + w.interval - now)
    return max(wait, 0.0)


def flow_control(w: Any) -> None:
    """Pause fetching from partitions with :data:`MAX_BUFFERED` records waiting in the merge; resume them at
    half of it."""
    merge = w.merge
    full = [tp for tp in merge.buf if tp not in w.paused and merge.buffered(tp) >= MAX_BUFFERED]
    if full:
        w.consumer.pause([TopicPartition(*tp) for tp in full])
        w.paused.update(full)
    low = [tp for tp in w.paused if merge.buffered(tp) < MAX_BUFFERED // 2]
    if low:
        w.consumer.resume([TopicPartition(*tp) for tp in low if tp in merge.buf])
        w.paused.difference_update(low)
