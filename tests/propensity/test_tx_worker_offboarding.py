"""On the real broker and Redis, the default worker (``exitwatch worker``, streams/tx) writes the last-day
summary of every leaver, also of one never heard of after the last day (the event-time watermark of everyone
else's records, :meth:`detectors.engine.Engine.advance`), and the summaries are replay's: same ids, same time
(midnight after the last day), same content. The departure propensity stays on alerts.hr."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from detectors.factory import build_engine
from detectors.replay import replay_files
from kafka_reading import read_topics
from schemas.topics import activity_topic, topic_names

from test_worker_offboarding import HR, LEAVERS, events, signals

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = "offboarding.last_day_summary"


def test_tx_worker_writes_every_summary_as_replay_does(kafka_bootstrap: str, redis_url: str, unique_prefix: str,
                                                        kafka_admin: Any, tmp_path: Path) -> None:
    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    sigs, evs = signals(), events()
    for name, rows in (("hr", HR), ("signals", sigs), ("events", evs)):
        (tmp_path / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    replay_files([str(tmp_path / "hr.jsonl")], [str(tmp_path / "signals.jsonl")], [str(tmp_path / "events.jsonl")],
                 str(tmp_path / "alerts.jsonl"), engine=build_engine(), show_progress=False)
    replayed = {a["alert_id"]: a for a in map(orjson.loads, (tmp_path / "alerts.jsonl").read_bytes().splitlines())
                if a["rule_id"] == SUMMARY}
    assert {a["employee_id"] for a in replayed.values()} == LEAVERS

    p = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    for r in HR:
        p.produce(names["hr_status"], key=r["employee_id"].encode(), value=orjson.dumps(r))
    for s in sigs:
        p.produce(names["hr_signals"], key=s["employee_id"].encode(), value=orjson.dumps(s))
    for e in evs:
        p.produce(activity_topic(e["kind"], unique_prefix), key=b"E1", value=orjson.dumps(e))
    assert p.flush(30) == 0
    env = {**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "REDIS_URL": redis_url}
    w = subprocess.Popen([sys.executable, "-m", "exitwatch.cli", "worker", "--topic-prefix", unique_prefix,
                          "--app-id", f"{unique_prefix}worker", "--data-dir", str(tmp_path / "w"),
                          "--metrics-port", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        got = read_topics(kafka_bootstrap, [names["alerts_hr"], names["alerts_secops"]], timeout=180,
                          isolation="read_committed",
                          # E2's propensity comes after every summary in event time: a worker that commits
                          # whatever it has at hand may put it in a later transaction than the summaries
                          until=lambda g: sum(a["rule_id"] == SUMMARY for a in g[names["alerts_hr"]]) >= 3
                          and sum(a["rule_id"] == SUMMARY for a in g[names["alerts_secops"]]) >= 3
                          and any(a["rule_id"] == "hr.departure_propensity" for a in g[names["alerts_hr"]]))
    finally:
        w.send_signal(signal.SIGTERM)
        try:
            log = w.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            w.kill()
            log = w.communicate()[0]
    hr_alerts, sec = got[names["alerts_hr"]], got[names["alerts_secops"]]
    summaries = {a["alert_id"]: a for a in hr_alerts if a["rule_id"] == SUMMARY}
    assert set(summaries) == set(replayed), (sorted(a["employee_id"] for a in summaries.values()), log[-3000:])
    for aid, a in summaries.items():
        r = replayed[aid]
        assert (a["ts"], a["title"], a["explanation"], a["evidence"]) == (r["ts"], r["title"], r["explanation"],
                                                                         r["evidence"]), a["employee_id"]
    e4 = next(a for a in summaries.values() if a["employee_id"] == "E4")
    assert e4["ts"].startswith("2026-04-04T00:00:00") and e4["explanation"]["last_day"] == "2026-04-03"
    assert any(a["rule_id"] == "hr.departure_propensity" for a in hr_alerts), (sorted(
        (a["ts"], a["rule_id"], a["employee_id"]) for a in hr_alerts), log[-3000:])
    assert not any("propensity" in a["rule_id"] for a in sec)
    assert sum(a["rule_id"] == SUMMARY for a in sec) == 3
