"""``exitwatch bench --sections memory``: the default worker's memory with many employees' state.

The child builds what a worker process holds (``streams.tx``: the engine with its alias index, the state store
with every employee's committed state and its cache of decoded states, the HR store's cache, the k-anonymity
population and the evidence recorder), fills it with ``employees`` employees, and then runs a stream of their
events through the same processing and commits as the worker (no broker: ``send`` drops the records), until
the store's cache of decoded states is full, as in a worker that has run for a while. The resident memory of
the whole process is read from ``/proc`` before the worker's objects exist, after the states are loaded, and
after the stream.

The employees' states are the template company's (``exitwatch generate``, see ``exitwatch.bench.Workload``)
after its warm days, made by replay with the evidence recorder (what the worker's changelog holds), cloned
onto ``E~r`` replicas; the HR records are cloned the same way and put in Redis (under a prefix of their own,
deleted afterwards), as a worker finds them.
"""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import orjson


def _warm_worker_states(wl: Any) -> dict[str, bytes]:
    """The template's states after its warm days, in the stored form the worker commits (evidence kept);
    cached in the template's folder."""
    import pickle

    cache = wl.folder / "warm-worker-states.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]  # noqa: S301 - our own file
    from detectors.factory import build_engine
    from detectors.replay import run as replay_run
    from evidence.outputs import ReplayOutputs
    from evidence.recorder import stored_bytes

    eng = build_engine(models=True)
    out = ReplayOutputs(eng, secops=None, ledger=os.devnull)
    folder = wl.folder
    early = wl.warm_events()
    (folder / "hr.warm.jsonl").write_text("\n".join(orjson.dumps(r).decode() for r in wl.hr
                                                     if r["ts"][:10] < wl.cutoff) + "\n")
    (folder / "signals.warm.jsonl").write_text("\n".join(orjson.dumps(s).decode() for s in wl.signals
                                                          if s["ts"][:10] < wl.cutoff) + "\n")
    try:
        replay_run(eng, [folder / "hr.warm.jsonl"], [folder / "signals.warm.jsonl"], [early],
                   on_alert=lambda a: None, on_bad=lambda d: None, after=out.after)
    finally:
        out.close()
    states = {k: stored_bytes(v) for k, v in eng.store.data.items()}  # type: ignore[attr-defined]
    cache.write_bytes(pickle.dumps(states))
    return states


class _Msg:
    """A consumed message as confluent-kafka gives it (what ``Processor.decode`` reads)."""

    __slots__ = ("_t", "_p", "_o", "_v")

    def __init__(self, topic: str, partition: int, offset: int, value: bytes) -> None:
        self._t, self._p, self._o, self._v = topic, partition, offset, value

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def value(self) -> bytes:
        return self._v

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, int(time.time() * 1000))


def _own_db(url: str, db: int) -> str:
    """``url`` with database ``db`` (``redis://host:port/0`` -> ``redis://host:port/15``).

    >>> _own_db("redis://127.0.0.1:6379/0", 15), _own_db("rediss://h:1", 3)
    ('redis://127.0.0.1:6379/15', 'rediss://h:1/3')
    """
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    return urlunsplit((u.scheme, u.netloc, f"/{db}", u.query, u.fragment))


def _trimmed_rss(rss_bytes: Any) -> int:
    """The resident memory once the C allocator has given back the free pages inside its heap (glibc's
    ``malloc_trim``): how much of the resident set is memory freed but kept (0 change elsewhere)."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    return int(rss_bytes())


def _top_sites(n: int) -> list[dict[str, Any]]:
    """tracemalloc's ``n`` largest allocation sites alive now (MB, count), after a line with the total of all
    sites (``"site": "*"``: what Python objects hold; the rest of the resident memory is the allocators' and
    the libraries' own)."""
    import tracemalloc

    sites = tracemalloc.take_snapshot().statistics("lineno")
    total = {"site": "*", "mb": round(sum(s.size for s in sites) / 1e6, 2), "count": sum(s.count for s in sites)}
    return [total] + [{"site": "/".join(s.traceback[0].filename.rsplit("/", 2)[-2:]) + f":{s.traceback[0].lineno}",
                       "mb": round(s.size / 1e6, 2), "count": s.count} for s in sites[:n]]


def worker_memory_child(spec: dict[str, Any]) -> dict[str, Any]:
    from exitwatch.bench import Workload, clear_redis, percentile, preload_redis, rss_bytes, say
    from detectors.engine import EngineConfig
    from detectors.factory import build_engine
    from evidence.outputs import Outputs
    from schemas.settings import Settings
    from schemas.topics import activity_topic
    from schemas.transport import redis_kwargs
    from streams.common import partition_of
    from streams.tx.hr import SyncHRStore
    from streams.tx.process import Processor
    from streams.tx.store import StateStore

    import signal
    import sys

    # the HR records go to a Redis database of their own: a SCAN by a worker on the shared one (its HR gauges,
    # the k-anonymity population) must not walk 100,000 employees' keys meanwhile; and they are deleted on
    # SIGTERM too (the ``finally`` below)
    spec = {**spec, "redis": _own_db(spec["redis"], spec.get("redis_db", 15))}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wl = Workload(Path(spec["folder"]), spec["template_employees"], spec["template_days"], spec["warm_days"])
    blobs = _warm_worker_states(wl)
    tmpl = sorted(blobs)
    replicas = -(-spec["employees"] // len(tmpl))
    nparts = spec.get("partitions", 4)
    prefix = f"benchmem{uuid.uuid4().hex[:6]}."
    hr_template = [r for r in wl.hr if r["ts"][:10] < wl.cutoff]

    def hr() -> Iterator[dict[str, Any]]:  # made as needed: the bench's own copy is no part of the worker
        return (wl.replicate_hr(r, i) for i in range(replicas) for r in hr_template)

    for chunk in iter(lambda it=hr(): list(itertools.islice(it, 20000)), []):  # type: ignore[misc]
        preload_redis(spec["redis"], prefix, chunk)
    chunk = []  # not kept while measuring
    try:
        gc.collect()
        r_start = rss_bytes()
        # ---- what TxWorker.__init__ builds, without the Kafka clients
        s = Settings(topic_prefix=prefix, app_id=prefix + "mem", metrics_port=0, redis_url=spec["redis"])
        parts: dict[str, int] = {}

        def part_of(emp: str) -> int:
            p = parts.get(emp)
            if p is None:
                p = parts[emp] = partition_of(emp.encode(), nparts)
            return p

        work = tempfile.mkdtemp(prefix="exitwatch-benchmem-")
        cache = spec.get("state_cache") or s.tx_state_cache  # EXITWATCH_TX_STATE_CACHE
        store = StateStore(part_of, cache_size=cache, path=os.path.join(work, "tx-states.db"))
        engine = build_engine(rules_config=s.rules_config, models=s.models,
                              config=EngineConfig(lookback_days=s.lookback_days))
        engine.store = store
        hrs = SyncHRStore(s.redis_url, prefix=prefix, ttl=s.hr_cache_ttl_s, redis_options=redis_kwargs(s))
        proc = Processor(engine, hrs, prefix, s.pseudonym_key.get_secret_value().encode(), part_of,
                         set(range(nparts)), limits=(s.max_record_bytes, s.max_json_depth, 10 ** 10))
        proc.outputs = Outputs(engine, s)
        proc.send = lambda *a, **k: None
        gc.collect()
        r0 = rss_bytes()  # the empty worker (its imports, the engine, the clients' libraries)
        trace = spec.get("trace", 0)  # N > 0: tracemalloc's N largest sites alive after each phase (slower)
        if trace:
            import tracemalloc

            tracemalloc.start(1)
        # ---- every employee's committed state (a changelog restore) and HR (aliases, population)
        for r in range(replicas):
            for e in tmpl:
                emp = f"{e}~{r}"
                store.load(emp, part_of(emp), bytes(bytearray(blobs[e])))
        for rec in hr():
            engine.aliases.add(rec["employee_id"], rec.get("accounts") or [])
        for rec in hrs.all_records():
            proc.outputs.on_hr_population(rec)
        gc.collect()
        r1 = rss_bytes()
        sites_loaded = _top_sites(trace) if trace else None
        n_emp = len(store)
        say(f"memory: {n_emp:,} employees' states loaded: {(r1 - r0) / 1e6:,.0f} MB more resident")
        # ---- their events, processed and committed as the worker does, until the cache of decoded states is full
        stream = wl.event_stream(replicas)
        topic_of = {k: activity_topic(k, prefix) for k in ("file", "email", "crm", "device", "logon", "web", "print")}
        processed = 0
        t0, c0 = time.perf_counter(), time.process_time()
        cap = min(store.cache_size, n_emp)
        per_emp: dict[str, int] = {}
        each = spec.get("events_per_employee", 3)  # a few events each: the cache fills sooner, the same way

        def one_batch(offset: int, wanted: Any = None) -> int:
            """2,000 events of the stream (those ``wanted`` lets through), processed and committed as the worker
            does; the offsets from ``offset`` on. Returns the next offset."""
            batch: list[Any] = []
            while len(batch) < 2000:
                d = next(stream)
                if wanted is not None and not wanted(d):
                    continue
                key = (d.get("employee_id") or d["actor"]).encode()
                batch.append(proc.decode(_Msg(topic_of[d["kind"]], partition_of(key, nparts), offset, orjson.dumps(d))))
                offset += 1
            batch.sort(key=lambda x: (x.ts, x.rank))
            proc.process(batch)
            store.committed_changes(store.changes())
            proc.committed()
            return offset

        def a_few_each(d: dict[str, Any]) -> bool:
            emp = d.get("employee_id") or wl.employee_of(d) or d["actor"]
            if per_emp.get(emp, 0) >= each:
                return False
            per_emp[emp] = per_emp.get(emp, 0) + 1
            return True

        while processed < spec["max_events"] and len(store._live) < cap:
            processed = one_batch(processed, a_few_each)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        gc.collect()
        r2 = rss_bytes()
        sites_filled = _top_sites(trace) if trace else None
        # ---- then, the cache full, the stream as it comes (any number of events per employee): the cost of
        # the cache's size in time is the decoding (and, the kept events packed, unpacking) of the states missed
        steady, misses = spec.get("steady_events", 0), [0]
        live, store_get = store._live, store.get

        def counted_get(emp: str) -> Any:  # a state asked for and not in the cache: decoded from its bytes
            if emp not in live:
                misses[0] += 1
            return store_get(emp)

        store.get = counted_get  # type: ignore[method-assign]
        if spec.get("steady_spread"):  # every event to a replica drawn at random: all employees active at once
            import random

            rnd = random.Random(7)
            wl.replica_of = lambda emp, day, n: rnd.randrange(n)  # type: ignore[method-assign]
        t1, c1 = time.perf_counter(), time.process_time()
        done = 0
        while done < steady:
            done = one_batch(processed + done) - processed
        steady_wall, steady_cpu = time.perf_counter() - t1, time.process_time() - c1
        gc.collect()
        r3 = rss_bytes()
        r4 = _trimmed_rss(rss_bytes) if steady else r3
        sizes = sorted(len(v) for v in store.committed.values())
        res = {
            "employees": n_emp,
            "events_processed": processed,
            "live_states": len(store._live),
            "live_states_cap": store.cache_size,
            "rss_mb_at_start": round(r_start / 1e6, 1),
            "rss_mb_empty_worker": round(r0 / 1e6, 1),
            "rss_mb_states_loaded": round(r1 / 1e6, 1),
            "rss_mb": round(r2 / 1e6, 1),
            "worker_objects_mb": round((r2 - r0) / 1e6, 1),
            "bytes_per_employee": round((r2 - r0) / n_emp),
            "bytes_per_employee_states_loaded": round((r1 - r0) / n_emp),
            "stored_state_bytes_mean": round(sum(sizes) / len(sizes)),
            "stored_state_bytes_p95": percentile([float(x) for x in sizes], 95),
            "events_per_cpu_s": round(processed / max(cpu, 1e-6)),
            "seconds": round(wall, 1),
        }
        if steady:
            res.update({"steady_events": done, "steady_events_per_cpu_s": round(done / max(steady_cpu, 1e-6)),
                        "steady_events_per_s": round(done / max(steady_wall, 1e-6)),
                        "steady_states_decoded": misses[0], "rss_mb_after_steady": round(r3 / 1e6, 1),
                        "rss_mb_after_steady_malloc_trim": round(r4 / 1e6, 1)})
        if trace:
            res["top_sites_states_loaded"] = sites_loaded
            res["top_sites_end"] = sites_filled
            if steady:
                res["top_sites_after_steady"] = _top_sites(trace)
        say(f"memory: worker with {n_emp:,} employees: {res['rss_mb']:,} MB resident "
            f"({res['live_states']:,} decoded states cached, {processed:,} events)")
        store.close()
        shutil.rmtree(work, ignore_errors=True)
        return res
    finally:
        clear_redis(spec["redis"], prefix)
