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
same id, never lose one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import orjson
from pydantic import ValidationError

from detectors.engine import Engine, EngineConfig
from detectors.factory import build_engine
from detectors.replay import error_reason
from detectors.state import EmployeeState
from schemas import ActivityEvent, Alert, DeadLetter, EmployeeSnapshot, EnrichedEvent, HRRecord, HRSignal
from schemas.models import utcnow
from schemas.pseudonym import pseudonymize
from schemas.settings import Settings
from schemas.topics import ACTIVITY_KINDS, topic_names
from streams import metrics
from streams.hrstore import HRStore

log = logging.getLogger("exitwatch.worker")

#: Fields of the HR snapshot that identify a person; removed from alerts.secops.
IDENTITY_FIELDS = ("employee_id", "manager_id", "accounts", "name", "email")
#: Largest message the worker accepts; larger ones are dead-lettered.
MAX_MESSAGE_BYTES = 1 << 20
_TOPIC_CODE = {"enriched": "e", "hr": "h", "signals": "s"}


class TableStore:
    """The engine's state store in the worker: a Faust table of serialised :class:`EmployeeState`.

    Writes are held until :meth:`commit`, which the detect agent calls once the message's alerts are
    acknowledged, so a state that records an offset never exists without that offset's alerts.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self._open: dict[str, EmployeeState] = {}
        self._dirty: set[str] = set()

    def get(self, employee_id: str) -> EmployeeState | None:
        st = self._open.get(employee_id)
        if st is None:
            raw = self.table.get(employee_id)
            if raw is None:
                return None
            st = self._open[employee_id] = EmployeeState.from_bytes(raw)
        return st

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self._open[employee_id] = state
        self._dirty.add(employee_id)

    def commit(self) -> None:
        for emp in self._dirty:
            self.table[emp] = self._open[emp].to_bytes()
        self._dirty.clear()
        self._open.clear()

    def rollback(self) -> None:
        self._dirty.clear()
        self._open.clear()


def secops_view(alert: Alert, key: bytes) -> dict[str, Any]:
    """The ``alerts.secops`` form: employee id replaced by its keyed pseudonym, identity fields removed."""
    d = alert.model_dump(mode="json")
    d["employee_id"] = pseudonymize(alert.employee_id, key)
    d["employee"] = {k: v for k, v in d["employee"].items() if k not in IDENTITY_FIELDS}
    return d


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

    async def deadletter(self, stage: str, reason: str, raw: bytes | str) -> None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        dl = DeadLetter(source=stage, reason=reason[:2000], raw=text[:65536], ts=utcnow())
        metrics.DEADLETTER.labels(stage, reason.split(":")[0][:60]).inc()
        self.counters["deadletter"] += 1
        await self.topics["deadletter"].send(key=stage.encode(), value=orjson.dumps(dl.model_dump(mode="json")))

    async def detect_one(self, code: str, topic: str, offset: int, raw: bytes) -> list[Alert]:
        """One message of the detect stage: ``code`` is ``e`` (activity.enriched), ``h`` (hr.status) or ``s``
        (hr.signals). Returns the alerts it emitted (already acknowledged by the broker)."""
        metrics.DETECTED.labels(topic).inc()
        try:
            if code == "e":
                obj: Any = EnrichedEvent.model_validate_json(raw)
            elif code == "h":
                obj = HRRecord.model_validate_json(raw)
            elif code == "s":
                obj = HRSignal.model_validate_json(raw)
            else:
                raise ValueError(f"detect stage does not read topic {topic!r}")
        except (ValidationError, ValueError) as exc:
            stage = {"e": "detect", "h": "hr", "s": "signals"}.get(code, "detect")
            await self.deadletter(stage, f"invalid {topic} record: {error_reason(exc)}", raw)
            return []
        emp = obj.employee_id
        if emp is None:  # unresolved actor: counted by the enrich stage, nothing to detect on
            return []
        store, engine = self.store, self.engine
        try:
            st = store.get(emp) or EmployeeState()
            offsets = st.extra.setdefault("o", {})
            if offsets.get(code, -1) >= offset:
                metrics.DUPLICATES_SKIPPED.labels(topic).inc()
                store.rollback()
                return []
            offsets[code] = offset
            store.put(emp, st)
            errors_before = dict(engine.stats.errors)
            if code == "e":
                alerts = engine.on_event(obj, employee_id=emp)
            elif code == "h":
                alerts = engine.on_hr(obj)
                metrics.HR_RECORDS.labels("detect").inc()
            else:
                alerts = engine.on_signal(obj)
            for rid, n in engine.stats.errors.items():
                if n != errors_before.get(rid, 0):
                    metrics.DETECTOR_ERRORS.labels(rid).inc(n - errors_before.get(rid, 0))
            await self.emit(alerts)
            store.commit()
            return alerts
        except Exception as exc:  # one bad record never stops the stream
            store.rollback()
            log.exception("detect failed on %s@%s", topic, offset)
            await self.deadletter("detect", f"detector failure: {type(exc).__name__}: {exc}", raw)
            return []

    async def emit(self, alerts: list[Alert]) -> None:
        """Send each alert to both alert topics and wait until the broker has them."""
        futs = []
        for a in alerts:
            hr_value = orjson.dumps(a.model_dump(mode="json"))
            sec = secops_view(a, self.pseudonym_key)
            futs.append(await self.topics["alerts_hr"].send(key=a.employee_id.encode(), value=hr_value))
            futs.append(await self.topics["alerts_secops"].send(key=sec["employee_id"].encode(), value=orjson.dumps(sec)))
            metrics.ALERTS.labels(a.rule_id, a.severity).inc()
            metrics.EVENT_TO_ALERT.observe(max(0.0, time.time() - a.ts.timestamp()))
            self.counters["alerts"] += 1
        if futs:
            await asyncio.gather(*futs)


def create_worker(settings: Settings | None = None, engine: Engine | None = None, **app_overrides: Any) -> Worker:
    """Build the Faust app with its agents. ``app_overrides`` go to ``faust.App`` (tests use ``store``)."""
    s = settings or Settings()
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
    )
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
    topics["detect_in"] = topic(names["activity_enriched"], names["hr_status"], names["hr_signals"])
    topics["hr_in"] = topic(names["hr_status"])
    table = app.Table("employee-state", default=None, key_type=str, value_type=bytes,
                      partitions=s.partitions)
    store = TableStore(table)
    if engine is None:
        engine = build_engine(rules_config=s.rules_config, store=store,
                              config=EngineConfig(lookback_days=s.lookback_days))
    else:
        engine.store = store
    hr_store = HRStore(s.redis_url, prefix=s.topic_prefix, ttl=s.hr_cache_ttl_s)
    worker = Worker(s, app, topics, engine, store, hr_store, s.pseudonym_key.get_secret_value().encode())
    kind_of_topic = {names[f"activity_{k}"]: k for k in ACTIVITY_KINDS}
    code_of_topic = {names["activity_enriched"]: "e", names["hr_status"]: "h", names["hr_signals"]: "s"}

    # ------------------------------------------------------------------ HR agent
    @app.agent(topics["hr_in"], name="hr-store")
    async def hr_agent(stream: Any) -> None:
        """Keep every HR record in Redis (status, last day, department, aliases)."""
        async for raw in stream:
            try:
                rec = HRRecord.model_validate_json(raw)
            except (ValidationError, ValueError):
                continue  # the detect agent dead-letters it: one entry per bad record
            await hr_store.put(rec)
            metrics.HR_RECORDS.labels("store").inc()

    # ------------------------------------------------------------------ enrich agent
    @app.agent(topics["activity_in"], name="enrich")
    async def enrich(stream: Any) -> None:
        """Validate, resolve the actor to an employee, attach the HR snapshot; to ``activity.enriched``."""
        async for batch in stream.take(500, within=0.05):
            t0 = time.perf_counter()
            events: list[ActivityEvent] = []
            for raw in batch:
                if len(raw) > MAX_MESSAGE_BYTES:
                    await worker.deadletter("enrich", f"record too large: {len(raw)} bytes", raw[:4096])
                    continue
                try:
                    events.append(ActivityEvent.model_validate_json(raw))
                except (ValidationError, ValueError) as exc:
                    await worker.deadletter("enrich", f"invalid activity event: {error_reason(exc)}", raw)
            if not events:
                continue
            to_resolve = {e.actor for e in events if not e.employee_id}
            resolved = await hr_store.resolve_many(to_resolve) if to_resolve else {}
            emps = {e.employee_id or resolved.get(e.actor) for e in events}
            emps.discard(None)
            snaps = await hr_store.snapshots(emps) if emps else {}  # type: ignore[arg-type]
            for e in events:
                emp = e.employee_id or resolved.get(e.actor)
                kind_topic = kind_of_topic.get(e.kind if e.kind != "print" else "file", e.kind)
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
                await topics["activity_enriched"].send(key=key, value=orjson.dumps(data))
                worker.counters["enriched"] += 1
            metrics.PROCESSING.labels("enrich").observe(time.perf_counter() - t0)

    # ------------------------------------------------------------------ detect agent
    @app.agent(topics["detect_in"], name="detect")
    async def detect(stream: Any) -> None:
        """Run the detection core on enriched events, HR records and signals; alerts to both topics."""
        async for ev in stream.events():
            t0 = time.perf_counter()
            msg = ev.message
            await worker.detect_one(code_of_topic.get(msg.topic, "?"), msg.topic, msg.offset, ev.value)
            metrics.PROCESSING.labels("detect").observe(time.perf_counter() - t0)

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

    @app.on_before_shutdown.connect
    async def _final_checkpoint(app_: Any, **kwargs: Any) -> None:
        save_models()

    worker.save_models = save_models  # type: ignore[attr-defined]

    worker.agents = {"hr": hr_agent, "enrich": enrich, "detect": detect}  # type: ignore[attr-defined]
    for hook in WORKER_HOOKS:  # observability and other add-ons register themselves here
        hook(worker)
    return worker


#: Functions called with every new :class:`Worker` (e.g. ``streams.observability.install``).
WORKER_HOOKS: list[Any] = []
