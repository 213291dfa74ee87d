"""docker-compose.kafka.yml: valid (Debian's docker-compose validates it without an engine), and it runs
the whole stack: Kafka, Redis, the worker, Prometheus and Grafana provisioned from ops/, and a demo feed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.kafka.yml"


def compose(*args: str) -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("docker-compose is not installed (Debian package `docker-compose`); CI must have it")
        pytest.skip("docker-compose is not installed")
    p = subprocess.run([exe, "-f", str(COMPOSE), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_compose_file_is_valid_and_has_every_service() -> None:
    compose("config", "-q")
    services = set(compose("config", "--services").split())
    assert {"kafka", "redis", "topics", "worker", "demo-feed", "prometheus", "grafana"} <= services


def test_prometheus_and_grafana_are_provisioned_from_ops() -> None:
    text = compose("config")
    root = re.escape(str(ROOT))
    assert re.search(rf"- {root}/ops/prometheus:/etc/prometheus:ro", text)
    assert re.search(rf"- {root}/ops/grafana/provisioning:/etc/grafana/provisioning:ro", text)
    assert re.search(rf"- {root}/ops/grafana/dashboards:/var/lib/grafana/dashboards/exitwatch:ro", text)
    assert "EXITWATCH_DASHBOARDS_DIR: /var/lib/grafana/dashboards/exitwatch" in text
    assert "EXITWATCH_PROMETHEUS_URL: http://prometheus:9090" in text


def test_prometheus_scrapes_the_compose_services() -> None:
    """The scrape targets of ops/prometheus/prometheus.yml are the compose services and their ports."""
    prom = (ROOT / "ops/prometheus/prometheus.yml").read_text()
    text = compose("config")
    assert '"worker:9108"' in prom and "127.0.0.1:9108:9108" in COMPOSE.read_text()
    assert '"demo-feed:9109"' in prom and "--metrics-port 9109" in text


def test_demo_feed_generates_and_connects() -> None:
    text = COMPOSE.read_text()
    assert "exitwatch generate --employees" in text
    assert "exitwatch connect hr" in text and "exitwatch connect synthetic" in text
