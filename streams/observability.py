"""Observability of the worker: what :mod:`streams.app` does not measure itself, and JSON logs.

:func:`install` is a worker hook (``streams.app.WORKER_HOOKS``); for every new :class:`~streams.app.Worker`
it adds

* a Faust sensor: ingest-to-processed latency (Kafka message timestamp to the message being acknowledged),
  last-processed time per topic, rebalances;
* a timer (every :data:`TICK_S`): consumer lag per topic-partition (high-water mark minus committed offset),
  assigned partitions, readiness, a heartbeat that ``/healthz`` checks;
* a timer (every :data:`HR_GAUGES_S`): employees by HR status and department, leavers by days to their last
  day, watch-list size, from the HR store (Redis);
* a wrapper around ``Worker.emit`` counting alerts by department, HR status and severity, and the days
  between an alert and the employee's last day. Identities never become labels.

:class:`JsonFormatter` writes one JSON object per log record; e-mail addresses in messages and tracebacks
are masked, so logs carry ids (employee, event, rule) but no personal data.

>>> import logging
>>> rec = logging.LogRecord("exitwatch.worker", logging.WARNING, __file__, 1, "no HR for %s", ("ann@corp.example",), None)
>>> rec.employee_id = "E1001"
>>> out = orjson.loads(JsonFormatter().format(rec))
>>> out["level"], out["msg"], out["employee_id"]
('warning', 'no HR for <email>', 'E1001')
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import time
import traceback
from collections.abc import Iterable
from typing import Any

import orjson

from schemas.topics import topic_names
from streams import metrics

log = logging.getLogger("exitwatch.observability")

#: Seconds between lag/readiness/heartbeat updates (``EXITWATCH_OBS_TICK_S``).
TICK_S = float(os.environ.get("EXITWATCH_OBS_TICK_S", 5.0))
#: Seconds between updates of the HR gauges, a Redis scan (``EXITWATCH_OBS_HR_GAUGES_S``).
HR_GAUGES_S = float(os.environ.get("EXITWATCH_OBS_HR_GAUGES_S", 30.0))
#: ``/healthz`` fails when the event loop has not run the tick for this long (once started).
STALE_AFTER_S = 60.0
#: Before the first tick, the worker is considered alive for this long (start-up, first rebalance).
STARTUP_GRACE_S = 300.0


class Observability:
    """State shared by the hook's timers, its sensor and the health server (``worker.observability``)."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.prefix: str = worker.settings.topic_prefix
        self.names = set(topic_names(self.prefix).values())
        self.created = time.monotonic()
        self.heartbeat: float | None = None
        self._lag_labels: set[tuple[str, str]] = set()

    # ---------------------------------------------------------------- topics
    def contract_topic(self, topic: str) -> str | None:
        """The contract name of one of the worker's topics (prefix removed); None for others (changelogs)."""
        if topic not in self.names:
            return None
        return topic[len(self.prefix):]

    # ---------------------------------------------------------------- liveness, readiness
    def alive(self) -> tuple[bool, dict[str, Any]]:
        now = time.monotonic()
        if self.heartbeat is None:
            age = now - self.created
            return age < STARTUP_GRACE_S, {"started": False, "seconds_since_start": round(age, 1)}
        age = now - self.heartbeat
        return age < STALE_AFTER_S, {"started": True, "seconds_since_heartbeat": round(age, 1)}

    def readiness(self) -> dict[str, Any]:
        """Partitions assigned (of the worker's own topics) and table recovery done, with the details."""
        return readiness(self.worker.app, self.contract_topic)

    # ---------------------------------------------------------------- timers
    async def tick(self) -> None:
        self.heartbeat = time.monotonic()
        ready = self.readiness()
        metrics.READY.set(1 if ready["ready"] else 0)
        metrics.ASSIGNED_PARTITIONS.set(ready["partitions"])
        try:
            await self.update_lag()
        except Exception as exc:  # never let a metric stop the worker
            log.debug("consumer lag not available: %s", exc)

    async def update_lag(self) -> None:
        app = self.worker.app
        consumer = getattr(app, "_consumer", None)
        if consumer is None:
            return
        seen: set[tuple[str, str]] = set()
        for tp in consumer.assignment():
            name = self.contract_topic(tp.topic)
            if name is None:
                continue
            try:
                hw = consumer.highwater(tp)
            except Exception:
                hw = None
            if hw is None:
                continue
            committed = consumer._committed_offset.get(tp)  # next offset to read, as Kafka commits it
            if committed is None:
                committed = await consumer.position(tp)
            if committed is None:
                continue
            labels = (name, str(tp.partition))
            metrics.CONSUMER_LAG.labels(*labels).set(max(0, hw - committed))
            seen.add(labels)
        for labels in self._lag_labels - seen:  # partitions revoked: drop their series
            try:
                metrics.CONSUMER_LAG.remove(*labels)
            except KeyError:
                pass
        self._lag_labels = seen

    async def update_hr_gauges(self, today: dt.date | None = None) -> None:
        """Scan the HR store's records (``{prefix}hr:*``) into the departure gauges."""
        redis = self.worker.hr_store.redis
        pattern = _glob_escape(self.prefix) + "hr:*"
        records: list[dict[str, Any]] = []
        batch: list[Any] = []

        async def fetch(keys: list[Any]) -> None:
            pipe = redis.pipeline(transaction=False)
            for k in keys:
                pipe.hget(k, "r")
            for raw in await pipe.execute():
                if raw:
                    try:
                        records.append(orjson.loads(raw))
                    except orjson.JSONDecodeError:
                        pass

        async for key in redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await fetch(batch)
                batch = []
        if batch:
            await fetch(batch)
        set_hr_gauges(records, today or dt.datetime.now(dt.timezone.utc).date())


def readiness(app: Any, contract_topic: Any = None) -> dict[str, Any]:
    """Ready: the consumer has partitions of the worker's topics, no rebalance or recovery is under way, and
    table recovery has completed at least once."""
    out: dict[str, Any] = {"ready": False, "partitions": 0, "rebalancing": None, "recovery_done": False}
    try:
        consumer = getattr(app, "_consumer", None)  # never create it from another thread
        tps = consumer.assignment() if consumer is not None else set()
        own = [tp for tp in tps if contract_topic is None or contract_topic(tp.topic) is not None]
        out["partitions"] = len(own)
        out["assigned_total"] = len(tps)  # with changelog and internal topics
        out["rebalancing"] = bool(app.rebalancing)
        recovery = getattr(app.tables, "recovery", None)
        out["recovery_done"] = bool(recovery is not None and recovery.completed.is_set()
                                    and not getattr(app, "in_recovery", False))
        out["ready"] = bool(own) and not out["rebalancing"] and out["recovery_done"]
    except Exception as exc:
        out["error"] = type(exc).__name__
    return out


def set_hr_gauges(records: Iterable[dict[str, Any]], today: dt.date) -> None:
    """Set the departure gauges from HR records (latest per employee).

    >>> set_hr_gauges([{"status": "notice", "department": "R&D", "last_day": "2026-03-05"},
    ...                {"status": "active", "department": "R&D", "watchlist": True}], dt.date(2026, 3, 1))
    >>> metrics.LEAVING.labels("7d")._value.get(), metrics.WATCHLIST._value.get()
    (1.0, 1.0)
    """
    by_status: dict[tuple[str, str], int] = {}
    leaving = {"past": 0, "7d": 0, "30d": 0, "later": 0, "unknown": 0}
    watch = 0
    for r in records:
        status = str(r["status"]) if r.get("status") in ("active", "notice", "departed") else "unknown"
        dept = metrics.bounded("department", r.get("department"))
        by_status[(status, dept)] = by_status.get((status, dept), 0) + 1
        if r.get("watchlist") and status != "departed":
            watch += 1
        if status != "notice":
            continue
        try:
            days = (dt.date.fromisoformat(r["last_day"]) - today).days
        except (KeyError, TypeError, ValueError):
            leaving["unknown"] += 1
            continue
        leaving["past" if days < 0 else "7d" if days <= 7 else "30d" if days <= 30 else "later"] += 1
    metrics.HR_EMPLOYEES.clear()
    for (status, dept), n in by_status.items():
        metrics.HR_EMPLOYEES.labels(status, dept).set(n)
    for window, n in leaving.items():
        metrics.LEAVING.labels(window).set(n)
    metrics.WATCHLIST.set(watch)


def count_alert(alert: Any) -> None:
    """Department-level alert counters (the rule/severity counter is kept by the worker itself)."""
    emp = alert.employee or {}
    status = emp.get("status") if emp.get("status") in ("active", "notice", "departed") else "unknown"
    metrics.ALERTS_BY_DEPARTMENT.labels(metrics.bounded("department", emp.get("department")), status,
                                        alert.severity).inc()
    last_day = emp.get("last_day")
    if last_day:
        try:
            days = (dt.date.fromisoformat(str(last_day)) - alert.ts.date()).days
        except ValueError:
            return
        metrics.ALERT_DAYS_TO_LAST_DAY.observe(days)


@functools.cache
def _sensor_class() -> type:
    """:class:`MetricsSensor`, a Faust sensor, made on first use: the default (transactional) worker imports
    this module for its metrics and never loads Faust."""
    import faust

    class MetricsSensor(faust.Sensor):  # type: ignore[misc]
        """Ingest-to-processed latency and last-processed time per topic; rebalances."""

        def __init__(self, obs: Observability, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.obs = obs

        def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
            name = self.obs.contract_topic(tp.topic)
            if name is None:
                return
            now = time.time()
            ts = getattr(message, "timestamp", None)
            if ts:
                metrics.INGEST_TO_PROCESSED.labels(name).observe(max(0.0, now - ts))
            metrics.LAST_PROCESSED.labels(name).set(now)

        def on_rebalance_start(self, app: Any) -> dict[str, Any]:
            metrics.REBALANCES.inc()
            metrics.READY.set(0)
            return {}

    return MetricsSensor


def __getattr__(name: str) -> Any:  # ``observability.MetricsSensor`` (PEP 562), made on first use
    if name == "MetricsSensor":
        return _sensor_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install(worker: Any) -> Observability:
    """The worker hook: sensor, timers and alert counting for ``worker`` (see the module docstring)."""
    obs = Observability(worker)
    worker.observability = obs
    app = worker.app
    app.sensors.add(_sensor_class()(obs))

    async def exitwatch_observability_tick() -> None:
        await obs.tick()

    async def exitwatch_hr_gauges() -> None:
        try:
            await obs.update_hr_gauges()
        except Exception as exc:
            log.warning("HR gauges not updated: %s", type(exc).__name__)

    app.timer(interval=TICK_S, name="exitwatch-observability-tick")(exitwatch_observability_tick)
    app.timer(interval=HR_GAUGES_S, name="exitwatch-hr-gauges")(exitwatch_hr_gauges)

    emit = worker.emit

    async def counted_emit(alerts: list[Any]) -> None:
        await emit(alerts)
        for a in alerts:  # counted once the broker has them, like the worker's own counter
            count_alert(a)

    worker.emit = counted_emit
    return obs


def _glob_escape(s: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", s)

# ------------------------------------------------------------------------------------------ JSON logs
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
#: ``extra=`` fields copied into the JSON object (ids only; anything else stays out of logs).
LOG_FIELDS = ("employee_id", "event_id", "alert_id", "rule_id", "topic", "partition", "offset", "stage",
              "source", "count")


def redact(text: str) -> str:
    """Mask e-mail addresses (accounts, recipients) in log text.

    >>> redact("forward from ann.lee@corp.example to x@gmail.com")
    'forward from <email> to <email>'
    """
    return _EMAIL.sub("<email>", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (RFC 3339, UTC), ``level``, ``logger``, ``msg``, id fields, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for k in LOG_FIELDS:
            v = record.__dict__.get(k)
            if v is not None:
                out[k] = v if isinstance(v, (int, float, bool)) else str(v)
        if record.exc_info:
            out["exc"] = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return orjson.dumps(out).decode()


def logging_config(loglevel: str | int = "WARNING") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping with :class:`JsonFormatter` on stderr (for ``faust.Worker``)."""
    level = loglevel.upper() if isinstance(loglevel, str) else loglevel
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "streams.observability.JsonFormatter"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stderr", "level": level}},
        "root": {"level": level, "handlers": ["default"]},
    }


def setup(log_format: str = "text", loglevel: str = "warning") -> dict[str, Any]:
    """For ``exitwatch worker``: register :func:`install` as a worker hook, format the root logger's
    records as JSON when asked; returns the keyword arguments for ``faust.Worker``."""
    from streams.app import WORKER_HOOKS

    if install not in WORKER_HOOKS:
        WORKER_HOOKS.append(install)
    if log_format != "json":
        return {}
    for h in logging.getLogger().handlers:
        h.setFormatter(JsonFormatter())
    return {"logging_config": logging_config(loglevel)}
