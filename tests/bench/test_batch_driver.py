"""``streams.batch`` (the benchmark's plain confluent-kafka driver) makes the same alerts as ``exitwatch replay``
on a small input, on the real broker: same alert ids on ``alerts.hr`` and ``alerts.secops``, a bad record
dead-lettered, an unknown actor skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from kafka_reading import read_topics
from detectors.factory import build_engine
from detectors.replay import replay_files
from schemas.topics import activity_topic, topic_names
from streams.batch import BatchDriver

pytestmark = pytest.mark.integration

HR = [
    {"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "notice", "resignation_date": "2026-03-01",
     "last_day": "2026-03-31", "department": "R&D", "role": "engineer", "accounts": ["ann@corp.example", "CORP\\ann"]},
    {"employee_id": "E2", "ts": "2026-03-01T09:00:00Z", "status": "active", "accounts": ["bob@corp.example"]},
    {"employee_id": "E3", "ts": "2026-03-01T09:00:00Z", "status": "departed", "last_day": "2026-02-27",
     "department": "sales", "accounts": ["cy@corp.example", "CORP\\cy"]},
]


def events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(11):
        for actor in ("ANN@corp.example", "bob@corp.example"):
            out.append({"event_id": f"dl-{actor[:3]}-{i}", "ts": f"2026-03-{10 + i:02d}T10:00:00Z", "kind": "file",
                        "action": "download", "actor": actor, "source": "m365", "sensitivity": "restricted"})
    out.append({"event_id": "late-1", "ts": "2026-03-05T08:00:00Z", "kind": "logon", "action": "logon",
                "actor": "corp\\CY", "source": "windows"})
    out.append({"event_id": "ghost-1", "ts": "2026-03-05T08:00:00Z", "kind": "logon", "action": "logon",
                "actor": "nobody@corp.example", "source": "windows"})
    return sorted(out, key=lambda e: e["ts"])


def test_batch_driver_alerts_equal_replay(kafka_bootstrap: str, unique_prefix: str, kafka_admin: Any,
                                          tmp_path: Path) -> None:
    names = topic_names(unique_prefix)
    kafka_admin.create_topics([v for k, v in names.items() if k != "hr_status"], partitions=4)
    kafka_admin.create_topics([names["hr_status"]], partitions=4, config={"cleanup.policy": "compact"})
    evs = events()
    (tmp_path / "hr.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in HR))
    (tmp_path / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in evs))
    replay_files([str(tmp_path / "hr.jsonl")], [], [str(tmp_path / "events.jsonl")], str(tmp_path / "alerts.jsonl"),
                 engine=build_engine(), show_progress=False)
    expected = {orjson.loads(x)["alert_id"] for x in (tmp_path / "alerts.jsonl").read_text().splitlines()}
    assert len(expected) >= 2  # E1's downloads before leaving, E3's logon after the last day

    p = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    for r in HR:
        p.produce(names["hr_status"], key=r["employee_id"].encode(), value=orjson.dumps(r))
    for e in evs:
        p.produce(activity_topic(e["kind"], unique_prefix), key=e["actor"].encode(), value=orjson.dumps(e))
    p.produce(names["activity_file"], key=b"x", value=b'{"event_id": "broken", "ts": ')  # truncated record
    assert p.flush(30) == 0

    driver = BatchDriver(kafka_bootstrap, unique_prefix, group=f"{unique_prefix}batch", engine=build_engine(),
                         batch=7)
    try:
        driver.start()
        stats = driver.run(idle_exit=10.0, max_messages=len(evs) + 1)
    finally:
        driver.close()
    assert stats.events == len(evs) and stats.deadletter == 1 and stats.unresolved == 1

    got = read_topics(kafka_bootstrap, [names["alerts_hr"], names["alerts_secops"], names["deadletter"]],
                      until=lambda g: len(g[names["alerts_hr"]]) >= len(expected)
                      and len(g[names["alerts_secops"]]) >= len(expected) and g[names["deadletter"]])
    assert {a["alert_id"] for a in got[names["alerts_hr"]]} == expected
    from evidence.privacy import secops_alert_id

    assert {a["alert_id"] for a in got[names["alerts_secops"]]} == {
        secops_alert_id(i, b"change-me-exitwatch-pseudonym-key") for i in expected}
    assert all(a["employee_id"].startswith("p-") for a in got[names["alerts_secops"]])
    assert "broken" in got[names["deadletter"]][0]["raw"]

    # A restart of the same group restores state from the changelog and makes no new alert.
    again = BatchDriver(kafka_bootstrap, unique_prefix, group=f"{unique_prefix}batch", engine=build_engine())
    try:
        again.start()
        assert len(again.store.data) >= 3
        st = again.run(idle_exit=3.0)
    finally:
        again.close()
    assert st.messages == 0 and st.alerts == 0
