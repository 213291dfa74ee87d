"""The Faust worker: HR agent, enrich agent, detect agent and the alert sink.

::

    hr.status ──► hr agent ──► Redis (HR records, aliases) ◄── enrich agent's cache (batched misses)
    activity.* ──► enrich agent ──► activity.enriched ─┐
    hr.status, hr.signals ─────────────────────────────┴─► detect agent ──► detectors.Engine
                                                                  │  (state: Faust table, RocksDB + changelog)
                                                                  ▼
                                              alerts.hr (identified), alerts.secops (pseudonymized)

Detection logic lives in :mod:`detectors`; the agents only decode, route and write.

Delivery: at-least-once with idempotent effects. For each message the detect agent (1) skips it if the
employee's state already records its offset (a re-delivery after a crash), (2) runs the engine, (3) sends
the alerts and waits for the broker's acknowledgement, and only then (4) writes the employee's state (with
the offset) to the table, whose changelog Faust flushes before it commits the consumer offset. Alert ids
are deterministic, so the one remaining window (a crash between (3) and (4)) can repeat an alert with the
same id, never lose one. ``docs/faults.md`` has the analysis and the measured figures (``exitwatch faults``).

Limits: the input guard (:mod:`schemas.guard`, the same as the connectors' and replay's): records over
:data:`MAX_MESSAGE_BYTES`, numbers that do not fit 64 bits, ids with control characters, records nested too
deep and records whose ``ts`` lies before :data:`MIN_TS` or more than ``max_future_skew_s`` (1 h by default)
ahead of the worker's clock are dead-lettered by the stage that reads them, with the guard's reason; each agent buffers at most :data:`STREAM_BUFFER_MAXSIZE` messages (Faust pauses fetching
from a partition whose buffer is full), so a worker that falls behind catches up in bounded memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import pickle
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.streams import _current_event
import orjson

from detectors.dedupe import seen_or_add, seq_of, unseq
from detectors.engine import Engine, EngineConfig
from detectors.factory import build_engine
from detectors.routing import for_secops
from detectors.state import EmployeeState
from schemas import guard
from schemas import ActivityEvent, Alert, DeadLetter, EmployeeSnapshot, EnrichedEvent, HRRecord, HRSignal
from schemas.models import utcnow
from evidence.outputs import Outputs
from evidence.recorder import settle as settle_evidence
from schemas.settings import Settings
from schemas.secrets import Sealer, require_keys, sealer
from schemas.transport import faust_broker_options, kafka_config, redis_kwargs
from schemas.topics import ACTIVITY_KINDS, topic_names
from streams import metrics
from streams.hrstore import HRStore
# shared with the default worker, defined where they import no Faust (and still importable from here)
from streams.common import (MAX_MESSAGE_BYTES, POPULATION_REFRESH_S, REKEY_TOPIC, SRC_HEADER,  # noqa: F401
                            count_errors, partition_of, secops_view, src_header)

log = logging.getLogger("exitwatch.worker")

#: Fields of the HR snapshot that identify a person; removed from alerts.secops.
IDENTITY_FIELDS = ("employee_id", "manager_id", "accounts", "name", "email")
#: Records stamped before this are dead-lettered (hostile or broken clocks: 1970, year 1).
MIN_TS = guard.MIN_TS
#: Records stamped more than this many seconds after the worker's clock are dead-lettered: one such event
#: would otherwise prune an employee's windows, teach the learned model a day that has not come, or pin their
#: HR status (latest ``ts`` wins), for years. ``create_worker`` sets it from the ``max_future_skew_s`` setting.
MAX_FUTURE_S = guard.MAX_FUTURE_SKEW_S
#: Deepest nesting of a record's ``attrs`` (the ``max_json_depth`` setting).
MAX_JSON_DEPTH = guard.MAX_JSON_DEPTH
#: Messages each agent may hold in its in-memory buffer (Faust ``stream_buffer_maxsize``, default 4096).
STREAM_BUFFER_MAXSIZE = 4096
#: Records one fetch may return (aiokafka's default is 500): +24% events/s measured (docs/benchmarks.md).
MAX_POLL_RECORDS = 2000
#: Seconds after which the group gives up on a silent worker and moves its partitions (Faust: 60).
SESSION_TIMEOUT_S = 15.0
#: Messages the detect agent takes at a time, and how long it waits to fill a batch.
DETECT_BATCH = 500
DETECT_BATCH_WITHIN_S = 0.05
#: Seconds between retries of HR records that could not be written to Redis.
HR_RETRY_S = 1.0
#: An input partition with a backlog whose committed offset has not moved for this long is a stalled stream:
#: the worker logs it and exits with :data:`STALL_EXIT_CODE` so that its supervisor restarts it (a restart
#: resumes from the committed offsets; nothing is lost). 0 turns the watchdog off.
WATCHDOG_S = float(os.environ.get("EXITWATCH_WATCHDOG_S", "60"))
STALL_EXIT_CODE = 3
#: Seconds records dropped below acknowledged ones may stay unacknowledged before the partition is sought
#: back to its committed offset and read again (:class:`DropRepair`); the stall watchdog is the last resort.
REPAIR_S = float(os.environ.get("EXITWATCH_REPAIR_S", "4"))
_TOPIC_CODE = {"enriched": "e", "hr": "h", "signals": "s"}


def implausible_ts(ts: dt.datetime, now: float | None = None) -> str | None:
    """Why ``ts`` cannot be a real record time, or None when it can.

    >>> implausible_ts(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    'ts_out_of_window: ts 1970-01-01T00:00:00+00:00 is before 2000-01-01T00:00:00+00:00'
    >>> implausible_ts(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc), now=dt.datetime(2026, 3, 1).timestamp())
    """
    return guard.clock_window(now, MAX_FUTURE_S, MIN_TS).reason(ts)


def check_record(raw: bytes, model: Any) -> tuple[Any, str | None]:
    """``(record, None)`` for a valid record of ``model`` that passes the input guard, else ``(None, reason)``."""
    return guard.decode_record(raw, model, window=guard.clock_window(None, MAX_FUTURE_S, MIN_TS),
                               max_bytes=MAX_MESSAGE_BYTES, max_depth=MAX_JSON_DEPTH)


def group_instance_id(app_id: str, data_dir: str) -> str:
    """Static group membership: a worker restarted on the same data folder is the same group member, so it
    gets its partitions back at once instead of after a rebalance that waits for the old session to expire.

    >>> group_instance_id("exitwatch", "/srv/a") == group_instance_id("exitwatch", "/srv/a/")
    True
    """
    key = f"{os.uname().nodename}:{os.path.realpath(data_dir)}"
    return f"{app_id}-{hashlib.blake2s(key.encode(), digest_size=6).hexdigest()}"


#: Diagnostics: log commits, seeks, offset jumps and applied events (``exitwatch faults --trace``).
_TRACE = bool(os.environ.get("EXITWATCH_TRACE_OFFSETS"))
#: Topics on which a jump over records Faust fetched but did not deliver must not be committed past.
_GAP_GUARDED: set[str] = set()
#: Per partition: the lowest offset of a record Faust fetched but did not hand to the stream (this process).
_SKIPPED: dict[Any, int] = {}
#: Per partition: offsets of records fetched (delivered or not) at or above the last commit (this process).
_FETCHED: dict[Any, set[int]] = {}
#: Per partition: the last offset the broker confirmed as committed (Faust's own record is updated even when
#: a commit failed, e.g. during a rebalance, so it can run ahead of what a restart resumes from).
_CONFIRMED: dict[Any, int] = {}
#: Per partition: the offset it was just sought to, until the first record from there is delivered.
_SEEKED: dict[Any, int] = {}
#: Partitions assigned by a rebalance and not yet sought back to their committed offset.
_AWAIT_SEEK: set[Any] = set()
#: Per partition: offsets whose batch this process's agents finished, at or above the last commit.
_DONE: dict[Any, set[int]] = {}


def first_unprocessed(committed: int | None, upto: int, fetched: set[int] | None,
                      done: set[int] | None) -> int | None:
    """The lowest offset in ``[committed, upto)`` that was fetched but whose batch no agent finished, if any.

    >>> first_unprocessed(10, 15, {10, 11, 12, 13, 14}, {10, 11, 13, 14}), first_unprocessed(10, 15, {11}, {11})
    (12, None)
    """
    if committed is None or not fetched:
        return None
    done = done or set()
    return min((o for o in fetched if committed <= o < upto and o not in done), default=None)


def dropped_below_acked(acked: Any, committed: int | None, fetched: set[int] | None) -> tuple[int, int] | None:
    """The offsets ``(first, last)`` between the committed offset and the lowest acknowledged one when a
    record fetched there was never acknowledged (so it was dropped: a partition's records are acknowledged in
    order), else None.

    >>> dropped_below_acked([7, 8], 3, {3, 4, 5, 6, 7, 8}), dropped_below_acked([3, 4], 3, {3, 4, 5})
    ((3, 6), None)
    >>> dropped_below_acked([7], 3, {7}), dropped_below_acked([], 3, {3})
    (None, None)
    """
    if not acked or committed is None or not fetched:
        return None
    lo = min(acked)
    if lo > committed and any(committed <= o < lo for o in fetched):
        return committed, lo - 1
    return None


def stale_after_seek(offset: int, sought: int, fetched: set[int] | None) -> bool:
    """Whether a record at ``offset``, the first of its partition since the partition was sought back to
    ``sought``, comes from a fetch made before the seek: records between ``sought`` and it were fetched
    before (so they exist, and a fetch from ``sought`` would return them first).

    >>> stale_after_seek(1682, 1645, set(range(1645, 1700))), stale_after_seek(1645, 1645, {1645, 1646})
    (True, False)
    >>> stale_after_seek(1646, 1645, set())  # a transaction marker at 1645: nothing was ever fetched there
    False
    """
    return offset > sought and bool(fetched) and any(sought <= o < offset for o in fetched or ())


def install_gap_guard(guarded: set[str]) -> None:
    """Never commit past records Faust fetched but did not deliver.

    Faust (faust-streaming 0.15) can drop records it has already fetched: ``Consumer.getmany`` skips records
    of a partition that is neither active nor buffered at that moment (paused for a rebalance, or by flow
    control), and stops early when flow control closes or the group generation changes. The next record
    delivered for that partition then jumps over the dropped offsets, and Faust records the jump as a gap it
    may commit past, as it must for compacted topics, transaction markers and aborted transactions (which
    the consumer never returns): the dropped records would never be processed.

    This wraps ``getmany`` to note, per partition, the first fetched record it did not deliver, and refuses
    only a gap that covers such a record: the commit stops before it, the partition shows as stalled, and
    :class:`DropRepair` seeks it back to its committed offset (the stall watchdog's restart is the last
    resort). Gaps of transaction markers and aborted records (connectors in follow mode write in
    transactions) are committed past as Faust intends. Seen in the fault runs as a missing alert and
    missing dead letters after a partition moved (docs/faults.md).

    It also stops the main cause of such drops and repeats. When a rebalance ends, Faust seeks every partition
    back to its committed offset and clears its stream buffers. Records delivered between the assignment and
    that seek are processed and then fetched again from the committed offset: the worker does not deliver
    them (``_AWAIT_SEEK``), so each is processed once, after the seek. And a fetch made before the seek can
    still be delivered after it. Its records (from the old position) move Faust's read offset ahead, so the records
    from the committed offset, fetched again after the seek, are dropped as already read. Those records were
    processed late, after a restart, or never. So the first records delivered after a seek must start at the
    offset sought (:func:`stale_after_seek`); the records of a fetch from before the seek are not delivered,
    and are read again in order.
    """
    from faust.transport import consumer as fconsumer

    _GAP_GUARDED.update(guarded)
    cls = fconsumer.Consumer
    if getattr(cls, "_exitwatch_gap_guard", False):
        return
    orig_wait, orig_getmany, orig_add_gap = cls._wait_next_records, cls.getmany, cls._add_gap
    orig_new_offset = cls._new_offset
    orig_commit_offsets = cls._commit_offsets
    orig_perform_seek, orig_seek = cls.perform_seek, cls.seek

    async def perform_seek(self: Any) -> None:
        await orig_perform_seek(self)
        assignment = self.assignment()
        _AWAIT_SEEK.difference_update(assignment)
        for tp, off in self._committed_offset.items():  # just read from the broker
            if off is not None and tp in assignment and tp.topic in _GAP_GUARDED:
                _SEEKED[tp] = off
                _CONFIRMED[tp] = off

    async def seek(self: Any, partition: Any, offset: int) -> None:
        await orig_seek(self, partition, offset)
        if partition.topic in _GAP_GUARDED:
            _SEEKED[partition] = offset

    async def _commit_offsets(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        assignment = self.assignment()
        did = await orig_commit_offsets(self, offsets, start_new_transaction=start_new_transaction)
        if did:
            _CONFIRMED.update({tp: off for tp, off in offsets.items() if tp in assignment})
        return bool(did)

    async def _wait_next_records(self: Any, timeout: float) -> Any:
        records, active = await orig_wait(self, timeout)
        self._exitwatch_fetched = records
        for tp, recs in (records or {}).items():  # at once: a seek may come while these are delivered
            if recs and tp.topic in _GAP_GUARDED:
                _FETCHED.setdefault(tp, set()).update(r.offset for r in recs)
        return records, active

    async def getmany(self: Any, timeout: float) -> Any:
        self._exitwatch_fetched = None
        last: dict[Any, int] = {}
        stale: set[Any] = set()
        below: dict[Any, int] = {}
        try:
            async for tp, message in orig_getmany(self, timeout):
                if tp in stale:  # the rest of a fetch not delivered (below): read again from where it was sought
                    continue
                sought = _SEEKED.get(tp)
                if tp in _AWAIT_SEEK:
                    # Assigned and not yet sought back to the committed offset by Faust (it may have been on the
                    # consumer's thread already): not delivered, and sought back to this fetch's first record.
                    target = message.offset if sought is None else min(sought, message.offset)
                elif sought is not None and stale_after_seek(message.offset, sought, _FETCHED.get(tp)):
                    log.warning("%s[%d]: records from offset %d were fetched before the seek to %d; not delivered "
                                "(read again from %d)", tp.topic, tp.partition, message.offset, sought, sought)
                    target = sought
                else:
                    if sought is not None:
                        del _SEEKED[tp]
                    target = -1
                if target >= 0:
                    # Seek again after this fetch, whose records moved the consumer's position past them, so
                    # that the next fetch starts at ``target`` whatever the order of the fetch and the seek.
                    stale.add(tp)
                    await self.seek(tp, target)
                    continue
                if message.offset < _CONFIRMED.get(tp, -1) and tp.topic in _GAP_GUARDED:
                    # Committed already, so processed already (the commit never passes a record that was not):
                    # read again because records delivered just before a seek were processed and committed
                    # before the records fetched from the seek's offset arrived.
                    below[tp] = below.get(tp, 0) + 1
                    continue
                last[tp] = message.offset
                yield tp, message
        finally:
            for tp, recs in (self._exitwatch_fetched or {}).items():
                if tp.topic not in _GAP_GUARDED or not recs:
                    continue
                if tp in stale:  # read again from the offset sought: not a record skipped for good
                    continue
                if below.get(tp):
                    metrics.REDELIVERED_COMMITTED.labels(tp.topic).inc(below[tp])
                upto = last.get(tp)
                floor = _CONFIRMED.get(tp, -1)
                for r in recs:
                    if r.offset >= floor and (upto is None or r.offset > upto):
                        if r.offset < _SKIPPED.get(tp, r.offset + 1):
                            _SKIPPED[tp] = r.offset
                        log.warning("%s[%d]: records from offset %d were fetched but not delivered to the stream",
                                    tp.topic, tp.partition, r.offset)
                        break
            self._exitwatch_fetched = None

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        skipped = _SKIPPED.get(tp)
        if skipped is not None and offset_from <= skipped < offset_to:
            log.warning("records %d..%d of %s[%d] were fetched but not delivered to the stream; not committing "
                        "past them", offset_from, offset_to - 1, tp.topic, tp.partition)
            return None
        return await orig_add_gap(self, tp, offset_from, offset_to)

    def _new_offset(self: Any, tp: Any) -> int | None:
        """Faust commits from the first run of consecutive acknowledged offsets and lets one offset after the
        last commit be missing (it takes a transaction marker there for granted). A record fetched at that
        offset and dropped (for instance from a stream buffer cleared by a rebalance) would be committed past
        and lost: refuse the commit while a fetched record below the first acknowledged one is unacknowledged.
        """
        fetched = _FETCHED.get(tp)
        dropped = dropped_below_acked(self._acked[tp], self._committed_offset[tp], fetched)
        if dropped is not None:
            log.warning("%s[%d]: a record fetched at %d..%d was never acknowledged; not committing past it",
                        tp.topic, tp.partition, *dropped)
            return None
        committed = self._committed_offset[tp]
        new = orig_new_offset(self, tp)
        if new is not None and fetched:
            # Faust's acknowledgements are not proof of processing: at a shutdown its streams acknowledge
            # events the agents never saw. Commit only up to the first fetched record no batch finished.
            hold = first_unprocessed(committed, new, fetched, _DONE.get(tp))
            if hold is not None:
                log.warning("%s[%d]: the record at %d was fetched but not processed; committing up to it, not "
                            "to %d", tp.topic, tp.partition, hold, new)
                new = hold if committed is None or hold > committed else None
            if new is not None:
                _FETCHED[tp] = {o for o in fetched if o >= new}
                done = _DONE.get(tp)
                if done:
                    _DONE[tp] = {o for o in done if o >= new}
        return new

    orig_assigned = faust.App._on_partitions_assigned

    async def _on_partitions_assigned(self: Any, assigned: Any, generation_id: int = 0) -> None:
        _AWAIT_SEEK.update(tp for tp in assigned if tp.topic in _GAP_GUARDED)
        await orig_assigned(self, assigned, generation_id)

    faust.App._on_partitions_assigned = _on_partitions_assigned  # type: ignore[method-assign]
    cls._new_offset = _new_offset  # type: ignore[method-assign]
    cls.perform_seek = perform_seek  # type: ignore[method-assign]
    cls.seek = seek  # type: ignore[method-assign]
    cls._commit_offsets = _commit_offsets  # type: ignore[method-assign]
    cls._wait_next_records = _wait_next_records  # type: ignore[method-assign]
    cls.getmany = getmany  # type: ignore[method-assign,assignment]
    cls._add_gap = _add_gap  # type: ignore[method-assign]
    cls._exitwatch_gap_guard = True  # type: ignore[attr-defined]
    if _TRACE:
        _install_offset_trace(cls)


#: Per partition: the offset after the last record delivered to the stream (offset tracing only).
_TRACE_NEXT: dict[Any, int] = {}


def _install_offset_trace(cls: Any) -> None:
    """Diagnostics (``EXITWATCH_TRACE_OFFSETS=1``, the fault harness sets it): log every broker-confirmed
    commit, every seek to the committed offsets, and every jump or rewind in the offsets delivered to the
    streams, so that a lost record can be traced to the commit that passed it."""
    orig_commit, orig_seek, orig_getmany = cls._commit_offsets, cls.perform_seek, cls.getmany
    trace = logging.getLogger("exitwatch.trace")

    def fmt(offsets: Any) -> str:
        return " ".join(f"{tp.topic.rsplit('.', 1)[-1]}[{tp.partition}]={o}" for tp, o in sorted(
            offsets.items(), key=lambda x: (x[0].topic, x[0].partition)))

    async def _commit_offsets(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        did = await orig_commit(self, offsets, start_new_transaction=start_new_transaction)
        trace.warning("trace commit did=%s %s", did, fmt(offsets))
        return bool(did)

    async def perform_seek(self: Any) -> None:
        await orig_seek(self)
        for tp in list(_TRACE_NEXT):
            _TRACE_NEXT.pop(tp, None)
        trace.warning("trace seek assignment=%d committed %s", len(self.assignment()),
                      fmt({tp: o for tp, o in self._committed_offset.items() if tp in self.assignment()}))

    async def getmany(self: Any, timeout: float) -> Any:
        async for tp, message in orig_getmany(self, timeout):
            want = _TRACE_NEXT.get(tp)
            if want is not None and message.offset != want:
                trace.warning("trace deliver %s[%d] offset %d, expected %d", tp.topic, tp.partition,
                              message.offset, want)
            elif want is None:
                trace.warning("trace deliver %s[%d] first offset %d", tp.topic, tp.partition, message.offset)
            _TRACE_NEXT[tp] = message.offset + 1
            yield tp, message

    cls._commit_offsets = _commit_offsets
    cls.perform_seek = perform_seek
    cls.getmany = getmany


#: Libraries whose loggers the worker sets to WARNING unless it runs at DEBUG.
QUIET_LIBRARIES = ("aiokafka", "faust", "mode")


def quiet_library_logs(level: str = "info") -> None:
    """Library loggers at WARNING (unless ``level`` is debug): measured +80% events/s together with larger
    fetches and buffers (docs/benchmarks.md); their records below WARNING are then never built."""
    if level.lower() == "debug":
        return
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_read_committed() -> None:
    """Read input topics with ``isolation.level=read_committed``.

    Connectors in follow mode write in Kafka transactions, their checkpoint in the same transaction (issue 5):
    a connector killed mid-transaction leaves records that are aborted when it restarts and sends them again.
    A ``read_uncommitted`` reader (Faust's default outside ``exactly_once``) would process both copies; a
    ``read_committed`` one sees each record once. Records written without transactions are unaffected.
    """
    from faust.transport.drivers import aiokafka as fdriver

    cls = fdriver.AIOKafkaConsumerThread
    if getattr(cls, "_exitwatch_read_committed", False):
        return
    orig = cls._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = orig(self, transport)
        consumer._isolation_level = "read_committed"  # read by aiokafka when it builds its fetcher at start
        return consumer

    cls._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    cls._exitwatch_read_committed = True  # type: ignore[attr-defined]


def backlog_end(tp: Any, committed: int | None, end: int | None) -> int | None:
    """The end offset as the stall watchdog should see it. A partition written in transactions ends with a
    commit marker, which the consumer never delivers, so Faust's commit stops one short of the end until a
    later record arrives: one offset past the commit with no dropped record there is no backlog.

    >>> backlog_end("t", 10, 11), backlog_end("t", 10, 15), backlog_end("t", None, 3)
    (10, 15, 3)
    """
    if committed is not None and end == committed + 1 and _SKIPPED.get(tp, -1) < committed:
        return committed
    return end


class DropRepair:
    """Per input partition: since when records were dropped (below acknowledged ones, :func:`dropped_below_acked`,
    or below finished ones, :func:`first_unprocessed`).

    A partition's records are acknowledged in order, so such a record will never be acknowledged: Faust lost
    it (a stream buffer cleared at a rebalance, a delivery abandoned when flow control closed), and the commit
    guard keeps the commit before it. Once that has lasted ``limit`` seconds, :meth:`observe` names the
    partition and its committed offset, and the worker seeks it back there: the dropped records are read
    again a few seconds late, instead of a minute late after the stall watchdog's restart. Records read
    twice count once (:mod:`detectors.dedupe`).

    >>> r = DropRepair(4.0)
    >>> r.observe({"t/0": 3}, now=0.0), r.observe({"t/0": 3}, now=5.0)
    ([], [('t/0', 3)])
    >>> r.observe({"t/0": None}, now=6.0), r.observe({"t/0": 9}, now=7.0), r.observe({"t/0": 9}, now=12.0)
    ([], [], [('t/0', 9)])
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._since: dict[Any, tuple[int, float]] = {}

    def observe(self, dropped: dict[Any, int | None], now: float) -> list[tuple[Any, int]]:
        """``dropped``: per partition, the first dropped offset, or None."""
        out = []
        for tp, d in dropped.items():
            if d is None:
                self._since.pop(tp, None)
                continue
            first, since = self._since.get(tp, (d, now))
            if first != d:
                first, since = d, now
            if now - since >= self.limit:
                out.append((tp, first))
                since = now  # once per limit while it lasts
            self._since[tp] = (first, since)
        return out

    def reset(self) -> None:
        self._since.clear()


class StallWatch:
    """Per input partition: the committed offset and since when it has not moved while there was a backlog.

    >>> w = StallWatch(60.0)
    >>> w.observe({"t/0": (5, 9)}, now=0.0), w.observe({"t/0": (5, 9)}, now=30.0), w.observe({"t/0": (5, 9)}, now=61.0)
    ([], [], ['t/0'])
    >>> w.observe({"t/0": (7, 9)}, now=62.0), w.observe({"t/0": (9, 9)}, now=200.0)
    ([], [])
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._since: dict[Any, tuple[int, float]] = {}

    def observe(self, positions: dict[Any, tuple[int | None, int | None]], now: float) -> list[Any]:
        """``positions``: (committed, end) per partition. Returns the partitions stalled for ``limit`` seconds."""
        stalled = []
        for tp, (committed, end) in positions.items():
            if committed is None or end is None or end <= committed:
                self._since.pop(tp, None)
                continue
            prev = self._since.get(tp)
            if prev is None or prev[0] != committed:
                self._since[tp] = (committed, now)
            elif now - prev[1] >= self.limit:
                stalled.append(tp)
        for tp in set(self._since) - set(positions):
            del self._since[tp]
        return stalled

    def reset(self) -> None:
        self._since.clear()


@contextlib.contextmanager
def held_back_on_failure(events: list[Any]) -> Iterator[None]:
    """Keep a batch's offsets out of the commit when its processing fails or is cancelled.

    Faust's ``Stream.take_events`` acknowledges every event of a batch in a ``finally`` clause, so also when
    the agent's body raised or was cancelled (a SIGTERM cancels the agents mid-batch, and the shutdown then
    commits what was acknowledged). The batch's unprocessed records would be committed and never read again:
    seen in the quick fault run as records of ``activity.file[1]`` and ``activity.email[1]`` lost at the
    SIGTERM, and an employee's after-hours baseline short of a day (docs/faults.md). On failure this marks
    the batch's messages as done *without* acknowledging them (Faust then skips their acknowledgement), so
    their offsets are not committed: a restart reads them again, or, while the worker keeps running, the drop
    repair does (:class:`DropRepair`)."""
    try:
        yield
    except BaseException:
        for ev in events:
            msg = getattr(ev, "message", None)
            if msg is not None:
                msg.acked = True  # Message.ack() returns at once for an acked message: no consumer ack
        log.warning("a batch of %d messages failed or was cancelled; its offsets are held back", len(events))
        raise
    for ev in events:  # finished: these offsets may be committed (see _new_offset in install_gap_guard)
        msg = getattr(ev, "message", None)
        tp = getattr(msg, "tp", None)
        if msg is not None and tp is not None and tp.topic in _GAP_GUARDED:
            _DONE.setdefault(tp, set()).add(msg.offset)


class TableStore:
    """The engine's state store in the worker: a Faust table of serialised :class:`EmployeeState`.

    Writes are held until :meth:`commit`, which the detect agent calls once the message's alerts are
    acknowledged, so a state that records an offset never exists without that offset's alerts.

    Every value is sealed with AES-256-GCM under ``EXITWATCH_DATA_KEY``, bound to its employee id
    (:class:`schemas.secrets.Sealer`), so the local store (RocksDB) and the changelog topic hold no HR snapshot
    nor evidence id in clear; a value written before sealing was on is still read.
    """

    def __init__(self, table: Any, cache_size: int = 20000, sealer: Sealer | None = None,
                 shared: Any = None) -> None:
        self.table = table
        self.sealer = sealer
        #: The table of the engine-wide memories' contributions (detectors/shared.py), and the engine whose
        #: memories they are (set by create_worker): written with the states, read back after an assignment.
        self.shared = shared
        self.engine: Any = None
        self.shared_stale = True
        self._open: dict[str, EmployeeState] = {}
        self._dirty: set[str] = set()
        #: Decoded states kept between messages (decoding is a large share of a message's cost). Only this
        #: worker writes a key it owns; the cache is dropped whenever partitions move (see create_worker).
        self._cache: OrderedDict[str, EmployeeState] = OrderedDict()
        self.cache_size = cache_size

    def get(self, employee_id: str) -> EmployeeState | None:
        st = self._open.get(employee_id)
        if st is None:
            st = self._cache.pop(employee_id, None)
            if st is None:
                raw = self.table.get(employee_id)
                if raw is None:
                    return None
                st = EmployeeState.from_bytes(self.unseal(employee_id, raw))
            self._open[employee_id] = st
        return st

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self._open[employee_id] = state
        self._dirty.add(employee_id)

    def commit(self, events: dict[str, Any] | None = None) -> None:
        """Write every changed state; ``events`` maps an employee to the message whose partition the write
        belongs to (a batch holds messages of several partitions; Faust routes a table write by the current
        event)."""
        for emp in self._dirty:
            settle_evidence(self._open[emp])
        for emp in self._dirty:
            ev = events.get(emp) if events else None
            if ev is None:
                self.table[emp] = self.seal(emp, self._open[emp].to_bytes())
            else:
                token = _current_event.set(weakref.ref(ev))
                try:
                    self.table[emp] = self.seal(emp, self._open[emp].to_bytes())
                finally:
                    _current_event.reset(token)
        self._dirty.clear()
        self._park()
        self._commit_shared(events)

    def _commit_shared(self, events: dict[str, Any] | None) -> None:
        """The engine-wide memories' changed contributions to their table, each routed to its partition's
        changelog through a message of that partition (one of the batch's employees')."""
        if self.shared is None or self.engine is None:
            return
        by_part: dict[int, Any] = {}
        for emp, ev in (events or {}).items():
            by_part.setdefault(self.engine.partition_of(emp), ev)
        for key, part, raw in self.engine.shared_changes():
            value = None if raw is None else self.seal(key, raw)
            ev = by_part.get(part)
            token = _current_event.set(weakref.ref(ev)) if ev is not None else None
            try:
                if value is None:
                    self.shared.pop(key, None)
                else:
                    self.shared[key] = value
            finally:
                if token is not None:
                    _current_event.reset(token)
        self.engine.shared_committed()

    def reload_shared(self) -> int:
        """After an assignment (once the tables recovered): the engine's memories from the table."""
        self.shared_stale = False
        if self.shared is None or self.engine is None:
            return 0
        self.engine.shared_rollback()
        self.engine.shared_clear()
        n = 0
        for key, value in list(self.shared.items()):
            self.engine.shared_load(key, self.unseal(key, value))
            n += 1
        return n

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One batch of messages: if anything fails before :meth:`commit` (an alert the broker did not take,
        a cancelled agent), the states it changed are dropped, so that no later batch writes a state whose
        alerts were never sent (the batch's messages are not acknowledged, and are read again)."""
        try:
            yield
        except BaseException as exc:
            log.warning("batch failed before its state was written (%r): %d changed states dropped, its "
                        "messages will be read again", exc, len(self._dirty))
            self.rollback()
            raise

    def rollback(self) -> None:
        for emp in self._dirty:  # changed but not written: forget them, the table has the truth
            self._open.pop(emp, None)
        self._dirty.clear()
        self._park()
        if self.engine is not None:
            self.engine.shared_rollback()

    def _park(self) -> None:
        cache = self._cache
        for emp, st in self._open.items():
            cache[emp] = st
        self._open.clear()
        while len(cache) > self.cache_size:
            cache.popitem(last=False)

    def forget(self) -> None:
        """Drop the decoded cache (partitions moved: the table may hold newer values from the changelog)."""
        self._cache.clear()
        self.shared_stale = True  # the memories too, before the next batch

    def seal(self, employee_id: str, raw: bytes) -> bytes:
        return raw if self.sealer is None else self.sealer.seal(raw, employee_id.encode())

    def unseal(self, employee_id: str, raw: bytes) -> bytes:
        return raw if self.sealer is None else self.sealer.open(raw, employee_id.encode())

    def decoded(self, employee_id: str) -> EmployeeState | None:
        """The state as the table holds it (not the open or cached copy): for tests and tools."""
        raw = self.table.get(employee_id)
        return None if raw is None else EmployeeState.from_bytes(self.unseal(employee_id, raw))


def parse_src(value: str | bytes | None) -> tuple[str, int, int] | None:
    """``(topic, partition, offset)`` of the source record named by a provenance header; None if absent or bad.

    >>> parse_src(b"activity.file|2|41")
    ('activity.file', 2, 41)
    >>> parse_src("garbage") is None
    True
    """
    if value is None:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    rest, _, off_s = text.rpartition("|")
    topic, _, part_s = rest.rpartition("|")
    try:
        off, part = int(off_s), int(part_s)
    except ValueError:
        return None
    if not topic or off < 0 or part < 0:
        return None
    return topic, part, off


def header_value(headers: Any, name: str) -> bytes | None:
    """A header of a Faust message (a list of pairs or a mapping)."""
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    for k, v in items:
        if k == name:
            return v if isinstance(v, bytes) else str(v).encode()
    return None


def _takes_token(hr_store: Any) -> bool:
    """HRStore.put accepts a token to hand back once a deferred write lands (test fakes may not)."""
    return hasattr(hr_store, "flush_pending")


def snapshot_of(rec: dict[str, Any] | None, resolved: bool, stale: bool) -> EmployeeSnapshot:
    if rec is None:
        return EmployeeSnapshot(resolved=resolved, stale=stale)
    return EmployeeSnapshot(
        employee_id=rec.get("employee_id"),
        status=rec.get("status"),
        department=rec.get("department"),
        role=rec.get("role"),
        manager_id=rec.get("manager_id"),
        resignation_date=rec.get("resignation_date"),
        last_day=rec.get("last_day"),
        watchlist=bool(rec.get("watchlist")),
        resolved=resolved,
        stale=stale,
    )




class Floors:
    """A worker's :data:`detectors.dedupe.Floor` (committed offsets) that also knows where the copies'
    partition ends (``end``), for the entries of events detected from a copy."""

    __slots__ = ("worker",)

    def __init__(self, worker: "Worker") -> None:
        self.worker = worker

    def __call__(self, idx: int, partition: int) -> int | None:
        return self.worker.floor(idx, partition)

    def end(self, idx: int, partition: int) -> int | None:
        return self.worker.copy_end(idx, partition)


@dataclass
class Worker:
    """Everything one worker process holds: the Faust app, topics, table, engine and HR store."""

    settings: Settings
    app: faust.App
    topics: dict[str, Any]
    engine: Engine
    store: TableStore
    hr_store: HRStore
    pseudonym_key: bytes
    counters: dict[str, int] = field(default_factory=lambda: {"alerts": 0, "deadletter": 0, "enriched": 0})
    #: (topic, partition) -> the first offset read since the partition was assigned (see :meth:`committed`).
    started_at: dict[tuple[str, int], int] = field(default_factory=dict)
    #: Topics events are detected from, by their index in a dedupe ``seq`` (0: the detect agent's event topic).
    event_topics: list[str] = field(default_factory=list)
    #: One batch at a time applies to the engine, sends its alerts and writes the state (two agents detect).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: (topic, partition) -> the group's committed offset, for source partitions another worker reads.
    group_committed: dict[tuple[str, int], int] = field(default_factory=dict)
    #: Partition of the detect agent's event topic -> the highest offset this process wrote to it.
    produced: dict[int, int] = field(default_factory=dict)
    #: ``floor`` with the end of the copies' partitions (:class:`Floors`).
    floors: Any = None
    #: The evidence ledger and the alerts.secops form (:class:`evidence.outputs.Outputs`); None: secops form
    #: without HR fields and no ledger (test fakes).
    outputs: Any = None
    #: Ledger entries and secops forms made with the current batch's alerts, by alert id, until :meth:`emit`.
    made: dict[str, tuple[list[dict[str, Any]], dict[str, Any] | None]] = field(default_factory=dict)
    #: The detect-stage partition each employee's state belongs to, and the leavers the last watermark step
    #: changed (their states are written with the message that moved it: same partition).
    emp_partition: dict[str, int] = field(default_factory=dict)
    advanced: list[str] = field(default_factory=list)
    #: Seconds the watermark stays behind a partition's latest record time (EXITWATCH_WATERMARK_LATENESS_S).
    lateness: float = 3600.0

    def __post_init__(self) -> None:
        self.floors = Floors(self)

    async def deadletter(self, stage: str, reason: str, raw: bytes | str) -> None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        dl = DeadLetter(source=stage, reason=reason[:2000], raw=text[:65536], ts=utcnow())
        metrics.DEADLETTER.labels(stage, reason).inc()  # reduced to a short category by streams.metrics
        self.counters["deadletter"] += 1
        await self.topics["deadletter"].send(key=stage.encode(), value=orjson.dumps(dl.model_dump(mode="json")))

    async def detect_one(self, code: str, topic: str, offset: int, raw: bytes,
                         src: str | bytes | None = None, partition: int | None = None) -> list[Alert]:
        """One message of the detect stage on its own: apply it, send its alerts and wait for the broker, then
        write the state. The agent does the same for a batch of messages at a time (:meth:`detect_apply`)."""
        if getattr(self.store, "shared_stale", False):
            self.store.reload_shared()
        with self.store.batch():
            alerts, _ = await self.detect_apply(code, topic, offset, raw, src, partition)
            await self.emit(alerts)
            self.store.commit()
        return alerts

    def floor(self, idx: int, partition: int) -> int | None:
        """The committed offset of ``partition`` of the event topic ``idx`` (:data:`detectors.dedupe.Floor`)."""
        topics = self.event_topics
        return self.committed((topics[idx], partition)) if idx < len(topics) else None

    def copy_end(self, idx: int, partition: int) -> int | None:
        """Where the detect agent's event topic (``idx`` 0: the copies the enrich stage sends on) ends, as
        far as this process knows now: past what it wrote there and past the last fetch's high-water mark.
        Every copy of a source record committed before now is below it (:func:`detectors.dedupe._committed`)."""
        if idx != 0 or not self.event_topics:
            return None
        end = self.produced.get(partition, -1) + 1
        try:
            from faust.types import TP

            hw = self.app.consumer.highwater(TP(self.event_topics[0], partition))
        except Exception:  # noqa: BLE001 - not assigned or not fetched yet
            hw = None
        if hw is not None:
            end = max(end, hw)
        return end or None

    def note_produced(self, fut: Any) -> None:
        """Done-callback of a copy sent to the detect agent's event topic: remember the highest offset."""
        try:
            md = fut.result()
        except BaseException:  # noqa: BLE001 - a failed send is not a copy
            return
        if md is not None and md.offset > self.produced.get(md.partition, -1):
            self.produced[md.partition] = md.offset

    def topic_index(self, topic: str) -> int:
        try:
            return self.event_topics.index(topic)
        except ValueError:
            return 0

    def seqs(self, topic: str, partition: int | None, offset: int, src: str | bytes | None = None,
             ) -> tuple[int, ...]:
        """The messages an event came by (:func:`detectors.dedupe.seq_of`): the one it is detected from, and
        the source record it entered the worker as when that is another one (provenance header)."""
        if partition is None:
            return ()
        out: tuple[int, ...] = (seq_of(self.topic_index(topic), partition, offset),)
        source = parse_src(src) if src is not None else None
        if source is not None and source[0] in self.event_topics:
            out += (seq_of(self.event_topics.index(source[0]), source[1], source[2]),)
        return out

    def apply_event(self, obj: EnrichedEvent, emp: str, topic: str, seqs: tuple[int, ...]) -> list[Alert]:
        """Run the engine on one enriched event (unless its event id was applied already); metrics."""
        engine = self.engine
        dups, errors_before = engine.stats.duplicates, dict(engine.stats.errors)
        alerts = engine.on_event(obj, employee_id=emp, seqs=seqs, floor=self.floors if seqs else None)
        if _TRACE:
            logging.getLogger("exitwatch.trace").warning(
                "trace apply %s emp=%s dup=%s seqs=%s floor=%s alerts=%s", obj.event_id, emp,
                engine.stats.duplicates != dups, [unseq(q) for q in seqs],
                [self.floor(*unseq(q)[:2]) for q in seqs], [a.alert_id[:8] for a in alerts])
        if engine.stats.duplicates != dups:
            metrics.DUPLICATES_SKIPPED.labels(topic).inc()
        count_errors(engine, errors_before)
        self.record(obj, alerts, emp)
        return alerts

    def record(self, obj: Any, alerts: list[Alert], emp: str | None = None) -> None:
        """Keep what the ledger needs from ``obj`` (in the employee's state, committed with it) and make the
        ledger entries and secops forms of its alerts, for :meth:`emit` to send."""
        if self.outputs is None:
            return
        entries, sec = self.outputs.process(obj, alerts, emp)
        by_alert: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            by_alert.setdefault(e["alert"]["alert_id"], []).append(e)
        for a, v in zip(alerts, sec):
            self.made[a.alert_id] = (by_alert.get(a.alert_id, []), v)

    def committed(self, key: tuple[str, int]) -> int | None:
        """Committed offset of a partition this worker reads, as a restart would resume from it: the last
        commit the broker confirmed, else the offset it started reading the partition at (which was the
        committed one), else the group's offset as last read from the broker."""
        try:
            from faust.types import TP

            off = _CONFIRMED.get(TP(*key))
        except Exception:  # noqa: BLE001
            off = None
        if off is None:
            off = self.started_at.get(key)
        return off if off is not None else self.group_committed.get(key)

    async def detect_apply(self, code: str, topic: str, offset: int, raw: bytes,
                           src: str | bytes | None = None, partition: int | None = None,
                           ) -> tuple[list[Alert], str | None]:
        """Apply one message of the detect stage to the employee's (open) state; ``code`` is ``e``
        (activity.enriched), ``h`` (hr.status) or ``s`` (hr.signals). Returns the alerts to send and the
        employee; the caller sends them, waits for the broker, and only then commits the store.

        Repeats: an enriched event whose ``event_id`` the employee's state already applied changes nothing
        (:mod:`detectors.dedupe`). That covers a message read again after a crash or a partition move (its
        fingerprint stays in the state until the commit has passed its offset), a source record the enrich
        stage enriched a second time after a crash (same event id at a new offset), and a record a connector
        sent twice. It does not skip by offset: a record that Faust fetched but dropped during a rebalance
        and that is read again later, after newer records of the same employee, is applied then, not taken
        for a repeat. HR records and signals are skipped when their offset is at or below the last one the
        employee's state applied (``src`` is the enrich stage's provenance header; kept for tracing)."""
        metrics.DETECTED.labels(topic).inc()
        model = {"e": EnrichedEvent, "h": HRRecord, "s": HRSignal}.get(code)
        stage = {"e": "detect", "h": "hr", "s": "signals"}.get(code, "detect")
        if model is None:
            await self.deadletter(stage, f"detect stage does not read topic {topic!r}", raw[:4096])
            return [], None
        obj, reason = check_record(raw, model)
        if obj is None:
            await self.deadletter(stage, f"{topic}: {reason}", raw[:65536])
            return [], None
        emp = obj.employee_id
        if emp is None:  # unresolved actor: counted by the enrich stage, nothing to detect on
            return [], None
        store, engine = self.store, self.engine
        pre = self.watermark(obj, emp, partition)
        try:
            if code == "e":
                return pre + self.apply_event(obj, emp, topic, self.seqs(topic, partition, offset, src)), emp
            st = store.get(emp) or EmployeeState()
            # An HR record or signal read again has the same offset; one Faust dropped and read again later is
            # new to the state (the same fingerprints as events, detectors.dedupe).
            seqs = (seq_of(self.topic_index(topic), partition, offset),) if partition is not None else ()
            if seen_or_add(st, f"{code}|{partition}|{offset}", seqs, self.floors if seqs else None):
                metrics.DUPLICATES_SKIPPED.labels(topic).inc()
                return pre, emp
            store.put(emp, st)
            errors_before = dict(engine.stats.errors)
            if code == "h":
                alerts = engine.on_hr(obj)
                metrics.HR_RECORDS.labels("detect").inc()
            else:
                alerts = engine.on_signal(obj)
            count_errors(engine, errors_before)
            self.record(obj, alerts, emp)
            return pre + alerts, emp
        except Exception as exc:  # one bad record never stops the stream
            # The engine contains rule and model failures itself; what gets here is rarer. The state keeps what
            # the message changed before it failed (dropping it would also drop earlier messages of the batch).
            log.exception("detect failed on %s@%s", topic, offset)
            await self.deadletter("detect", f"detector failure: {type(exc).__name__}: {exc}", raw)
            return pre, emp

    def note_leavers(self, records: list[dict[str, Any]], partitions: set[int], nparts: int) -> int:
        """After a rebalance gave this worker the detect-stage ``partitions`` (of ``nparts``): their leavers
        whose last day the watermark has still to pass, from the HR store's ``records``, so that a leaver's
        last-day summary does not wait for their own news after a restart (the engine keeps them in memory
        only, :meth:`detectors.engine.Engine.note_due`; the transactional worker does the same,
        ``streams/tx/upkeep.note_leavers``). A summary already written is remembered in the state and not
        written again. Returns how many."""
        from detectors.context import HRView

        n = 0
        for rec in records:
            emp = rec.get("employee_id")
            if not emp:
                continue
            part = partition_of(str(emp).encode(), nparts)
            hr = HRView.of(rec)
            if part in partitions and hr.leaving and hr.last_day is not None:
                self.emp_partition[str(emp)] = part
                self.engine.note_due(str(emp), hr)
                n += 1
        return n

    def watermark(self, obj: Any, emp: str, partition: int | None) -> list[Alert]:
        """The detect stage's event time per input partition, :attr:`lateness` behind the latest record (its
        topics are not merged in time; records arrive out of order by up to that): when it enters a new day, the leavers of that partition whose last day it passed get their last-day summary
        (:meth:`detectors.engine.Engine.advance`, the same alerts as replay's). The leavers it changed are in
        :attr:`advanced` (the caller writes their states with this message)."""
        if partition is None:
            return []
        self.emp_partition[emp] = partition
        parts = self.emp_partition
        try:
            wm = obj.ts.timestamp() - self.lateness
            alerts = self.engine.advance(wm, lane=partition, owns=lambda e: parts.get(e) == partition)
        except Exception:  # noqa: BLE001 - the summaries then come at the leavers' next news
            log.exception("the watermark's offboarding check failed on partition %s", partition)
            return []
        for a in alerts:
            if a.employee_id not in self.advanced:
                self.advanced.append(a.employee_id)
        if alerts:
            self.record(None, alerts)
        return alerts

    async def emit(self, alerts: list[Alert]) -> None:
        """Send each alert to both alert topics, and its signed entry to the evidence ledger, and wait until the
        broker has them."""
        futs = []
        made = self.made
        for a in alerts:
            hr_value = orjson.dumps(a.model_dump(mode="json"))
            got = made.pop(a.alert_id, None)
            entries, sec = got if got is not None else ([], secops_view(a, self.pseudonym_key))
            futs.append(await self.topics["alerts_hr"].send(key=a.employee_id.encode(), value=hr_value))
            if for_secops(a) and sec is not None:  # departure propensity stays with HR (detectors/routing.py)
                futs.append(await self.topics["alerts_secops"].send(key=sec["employee_id"].encode(),
                                                                    value=orjson.dumps(sec)))
            for e in entries:
                futs.append(await self.topics["evidence_ledger"].send(key=a.employee_id.encode(), value=orjson.dumps(e)))
            metrics.ALERTS.labels(a.rule_id, a.severity).inc()
            metrics.EVENT_TO_ALERT.observe(max(0.0, time.time() - a.ts.timestamp()))
            self.counters["alerts"] += 1
        made.clear()  # what a failed, rolled-back batch made is made again when its messages are read again
        if futs:
            await asyncio.gather(*futs)


def ensure_topics(s: Settings, timeout: float = 10.0) -> list[str]:
    """Create the topics the worker reads and writes that do not exist yet (contract topics and the rekey
    topic, ``s.partitions`` each, ``hr.status`` compacted); returns the names created.

    Faust declares them too, but only once its agents start: a topic that appears after the consumer group's
    first assignment is left out of it until a later rebalance, and its records wait. Creating them before the
    worker starts avoids that. A broker that does not answer is not fatal here (Faust tries again)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    names = topic_names(s.topic_prefix)
    wanted = {**{v: k for k, v in names.items()}, f"{s.topic_prefix}{REKEY_TOPIC}": "rekey"}
    admin = AdminClient({**kafka_config(s), "log_level": 0})
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not list topics (%s); Faust will create missing ones", exc)
        return []
    new = [NewTopic(t, s.partitions, 1, config={"cleanup.policy": "compact"} if k == "hr_status" else {})
           for t, k in wanted.items() if t not in existing]
    created = []
    for t, fut in (admin.create_topics(new, request_timeout=timeout).items() if new else ()):
        try:
            fut.result(timeout)
            created.append(t)
        except Exception as exc:  # noqa: BLE001 - created meanwhile by another worker, or not allowed
            log.info("topic %s not created: %s", t, exc)
    return created


def create_worker(settings: Settings | None = None, engine: Engine | None = None, **app_overrides: Any) -> Worker:
    """Build the Faust app with its agents. ``app_overrides`` go to ``faust.App`` (tests use ``store``)."""
    s = settings or Settings()
    require_keys(s, "exitwatch worker")
    from evidence.keys import require_signing_key

    require_signing_key(s, "exitwatch worker")
    global MAX_FUTURE_S, MAX_MESSAGE_BYTES, MAX_JSON_DEPTH
    MAX_FUTURE_S, MAX_MESSAGE_BYTES, MAX_JSON_DEPTH = s.max_future_skew_s, s.max_record_bytes, s.max_json_depth
    names = topic_names(s.topic_prefix)
    conf: dict[str, Any] = dict(
        broker=[f"kafka://{b}" for b in s.kafka_bootstrap.split(",")],
        store=s.store,
        datadir=s.data_dir,
        topic_partitions=s.partitions,
        topic_replication_factor=1,
        value_serializer="raw",
        key_serializer="raw",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_port=s.web_port,
        web_enabled=False,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        table_cleanup_interval=60.0,
        producer_max_request_size=2 * MAX_MESSAGE_BYTES,
        consumer_max_fetch_size=4 * MAX_MESSAGE_BYTES,
        producer_linger=0.01,  # batch produce requests (measured +53% events/s, docs/benchmarks.md)
        stream_buffer_maxsize=STREAM_BUFFER_MAXSIZE,
        broker_max_poll_records=MAX_POLL_RECORDS,
        broker_session_timeout=SESSION_TIMEOUT_S,
        consumer_group_instance_id=group_instance_id(s.app_id, s.data_dir),
        # at_least_once (default; see docs/faults.md) or exactly_once (Kafka transactions; measured there).
        processing_guarantee=os.environ.get("EXITWATCH_PROCESSING_GUARANTEE", "at_least_once"),
    )
    conf.update(faust_broker_options(s))  # TLS / SASL, the same settings as every confluent-kafka client
    conf.update(app_overrides)
    app = faust.App(s.app_id, **conf)

    def topic(*topic_names: str, internal: bool = False, config: dict[str, Any] | None = None) -> Any:
        return app.topic(*topic_names, key_type=bytes, value_type=bytes, partitions=s.partitions,
                         key_serializer="raw", value_serializer="raw", internal=internal, config=config)

    # Every contract topic is declared "internal" so that the worker creates any that are missing at start
    # (with the same partition count, which co-partitioning by employee id needs); existing ones are kept.
    topics: dict[str, Any] = {
        k: topic(v, internal=True, config={"cleanup.policy": "compact"} if k == "hr_status" else None)
        for k, v in names.items()
    }
    topics["activity_in"] = topic(*(names[f"activity_{k}"] for k in ACTIVITY_KINDS))
    # Inline detection: the enrich agent detects every event that sits on its employee's partition; the others
    # (the connector named an account, not the employee, and the account's key hashed elsewhere) go on to the
    # detect agent through an internal topic keyed by employee id. Without it, every event goes through
    # activity.enriched to the detect agent.
    inline = s.detect_inline
    rekey_name = f"{s.topic_prefix}{REKEY_TOPIC}"
    if inline:
        topics["rekey"] = topic(rekey_name, internal=True)
    events_topic = rekey_name if inline else names["activity_enriched"]
    topics["detect_in"] = topic(events_topic, names["hr_status"], names["hr_signals"])
    topics["hr_in"] = topic(names["hr_status"])
    table = app.Table("employee-state", default=None, key_type=str, value_type=bytes,
                      partitions=s.partitions)
    # The engine-wide memories (detectors/shared.py), by partition like the states: restored with them.
    shared = app.Table("shared-memory", default=None, key_type=str, value_type=bytes, partitions=s.partitions)
    store = TableStore(table, sealer=sealer(s), shared=shared)
    if engine is None:
        # Settings.models off (EXITWATCH_MODELS=off): rules only, as ``exitwatch replay --no-models`` (the fault
        # harness compares the two; learned models share state across employees that is checkpointed, not
        # changelogged).
        engine = build_engine(rules_config=s.rules_config, store=store, models=s.models,
                              config=EngineConfig(lookback_days=s.lookback_days))
    else:
        engine.store = store
    store.engine = engine
    engine.partition_of = lambda emp: partition_of(emp.encode(), s.partitions)
    hr_store = HRStore(s.redis_url, prefix=s.topic_prefix, ttl=s.hr_cache_ttl_s, redis_options=redis_kwargs(s))
    worker = Worker(s, app, topics, engine, store, hr_store, s.pseudonym_key.get_secret_value().encode())
    worker.outputs = Outputs(engine, s)
    worker.lateness = s.watermark_lateness_s
    kind_of_topic = {names[f"activity_{k}"]: k for k in ACTIVITY_KINDS}
    code_of_topic = {events_topic: "e", names["hr_status"]: "h", names["hr_signals"]: "s"}
    worker.event_topics = [events_topic] + list(kind_of_topic) + [names["hr_status"], names["hr_signals"]]

    # ------------------------------------------------------------------ HR agent
    @app.agent(topics["hr_in"], name="hr-store")
    async def hr_agent(stream: Any) -> None:
        """Keep every HR record in Redis (status, last day, department, aliases).

        A record is acknowledged (its offset may be committed) only once Redis has it. While Redis is down
        the record goes to the in-process cache at once (enrichment uses it) and waits in
        ``HRStore.pending``; the ``hr-retry`` timer writes it when Redis is back and then acknowledges it,
        so a worker that dies meanwhile leaves the offset uncommitted and the record is read again.
        """
        s_noack = stream.noack()
        async for ev in s_noack.events():
            rec, _ = check_record(ev.value, HRRecord)
            if rec is None:  # the detect agent dead-letters it: one entry per bad record
                await s_noack.ack(ev)
                continue
            if await hr_store.put(rec, token=ev) if _takes_token(hr_store) else await hr_store.put(rec):
                await s_noack.ack(ev)
            metrics.HR_RECORDS.labels("store").inc()

    @app.task
    async def hr_population_at_start() -> None:
        await hr_population()

    @app.timer(interval=POPULATION_REFRESH_S, name="hr-population", on_leader=False)
    async def hr_population() -> None:
        """The HR population of the whole company, from Redis (every worker's HR agent writes there), for the
        k-anonymity of alerts.secops; HR records this worker detects on update it in between."""
        if worker.outputs is None or not hasattr(hr_store, "all_records"):
            return
        try:
            recs = await hr_store.all_records()
        except Exception as exc:  # noqa: BLE001 - Redis down: keep the population known so far
            log.warning("HR population not refreshed from the HR store: %s", exc)
            return
        for rec in recs:
            worker.outputs.on_hr_population(rec)

    @app.timer(interval=HR_RETRY_S, name="hr-retry")
    async def hr_retry() -> None:
        """Write the HR records Redis missed, then acknowledge their messages."""
        flush = getattr(hr_store, "flush_pending", None)
        if flush is None or not getattr(hr_store, "pending", None):
            return
        for ev in await flush():
            if ev is not None:
                ev.ack()

    if s.retention_days > 0:
        from streams.retention import CHECK_S, RETENTION_FAILURES, purge_expired

        @app.timer(interval=CHECK_S, name="retention")
        async def retention() -> None:
            """Purge the state and HR mapping of employees whose last day is past the retention setting."""
            try:
                await purge_expired(worker)
            except Exception:  # noqa: BLE001 - Redis down, a rebalance: next time; never stop the worker for it
                RETENTION_FAILURES.inc()
                log.exception("retention check failed; it runs again in %.0f s", CHECK_S)

    # ------------------------------------------------------------------ enrich agent
    @app.agent(topics["activity_in"], name="enrich")
    async def enrich(stream: Any) -> None:
        """Validate, resolve the actor to an employee, attach the HR snapshot; to ``activity.enriched``."""
        async for batch in stream.take_events(500, within=0.05):
            with held_back_on_failure(batch):  # Faust would acknowledge a failed batch
                t0 = time.perf_counter()
                events: list[ActivityEvent] = []
                srcs: list[str] = []
                fevs: list[Any] = []
                for fev in batch:
                    raw, m = fev.value, fev.message
                    ev, reason = check_record(raw, ActivityEvent)
                    if ev is None:
                        await worker.deadletter("enrich", reason or "invalid", raw[:4096] if len(raw) > MAX_MESSAGE_BYTES else raw)
                    else:
                        events.append(ev)
                        srcs.append(src_header(m.topic, m.partition, m.offset))
                        fevs.append(fev)
                if not events:
                    continue
                to_resolve = {e.actor for e in events if not e.employee_id}
                resolved = await hr_store.resolve_many(to_resolve) if to_resolve else {}
                emps = {e.employee_id or resolved.get(e.actor) for e in events}
                emps.discard(None)
                snaps = await hr_store.snapshots(emps) if emps else {}  # type: ignore[arg-type]
                here: list[tuple[EnrichedEvent, str, Any]] = []  # detected in this agent: (event, employee, message)
                for e, src, fev in zip(events, srcs, fevs):
                    emp = e.employee_id or resolved.get(e.actor)
                    kind_topic = "activity." + ("file" if e.kind == "print" else e.kind)  # contract name, no prefix
                    metrics.EVENTS_IN.labels(kind_topic, e.kind, e.source).inc()
                    if emp is None:
                        metrics.UNRESOLVED.labels(e.source).inc()
                        snap = EmployeeSnapshot(resolved=False)
                    else:
                        rec, stale = snaps.get(emp, (None, False))
                        snap = snapshot_of(rec, True, stale)
                        snap.employee_id = emp
                    data = e.model_dump(mode="json", exclude_none=False)
                    data["employee_id"] = emp
                    data["employee"] = snap.model_dump(mode="json")
                    key = (emp or e.actor).encode()
                    value = orjson.dumps(data)
                    await topics["activity_enriched"].send(key=key, value=value, headers={SRC_HEADER: src.encode()})
                    worker.counters["enriched"] += 1
                    if inline and emp is not None:
                        if fev.message.partition == partition_of(key, s.partitions):
                            here.append((EnrichedEvent.model_construct(**{**dict(e), "employee_id": emp, "employee": snap}),
                                         emp, fev))
                        else:
                            fut = await topics["rekey"].send(key=key, value=value,
                                                             headers={SRC_HEADER: src.encode()})
                            fut.add_done_callback(worker.note_produced)
                if here:
                    async with worker.lock:
                        if store.shared_stale:
                            store.reload_shared()
                        with store.batch():  # an exception before the commit leaves the table as it was
                            pending: list[Alert] = []
                            owner: dict[str, Any] = {}
                            started = worker.started_at
                            for obj, emp, fev in here:
                                m = fev.message
                                started.setdefault((m.topic, m.partition), m.offset)
                                metrics.DETECTED.labels(m.topic).inc()
                                try:
                                    pending += worker.apply_event(obj, emp, m.topic,
                                                                  worker.seqs(m.topic, m.partition, m.offset))
                                except Exception as exc:  # one bad record never stops the stream
                                    log.exception("detect failed on %s@%s", m.topic, m.offset)
                                    await worker.deadletter("detect", f"detector failure: {type(exc).__name__}: {exc}",
                                                            fev.value)
                                owner[emp] = fev
                            await worker.emit(pending)
                            store.commit(owner)
                            if pending:
                                await app.producer.flush()  # the alerts' state on the changelog (see detect)
                metrics.PROCESSING.labels("enrich").observe(time.perf_counter() - t0)

    # ------------------------------------------------------------------ detect agent
    @app.agent(topics["detect_in"], name="detect")
    async def detect(stream: Any) -> None:
        """Run the detection core on enriched events, HR records and signals; alerts to both topics."""
        # Batches: one wait for the broker's acknowledgement of all the batch's alerts, then one table write
        # per employee (not per message). take_events acknowledges the messages only after this body ran.
        async for events in stream.take_events(DETECT_BATCH, within=DETECT_BATCH_WITHIN_S):
            with held_back_on_failure(events):  # Faust would acknowledge a failed batch
                t0 = time.perf_counter()
                async with worker.lock:
                    if store.shared_stale:
                        store.reload_shared()
                    with store.batch():  # an exception before the commit leaves the table as it was
                        pending: list[Alert] = []
                        owner: dict[str, Any] = {}
                        started = worker.started_at
                        for ev in events:
                            msg = ev.message
                            started.setdefault((msg.topic, msg.partition), msg.offset)
                            alerts, emp = await worker.detect_apply(code_of_topic.get(msg.topic, "?"), msg.topic,
                                                                    msg.offset, ev.value,
                                                                    src=header_value(msg.headers, SRC_HEADER),
                                                                    partition=msg.partition)
                            pending += alerts
                            if emp is not None:
                                owner[emp] = ev
                            for e in worker.advanced:  # leavers whose summary the watermark wrote
                                owner.setdefault(e, ev)
                            worker.advanced.clear()
                        await worker.emit(pending)
                        store.commit(owner)
                        if pending:
                            # A batch that made alerts waits until the state recording them is on the changelog:
                            # a worker killed after the alerts and before that (the producer lingers 10 ms)
                            # left a new owner, or its own restart, an older state and the alerts were made
                            # again (seen once as an alert sent twice in a quick fault run). Only alert batches
                            # pay the round trip.
                            await app.producer.flush()
                metrics.PROCESSING.labels("detect").observe(time.perf_counter() - t0)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _forget_on_revoke(app_: Any, revoked: Any, **kwargs: Any) -> None:
        store.forget()
        if _TRACE:
            logging.getLogger("exitwatch.trace").warning("trace revoked %d partitions", len(revoked))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _forget_on_assign(app_: Any, assigned: Any, **kwargs: Any) -> None:
        store.forget()
        worker.started_at.clear()
        detect_parts = {tp.partition for tp in assigned
                        if tp.topic in (events_topic, names["hr_status"], names["hr_signals"])}
        if detect_parts and hasattr(hr_store, "all_records"):
            try:  # the leavers of these partitions whose last-day summary is still due (Worker.note_leavers)
                n = worker.note_leavers(await hr_store.all_records(), detect_parts, s.partitions)
                log.info("%d leavers with a last-day summary due on the assigned partitions", n)
            except Exception as exc:  # noqa: BLE001 - Redis down: the summaries come at the leavers' next news
                log.warning("leavers of the assigned partitions not read from the HR store: %s", exc)
        if _TRACE:
            logging.getLogger("exitwatch.trace").warning("trace assigned %s", " ".join(sorted(
                f"{tp.topic.rsplit('.', 1)[-1]}[{tp.partition}]" for tp in assigned)))

    at_least_once = str(app.conf.processing_guarantee).lower().endswith("at_least_once")
    install_read_committed()
    if at_least_once:
        install_gap_guard(set(kind_of_topic) | {events_topic, names["hr_status"], names["hr_signals"]})
    watch = StallWatch(WATCHDOG_S)
    watched_topics = set(kind_of_topic) | set(code_of_topic)
    hr_topics = {names["hr_status"]}

    def watched_partitions() -> list[Any] | None:
        """The input partitions the stall watchdog and the drop repair look at; None while the group rebalances
        or tables recover. ``hr.status`` is left out while HR records wait for Redis (acknowledged later)."""
        recovery = getattr(app.tables, "recovery", None)
        if app.rebalancing or (recovery is not None and not recovery.completed.is_set()):
            return None
        tps = [tp for tp in app.consumer.assignment() if tp.topic in watched_topics]
        if getattr(hr_store, "pending", None):
            tps = [tp for tp in tps if tp.topic not in hr_topics]
        return tps

    @app.timer(interval=5.0, name="stall-watchdog")
    async def stall_watchdog() -> None:
        """Exit when an input partition with a backlog makes no progress for WATCHDOG_S (see its comment).
        Not while rebalancing or recovering tables, and not for hr.status while HR records wait for Redis."""
        if WATCHDOG_S <= 0 or not at_least_once:  # (commit markers would read as a backlog that never moves)
            return
        try:
            consumer = app.consumer
            tps = watched_partitions()
            if tps is None:
                watch.reset()
                return
            ends = await consumer.highwaters(*tps) if tps else {}
            committed = getattr(consumer, "_committed_offset", {})
            stalled = watch.observe({tp: (committed.get(tp), backlog_end(tp, committed.get(tp), ends.get(tp)))
                                     for tp in tps}, time.monotonic())
        except Exception as exc:  # the watchdog never takes the worker down by its own failure
            log.debug("stall watchdog skipped: %r", exc)
            return
        if stalled:
            log.error("stream stalled for %.0f s on %s (committed offset not moving with a backlog); exiting with "
                      "code %d so that the supervisor restarts the worker", WATCHDOG_S,
                      ", ".join(f"{tp.topic}[{tp.partition}]" for tp in stalled), STALL_EXIT_CODE)
            logging.shutdown()
            os._exit(STALL_EXIT_CODE)

    repair = DropRepair(REPAIR_S)

    @app.timer(interval=1.0, name="drop-repair")
    async def drop_repair() -> None:
        """Seek a partition whose dropped records block its commit back to the committed offset (DropRepair)."""
        if not at_least_once or REPAIR_S <= 0:
            return
        try:
            consumer = app.consumer
            tps = watched_partitions()
            if tps is None:
                repair.reset()
                return
            committed, acked = getattr(consumer, "_committed_offset", {}), getattr(consumer, "_acked", {})

            def first_dropped(tp: Any) -> int | None:
                c, fetched, done = committed.get(tp), _FETCHED.get(tp), _DONE.get(tp)
                unacked = dropped_below_acked(acked.get(tp), c, fetched)
                if unacked is not None:
                    return unacked[0]
                # acknowledged but not finished (a partition's batches finish in order)
                return first_unprocessed(c, max(done), fetched, done) if done else None

            due = repair.observe({tp: first_dropped(tp) for tp in tps}, time.monotonic())
            for tp, offset in due:
                log.warning("%s[%d]: records from offset %d were dropped by the stream; reading them again",
                            tp.topic, tp.partition, offset)
                metrics.REREADS.labels(tp.topic).inc()
                await consumer.seek(tp, offset)
        except Exception as exc:  # never takes the worker down; the stall watchdog is the last resort
            log.warning("drop repair skipped: %r", exc)

    group_reader: list[Any] = []

    def read_group_offsets() -> dict[tuple[str, int], int]:
        from confluent_kafka import Consumer, TopicPartition

        if not group_reader:  # never subscribes, so it does not join the group
            group_reader.append(Consumer({**kafka_config(s), "group.id": s.app_id,
                                          "enable.auto.commit": False, "log_level": 0}))
        tps = [TopicPartition(t, p) for t in worker.event_topics[1:] for p in range(s.partitions)]
        return {(tp.topic, tp.partition): tp.offset for tp in group_reader[0].committed(tps, timeout=5)
                if tp.offset >= 0}

    @app.timer(interval=2.0, name="group-offsets")
    async def group_offsets() -> None:
        """The group's committed offsets of the source partitions, for the repeats of records that another
        worker enriched (:meth:`Worker.committed`)."""
        try:
            worker.group_committed = await asyncio.get_running_loop().run_in_executor(None, read_group_offsets)
        except Exception as exc:  # unknown offsets only make the dedupe fall back to its ring
            log.debug("group offsets not read: %r", exc)

    @app.timer(interval=15.0)
    async def gauges() -> None:
        try:
            metrics.EMPLOYEES.set(len(table))
        except Exception:  # table not ready during rebalance
            pass

    # ------------------------------------------------------------------ model checkpoints
    checkpoint = Path(s.data_dir) / "models.checkpoint"
    if engine.models and checkpoint.exists():
        try:
            engine.load_models_state(pickle.loads(checkpoint.read_bytes()))  # noqa: S301 - our own file
            log.info("model state restored from %s", checkpoint)
        except Exception as exc:  # a stale or foreign checkpoint: start the models afresh, say so
            log.warning("ignoring model checkpoint %s: %s", checkpoint, exc)

    def save_models() -> None:
        if not engine.models:
            return
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(engine.models_state()))
        os.replace(tmp, checkpoint)  # atomic: a crash leaves the previous checkpoint

    @app.timer(interval=s.model_checkpoint_s)
    async def checkpoint_models() -> None:
        save_models()

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def _final_checkpoint(app_: Any, **kwargs: Any) -> None:
        save_models()

    worker.save_models = save_models  # type: ignore[attr-defined]

    worker.agents = {"hr": hr_agent, "enrich": enrich, "detect": detect}  # type: ignore[attr-defined]
    for hook in WORKER_HOOKS:  # observability and other add-ons register themselves here
        hook(worker)
    return worker


#: Functions called with every new :class:`Worker` (e.g. ``streams.observability.install``).
WORKER_HOOKS: list[Any] = []
