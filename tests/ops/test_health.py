"""Liveness, readiness and the observability hook of the worker, without a broker (fakes for the consumer).

The live worker's endpoints are checked in tests/integration/test_prometheus.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from faust.types import TP

from schemas import Alert
from schemas.settings import Settings
from streams import metrics, observability
from streams.health import start_health_server

PREFIX = "hx."


class FakeConsumer:
    def __init__(self, assigned: set[TP], highwater: dict[TP, int | None] | None = None,
                 committed: dict[TP, int | None] | None = None, position: int | None = None) -> None:
        self.assigned = assigned
        self.hw = highwater or {}
        self._committed_offset = committed or {}
        self.pos = position

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    def highwater(self, tp: TP) -> int | None:
        return self.hw.get(tp)

    async def position(self, tp: TP) -> int | None:
        return self.pos


def fake_app(assigned: set[TP], rebalancing: bool = False, recovered: bool = True) -> Any:
    done = asyncio.Event()
    if recovered:
        done.set()
    return SimpleNamespace(_consumer=FakeConsumer(assigned), rebalancing=rebalancing, in_recovery=False,
                           tables=SimpleNamespace(recovery=SimpleNamespace(completed=done)))


def fake_worker(app: Any) -> Any:
    w = SimpleNamespace(settings=Settings(topic_prefix=PREFIX), app=app)
    w.observability = observability.Observability(w)
    return w


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def server() -> Iterator[tuple[Any, str]]:
    holder = SimpleNamespace(worker=fake_worker(fake_app(set())))

    class Proxy:  # the server keeps one worker object; tests swap what it points at
        def __getattr__(self, name: str) -> Any:
            return getattr(holder.worker, name)

    srv = start_health_server(Proxy(), 0, host="127.0.0.1")
    try:
        yield holder, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


# ------------------------------------------------------------------------------------------ readiness
def test_ready_needs_own_partitions_recovery_and_no_rebalance() -> None:
    own, changelog = TP(PREFIX + "activity.file", 0), TP("app-employee-state-changelog", 0)
    assert fake_worker(fake_app({own})).observability.readiness()["ready"] is True
    # Only changelog partitions (as when the worker subscribed before its topics existed): not ready.
    r = fake_worker(fake_app({changelog})).observability.readiness()
    assert r["ready"] is False and r["partitions"] == 0 and r["assigned_total"] == 1
    assert fake_worker(fake_app({own}, rebalancing=True)).observability.readiness()["ready"] is False
    assert fake_worker(fake_app({own}, recovered=False)).observability.readiness()["ready"] is False
    assert fake_worker(fake_app(set())).observability.readiness()["ready"] is False


def test_readiness_never_creates_a_consumer() -> None:
    app = SimpleNamespace(_consumer=None, rebalancing=False, tables=SimpleNamespace(recovery=None))
    assert observability.readiness(app) == {"ready": False, "partitions": 0, "assigned_total": 0,
                                            "rebalancing": False, "recovery_done": False}


def test_endpoints(server: tuple[Any, str]) -> None:
    holder, url = server
    code, body = get(url + "/readyz")
    assert code == 503 and json.loads(body)["ready"] is False
    holder.worker = fake_worker(fake_app({TP(PREFIX + "hr.status", 2)}))
    code, body = get(url + "/readyz")
    assert code == 200 and json.loads(body) == {"ready": True, "partitions": 1, "assigned_total": 1,
                                                "rebalancing": False, "recovery_done": True}
    code, body = get(url + "/healthz")
    assert code == 200 and json.loads(body)["alive"] is True
    code, body = get(url + "/metrics")
    assert code == 200 and b"# TYPE exitwatch_events_in_total counter" in body
    assert get(url + "/nothing")[0] == 404


def test_healthz_fails_when_the_loop_stops_ticking(server: tuple[Any, str], monkeypatch: Any) -> None:
    holder, url = server
    obs = holder.worker.observability
    assert get(url + "/healthz")[0] == 200  # starting: within the grace period
    obs.heartbeat = time.monotonic()
    assert get(url + "/healthz")[0] == 200
    obs.heartbeat = time.monotonic() - observability.STALE_AFTER_S - 1
    code, body = get(url + "/healthz")
    assert code == 503 and json.loads(body)["alive"] is False
    obs.heartbeat = None
    obs.created = time.monotonic() - observability.STARTUP_GRACE_S - 1  # never started within the grace
    assert get(url + "/healthz")[0] == 503


# ------------------------------------------------------------------------------------------ lag
async def test_consumer_lag_per_partition_and_revoked_partitions_dropped() -> None:
    a0, a1, cl = TP(PREFIX + "activity.file", 0), TP(PREFIX + "activity.file", 1), TP("x-changelog", 0)
    app = fake_app({a0, a1, cl})
    app._consumer = FakeConsumer({a0, a1, cl}, highwater={a0: 100, a1: 7, cl: 50}, committed={a0: 40}, position=5)
    w = fake_worker(app)
    await w.observability.tick()
    assert metrics.CONSUMER_LAG.labels("activity.file", "0")._value.get() == 60
    assert metrics.CONSUMER_LAG.labels("activity.file", "1")._value.get() == 2  # from the position
    assert metrics.READY._value.get() == 1 and metrics.ASSIGNED_PARTITIONS._value.get() == 2
    assert w.observability.heartbeat is not None
    series = {tuple(s.labels.values()) for s in metrics.CONSUMER_LAG.collect()[0].samples}
    assert not any("changelog" in s[0] for s in series)
    app._consumer.assigned = {a0}  # partition 1 revoked
    await w.observability.tick()
    series = {tuple(s.labels.values()) for s in metrics.CONSUMER_LAG.collect()[0].samples}
    assert ("activity.file", "1") not in series and ("activity.file", "0") in series


# ------------------------------------------------------------------------------------------ the hook
def alert(**employee: Any) -> Alert:
    return Alert.model_validate({
        "alert_id": "a1", "ts": "2026-03-20T10:00:00Z", "employee_id": "E1", "rule_id": "file.x",
        "rule_version": "1", "severity": "high", "score": 70, "title": "t", "explanation": {}, "evidence": [],
        "employee": {"employee_id": "E1", **employee}})


async def test_install_counts_alerts_by_department_once_emitted(tmp_path: Any) -> None:
    from streams.app import create_worker

    w = create_worker(Settings(data_dir=str(tmp_path), store="memory://", topic_prefix="obs."))
    sent: list[Any] = []

    async def emit(alerts: list[Any]) -> None:
        sent.extend(alerts)

    w.emit = emit  # the broker part, replaced
    obs = observability.install(w)
    assert w.observability is obs
    assert any(isinstance(s, observability.MetricsSensor) for s in w.app.sensors)
    c = metrics.ALERTS_BY_DEPARTMENT.labels("Legal", "notice", "high")
    before, days_before = c._value.get(), metrics.ALERT_DAYS_TO_LAST_DAY._sum.get()
    await w.emit([alert(department="Legal", status="notice", last_day="2026-03-31")])
    assert sent and c._value.get() == before + 1
    assert metrics.ALERT_DAYS_TO_LAST_DAY._sum.get() == days_before + 11
    await w.emit([alert(status="weird")])
    assert metrics.ALERTS_BY_DEPARTMENT.labels("none", "unknown", "high")._value.get() >= 1


def test_sensor_observes_ingest_to_processed() -> None:
    w = fake_worker(fake_app(set()))
    sensor = observability.MetricsSensor(w.observability)
    h = metrics.INGEST_TO_PROCESSED.labels("activity.web")
    before = h._sum.get()
    sensor.on_message_out(TP(PREFIX + "activity.web", 0), 5, SimpleNamespace(timestamp=time.time() - 2.0))
    sensor.on_message_out(TP("other-changelog", 0), 5, SimpleNamespace(timestamp=time.time() - 100.0))
    assert 1.9 < h._sum.get() - before < 10
    assert metrics.LAST_PROCESSED.labels("activity.web")._value.get() > time.time() - 60


def test_hr_gauges_count_leavers_by_window_and_department() -> None:
    import datetime as dt

    today = dt.date(2026, 3, 1)
    recs = [{"status": "notice", "department": "Sales", "last_day": d} for d in
            ("2026-02-20", "2026-03-03", "2026-03-08", "2026-03-20", "2026-06-01")]
    recs += [{"status": "notice", "department": "Sales"}, {"status": "departed", "department": "Sales",
                                                           "watchlist": True},
             {"status": "active", "department": "Ops", "watchlist": True}]
    observability.set_hr_gauges(recs, today)
    got = {w: metrics.LEAVING.labels(w)._value.get() for w in ("past", "7d", "30d", "later", "unknown")}
    assert got == {"past": 1, "7d": 2, "30d": 1, "later": 1, "unknown": 1}
    assert metrics.HR_EMPLOYEES.labels("notice", "Sales")._value.get() == 6
    assert metrics.WATCHLIST._value.get() == 1  # the departed one no longer counts


async def test_hr_gauges_from_redis(redis_url: str, unique_prefix: str) -> None:
    """The scan reads exactly the HR records of the worker's prefix from a real Redis."""
    from schemas import HRRecord
    from streams.hrstore import HRStore

    store = HRStore(redis_url, prefix=unique_prefix)
    other = HRStore(redis_url, prefix=unique_prefix + "other.")
    try:
        for i, st in enumerate(("notice", "notice", "active")):
            await store.put(HRRecord.model_validate({"employee_id": f"R{i}", "ts": "2026-03-01T00:00:00Z",
                                                     "status": st, "department": "Finance-" + unique_prefix}))
        await other.put(HRRecord.model_validate({"employee_id": "X", "ts": "2026-03-01T00:00:00Z",
                                                 "status": "notice", "department": "Finance-" + unique_prefix}))
        w = SimpleNamespace(settings=Settings(topic_prefix=unique_prefix), hr_store=store, app=None)
        await observability.Observability(w).update_hr_gauges()
        assert metrics.HR_EMPLOYEES.labels("notice", "Finance-" + unique_prefix)._value.get() == 2
        assert metrics.HR_EMPLOYEES.labels("active", "Finance-" + unique_prefix)._value.get() == 1
    finally:
        for s in (store, other):
            keys = [k async for k in s.redis.scan_iter(match=s.prefix + "*")]
            if keys:
                await s.redis.delete(*keys)
            await s.close()


# ------------------------------------------------------------------------------------------ JSON logs
def test_json_formatter_masks_emails_in_messages_and_tracebacks() -> None:
    try:
        raise ValueError("bad actor bob@corp.example")
    except ValueError:
        rec = logging.LogRecord("exitwatch.worker", logging.ERROR, __file__, 1, "detect failed on %s@%s",
                                ("activity.enriched", 42), sys.exc_info())
    rec.event_id = "m365:abc"
    out = orjson.loads(observability.JsonFormatter().format(rec))
    assert out["msg"] == "detect failed on activity.enriched@42" and out["event_id"] == "m365:abc"
    assert "bob@corp.example" not in out["exc"] and "<email>" in out["exc"]
    assert out["ts"].endswith("+00:00") and out["level"] == "error"


def test_logging_config_and_cli_option() -> None:
    import importlib

    cfg = observability.logging_config("info")
    mod, _, name = cfg["formatters"]["json"]["()"].rpartition(".")
    assert getattr(importlib.import_module(mod), name) is observability.JsonFormatter
    assert cfg["root"]["level"] == "INFO"
    from exitwatch.cli import build_parser

    args = build_parser().parse_args(["worker", "--log-format", "json", "--metrics-port", "0"])
    assert args.log_format == "json"


def test_setup_registers_the_hook_once() -> None:
    from streams.app import WORKER_HOOKS

    saved = list(WORKER_HOOKS)
    try:
        assert observability.setup("text") == {}
        observability.setup("text")
        assert WORKER_HOOKS.count(observability.install) == 1
    finally:
        WORKER_HOOKS[:] = saved
