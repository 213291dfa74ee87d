"""End to end on the real broker and Redis: O365 audit records and HR records through the connectors into
Kafka, the Faust worker enriching and detecting, and the alert read back from both alert topics.

Also checks that ``exitwatch replay`` over the same records (as contract files) gives the same alert ids.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from kafka_reading import read_topics
from schemas import Alert
from schemas.pseudonym import pseudonymize
from schemas.topics import topic_names

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXITWATCH = [sys.executable, "-m", "exitwatch.cli"]
SAMPLE = ROOT / "tests/fixtures/connectors/appomni-event-maturity-matrix/products/microsoft_365/event_examples/sharepoint/activity_audit_download_resource_file.json"
RULE = "file.sensitive_downloads_before_departure"


def o365_downloads(n: int, user: str, first_day: dt.date) -> list[str]:
    """``n`` FileDownloaded records built from the real SharePoint sample, one a day, by ``user``."""
    base = json.loads(SAMPLE.read_text())
    out = []
    for i in range(n):
        r = dict(base)
        r["Id"] = f"24052721-2860-4804-fe81-{i:012d}"
        r["CreationTime"] = f"{first_day + dt.timedelta(days=i)}T10:{i % 60:02d}:00"
        r["UserId"] = user
        r["SourceFileName"] = f"Plan {i}.docx"
        r["ObjectId"] = f"{r['SiteUrl']}Shared Documents/Plan {i}.docx"
        out.append(json.dumps(r))
    return out


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*EXITWATCH, *args], cwd=ROOT, capture_output=True, text=True, timeout=180,
                       env={**os.environ, **(env or {})})
    assert p.returncode == 0, f"exitwatch {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture
def company(tmp_path: Path) -> dict[str, Path]:
    """Ann leaves on 2026-03-31 (HR knows her accounts); she downloads 11 confidential files before."""
    hr = tmp_path / "hr.jsonl"
    hr.write_text(
        json.dumps({"employee_id": "E1001", "ts": "2026-03-01T09:00:00Z", "status": "notice",
                    "resignation_date": "2026-03-01", "last_day": "2026-03-31", "department": "R&D",
                    "role": "engineer", "manager_id": "E0001",
                    "accounts": ["Ann.Lee@corp.example", "CORP\\alee"]}) + "\n"
        + json.dumps({"employee_id": "E1002", "ts": "2026-03-01T09:00:00Z", "status": "active",
                      "accounts": ["bob@corp.example"]}) + "\n"
    )
    audit = tmp_path / "o365.jsonl"
    lines = o365_downloads(11, "ann.lee@CORP.example", dt.date(2026, 3, 10))
    lines += o365_downloads(11, "bob@corp.example", dt.date(2026, 3, 10))  # not leaving: no alert
    lines.insert(3, '{"Operation": "FileDownloaded", "CreationTime": ')  # truncated record
    audit.write_text("\n".join(lines) + "\n")
    return {"hr": hr, "audit": audit, "dir": tmp_path}


def test_o365_to_alert_topics(kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any,
                              company: dict[str, Path], tmp_path: Path) -> None:
    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url}
    run_cli("connect", "hr", str(company["hr"]), "--topic-prefix", unique_prefix, env=env)
    out = run_cli("connect", "m365", str(company["audit"]), "--topic-prefix", unique_prefix, "--hr",
                  str(company["hr"]), env=env)
    assert "dead" in (out.stderr + out.stdout).lower()

    # What replay says about the same records, as contract files.
    events = tmp_path / "events.jsonl"
    run_cli("connect", "m365", str(company["audit"]), "--hr", str(company["hr"]), "--to-file", str(events))
    alerts_file = tmp_path / "alerts.jsonl"
    ledger_file = tmp_path / "ledger.jsonl"
    run_cli("replay", "--hr", str(company["hr"]), "--events", str(events), "--alerts", str(alerts_file),
            "--ledger", str(ledger_file))
    replayed = [orjson.loads(x) for x in alerts_file.read_text().splitlines()]
    expected = {x["alert_id"] for x in replayed}
    from evidence.privacy import secops_alert_id
    from schemas.settings import Settings

    pkey = Settings().pseudonym_key.get_secret_value().encode()
    expected_sec = {secops_alert_id(i, pkey) for i in expected}
    assert any(x["rule_id"] == RULE for x in replayed)

    worker = subprocess.Popen(
        [*EXITWATCH, "worker", "--topic-prefix", unique_prefix, "--app-id", f"{unique_prefix}worker",
         "--data-dir", str(tmp_path / "state"), "--metrics-port", "0", "--loglevel", "info"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        got = read_topics(
            kafka_bootstrap, [names["alerts_hr"], names["alerts_secops"], names["deadletter"],
                              names["evidence_ledger"]],
            until=lambda g: expected <= {v["alert_id"] for _, v in g[names["alerts_hr"]]}
            and expected_sec <= {v["alert_id"] for _, v in g[names["alerts_secops"]]}
            and expected <= {v["alert"]["alert_id"] for _, v in g[names["evidence_ledger"]]},
            timeout=120.0, keys=True,
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            log, _ = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            log, _ = worker.communicate()
    hr_alerts = [v for _, v in got[names["alerts_hr"]] if v["rule_id"] == RULE]
    sec_alerts = [v for _, v in got[names["alerts_secops"]] if v["rule_id"] == RULE]
    assert len(hr_alerts) == 1, f"worker log:\n{log[-3000:]}"
    a = Alert.model_validate(hr_alerts[0])
    assert a.employee_id == "E1001"
    assert a.explanation["observed"] == 11 and a.explanation["threshold"] == 10
    assert a.explanation["window_start"] == "2026-03-02" and a.explanation["window_end"] == "2026-03-31"
    from detectors.catalogue import load_rules

    cap = {r.id: r for r in load_rules()}[RULE].window.evidence_cap  # the most recent downloads are cited
    assert len(a.evidence) == min(11, cap)
    assert a.employee["department"] == "R&D" and a.employee["last_day"] == "2026-03-31"

    assert len(sec_alerts) == 1
    s = sec_alerts[0]
    assert s["alert_id"] == secops_alert_id(a.alert_id, pkey)
    assert not set(s["evidence"]) & set(a.evidence)
    assert s["employee_id"] != "E1001" and s["employee_id"][:2] in ("p-", "u-")  # u-: one leaver of two known
    assert "employee_id" not in s["employee"] and "manager_id" not in s["employee"]
    assert "E1001" not in json.dumps(s)
    # Connector-side dead letters go to the deadletter topic with their reason.
    dead = [v for _, v in got[names["deadletter"]]]
    assert any("FileDownloaded" in d["raw"] and d["reason"] for d in dead), dead

    # The same records replayed from files give the same alerts.
    assert {x["alert_id"] for x in replayed} == {v["alert_id"] for _, v in got[names["alerts_hr"]]}

    # The worker's evidence ledger is the one replay writes, entry for entry (same signatures); a case bundle
    # exported from the topic verifies, and one byte changed in it does not.
    from evidence.ledger import canonical

    streamed = {canonical(v) for _, v in got[names["evidence_ledger"]]}
    assert streamed == {canonical(orjson.loads(x)) for x in ledger_file.read_bytes().splitlines()}
    xenv = {**env, "EXITWATCH_TOPIC_PREFIX": unique_prefix, "EXITWATCH_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    case = tmp_path / "case"
    run_cli("evidence", "export", "--employee", "E1001", "--out", str(case), env=xenv)
    assert run_cli("evidence", "verify", str(case), env=xenv).returncode == 0
    raw = (case / "evidence.jsonl").read_bytes()
    (case / "evidence.jsonl").write_bytes(raw.replace(b"E1001", b"E1002", 1) if b"E1001" in raw else raw[:-2])
    bad = subprocess.run([*EXITWATCH, "evidence", "verify", str(case)], cwd=ROOT, env={**os.environ, **xenv},
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "evidence.jsonl" in bad.stderr


def test_pseudonym_is_keyed() -> None:
    assert pseudonymize("E1001", b"k1") != pseudonymize("E1001", b"k2")


def test_follow_mode_transactions_to_worker_once_and_no_stall(
        kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any, company: dict[str, Path],
        tmp_path: Path) -> None:
    """A connector in follow mode writes in Kafka transactions; the worker reads them with read_committed, makes
    the alert once, and does not take the commit markers (offsets it never receives) for a stalled stream."""
    import time

    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    env = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url}
    run_cli("connect", "hr", str(company["hr"]), "--topic-prefix", unique_prefix, env=env)
    lines = company["audit"].read_text().splitlines()
    live = tmp_path / "live.jsonl"
    live.write_text("\n".join(lines[:8]) + "\n")
    worker = subprocess.Popen(
        [*EXITWATCH, "worker", "--topic-prefix", unique_prefix, "--app-id", f"{unique_prefix}worker",
         "--data-dir", str(tmp_path / "state"), "--metrics-port", "0", "--loglevel", "info"],
        cwd=ROOT, env={**os.environ, **env, "EXITWATCH_WATCHDOG_S": "6"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    conn = subprocess.Popen(
        [*EXITWATCH, "connect", "m365", str(live), "--topic-prefix", unique_prefix, "--hr", str(company["hr"]),
         "--follow", "--checkpoint", str(tmp_path / "cp.json"), "--poll-interval", "0.2", "--quiet"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        time.sleep(3)
        with live.open("a") as f:  # the rest arrives while both run
            f.write("\n".join(lines[8:]) + "\n")
        got = read_topics(kafka_bootstrap, [names["alerts_hr"]],
                          until=lambda g: any(v["rule_id"] == RULE for _, v in g[names["alerts_hr"]]),
                          timeout=120.0, keys=True)
        time.sleep(20)  # three watchdog periods with every record committed and only markers after them
        assert worker.poll() is None, f"worker exited with {worker.returncode}"
        assert conn.poll() is None, f"connector exited with {conn.returncode}"
        got = read_topics(kafka_bootstrap, [names["alerts_hr"]], timeout=15.0, keys=True, to_end=True)
    finally:
        for p in (conn, worker):
            p.send_signal(signal.SIGTERM)
        logs = []
        for p in (conn, worker):
            try:
                logs.append(p.communicate(timeout=60)[0])
            except subprocess.TimeoutExpired:
                p.kill()
                logs.append(p.communicate()[0])
    fired = [v for _, v in got[names["alerts_hr"]] if v["rule_id"] == RULE]
    assert len(fired) == 1 and fired[0]["explanation"]["observed"] == 11, logs[1][-3000:]
    assert "stalled" not in logs[1], logs[1][-3000:]
