"""The exported metrics follow the Prometheus conventions and keep label cardinality bounded; the
connector's ``--metrics-port`` serves its counts."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import connectors.metrics as cm
from streams import metrics

#: Labels that could identify a person: never on an exitwatch metric.
IDENTITY_LABELS = {"employee_id", "employee", "actor", "account", "user", "email", "name", "manager_id", "host"}


def families() -> list:
    return [f for f in REGISTRY.collect() if f.name.startswith("exitwatch_")]


def test_names_follow_prometheus_conventions() -> None:
    fams = families()
    assert len(fams) >= 30
    for f in fams:
        assert re.fullmatch(r"exitwatch_[a-z][a-z0-9_]*", f.name), f.name
        assert f.documentation, f"{f.name} has no help text"
        if f.type == "counter":
            assert not f.name.endswith("_total"), "prometheus_client adds _total"  # exported as <name>_total
        if f.type in ("gauge", "histogram"):
            assert not f.name.endswith("_total"), f"{f.name}: _total is for counters"
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days_total|bytes_total_bytes)$", f.name), f.name
        if f.type == "histogram" and "seconds" not in f.name:
            assert f.name == "exitwatch_alert_days_to_last_day"  # the one histogram in days: a date difference


def test_the_required_metrics_exist() -> None:
    names = {f.name for f in families()}
    assert {
        "exitwatch_events_in", "exitwatch_unresolved_actors", "exitwatch_deadletter_records",
        "exitwatch_hr_cache_lookups", "exitwatch_alerts", "exitwatch_department_alerts",
        "exitwatch_detector_errors", "exitwatch_event_to_alert_seconds", "exitwatch_ingest_to_processed_seconds",
        "exitwatch_consumer_lag_messages", "exitwatch_employees_tracked", "exitwatch_hr_employees",
        "exitwatch_employees_leaving", "exitwatch_worker_ready", "exitwatch_connector_events",
        "exitwatch_connector_deadletter_records",
    } <= names


def test_no_identity_labels() -> None:
    labelled = {}
    for collector, names in REGISTRY._collector_to_names.items():
        if any(n.startswith("exitwatch_") for n in names):
            labelled[min(names)] = set(getattr(collector, "_labelnames", ()))
    assert len(labelled) >= 30 and sum(1 for v in labelled.values() if v) >= 15
    assert {n: v & IDENTITY_LABELS for n, v in labelled.items() if v & IDENTITY_LABELS} == {}


REASONS = [
    ("invalid activity event: kind: Input should be 'file'", "invalid_record"),
    ("invalid activity event: record: Invalid JSON: EOF while parsing a value", "invalid_json"),
    ("invalid t1.hr.status record: ts: Input should be a valid datetime", "bad_timestamp"),
    ("record too large: 2000000 bytes", "too_large"),
    ("record larger than 1048576 bytes", "too_large"),
    ("invalid JSON: Expecting value", "invalid_json"),
    ("truncated JSON record (the next line starts a new one)", "invalid_json"),
    ("bad timestamp: 'yesterday'", "bad_timestamp"),
    ("unknown file activity 'rename'", "unsupported"),
    ("not a syslog line", "unsupported"),
    ("no actor in record", "invalid_record"),
    ("CERT row without id or user", "invalid_record"),
    ("cannot read /x/y.log: Permission denied", "read_error"),
    ("parser error: KeyError: 'Operation'", "other"),
]


@pytest.mark.parametrize(("reason", "category"), REASONS)
def test_reason_categories_agree_between_worker_and_connectors(reason: str, category: str) -> None:
    assert metrics.reason_category(reason) == category
    assert cm.reason_category(reason) == category
    assert category in metrics.REASON_CATEGORIES


def test_deadletter_reason_label_is_a_category() -> None:
    metrics.DEADLETTER.labels("enrich", "invalid activity event: actor: Field required (ann@corp.example)").inc()
    metrics.DEADLETTER.labels("detect", "detector failure: KeyError: 'E1001'").inc()
    reasons = {s.labels["reason"] for s in REGISTRY.collect() if s.name == "exitwatch_deadletter_records"
               for s in s.samples}
    assert reasons and reasons <= set(metrics.REASON_CATEGORIES)


def test_department_labels_are_capped() -> None:
    got = [metrics.bounded("test-cap", f"d{i}", limit=3) for i in range(5)]
    assert got == ["d0", "d1", "d2", "other", "other"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connect_metrics_port_serves_counts(tmp_path: Path) -> None:
    """``exitwatch connect synthetic ... --metrics-port``: events by kind, dead letters by reason category."""
    from connectors.cli import main

    src = tmp_path / "ev.jsonl"
    src.write_text(json.dumps({"event_id": "m1", "ts": "2026-03-02T09:15:00Z", "kind": "email", "action": "send",
                               "actor": "ann@corp.example", "source": "synthetic"}) + "\nnot json\n")
    before = cm.EVENTS.labels("synthetic", "email")._value.get()
    dl_before = cm.DEADLETTERS.labels("synthetic", "invalid_json")._value.get()
    port = free_port()
    assert main(["synthetic", str(src), "--to-file", str(tmp_path / "out.jsonl"), "--metrics-port", str(port),
                 "--quiet"]) == 0
    assert cm.EVENTS.labels("synthetic", "email")._value.get() == before + 1
    assert cm.DEADLETTERS.labels("synthetic", "invalid_json")._value.get() == dl_before + 1
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()  # noqa: S310
    assert 'exitwatch_connector_events_total{kind="email",source="synthetic"}' in body
    assert "ann@corp.example" not in body
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1  # the sink still got everything
