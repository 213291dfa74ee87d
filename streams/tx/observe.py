"""Metrics and health of the transactional worker, under the same names as the Faust worker's
(:mod:`streams.metrics`, :mod:`streams.observability`), so ``/metrics``, ``/healthz``, ``/readyz`` and the
Grafana dashboards work unchanged: a heartbeat per loop iteration, and every :data:`TICK_S` the consumer lag
per partition, assigned partitions, readiness and tracked employees; every :data:`HR_GAUGES_S` the departure
gauges from the HR store (on a thread of their own: the scan of Redis never holds the loop).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import Any

import orjson
from confluent_kafka import TopicPartition

from streams import metrics
from streams.observability import HR_GAUGES_S, STALE_AFTER_S, STARTUP_GRACE_S, TICK_S, _glob_escape, set_hr_gauges

log = logging.getLogger("exitwatch.tx.observe")


class TxObservability:
    """``worker.observability`` for :func:`streams.health.start_health_server`: ``alive()``, ``readiness()``."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.created = time.monotonic()
        self.heartbeat: float | None = None
        self._next_tick = 0.0
        self._next_hr = 0.0
        self._lag_labels: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._hr_thread: threading.Thread | None = None
        self._ready: dict[str, Any] = {"ready": False, "partitions": 0, "rebalancing": None, "recovery_done": False}

    def heartbeat_now(self) -> None:
        """Called by the loop every iteration; runs the periodic updates when due."""
        now = time.monotonic()
        self.heartbeat = now
        if now >= self._next_tick:
            self._next_tick = now + TICK_S
            self._guarded(self.tick)
        if now >= self._next_hr:
            self._next_hr = now + HR_GAUGES_S
            self.hr_gauges_in_background()

    def hr_gauges_in_background(self) -> threading.Thread | None:
        """Start :meth:`update_hr_gauges` on its own thread unless the last one still runs: the scan walks
        every ``{prefix}hr:*`` key of a Redis that may hold millions of keys (shared with other applications),
        so the loop, which heartbeats and feeds the transaction, never waits for it. Returns the thread."""
        t = self._hr_thread
        if t is not None and t.is_alive():
            return None
        t = self._hr_thread = threading.Thread(target=self._guarded, args=(self.update_hr_gauges,),
                                               name="tx-hr-gauges", daemon=True)
        t.start()
        return t

    @staticmethod
    def _guarded(fn: Any) -> None:
        try:
            fn()
        except Exception as exc:  # never let a metric stop the worker
            log.debug("%s skipped: %r", fn.__name__, exc)

    def processed(self, recs: list[Any]) -> None:
        """Ingest (Kafka timestamp) to processed, and last-processed time, per topic, once per batch."""
        now = time.time()
        contract = self.worker.proc.contract
        last: dict[str, float] = {}
        for r in recs:
            if r.kafka_ts is not None:
                last[r.topic] = r.kafka_ts
        for topic, kts in last.items():
            metrics.INGEST_TO_PROCESSED.labels(contract[topic]).observe(max(0.0, now - kts))
            metrics.LAST_PROCESSED.labels(contract[topic]).set(now)

    def alive(self) -> tuple[bool, dict[str, Any]]:
        now = time.monotonic()
        if self.heartbeat is None:
            age = now - self.created
            return age < STARTUP_GRACE_S, {"started": False, "seconds_since_start": round(age, 1)}
        age = now - self.heartbeat
        return age < STALE_AFTER_S, {"started": True, "seconds_since_heartbeat": round(age, 1)}

    def readiness(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._ready)

    def tick(self) -> None:
        w = self.worker
        contract = w.proc.contract
        tps = [tp for tp in w.merge.buf if tp[0] in contract]
        ready = {"ready": bool(tps) and w.ready and not w.rebalancing, "partitions": len(tps),
                 "rebalancing": w.rebalancing, "recovery_done": w.ready, "engine": "tx"}
        with self._lock:
            self._ready = ready
        metrics.READY.set(1 if ready["ready"] else 0)
        metrics.ASSIGNED_PARTITIONS.set(len(tps))
        metrics.EMPLOYEES.set(len(w.store))
        seen: set[tuple[str, str]] = set()
        for tp in tps:
            _, hi = w.consumer.get_watermark_offsets(TopicPartition(*tp), cached=True)
            committed = w.committed_offsets.get(tp, -1)
            if hi < 0 or committed < 0:
                continue
            labels = (contract[tp[0]], str(tp[1]))
            metrics.CONSUMER_LAG.labels(*labels).set(max(0, hi - committed))
            seen.add(labels)
        for labels in self._lag_labels - seen:
            try:
                metrics.CONSUMER_LAG.remove(*labels)
            except KeyError:
                pass
        self._lag_labels = seen

    def update_hr_gauges(self) -> None:
        """Scan the HR store's records (``{prefix}hr:*``) into the departure gauges."""
        r = self.worker.hr.redis
        records: list[dict[str, Any]] = []
        keys = list(r.scan_iter(match=_glob_escape(self.worker.settings.topic_prefix) + "hr:*", count=1000))
        for i in range(0, len(keys), 1000):
            pipe = r.pipeline(transaction=False)
            for k in keys[i:i + 1000]:
                pipe.hget(k, "r")
            for raw in pipe.execute():
                if raw:
                    try:
                        records.append(orjson.loads(raw))
                    except orjson.JSONDecodeError:
                        pass
        set_hr_gauges(records, dt.datetime.now(dt.timezone.utc).date())


def start_watchdog(worker: Any, limit: float, exit_code: int) -> None:
    """Last resort: exit with ``exit_code`` (the supervisor restarts the worker, which resumes from the
    committed offsets) when one loop iteration has taken ``limit`` seconds (``worker.loop_at``): a client call
    that never returns cannot be interrupted from Python."""
    def watch() -> None:
        while not worker._stop:
            time.sleep(min(5.0, limit / 4))
            if time.monotonic() - worker.loop_at > limit:
                log.error("the worker loop has not come round for %.0f s (a Kafka client call hangs); exiting "
                          "with code %d so that the supervisor restarts it", limit, exit_code)
                logging.shutdown()
                os._exit(exit_code)

    threading.Thread(target=watch, name="tx-watchdog", daemon=True).start()
