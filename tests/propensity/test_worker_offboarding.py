"""On the real broker, the worker (streams.batch, the plain confluent-kafka driver) writes the last-day summary
for every leaver and sends the departure propensity to alerts.hr only, as replay does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from detectors.factory import build_engine
from detectors.replay import replay_files
from kafka_reading import read_topics
from schemas.topics import activity_topic, topic_names
from streams.batch import BatchDriver

pytestmark = pytest.mark.integration

D0 = dt.date(2026, 1, 5)

HR = [
    {"employee_id": "E1", "ts": "2025-06-01T09:00:00Z", "status": "active", "department": "sales",
     "accounts": ["ann@corp.example"]},
    {"employee_id": "E1", "ts": "2026-03-02T09:00:00Z", "status": "notice", "resignation_date": "2026-03-02",
     "last_day": "2026-03-27", "department": "sales", "accounts": ["ann@corp.example"]},
    {"employee_id": "E1", "ts": "2026-03-30T08:00:00Z", "status": "departed", "resignation_date": "2026-03-02",
     "last_day": "2026-03-27", "department": "sales", "accounts": ["ann@corp.example"]},
    {"employee_id": "E2", "ts": "2025-06-01T09:00:00Z", "status": "active", "department": "sales",
     "accounts": ["bob@corp.example"]},
    {"employee_id": "E3", "ts": "2026-03-01T09:00:00Z", "status": "departed", "last_day": "2026-02-27",
     "department": "support", "accounts": ["cy@corp.example"]},
    # E4 gives notice and is never heard of again (no departed record, no signal, no activity after the last
    # day): the event-time watermark of everyone else's records writes the summary (Engine.advance)
    {"employee_id": "E4", "ts": "2026-03-16T09:00:00Z", "status": "notice", "resignation_date": "2026-03-16",
     "last_day": "2026-04-03", "department": "support", "accounts": ["dee@corp.example"]},
]
#: Leavers whose last-day summary every engine writes: E1 (news after the last day), E3 (departed record
#: after it), E4 (no news at all).
LEAVERS = {"E1", "E3", "E4"}


def _sig(emp: str, day: dt.date, name: str, value: Any = None, hour: int = 10) -> dict[str, Any]:
    return {"employee_id": emp, "ts": f"{day.isoformat()}T{hour:02d}:00:00Z", "signal": name, "value": value}


def signals() -> list[dict[str, Any]]:
    out = [_sig("E1", dt.date(2026, 3, 3), "handover_item_open", "client list"),
           _sig("E1", dt.date(2026, 3, 3), "handover_item_open", "admin passwords", 11),
           _sig("E1", dt.date(2026, 3, 20), "handover_item_done", "client list"),
           _sig("E1", dt.date(2026, 3, 27), "asset_returned", "LT-1", 16)]
    # E2 stays on record but drifts on several fronts from day 150 (a propensity alert)
    for d in range(240):
        day = D0 + dt.timedelta(days=d - 120)
        if day.weekday() >= 5:
            continue
        drifting = d >= 150
        if drifting or day.weekday() == 1:
            out.append(_sig("E2", day, "late_arrival", 30, 9))
        if d % 28 == 2:
            out.append(_sig("E2", day, "survey", 7 - (4 if drifting else 0) + (d // 28) % 2, 11))
        if d % 42 == 3:
            out.append(_sig("E2", day, "performance_review", 2.4 if drifting else 3.5, 12))
        if d % 60 == 4 or (drifting and d % 9 == 0):
            out.append(_sig("E2", day, "leave_request", 2, 13))
    return sorted(out, key=lambda s: s["ts"])


def events() -> list[dict[str, Any]]:
    return [{"event_id": f"e{i}", "ts": f"2026-03-{10 + i:02d}T10:00:00Z", "kind": "file", "action": "open",
             "actor": "ann@corp.example", "source": "m365"} for i in range(5)]


def test_worker_writes_last_day_summaries_and_keeps_propensity_with_hr(
        kafka_bootstrap: str, unique_prefix: str, kafka_admin: Any, tmp_path: Path) -> None:
    names = topic_names(unique_prefix)
    kafka_admin.create_topics([v for k, v in names.items() if k != "hr_status"], partitions=2)
    kafka_admin.create_topics([names["hr_status"]], partitions=2, config={"cleanup.policy": "compact"})
    sigs, evs = signals(), events()
    for name, rows in (("hr", HR), ("signals", sigs), ("events", evs)):
        (tmp_path / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    replay_files([str(tmp_path / "hr.jsonl")], [str(tmp_path / "signals.jsonl")], [str(tmp_path / "events.jsonl")],
                 str(tmp_path / "alerts.jsonl"), engine=build_engine(), show_progress=False)
    replayed = [orjson.loads(x) for x in (tmp_path / "alerts.jsonl").read_bytes().splitlines()]
    assert {a["employee_id"] for a in replayed if a["rule_id"] == "offboarding.last_day_summary"} == LEAVERS
    assert any(a["rule_id"] == "hr.departure_propensity" and a["employee_id"] == "E2" for a in replayed)

    # The worker loads hr.status into its cache at start without alerting (it is HR's news of the past); the
    # departures arrive while it runs, as HR news does.
    p = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    later = [r for r in HR if r["status"] == "departed"]
    for r in HR:
        if r not in later:
            p.produce(names["hr_status"], key=r["employee_id"].encode(), value=orjson.dumps(r))
    for s in sigs:
        p.produce(names["hr_signals"], key=s["employee_id"].encode(), value=orjson.dumps(s))
    for e in evs:
        p.produce(activity_topic(e["kind"], unique_prefix), key=b"E1", value=orjson.dumps(e))
    assert p.flush(30) == 0
    driver = BatchDriver(kafka_bootstrap, unique_prefix, group=f"{unique_prefix}batch", engine=build_engine(),
                         batch=50)
    try:
        driver.start()
        driver.run(idle_exit=5.0, max_messages=len(sigs) + len(evs))
        for r in later:
            p.produce(names["hr_status"], key=r["employee_id"].encode(), value=orjson.dumps(r))
        assert p.flush(30) == 0
        driver.run(idle_exit=5.0)
    finally:
        driver.close()
    got = read_topics(kafka_bootstrap, [names["alerts_hr"], names["alerts_secops"]],
                      until=lambda g: all(sum(a["rule_id"] == "offboarding.last_day_summary" for a in g[t]) >= 3
                                          for t in (names["alerts_hr"], names["alerts_secops"])))
    hr_alerts, sec_alerts = got[names["alerts_hr"]], got[names["alerts_secops"]]
    summaries = {a["employee_id"]: a for a in hr_alerts if a["rule_id"] == "offboarding.last_day_summary"}
    assert set(summaries) == LEAVERS
    assert summaries["E1"]["explanation"]["handed_over"] == ["client list"]
    assert summaries["E1"]["explanation"]["open_items"] == ["admin passwords"]
    assert any(a["rule_id"] == "hr.departure_propensity" and a["employee_id"] == "E2" for a in hr_alerts)
    assert sec_alerts and not any("propensity" in a["rule_id"] for a in sec_alerts)
    assert sum(a["rule_id"] == "offboarding.last_day_summary" for a in sec_alerts) == 3
    # the same summaries as replay's, E4's at midnight after the last day
    by_id = {a["alert_id"]: a for a in replayed if a["rule_id"] == "offboarding.last_day_summary"}
    assert {a["alert_id"] for a in summaries.values()} == set(by_id)
    assert summaries["E4"]["ts"].startswith("2026-04-04T00:00:00")
