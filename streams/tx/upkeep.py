"""Work the transactional worker does while idle (nothing to process, no transaction open), each at most
every so often: commit positions that moved with nothing to process, refresh the HR population for the
k-anonymity of alerts.secops, purge expired employees (retention). Each function takes the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from redis.exceptions import RedisError

from streams.common import POPULATION_REFRESH_S
from streams.retention import CHECK_S as RETENTION_CHECK_S
from streams.retention import PURGED, RETENTION_FAILURES, expired

log = logging.getLogger("exitwatch.tx")


def commit_idle_positions(self: Any) -> None:
    """Once a second while idle: commit positions that moved with no record to process (past transaction
    markers, or past HR records held back until Redis had them), so the group's lag reaches zero."""
    now = time.monotonic()
    if now < self._idle_check_at:
        return
    self._idle_check_at = now + 1.0
    held = {(t, p) for t, p, _ in self.hr.pending_tokens()}
    if any(tp not in held for tp in self._offsets()):
        self.tx.begin()
        self.commit()

def refresh_population(self: Any) -> None:
    """The whole company's HR records from Redis (every worker writes its HR records there), for the
    k-anonymity of alerts.secops: at start and every :data:`POPULATION_REFRESH_S`, while idle. The first read
    is done here (the population is known before the first record is processed); the later ones scan Redis on
    a thread of their own (:class:`PopulationRead`; a Redis shared with other applications may hold millions
    of keys) and what they read is applied here, on the loop's thread, at the next idle step."""
    job = self._population_job
    if job is not None:
        if job.is_alive():
            return
        self._population_job = None
        if job.error is not None:  # Redis down: keep the population known so far
            log.warning("HR population not refreshed from the HR store: %s", job.error)
        for rec in job.records:
            self.proc.outputs.on_hr_population(rec)
    now = time.monotonic()
    if now < self._population_at or self.proc.outputs is None:
        return
    first = self._population_at == 0.0
    self._population_at = now + POPULATION_REFRESH_S
    if not first:
        self._population_job = PopulationRead(self.hr)
        self._population_job.start()
        return
    try:
        for rec in self.hr.all_records():
            self.proc.outputs.on_hr_population(rec)
    except Exception as exc:  # noqa: BLE001 - Redis down: keep the population known so far
        log.warning("HR population not refreshed from the HR store: %s", exc)


class PopulationRead(threading.Thread):
    """``hr.all_records()`` on a thread of its own: :attr:`records` (empty on failure, then :attr:`error`)."""

    def __init__(self, hr: Any, name: str = "tx-hr-population") -> None:
        super().__init__(name=name, daemon=True)
        self.hr = hr
        self.records: list[dict[str, Any]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.records = self.hr.all_records()
        except Exception as exc:  # noqa: BLE001 - reported by refresh_population on the loop's thread
            self.error = exc


def retention(self: Any, today: dt.date | None = None) -> list[str]:
    """Purge the employees of the owned partitions whose last day is more than ``EXITWATCH_RETENTION_DAYS``
    ago (:mod:`streams.retention`): a tombstone for each state, committed in one transaction, then their HR
    record and aliases in Redis. Runs while idle, at most every ``EXITWATCH_RETENTION_CHECK_S`` (``today``
    given: now). The purged ids. ``self``: the worker."""
    days = self.settings.retention_days
    now = time.monotonic()
    if days <= 0 or self.tx.open or (today is None and now < self._retention_at):
        return []
    self._retention_at = now + RETENTION_CHECK_S
    today = today or dt.datetime.now(dt.timezone.utc).date()
    doomed = []
    for emp, part in list(self.store.owner.items()):
        if part not in self.owned:
            continue
        st = self.store.get(emp)
        if st is not None and expired(st.hr, today, days):
            doomed.append((emp, part, list((st.hr or {}).get("accounts") or [])))
    if not doomed:
        return []
    self.tx.begin()
    for emp, part, _ in doomed:
        self.tx.send(self.changelog, None, emp.encode(), partition=part)
    self.commit()
    for emp, part, accounts in doomed:
        self.store.load(emp, part, None)
        try:
            self.hr.purge(emp, accounts)
        except (RedisError, OSError) as exc:  # the state is gone; the Redis keys go at the next check
            RETENTION_FAILURES.inc()
            log.warning("retention: HR record and aliases of one employee not purged from Redis: %s", exc)
    PURGED.inc(len(doomed))
    log.info("retention: purged the state and HR mapping of %d employees (last day more than %d days ago)",
             len(doomed), days)
    return sorted(emp for emp, _, _ in doomed)


def read_leavers(self: Any, partitions: set[int]) -> None:
    """At assignment, before the changelog restore: start reading the HR store for the leavers of the
    newly owned ``partitions`` (:func:`note_leavers` applies what it read). The read walks every HR record in
    Redis (a SCAN, as the HR gauges' and the population's: on a Redis shared with other applications, millions of
    keys); on a thread of its own it overlaps the restore and the assignment callback returns without it."""
    if not partitions:
        return
    job = PopulationRead(self.hr, name="tx-hr-leavers")
    job.start()
    self._leavers_jobs.append((job, set(partitions)))


def note_leavers(self: Any, wait: bool) -> int:
    """The leavers read by :func:`read_leavers` whose last day the event-time watermark has still to pass (the
    engine keeps them in memory only, :meth:`detectors.engine.Engine.note_due`), so the last-day summary does
    not wait for the leaver's own news after a restart. Called on the loop's thread before each step's records
    are processed: a finished read is applied; with ``wait`` (records are about to be processed) an unfinished
    one is waited for, so no record of a newly owned partition is processed before its leavers are known (as
    when the read was done in the assignment itself). Only partitions still owned count. Returns how many."""
    from detectors.context import HRView

    n = 0
    left = []
    for job, partitions in self._leavers_jobs:
        if job.is_alive() and not wait:
            left.append((job, partitions))
            continue
        job.join()
        if job.error is not None:  # Redis down: the summaries come at the leavers' next news
            log.warning("leavers of the restored partitions not read from the HR store: %s", job.error)
            continue
        partitions = partitions & self.owned
        for rec in job.records:
            emp = rec.get("employee_id")
            if emp and self.partition_of(emp) in partitions:
                hr = HRView.of(rec)
                if hr.leaving and hr.last_day is not None:
                    self.engine.note_due(emp, hr)
                    n += 1
    self._leavers_jobs[:] = left
    return n


def refresh_shared(self: Any) -> None:
    """The engine-wide memories other workers committed since the last read (streams/tx/shared.py)."""
    self.shared.refresh(self.owned)
