"""Processing: one decoded record at a time, in the order the merge gives, writing through a transaction.

* ``activity.*``: resolve the actor to an employee (the engine's alias index, else the HR store), attach the
  HR snapshot, write it to ``activity.enriched``; detect here when this worker owns the employee's state,
  else forward it to the rekey topic, on the employee's partition, for the worker that does.
* ``hr.status``: store it in Redis (and the in-process cache) for enrichment, apply it to the engine.
* ``hr.signals``: apply to the engine (the departure-propensity models).
* the rekey topic: records forwarded by a worker that did not own their employee; header ``x-exitwatch-kind``
  says which of the three they are.

Alerts go to ``alerts.hr`` (identified) and ``alerts.secops`` (pseudonymized); records that cannot be read
go to ``deadletter`` with their reason, once (they are part of the transaction like everything else).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from detectors.engine import Engine
from schemas import ActivityEvent, Alert, DeadLetter, EnrichedEvent, HRRecord, HRSignal
from schemas import guard
from schemas.models import utcnow
from schemas.topics import ACTIVITY_KINDS, topic_names
from streams import metrics
from detectors.routing import for_secops
from streams.common import REKEY_TOPIC as FAUST_REKEY_TOPIC
from streams.common import SRC_HEADER, count_errors, secops_view, src_header
from streams.observability import count_alert
from streams.tx.merge import BAD_TS, KIND_EVENT, KIND_HR, KIND_SIGNAL, Rec

log = logging.getLogger("exitwatch.tx.process")

#: Internal topic (after the prefix) of records forwarded to the worker that owns their employee's state; the
#: Faust worker's name for it, so that either engine reads what the other left there.
REKEY_TOPIC = FAUST_REKEY_TOPIC
KIND_HEADER = "x-exitwatch-kind"
#: Largest record the worker writes (the broker's default message.max.bytes is 1 MiB + 12 bytes).
MAX_OUTPUT_BYTES = 1_000_000
_ROLE_MODEL = {"activity": (ActivityEvent, KIND_EVENT, "enrich"), "hr": (HRRecord, KIND_HR, "hr"),
               "signal": (HRSignal, KIND_SIGNAL, "signals")}
_REKEY_ROLE = {b"event": "rekeyed", b"hr": "hr", b"signal": "signal"}
_EVENT_FIELDS = tuple(ActivityEvent.model_fields)
_N_FIELDS = len(_EVENT_FIELDS)


def event_json(ev: ActivityEvent) -> dict[str, Any]:
    """The fields of ``ev`` in contract order, ``ts`` still a datetime: ``orjson.dumps(..., option=orjson.
    OPT_UTC_Z)`` of it is ``orjson.dumps(ev.model_dump(mode="json"))`` (tests/streams/test_tx_units.py) at a
    fraction of the cost (the values came from JSON and the guard, so they are JSON values already)."""
    src = ev.__dict__
    if type(ev) is ActivityEvent and len(src) == _N_FIELDS:  # pydantic keeps the fields in declaration order
        return dict(src)
    return {k: src[k] for k in _EVENT_FIELDS}


def header(headers: Any, name: str) -> bytes | None:
    for k, v in headers or ():
        if k == name:
            return v
    return None


def snapshot(rec: dict[str, Any] | None, emp: str | None, stale: bool) -> dict[str, Any]:
    """The ``employee`` object of an enriched event (``EmployeeSnapshot`` in JSON form) from an HR record."""
    r = rec or {}
    return {"employee_id": emp if emp is not None else r.get("employee_id"), "status": r.get("status"),
            "department": r.get("department"), "role": r.get("role"), "manager_id": r.get("manager_id"),
            "resignation_date": r.get("resignation_date"), "last_day": r.get("last_day"),
            "watchlist": bool(r.get("watchlist")), "resolved": emp is not None, "stale": stale}


class Processor:
    """Decodes consumed messages into :class:`Rec` and applies them, writing through ``send``."""

    def __init__(self, engine: Engine, hr: Any, prefix: str, pseudonym_key: bytes,
                 partition_of: Callable[[str], int], owned: set[int], limits: tuple[int, int, float] | None = None
                 ) -> None:
        """``limits``: the input guard's (largest record, deepest JSON, seconds a ``ts`` may lie ahead of the
        clock), the ``max_record_bytes``, ``max_json_depth`` and ``max_future_skew_s`` settings."""
        self.limits = limits or (guard.MAX_RECORD_BYTES, guard.MAX_JSON_DEPTH, guard.MAX_FUTURE_SKEW_S)
        self._window: tuple[float, Any] = (0.0, None)
        self.engine, self.hr, self.key = engine, hr, pseudonym_key
        self.names = topic_names(prefix)
        self.rekey_topic = prefix + REKEY_TOPIC
        self.role: dict[str, str] = {self.names[f"activity_{k}"]: "activity" for k in ACTIVITY_KINDS}
        self.role.update({self.names["hr_status"]: "hr", self.names["hr_signals"]: "signal", self.rekey_topic: "rekey"})
        self.contract = {t: t[len(prefix):] for t in self.role}
        self.partition_of, self.owned = partition_of, owned
        self.send: Callable[..., None] = lambda *a, **k: None
        #: The evidence ledger and the alerts.secops form (None: secops form without HR fields, no ledger)
        self.outputs: Any = None
        self.alerts: list[Alert] = []  # made in the open transaction; counted once it commits
        self.counters = {"alerts": 0, "deadletter": 0, "enriched": 0, "forwarded": 0}
        self._events_in: dict[tuple[str, str], Any] = {}  # metric children by (kind, source): labels() per event
        self._detected = {t: metrics.DETECTED.labels(c) for t, c in self.contract.items()}  # costs a lock each
        self._counts: dict[Any, int] = {}  # the batch's per-event counts by metric child: one inc (lock) each
        #: the ``employee`` object of the batch's enriched events, serialised once per employee (None: unresolved)
        self._snapshot_json: dict[str | None, Any] = {}

    @property
    def input_topics(self) -> list[str]:
        return list(self.role)

    # ------------------------------------------------------------------ decoding
    def decode(self, m: Any) -> Rec:
        topic, raw = m.topic(), m.value()
        role = self.role.get(topic, "activity")
        if role == "rekey":
            role = _REKEY_ROLE.get(header(m.headers(), KIND_HEADER) or b"event", "rekeyed")
        model, rank, stage = _ROLE_MODEL.get(role, (EnrichedEvent, KIND_EVENT, "detect"))
        ts_type, ts_ms = m.timestamp()
        rec = Rec(topic, m.partition(), m.offset(), BAD_TS, rank, raw=raw, kafka_ts=ts_ms / 1000 if ts_type else None,
                  headers=m.headers() if role == "activity" or role == "rekeyed" else None)
        if raw is None:  # a tombstone (hr.status is compacted): nothing to apply
            rec.reason = ""
            return rec
        obj, reason = guard.decode_record(raw, model, window=self.window(), max_bytes=self.limits[0],
                                          max_depth=self.limits[1])
        if obj is None:
            rec.reason = f"{topic}: {reason}" if stage in ("hr", "signals") else (reason or "invalid")
            rec.obj = stage
            return rec
        rec.obj, rec.ts = obj, obj.ts.timestamp()
        return rec

    def window(self) -> Any:
        """The guard's clock window (records stamped before 2000 or too far ahead), renewed every second."""
        now = time.time()
        if now - self._window[0] >= 1.0:
            self._window = (now, guard.clock_window(now, self.limits[2]))
        return self._window[1]

    # ------------------------------------------------------------------ processing
    def process(self, recs: list[Rec]) -> None:
        """Apply ``recs`` (in merge order); every output goes through :attr:`send`."""
        t0 = time.perf_counter()
        events = [r.obj for r in recs if r.reason is None and type(r.obj) is ActivityEvent]
        aliases = self.engine.aliases
        need = {e.actor for e in events if not e.employee_id and aliases.resolve(e.actor) is None}
        resolved = self.hr.resolve_many(need) if need else {}
        emps = {e.employee_id or aliases.resolve(e.actor) or resolved.get(e.actor) for e in events}
        emps.discard(None)
        snaps = self.hr.snapshots(emps) if emps else {}  # type: ignore[arg-type]
        self._snapshot_json.clear()
        for r in recs:
            if r.reason is not None:
                if r.reason:
                    self.deadletter(str(r.obj), r.reason, r.raw or b"")
                continue
            self.watermark(r.ts)
            try:
                obj = r.obj
                if type(obj) is ActivityEvent:
                    self.on_activity(r, obj, resolved, snaps)
                elif isinstance(obj, EnrichedEvent):
                    self.detect(r, obj, obj.employee_id or "")
                elif isinstance(obj, HRRecord):
                    self.on_hr(r, obj)
                    snaps.pop(obj.employee_id, None)  # the batch's later events read the record just stored
                    self._snapshot_json.pop(obj.employee_id, None)
                else:
                    self.on_signal(r, obj)
            except Exception as exc:  # one bad record never stops the stream
                log.exception("processing failed on %s@%d", r.topic, r.offset)
                self.deadletter("detect", f"detector failure: {type(exc).__name__}: {exc}", r.raw or b"")
        for counter, n in self._counts.items():  # kept for the next batch if this one raised before here
            counter.inc(n)
        self._counts.clear()
        metrics.PROCESSING.labels("detect").observe(time.perf_counter() - t0)

    def watermark(self, ts: float) -> None:
        """The merge's event time reached ``ts``: the leavers whose last day it passed get their last-day
        summary (:meth:`detectors.engine.Engine.advance`; the same alerts as replay's)."""
        try:
            alerts = self.engine.advance(ts)
        except Exception:  # the records still go on; the summaries come at the leavers' next news
            log.exception("the watermark's offboarding check failed at %s", ts)
            return
        by_emp: dict[str, list[Alert]] = {}
        for a in alerts:
            by_emp.setdefault(a.employee_id, []).append(a)
        for emp, group in by_emp.items():
            self.emit(None, group, emp)

    def on_activity(self, r: Rec, ev: ActivityEvent, resolved: dict[str, str | None],
                    snaps: dict[str, tuple[dict[str, Any] | None, bool]]) -> None:
        emp = ev.employee_id or self.engine.aliases.resolve(ev.actor) or resolved.get(ev.actor)
        counter = self._events_in.get((ev.kind, ev.source))
        if counter is None:
            counter = self._events_in[(ev.kind, ev.source)] = metrics.EVENTS_IN.labels(
                self.contract_kind(ev.kind), ev.kind, ev.source)
        self._counts[counter] = self._counts.get(counter, 0) + 1
        employee = self._snapshot_json.get(emp)  # the batch's snapshot of emp, in JSON once (an employee's
        if employee is None:  # events come in runs: the bench's backlog had ~8 per employee per batch)
            if emp is not None and emp not in snaps:
                snaps.update(self.hr.snapshots({emp}))
            rec, stale = snaps.get(emp, (None, False)) if emp is not None else (None, False)
            # copied to its size: orjson's output holds about 4 KB, and a batch keeps one per employee
            employee = self._snapshot_json[emp] = orjson.Fragment(
                bytes(memoryview(orjson.dumps(snapshot(rec, emp, stale)))))
        data = event_json(ev)
        data["employee_id"] = emp
        data["employee"] = employee
        key = (emp or ev.actor).encode()
        value = orjson.dumps(data, option=orjson.OPT_UTC_Z)
        if len(value) > MAX_OUTPUT_BYTES:  # the broker would refuse it, and the transaction with it, for ever
            self.deadletter("enrich", f"record too large: {len(value)} bytes once enriched (limit "
                            f"{MAX_OUTPUT_BYTES})", r.raw or b"")
            return
        src = [(SRC_HEADER, src_header(r.topic, r.partition, r.offset).encode())]
        self.send(self.names["activity_enriched"], value, key, headers=src)
        self.counters["enriched"] += 1
        if emp is None:
            metrics.UNRESOLVED.labels(ev.source).inc()
            return
        part = self.partition_of(emp)
        if part in self.owned:
            self.detect(r, ev, emp)
        else:
            self.forward(b"event", value, key, part, src)

    def forward(self, kind: bytes, value: bytes, key: bytes, part: int, headers: list[Any] | None = None) -> None:
        """To the rekey topic, on the employee's partition: the worker owning their state applies it."""
        self.send(self.rekey_topic, value, key, partition=part, headers=[*(headers or []), (KIND_HEADER, kind)])
        self.counters["forwarded"] += 1

    def detect(self, r: Rec, ev: ActivityEvent, emp: str) -> None:
        engine = self.engine
        errors_before = dict(engine.stats.errors) if engine.stats.errors else {}
        dups = engine.stats.duplicates
        alerts = engine.on_event(ev, employee_id=emp)
        if engine.stats.duplicates != dups:
            metrics.DUPLICATES_SKIPPED.labels(self.contract[r.topic]).inc()
        if engine.stats.errors:
            count_errors(engine, errors_before)
        counter = self._detected[r.topic]
        self._counts[counter] = self._counts.get(counter, 0) + 1
        self.emit(ev, alerts, emp)

    def on_hr(self, r: Rec, rec: HRRecord) -> None:
        self.hr.put(rec, token=(r.topic, r.partition, r.offset))
        metrics.HR_RECORDS.labels("store").inc()
        part = self.partition_of(rec.employee_id)
        if part not in self.owned:  # keyed by something else than the employee id
            self.forward(b"hr", r.raw or b"", rec.employee_id.encode(), part)
            return
        errors_before = dict(self.engine.stats.errors)
        alerts = self.engine.on_hr(rec)
        count_errors(self.engine, errors_before)
        metrics.HR_RECORDS.labels("detect").inc()
        metrics.DETECTED.labels(self.contract[r.topic]).inc()
        self.emit(rec, alerts, rec.employee_id)

    def on_signal(self, r: Rec, sig: HRSignal) -> None:
        part = self.partition_of(sig.employee_id)
        if part not in self.owned:
            self.forward(b"signal", r.raw or b"", sig.employee_id.encode(), part)
            return
        errors_before = dict(self.engine.stats.errors)
        alerts = self.engine.on_signal(sig)
        count_errors(self.engine, errors_before)
        metrics.DETECTED.labels(self.contract[r.topic]).inc()
        self.emit(sig, alerts, sig.employee_id)

    def contract_kind(self, kind: str) -> str:
        return "activity." + ("file" if kind == "print" else kind)

    # ------------------------------------------------------------------ outputs
    def emit(self, record: Any, alerts: list[Alert], emp: str) -> None:
        """After ``record`` was applied to ``emp``'s state: the evidence it leaves (:class:`evidence.outputs.
        Outputs`, kept in the state) and its alerts to ``alerts.hr``, ``alerts.secops`` (keyed alert id,
        k-anonymous HR fields; none for departure propensity) and their signed entries to ``evidence.ledger``."""
        if self.outputs is not None:
            entries, secs = self.outputs.process(record, alerts, emp)
        elif not alerts:
            return
        else:
            entries, secs = [], [secops_view(a, self.key) if for_secops(a) else None for a in alerts]
        for a, sec in zip(alerts, secs):
            self.send(self.names["alerts_hr"], orjson.dumps(a.model_dump(mode="json")), a.employee_id.encode())
            if sec is not None:
                self.send(self.names["alerts_secops"], orjson.dumps(sec), sec["employee_id"].encode())
            self.alerts.append(a)
        for e in entries:  # keyed by the employee, as alerts.hr
            self.send(self.names["evidence_ledger"], orjson.dumps(e), emp.encode())

    def deadletter(self, stage: str, reason: str, raw: bytes | str) -> None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        dl = DeadLetter(source=stage, reason=reason[:2000], raw=text[:65536], ts=utcnow())
        metrics.DEADLETTER.labels(stage, reason).inc()
        self.counters["deadletter"] += 1
        self.send(self.names["deadletter"], orjson.dumps(dl.model_dump(mode="json")), stage.encode())

    def committed(self) -> None:
        """The open transaction committed: its alerts are on the broker; count them."""
        now = time.time()
        for a in self.alerts:
            metrics.ALERTS.labels(a.rule_id, a.severity).inc()
            metrics.EVENT_TO_ALERT.observe(max(0.0, now - a.ts.timestamp()))
            count_alert(a)
        self.counters["alerts"] += len(self.alerts)
        self.alerts = []

    def aborted(self) -> None:
        self.alerts = []
