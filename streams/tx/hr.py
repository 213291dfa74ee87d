"""HR records and account aliases in Redis, with an in-process cache: the synchronous twin of
:class:`streams.hrstore.HRStore` (same Redis layout and set-if-newer script, so both engines share a store).

While Redis is down, records wait in :attr:`SyncHRStore.pending` (the worker holds back the committed offset
of their ``hr.status`` partition until they are written) and look-ups answer from the cache, stale or not.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from redis.exceptions import RedisError

from schemas import HRRecord
from streams import metrics
from streams.hrstore import HRCache

log = logging.getLogger("exitwatch.tx.hr")

#: Seconds Redis is left alone after a failed call.
RETRY_S = 1.0


class Resting(RedisError):
    """Redis failed less than :data:`RETRY_S` ago: not tried now."""


class SyncHRStore(HRCache):
    """Redis-backed HR records and aliases, cached in process for ``ttl`` seconds."""

    def __init__(self, url: str, prefix: str = "", ttl: float = 30.0, client: Any = None,
                 redis_options: dict[str, Any] | None = None) -> None:
        """``redis_options``: :func:`schemas.transport.redis_kwargs` (TLS, AUTH; default: from the settings in
        the environment, for ``url``)."""
        if client is None:
            from schemas.transport import redis_kwargs

            opts = redis_kwargs(url=url) if redis_options is None else redis_options
            client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, **opts)
        self._init_cache(client, prefix, ttl)
        #: (record, token) not yet in Redis, oldest first; the token is the record's (partition, offset).
        self.pending: list[tuple[HRRecord, Any]] = []
        #: After a failed call Redis is left alone for :data:`RETRY_S` (the cache answers): a worker must not
        #: wait for a connect timeout on every batch while Redis is down.
        self._down_until = 0.0

    def _check(self) -> None:
        if time.monotonic() < self._down_until:
            raise Resting("HR store marked unreachable; retrying shortly")

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Resting):  # a real failure (not the pause itself) starts a new pause
            self._down_until = time.monotonic() + RETRY_S

    # ------------------------------------------------------------------ writes
    def put(self, record: HRRecord, token: Any = None) -> bool:
        """Cache ``record`` and store it in Redis if it is the newest for its employee. False when Redis is
        unreachable (or older records still wait): it then waits in :attr:`pending` with ``token``."""
        self.remember(record)
        if not self.pending:
            try:
                self._put(record)
                return True
            except (RedisError, OSError) as exc:
                self._failed(exc)
                metrics.HR_STORE_ERRORS.labels("put").inc()
                log.warning("HR store unreachable, keeping the record of %s to write later: %s",
                            record.employee_id, exc)
        self.pending.append((record, token))
        return False

    def _put(self, record: HRRecord) -> None:
        self._check()
        self._script(**self._put_call(record))

    def flush_pending(self) -> int:
        """Write pending records in order until Redis fails again; returns how many were written."""
        n = 0
        while self.pending:
            try:
                self._put(self.pending[0][0])
            except (RedisError, OSError) as exc:
                self._failed(exc)
                if not isinstance(exc, Resting):
                    metrics.HR_STORE_ERRORS.labels("retry").inc()
                break
            self.pending.pop(0)
            n += 1
        if n:
            log.warning("HR store reachable again: %d pending records written, %d left", n, len(self.pending))
        return n

    def pending_tokens(self) -> list[Any]:
        return [t for _, t in self.pending]

    # ------------------------------------------------------------------ reads
    def resolve_many(self, accounts: set[str]) -> dict[str, str | None]:
        """Employee id of each account (None when unknown); one Redis round trip for all cache misses."""
        out, misses = self._cached_aliases(accounts)
        if not misses:
            return out
        try:
            self._check()
            self._fetched_aliases(misses, self.redis.mget(self._alias_keys(misses)), out)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            metrics.HR_STORE_ERRORS.labels("resolve").inc()
            (log.debug if isinstance(exc, Resting) else log.warning)(
                "HR store unreachable, resolving %d accounts from the stale cache: %s", len(misses), exc)
            self._stale_aliases(misses, out)
        return out

    def snapshots(self, employee_ids: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        """(HR record dict or None, stale) per employee; misses fetched in one pipeline."""
        out, misses = self._cached_snapshots(employee_ids)
        if not misses:
            return out
        try:
            self._check()
            pipe = self.redis.pipeline(transaction=False)
            for emp in misses:
                pipe.hget(self._hr_key(emp), "r")
            self._fetched_snapshots(misses, pipe.execute(), out)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            metrics.HR_STORE_ERRORS.labels("snapshot").inc()
            (log.debug if isinstance(exc, Resting) else log.warning)(
                "HR store unreachable, %d snapshots from the stale cache: %s", len(misses), exc)
            self._stale_snapshots(misses, out)
        return out

    def all_records(self, batch: int = 1000) -> list[dict[str, Any]]:
        """Every HR record in the store (the latest per employee): the population the k-anonymity of
        ``alerts.secops`` is computed over (:class:`evidence.privacy.Population`)."""
        self._check()
        keys = list(self.redis.scan_iter(match=f"{self.prefix}hr:*", count=batch))
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), batch):
            pipe = self.redis.pipeline(transaction=False)
            for k in keys[i:i + batch]:
                pipe.hget(k, "r")
            out += self._records(pipe.execute())
        return out

    def purge(self, employee_id: str, accounts: list[str] | None = None) -> int:
        """Delete the employee's HR record and the aliases that still point at them (retention, as
        :meth:`streams.hrstore.HRStore.purge`); keys deleted."""
        raw = self.redis.hget(self._hr_key(employee_id), "r")
        aliases, keys = self._purge_plan(employee_id, raw, accounts)
        vals = self.redis.mget(keys) if keys else []
        n = int(self.redis.delete(self._hr_key(employee_id), *self._doomed(employee_id, keys, vals)))
        self._forget(employee_id, aliases)
        return n

    def close(self) -> None:
        self.redis.close()
