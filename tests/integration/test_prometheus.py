"""A real Prometheus scrapes a running worker: the events fed through the connectors are counted there.

Starts Debian's ``prometheus`` on a free loopback port (temporary config and TSDB, 1 s scrape interval) and
``exitwatch worker`` as a subprocess with its own topic prefix, app id and metrics port; feeds an HR record
(``exitwatch connect hr``) and a dozen events (``exitwatch connect synthetic``), then asks Prometheus' HTTP
API. Also checks ``/readyz`` and ``/healthz`` on the live worker and that ``--log-format json`` logs are JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import topic_names

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXITWATCH = [sys.executable, "-m", "exitwatch.cli"]
N_RESOLVED = 11
N_EVENTS = N_RESOLVED + 1  # plus one by an actor HR does not know


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("prometheus is not installed (Debian package `prometheus`); CI must have it")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 3.0, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - loopback only
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def prom_query(base: str, expr: str) -> list[dict[str, Any]]:
    code, body = http_get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert code == 200, body
    data = json.loads(body)
    assert data["status"] == "success", data
    return data["data"]["result"]


def wait_for(what: str, check: Any, timeout: float, proc_logs: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.5)
    logs = proc_logs() if proc_logs else ""
    pytest.fail(f"timed out waiting for {what} (last: {last!r})\n{logs}")


def stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return ""


def write_inputs(d: Path) -> tuple[Path, Path]:
    hr = d / "hr.jsonl"
    hr.write_text(json.dumps({
        "employee_id": "E1001", "ts": "2026-03-01T09:00:00Z", "status": "notice", "department": "R&D",
        "resignation_date": "2026-03-01", "last_day": "2026-03-31", "accounts": ["ann.lee@corp.example"],
    }) + "\n")
    events = d / "events.jsonl"
    day0 = dt.date(2026, 3, 10)
    lines = [json.dumps({
        "event_id": f"prom-{i}", "ts": f"{day0 + dt.timedelta(days=i)}T10:00:00Z", "kind": "file",
        "action": "download", "actor": "ann.lee@corp.example", "source": "synthetic",
        "object": f"/finance/plan-{i}.xlsx", "sensitivity": "confidential", "bytes": 1000,
    }) for i in range(N_RESOLVED)]
    lines.append(json.dumps({"event_id": "prom-ghost", "ts": "2026-03-12T11:00:00Z", "kind": "file",
                             "action": "open", "actor": "ghost@elsewhere.example", "source": "synthetic"}))
    events.write_text("\n".join(lines) + "\n")
    return hr, events


def test_prometheus_scrapes_worker(kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any,
                                   tmp_path: Path) -> None:
    prom_bin = prometheus_binary()
    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)  # the worker's count
    token = f"tok-{uuid.uuid4().hex}"  # the worker's endpoints need it (EXITWATCH_METRICS_TOKEN); Prometheus sends it
    env = {**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url,
           "EXITWATCH_OBS_TICK_S": "1", "EXITWATCH_OBS_HR_GAUGES_S": "1", "EXITWATCH_METRICS_TOKEN": token}
    hr, events = write_inputs(tmp_path)

    metrics_port, prom_port = free_port(), free_port()
    worker_log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [*EXITWATCH, "worker", "--topic-prefix", unique_prefix, "--app-id", f"{unique_prefix}prom",
         "--data-dir", str(tmp_path / "state"), "--store", "memory://", "--metrics-port", str(metrics_port),
         "--loglevel", "info", "--log-format", "json"],
        cwd=ROOT, env=env, stdout=worker_log.open("wb"), stderr=subprocess.STDOUT,
    )
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: exitwatch-worker\n"
        f"    authorization:\n      credentials: {token}\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
    )
    prom_log = tmp_path / "prometheus.log"
    prom = subprocess.Popen(
        [prom_bin, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=prom_log.open("wb"), stderr=subprocess.STDOUT,
    )
    prom_url = f"http://127.0.0.1:{prom_port}"
    worker_url = f"http://127.0.0.1:{metrics_port}"

    def logs() -> str:
        return (f"--- worker\n{worker_log.read_text(errors='replace')[-4000:]}\n"
                f"--- prometheus\n{prom_log.read_text(errors='replace')[-2000:]}")

    try:
        # Liveness answers at once; readiness only once partitions are assigned and recovery is done.
        wait_for("worker /healthz", lambda: http_get(f"{worker_url}/healthz", token=token)[0] == 200, 30, logs)
        code, body = wait_for("worker /readyz", lambda: (r := http_get(f"{worker_url}/readyz", token=token))[0] == 200
                              and r, 150, logs)  # >45 s startup watchdog
        # Without the token, or with another, every endpoint is 401 (issue 17).
        for path in ("/metrics", "/healthz", "/readyz"):
            assert http_get(f"{worker_url}{path}")[0] == 401
            assert http_get(f"{worker_url}{path}", token="wrong")[0] == 401
        ready = json.loads(body)
        assert ready["ready"] and ready["partitions"] > 0 and ready["recovery_done"], ready

        for args in (["hr", str(hr)], ["synthetic", str(events), "--hr", str(hr)]):
            p = subprocess.run([*EXITWATCH, "connect", *args, "--topic-prefix", unique_prefix], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stderr

        wait_for("prometheus up", lambda: http_get(f"{prom_url}/-/ready")[0] == 200, 20, logs)
        expr = f'sum(exitwatch_events_in_total{{job="exitwatch-worker",source="synthetic"}})'
        wait_for(f"{expr} == {N_EVENTS}",
                 lambda: [float(r["value"][1]) for r in prom_query(prom_url, expr)] == [N_EVENTS], 40, logs)

        # The actor HR does not know is counted; the worker target is up; lag is exported per partition.
        unresolved = prom_query(prom_url, 'sum(exitwatch_unresolved_actors_total{source="synthetic"})')
        assert float(unresolved[0]["value"][1]) == 1
        assert [r["value"][1] for r in prom_query(prom_url, 'up{job="exitwatch-worker"}')] == ["1"]
        lag = wait_for("consumer lag series", lambda: prom_query(
            prom_url, f'exitwatch_consumer_lag_messages{{topic="activity.file"}}'), 15, logs)
        assert {r["metric"]["partition"] for r in lag} <= {"0", "1", "2", "3"}
        assert prom_query(prom_url, "exitwatch_worker_ready == 1"), logs()

        # Departures: the employee in notice is in the HR gauges; her downloads raise an alert, counted by
        # rule and by department (no identity in any label).
        wait_for("HR gauges", lambda: prom_query(
            prom_url, 'exitwatch_hr_employees{status="notice",department="R&D"} == 1'), 15, logs)
        wait_for("department alert", lambda: prom_query(
            prom_url, 'sum(exitwatch_department_alerts_total{department="R&D",status="notice"}) >= 1'), 30, logs)
        rules = prom_query(prom_url, "sum by (rule_id) (exitwatch_alerts_total)")
        assert "file.sensitive_downloads_before_departure" in {r["metric"]["rule_id"] for r in rules}
        series = prom_query(prom_url, '{__name__=~"exitwatch_.+"}')
        assert not [s for s in series if any("E1001" in v or "ann.lee" in v for v in s["metric"].values())]
    finally:
        stop(worker)
        stop(prom)

    # --log-format json: every line the worker logged is one JSON object, with no e-mail address in it. The C
    # library librdkafka writes its own lines to stderr ("%6|<time>|BGQUEUE|rdkafka#producer-1| ...", e.g. when a
    # producer is destroyed at shutdown): they bypass Python's logging and are left out; all the rest must be JSON.
    lines = [x for x in worker_log.read_text(errors="replace").splitlines() if x.strip()]
    ours = [x for x in lines if not re.match(r"%\d\|[\d.]+\|[A-Z_]+\|rdkafka#", x)]
    assert ours, "the worker logged nothing at info level"
    parsed = [json.loads(x) for x in ours if x.startswith("{")]
    assert len(parsed) == len(ours), [x for x in ours if not x.startswith("{")][:20]
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in parsed)
    assert "ann.lee@corp.example" not in worker_log.read_text(errors="replace")
