"""``exitwatch bench --quick``: CI's smoke run of the benchmark. It checks the structure of the results and
that every figure is a positive number; it asserts nothing about speed (the machine is shared)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def numbers(obj: Any, path: str = "") -> list[tuple[str, float]]:
    """Every number in ``obj`` with its path (booleans are not numbers here)."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [(path, obj)]
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in numbers(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in numbers(v, f"{path}[{i}]")]
    return []


def test_bench_quick(kafka_bootstrap: str, redis_url: str, tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "exitwatch.cli", "bench", "--quick", "--out", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url})
    assert p.returncode == 0, p.stderr[-4000:]
    assert "[bench" in p.stderr  # progress on stderr
    res = json.loads((tmp_path / "results.json").read_text())
    md = (tmp_path / "results.md").read_text()
    assert res["quick"] is True and not res["errors"]
    assert {"core", "pipeline", "latency", "scaleout", "connectors", "memory", "summary", "machine", "goals"} <= set(res)
    assert res["memory"]["employees"] >= 2000 and res["memory"]["rss_mb"] > res["memory"]["rss_mb_empty_worker"] > 0

    core = res["core"]["runs"]
    assert {(r["models"], r["employees"] > 0) for r in core} == {(False, True), (True, True)}
    for r in core:
        assert {"events_per_s", "events_per_cpu_s", "memory"} <= set(r)
        assert {"rss_bytes_per_employee", "state_bytes_mean"} <= set(r["memory"])
    drivers = res["pipeline"]["drivers"]
    assert {"tx_worker", "faust_worker", "batch_driver", "passthrough", "faust_noop"} <= set(drivers)
    assert {"tx_worker_vs_passthrough", "faust_worker_vs_passthrough", "faust_worker_vs_batch_driver",
            "enrich_detect_overhead_vs_noop_agent"} <= set(res["pipeline"]["ratios"])
    assert res["pipeline"]["alerts"]["faust_worker"] > 0
    assert {"p50_ms", "p95_ms", "p99_ms"} <= set(res["latency"]) and res["latency"]["missing"] == 0
    assert {"batch_two_vs_one", "tx_two_vs_one_per_cpu_s"} <= set(res["scaleout"])  # the Faust pair runs in the full benchmark only
    assert res["connectors"] and all("lines_per_s" in c for c in res["connectors"].values())

    # Every figure is a positive number, except those that count what went wrong or may be zero by nature.
    may_be_zero = (".alerts", ".missing", "startup_seconds", "enrich_detect_overhead")
    for path, v in numbers({k: res[k] for k in ("core", "pipeline", "latency", "scaleout", "connectors")}):
        assert math.isfinite(v), path
        if not any(z in path for z in may_be_zero):
            assert v > 0, f"{path} = {v}"
    # A driver too quick for its window is measured over its whole run, and says so (watch_drain).
    for so in res["scaleout"].values():
        if isinstance(so, dict):
            assert so["cpu_basis"] in ("window", "whole_run")
    for row in res["summary"]:
        assert row["figure"] in md
