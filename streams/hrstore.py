"""HR status and account aliases in Redis, with an in-process cache so the enrich stage makes no Redis
round trip per event (misses are fetched in batches).

Redis layout (``{prefix}`` is the topic prefix):

- ``{prefix}hr:{employee_id}``: hash with ``e`` (epoch of the record's ``ts``) and ``r`` (the record JSON);
  a record older than the stored one is ignored (latest ``ts`` wins).
- ``{prefix}alias:{account, case-folded}``: the employee id.

The in-process cache keeps each employee's record as its JSON bytes (what Redis holds) with the record's epoch,
not as a dict: a worker with 100,000 employees keeps all of them (an expired entry is still the answer while
Redis is down), a quarter of the memory. Each look-up gets a dict of its own, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from schemas import HRRecord
from schemas.identity import normalize_account
from streams import metrics

log = logging.getLogger("exitwatch.hrstore")

_SET_IF_NEWER = """
local cur = redis.call('HGET', KEYS[1], 'e')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'r', ARGV[2])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[3]) end
return 1
"""


def _epoch(ts: Any) -> float:
    """Epoch seconds of a record's RFC 3339 ``ts`` (0 when missing or unreadable)."""
    try:
        return dt.datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class HRCache:
    """The Redis layout, the in-process cache and the cache half of every look-up, shared by the asynchronous
    :class:`HRStore` (Faust worker) and the synchronous :class:`streams.tx.hr.SyncHRStore` (default engine):
    the subclasses only talk to Redis."""

    def _init_cache(self, client: Any, prefix: str, ttl: float) -> None:
        self.redis = client
        self.prefix = prefix
        self.ttl = ttl
        self._alias: dict[str, tuple[str | None, float]] = {}
        #: employee -> (record JSON or None: no record, the record's epoch, when the entry expires)
        self._hr: dict[str, tuple[bytes | None, float, float]] = {}
        self._script = self.redis.register_script(_SET_IF_NEWER)

    def _hr_key(self, emp: str) -> str:
        return f"{self.prefix}hr:{emp}"

    def _alias_key(self, alias: str) -> str:
        return f"{self.prefix}alias:{alias}"

    def remember(self, record: HRRecord) -> None:
        """Update the in-process cache at once (this worker sees the change before Redis confirms)."""
        now = time.monotonic()
        cur = self._hr.get(record.employee_id)
        if cur and cur[0] is not None and cur[1] > record.ts.timestamp():
            return
        # copied to its exact size: orjson's output holds about 4 KB whatever its length
        raw = bytes(memoryview(orjson.dumps(record.model_dump(mode="json"))))
        self._hr[record.employee_id] = (raw, record.ts.timestamp(), now + self.ttl)
        for a in [record.employee_id, *record.accounts]:
            self._alias[normalize_account(a)] = (record.employee_id, now + self.ttl)

    def _put_call(self, record: HRRecord) -> dict[str, Any]:
        """Keys and arguments of the set-if-newer script that stores ``record`` and its aliases."""
        keys = [self._hr_key(record.employee_id)] + [
            self._alias_key(normalize_account(a)) for a in [record.employee_id, *record.accounts]]
        args: list[bytes | str | float] = [record.ts.timestamp(), orjson.dumps(record.model_dump(mode="json")),
                                           record.employee_id]
        return {"keys": keys, "args": args}

    # ------------------------------------------------------------------ the cache half of the reads
    def _cached_aliases(self, accounts: set[str]) -> tuple[dict[str, str | None], list[str]]:
        """(employee id of each fresh cache hit, the accounts Redis must be asked for)."""
        now = time.monotonic()
        out: dict[str, str | None] = {}
        misses: list[str] = []
        for acc in accounts:
            hit = self._alias.get(normalize_account(acc))
            if hit is not None and hit[1] > now:
                out[acc] = hit[0]
                metrics.CACHE.labels("alias_hit").inc()
            else:
                misses.append(acc)
        if misses:
            metrics.CACHE.labels("alias_miss").inc(len(misses))
        return out, misses

    def _alias_keys(self, misses: list[str]) -> list[str]:
        return [self._alias_key(normalize_account(a)) for a in misses]

    def _fetched_aliases(self, misses: list[str], vals: list[Any], out: dict[str, str | None]) -> None:
        expires = time.monotonic() + self.ttl
        for acc, v in zip(misses, vals):
            emp = v.decode() if v is not None else None
            self._alias[normalize_account(acc)] = (emp, expires)
            out[acc] = emp

    def _stale_aliases(self, misses: list[str], out: dict[str, str | None]) -> None:
        for acc in misses:
            stale = self._alias.get(normalize_account(acc))
            out[acc] = stale[0] if stale else None

    @staticmethod
    def _record(entry: tuple[bytes | None, float, float]) -> dict[str, Any] | None:
        """The record dict of a cache entry, with ``_e`` (its epoch); a new dict at every call."""
        if entry[0] is None:
            return None
        rec = orjson.loads(entry[0])
        rec["_e"] = entry[1]
        return rec  # type: ignore[no-any-return]

    def _cached_snapshots(self, employee_ids: set[str]) -> tuple[dict[str, tuple[dict[str, Any] | None, bool]],
                                                                  list[str]]:
        """((record, stale=False) of each fresh cache hit, the employees Redis must be asked for)."""
        now = time.monotonic()
        out: dict[str, tuple[dict[str, Any] | None, bool]] = {}
        misses: list[str] = []
        for emp in employee_ids:
            hit = self._hr.get(emp)
            if hit is not None and hit[2] > now:
                out[emp] = (self._record(hit), False)
                metrics.CACHE.labels("hr_hit").inc()
            else:
                misses.append(emp)
        if misses:
            metrics.CACHE.labels("hr_miss").inc(len(misses))
        return out, misses

    def _fetched_snapshots(self, misses: list[str], vals: list[Any],
                           out: dict[str, tuple[dict[str, Any] | None, bool]]) -> None:
        expires = time.monotonic() + self.ttl
        for emp, v in zip(misses, vals):
            rec = orjson.loads(v) if v is not None else None
            if rec is None:
                self._hr[emp] = (None, 0.0, expires)
            else:
                rec["_e"] = _epoch(rec.get("ts"))
                self._hr[emp] = (bytes(v), rec["_e"], expires)
            out[emp] = (rec, False)

    def _stale_snapshots(self, misses: list[str], out: dict[str, tuple[dict[str, Any] | None, bool]]) -> None:
        for emp in misses:
            stale = self._hr.get(emp)
            out[emp] = (self._record(stale) if stale else None, True)

    # ------------------------------------------------------------------ retention
    def _purge_plan(self, employee_id: str, raw: Any, accounts: list[str] | None) -> tuple[list[str], list[str]]:
        """(the normalised aliases of ``employee_id``, their Redis keys) from the stored record ``raw`` plus
        ``accounts`` (the worker's copy of the record)."""
        names = set(accounts or [])
        if raw is not None:
            names.update(orjson.loads(raw).get("accounts") or [])
        aliases = sorted({normalize_account(a) for a in (employee_id, *names)})
        return aliases, [self._alias_key(a) for a in aliases]

    def _forget(self, employee_id: str, aliases: list[str]) -> None:
        self._hr.pop(employee_id, None)
        for a in aliases:
            self._alias.pop(a, None)

    @staticmethod
    def _doomed(employee_id: str, keys: list[str], vals: list[Any]) -> list[str]:
        """The alias keys that still point at ``employee_id`` (another employee may have taken one over)."""
        return [k for k, v in zip(keys, vals) if v is not None and v.decode() == employee_id]

    @staticmethod
    def _records(vals: list[Any]) -> list[dict[str, Any]]:
        return [orjson.loads(v) for v in vals if v is not None]


class HRStore(HRCache):
    """Redis-backed HR records and aliases, cached in process for ``ttl`` seconds."""

    def __init__(self, url: str, prefix: str = "", ttl: float = 30.0, client: Any = None,
                 redis_options: dict[str, Any] | None = None) -> None:
        """``redis_options``: AUTH and TLS keywords (:func:`schemas.transport.redis_kwargs`; default: from the
        settings in the environment, for ``url``)."""
        if client is None:
            from schemas.transport import redis_kwargs

            opts = redis_kwargs(url=url) if redis_options is None else redis_options
            client = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, **opts)
        self._init_cache(client, prefix, ttl)
        self.pending: list[HRRecord] = []  # records that could not be written while Redis was down, in order
        self._tokens: list[Any] = []  # what put() was given with each pending record, handed back once written

    # ------------------------------------------------------------------ writes
    async def put(self, record: HRRecord, token: Any = None) -> bool:
        """Store ``record`` if it is the newest for its employee. True once Redis has it; False when Redis is
        unreachable: the record then waits in :attr:`pending` (in order, behind any older pending record) and
        :meth:`flush_pending` writes it later and returns ``token`` (the worker passes the Kafka event, to
        acknowledge it only then)."""
        self.remember(record)
        if not self.pending:
            try:
                await self._put(record)
                return True
            except (RedisError, OSError) as exc:
                metrics.HR_STORE_ERRORS.labels("put").inc()
                log.warning("HR store unreachable, keeping record for %s to apply later: %s", record.employee_id, exc)
        self.pending.append(record)
        self._tokens.append(token)
        return False

    async def _put(self, record: HRRecord) -> bool:
        return bool(await self._script(**self._put_call(record)))

    async def flush_pending(self) -> list[Any]:
        """Write the pending records in order until Redis fails again; the tokens of those written.
        Safe to call at any time (the worker's ``hr-retry`` timer does, every second)."""
        done: list[Any] = []
        while self.pending:
            try:
                await self._put(self.pending[0])
            except (RedisError, OSError):
                metrics.HR_STORE_ERRORS.labels("retry").inc()
                break
            self.pending.pop(0)
            done.append(self._tokens.pop(0))
        if done:
            log.info("HR store reachable again: %d pending records written, %d left", len(done), len(self.pending))
        return done

    async def purge(self, employee_id: str, accounts: list[str] | None = None) -> int:
        """Delete the employee's HR record and the aliases that still point at them (retention); keys deleted.

        The accounts come from the record in Redis, plus ``accounts`` (the worker's copy of the record)."""
        raw = await self.redis.hget(self._hr_key(employee_id), "r")
        aliases, keys = self._purge_plan(employee_id, raw, accounts)
        vals = await self.redis.mget(keys) if keys else []
        n = int(await self.redis.delete(self._hr_key(employee_id), *self._doomed(employee_id, keys, vals)))
        self._forget(employee_id, aliases)
        return n

    # ------------------------------------------------------------------ reads
    async def resolve_many(self, accounts: set[str]) -> dict[str, str | None]:
        """Employee id of each account (None when unknown); one Redis round trip for all cache misses."""
        out, misses = self._cached_aliases(accounts)
        if misses:
            try:
                self._fetched_aliases(misses, await self.redis.mget(self._alias_keys(misses)), out)
            except (RedisError, OSError) as exc:
                metrics.HR_STORE_ERRORS.labels("resolve").inc()
                log.warning("HR store unreachable, resolving %d accounts from the stale cache: %s", len(misses), exc)
                self._stale_aliases(misses, out)
        return out

    async def snapshots(self, employee_ids: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        """(HR record dict or None, stale) per employee; misses fetched in one pipeline."""
        out, misses = self._cached_snapshots(employee_ids)
        if misses:
            try:
                pipe = self.redis.pipeline(transaction=False)
                for emp in misses:
                    pipe.hget(self._hr_key(emp), "r")
                self._fetched_snapshots(misses, await pipe.execute(), out)
            except (RedisError, OSError) as exc:
                metrics.HR_STORE_ERRORS.labels("snapshot").inc()
                log.warning("HR store unreachable, %d snapshots from the stale cache: %s", len(misses), exc)
                self._stale_snapshots(misses, out)
        return out

    async def all_records(self, batch: int = 1000) -> list[dict[str, Any]]:
        """Every HR record in the store (the latest per employee): the population that the k-anonymity of
        ``alerts.secops`` is computed over (:class:`evidence.privacy.Population`)."""
        keys: list[Any] = []
        async for k in self.redis.scan_iter(match=f"{self.prefix}hr:*", count=batch):
            keys.append(k)
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), batch):
            pipe = self.redis.pipeline(transaction=False)
            for k in keys[i:i + batch]:
                pipe.hget(k, "r")
            out += self._records(await pipe.execute())
        return out

    async def close(self) -> None:
        await self.redis.aclose()
