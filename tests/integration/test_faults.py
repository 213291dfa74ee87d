"""The fault harness, quick form, on its own broker and Redis (started and stopped by the harness on free
ports; the shared services are never touched): 3 SIGKILLs, a SIGTERM, a broker restart, Redis down 10 s, a
second worker and the first one killed, 1,000 hostile records. Every alert replay finds is delivered once on
``alerts.hr`` and ``alerts.secops``, no other alert appears, every hostile record is dead-lettered with a
reason, no worker exits on its own, Redis ends with every employee's newest HR record.

About 3 minutes on 2 cores. Needs Java 17 (the Kafka jars in the cache or Maven/curl to fetch them) and
``redis-server``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_quick_fault_run(tmp_path: Path) -> None:
    missing = [b for b in ("java", "redis-server") if shutil.which(b) is None]
    if missing:
        msg = f"the fault harness needs {', '.join(missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    out = tmp_path / "report"
    p = subprocess.Popen(
        [sys.executable, "-m", "exitwatch.cli", "faults", "--quick", "--out", str(out), "--kafka-port", "0",
         "--redis-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        stdout, stderr = p.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)  # the harness stops its own broker, Redis and workers
        stdout, stderr = p.communicate(timeout=120)
        pytest.fail(f"fault run took over 20 minutes (a safety stop, not a speed goal: a quick run takes 4-10 min on 2 busy cores):\n{stderr[-5000:]}")
    assert (out / "results.json").exists(), f"no results:\n{stdout}\n{stderr[-5000:]}"
    res = json.loads((out / "results.json").read_text())
    failed = [k for k, v in res["checks"].items() if not v]
    assert not failed and p.returncode == 0, f"failed checks {failed}:\n{(out / 'results.md').read_text()}\n{stderr[-3000:]}"
    a, h = res["alerts"], res["hostile"]
    # sequence alerts whose two events arrived in the other order are listed apart (docs/faults.md)
    assert a["expected"] > 10 and a["delivered_unique"] + len(a["missing_order_sensitive"]) == a["expected"]
    assert h["tried"] == 1000 and h["dead_lettered"] == 1000
    kinds = [f["kind"] for f in res["faults"] if "skipped" not in f]
    assert kinds.count("sigkill") == 3 and {"broker", "redis", "second_worker", "kill_first", "sigterm"} <= set(kinds)
    assert all(f["recovery_s"] is not None for f in res["faults"] if "skipped" not in f)
