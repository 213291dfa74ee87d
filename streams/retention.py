"""Retention: an employee's state and identity mapping go a set time after monitoring ends.

With ``EXITWATCH_RETENTION_DAYS=N`` (0, the default, keeps everything) the worker checks every
``EXITWATCH_RETENTION_CHECK_S`` seconds (default an hour) the employees whose state it holds, and purges those
whose last working day is more than N days ago (by the wall clock): their per-employee state (a tombstone in
the table's changelog, so it is gone from every replica and from a restore), and in Redis their HR record and
the account aliases that still point at them (the account-to-employee mapping, the one place an alias names a
person). The pseudonym in ``alerts.secops`` is a keyed hash, so nothing maps it back once those are gone; what
``alerts.hr`` and the evidence ledger already hold is the business of their own retention (topic retention,
the case exports). An HR record or event that arrives later for the same employee starts a fresh state.

>>> import datetime as dt
>>> expired({"last_day": "2026-01-31"}, dt.date(2026, 3, 2), 30), expired({"last_day": "2026-01-31"}, dt.date(2026, 3, 3), 30)
(False, True)
>>> expired({"last_day": None}, dt.date(2030, 1, 1), 30), expired({"last_day": "2020-01-01"}, dt.date(2030, 1, 1), 0)
(False, False)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import weakref
from typing import Any

from prometheus_client import Counter

log = logging.getLogger("exitwatch.retention")

#: Seconds between two retention checks of the worker.
CHECK_S = float(os.environ.get("EXITWATCH_RETENTION_CHECK_S", "3600"))

PURGED = Counter("exitwatch_retention_purged_total",
                 "Employees whose state and Redis HR record and aliases were purged by the retention setting")
RETENTION_FAILURES = Counter("exitwatch_retention_failures_total",
                             "Retention checks that failed (Redis down, a rebalance); the next check tries again")


def expired(hr: dict[str, Any] | None, today: dt.date, days: int) -> bool:
    """True when ``days`` > 0 and ``today`` is more than ``days`` days after the HR record's last working day."""
    if days <= 0 or not hr or not hr.get("last_day"):
        return False
    try:
        last = dt.date.fromisoformat(str(hr["last_day"])[:10])
    except ValueError:
        return False
    return today > last + dt.timedelta(days=days)


class _PartitionEvent:
    """Stands for an event of ``partition`` while the table deletes a key outside any agent (Faust sends the
    tombstone to the changelog partition of the current event)."""

    def __init__(self, topic: str, partition: int) -> None:
        self.message = type("M", (), {"topic": topic, "partition": partition})()


async def purge_expired(worker: Any, today: dt.date | None = None, owned: set[int] | None = None) -> list[str]:
    """Purge the expired employees of the partitions this worker owns (``owned``: default its assignment);
    the purged ids (sorted). Holds the worker's lock, so no batch is half applied meanwhile."""
    async with worker.lock:
        return await _purge(worker, today, owned if owned is not None else _owned_partitions(worker))


async def _purge(worker: Any, today: dt.date | None, owned: set[int] | None) -> list[str]:
    from faust.streams import _current_event

    from streams.common import partition_of

    days = worker.settings.retention_days
    if days <= 0:
        return []
    today = today or dt.datetime.now(dt.timezone.utc).date()
    store = worker.store
    table = store.table
    parts = worker.settings.partitions
    # a topic keyed by employee id with the table's partition count (Faust checks the count on a table write)
    source_topic = (getattr(worker, "event_topics", None) or ["exitwatch.retention"])[0]
    purged = []
    for emp in list(table.keys()):
        if emp in store._open:  # a batch is working on it: next time
            continue
        part = partition_of(emp.encode(), parts)
        if owned is not None and part not in owned:
            continue
        try:
            st = store.decoded(emp)
        except ValueError as exc:  # sealed under another key: not ours to judge
            log.warning("retention: state of one employee does not open (%s); kept", exc)
            continue
        if st is None or not expired(st.hr, today, days):
            continue
        accounts = list((st.hr or {}).get("accounts") or [])
        ev = _PartitionEvent(source_topic, part)
        token = _current_event.set(weakref.ref(ev))  # type: ignore[arg-type]
        try:
            del table[emp]
        finally:
            _current_event.reset(token)
        store._cache.pop(emp, None)
        await worker.hr_store.purge(emp, accounts)
        purged.append(emp)
    if purged:
        PURGED.inc(len(purged))
        log.info("retention: purged the state and HR mapping of %d employees (last day more than %d days ago)",
                 len(purged), days)
    return sorted(purged)


def _owned_partitions(worker: Any) -> set[int] | None:
    """Partitions of the worker's input topics assigned to it now (None: unknown, as in tests without Faust)."""
    try:
        assignment = worker.app.consumer.assignment()
    except Exception:  # noqa: BLE001 - no consumer (offline tests)
        return None
    topics = set(getattr(worker, "event_topics", ()) or ())
    return {tp.partition for tp in assignment if not topics or tp.topic in topics}
