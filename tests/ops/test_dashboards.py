"""Every Grafana dashboard parses, is provisioned, and queries only metrics the code exports.

Metric names are collected from the prometheus_client registry after importing ``streams.metrics`` and
``connectors.metrics``; a query naming anything else (a typo, a renamed metric) fails here, before a panel
shows "No data" in production.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import re

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "ops/grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))


def panels(d: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for p in d.get("panels", []):
        yield p
        yield from p.get("panels", [])  # collapsed rows hold their panels


def queries(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and every query variable."""
    for p in panels(d):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield f"{d['title']} / {p['title']} / {t.get('refId')}", t["expr"]
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            inner = q[q.index("(") + 1:q.rindex(")")] if q.startswith(("label_values(", "query_result(")) else q
            if q.startswith("label_values("):
                inner = inner.rsplit(",", 1)[0] if "," in inner else inner
            yield f"{d['title']} / variable {v['name']}", inner


def check(dashboard: dict[str, Any], unknown: Callable[[str], set[str]]) -> list[str]:
    return [f"{where}: {sorted(bad)} in {expr!r}" for where, expr in queries(dashboard) if (bad := unknown(expr))]


def test_there_are_three_dashboards() -> None:
    assert {p.name for p in DASHBOARDS} >= {"pipeline.json", "alerts.json", "departures.json"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_queries_name_exported_metrics(path: Path, unknown_metrics: Callable[[str], set[str]]) -> None:
    d = json.loads(path.read_text())
    assert d["uid"] and d["title"] and d["panels"]
    qs = list(queries(d))
    assert len(qs) >= 5, "a dashboard without queries"
    assert check(d, unknown_metrics) == []


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_are_described_and_use_the_provisioned_datasource(path: Path) -> None:
    uids = set(re.findall(r"^\s*uid:\s*([\w-]+)", (GRAFANA / "provisioning/datasources/prometheus.yml").read_text(), re.M))
    assert uids == {"exitwatch-prometheus"}
    d = json.loads(path.read_text())
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for p in panels(d):
        if p["type"] == "row":
            continue
        assert p.get("description"), f"{p['title']}: say which question the panel answers"
        assert p["datasource"]["uid"] in uids
        assert all(t["datasource"]["uid"] in uids for t in p["targets"])
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24


#: Labels a dashboard may group or name series by: none identifies a person.
ALLOWED_LABELS = {"kind", "source", "topic", "partition", "stage", "reason", "rule_id", "severity", "department",
                  "status", "window", "le", "op", "result", "instance", "job"}


def test_no_identity_in_dashboards() -> None:
    """Dashboards group by department, status, rule, severity, source...: never by a person."""
    for path in DASHBOARDS:
        d = json.loads(path.read_text())
        for p in panels(d):
            for t in p.get("targets", []):
                used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")))
                for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", t["expr"]):
                    used |= {x.strip() for x in group.split(",") if x.strip()}
                assert used <= ALLOWED_LABELS, f"{path.name} / {p['title']}: {sorted(used - ALLOWED_LABELS)}"


def test_the_check_catches_a_wrong_metric(unknown_metrics: Callable[[str], set[str]]) -> None:
    """The check itself can fail: a misspelt metric, a counter without _total, a histogram without _bucket."""
    bad = {"uid": "x", "title": "bad", "panels": [{"id": 1, "type": "timeseries", "title": "typo", "targets": [
        {"refId": "A", "expr": "sum(rate(exitwatch_event_in_total[5m]))"},
        {"refId": "B", "expr": "sum by (kind) (rate(exitwatch_events_in[$__rate_interval]))"},
        {"refId": "C", "expr": "histogram_quantile(0.9, sum by (le) (rate(exitwatch_processing_seconds[5m])))"},
        {"refId": "D", "expr": 'sum(rate(exitwatch_events_in_total{kind="file"}[5m])) by (source)'},
    ]}]}
    problems = check(bad, unknown_metrics)
    assert len(problems) == 3
    assert "exitwatch_event_in_total" in problems[0]
    assert "exitwatch_events_in'" in problems[1] and "exitwatch_processing_seconds'" in problems[2]
    assert unknown_metrics('exitwatch_processing_seconds_bucket{stage="enrich"}') == set()
    assert unknown_metrics("time() - max(exitwatch_connector_last_output_timestamp_seconds)") == set()


def test_dashboards_match_their_generator(tmp_path: Path) -> None:
    """The JSON files are what ops/grafana/build_dashboards.py writes (re-run it after editing the lists)."""
    sys.path.insert(0, str(GRAFANA))
    try:
        import build_dashboards as b
    finally:
        sys.path.remove(str(GRAFANA))
    for name, d in b.DASHBOARDS.items():
        assert json.loads((GRAFANA / "dashboards" / name).read_text()) == json.loads(b.render(d)), (
            f"{name} is stale: run .venv/bin/python ops/grafana/build_dashboards.py")


def test_queries_parse_with_promtool(promtool: str, tmp_path: Path) -> None:
    """Every query is valid PromQL: checked as recording rules by promtool, Grafana variables filled in."""
    rules = []
    for path in DASHBOARDS:
        for i, (where, expr) in enumerate(queries(json.loads(path.read_text()))):
            expr = (expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
                    .replace("$department", ".*"))
            rules.append({"record": f"check:{path.stem}:{i}", "expr": expr})
    f = tmp_path / "dashboard-queries.yml"
    f.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))  # JSON is YAML
    p = subprocess.run([promtool, "check", "rules", str(f)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def test_provisioning_points_at_the_dashboards() -> None:
    prov = (GRAFANA / "provisioning/dashboards/exitwatch.yml").read_text()
    assert re.search(r"^\s*type: file$", prov, re.M) and re.search(r"^\s*path: \$\{EXITWATCH_DASHBOARDS_DIR\}$", prov, re.M)
    compose = (ROOT / "docker-compose.kafka.yml").read_text()
    assert "./ops/grafana/dashboards:" in compose and "./ops/grafana/provisioning:" in compose
