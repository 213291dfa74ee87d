"""Prometheus metrics of a connector run (``exitwatch connect ... --metrics-port PORT`` serves ``/metrics``).

:class:`MeteredSink` wraps any sink (Kafka, file, null) and counts what goes through it, by source, kind and
dead-letter reason category; it forwards every call unchanged. Labels never carry an actor or employee id.

>>> from connectors.producer import NullSink
>>> from connectors.base import Context
>>> sink = MeteredSink(NullSink(), "doctest")
>>> ev, _ = Context().event(source="doctest", raw="{}", event_id="x", ts="2026-03-02T09:15:00Z", kind="file",
...                         action="open", actor="ann@corp.example")
>>> before = EVENTS.labels("doctest", "file")._value.get(), UNRESOLVED.labels("doctest")._value.get()
>>> sink.send_event(ev)
>>> EVENTS.labels("doctest", "file")._value.get() - before[0], UNRESOLVED.labels("doctest")._value.get() - before[1]
(1.0, 1.0)
>>> reason_category("bad timestamp: 'yesterday'"), reason_category("record larger than 1048576 bytes")
('bad_timestamp', 'too_large')
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge

from schemas.models import ActivityEvent, DeadLetter, HRRecord, HRSignal

EVENTS = Counter("exitwatch_connector_events_total", "Activity events a connector produced", ["source", "kind"])
HR = Counter("exitwatch_connector_hr_records_total", "HR records a connector produced", ["source"])
SIGNALS = Counter("exitwatch_connector_hr_signals_total", "HR signals a connector produced", ["source"])
DEADLETTERS = Counter("exitwatch_connector_deadletter_records_total",
                      "Input records a connector dead-lettered, by reason category", ["source", "reason"])
SKIPPED = Counter("exitwatch_connector_skipped_records_total",
                  "Input records a connector understood but did not turn into an event (a kind it does not monitor,"
                  " inbound mail, sharing inside the company...), by reason", ["source", "reason"])
UNRESOLVED = Counter("exitwatch_connector_unresolved_actors_total",
                     "Events a connector produced without an employee id (resolved later, or never)", ["source"])
DELIVERY_FAILURES = Counter("exitwatch_connector_delivery_failures_total",
                            "Records the sink failed to deliver (broker errors, flush time-outs)", ["source"])
LAST_EVENT_TIME = Gauge("exitwatch_connector_last_event_timestamp_seconds",
                        "Event time (ts) of the last activity event a connector produced", ["source"])
LAST_OUTPUT = Gauge("exitwatch_connector_last_output_timestamp_seconds",
                    "Unix time at which a connector last produced anything", ["source"])

from schemas.reasons import reason_category  # noqa: E402  (the worker's categories too)


class MeteredSink:
    """A sink that counts what it forwards to ``inner`` (see the module docstring)."""

    def __init__(self, inner: Any, source: str) -> None:
        self.inner = inner
        self.source = source
        self._failures_seen = 0

    def __getattr__(self, name: str) -> Any:  # failures, errors, delivered ... of the inner sink
        return getattr(self.inner, name)

    def _out(self) -> None:
        LAST_OUTPUT.labels(self.source).set(time.time())

    def send_event(self, ev: ActivityEvent) -> None:
        self.inner.send_event(ev)
        EVENTS.labels(self.source, ev.kind).inc()
        if ev.employee_id is None:
            UNRESOLVED.labels(self.source).inc()
        LAST_EVENT_TIME.labels(self.source).set(ev.ts.timestamp())
        self._out()

    def send_hr(self, rec: HRRecord) -> None:
        self.inner.send_hr(rec)
        HR.labels(self.source).inc()
        self._out()

    def send_signal(self, sig: HRSignal) -> None:
        self.inner.send_signal(sig)
        SIGNALS.labels(self.source).inc()
        self._out()

    def send_deadletter(self, dl: DeadLetter) -> None:
        self.inner.send_deadletter(dl)
        DEADLETTERS.labels(self.source, reason_category(dl.reason)).inc()
        self._out()

    def _count_failures(self) -> None:
        failed = getattr(self.inner, "failures", 0)
        if failed > self._failures_seen:
            DELIVERY_FAILURES.labels(self.source).inc(failed - self._failures_seen)
            self._failures_seen = failed

    def flush(self, *args: Any, **kwargs: Any) -> Any:
        left = self.inner.flush(*args, **kwargs)
        self._count_failures()
        return left

    def close(self) -> None:
        self.inner.close()
        self._count_failures()


def serve(port: int, host: str = "127.0.0.1", token: str | None = None) -> Any:
    """Serve this process's registry on ``http://host:port/metrics`` (a daemon thread); the server.

    Loopback unless ``host`` says otherwise; with ``token``, 401 without ``Authorization: Bearer <token>``."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    from schemas.http import serve as serve_http

    def route(path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        return 404, "text/plain", b"not found\n"

    return serve_http(route, port, host, token, name="connector-metrics")


def instrument(sink: Any, source: str, port: int | None, host: str = "127.0.0.1", token: str | None = None) -> Any:
    """For ``exitwatch connect --metrics-port``: ``sink`` metered, ``/metrics`` served (nothing when no port)."""
    if not port:
        return sink
    serve(port, host, token)
    for labels in ((EVENTS, (source, "file")), (DEADLETTERS, (source, "invalid_json"))):
        labels[0].labels(*labels[1])  # the series exist from the start, at 0
    for c in (HR, SIGNALS, UNRESOLVED, DELIVERY_FAILURES):
        c.labels(source)
    return MeteredSink(sink, source)
