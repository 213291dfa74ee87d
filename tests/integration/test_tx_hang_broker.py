"""A transaction call that hangs, on the real broker and Redis (streams/tx/txn.py, streams/tx/resume.py).

librdkafka 2.16 has been seen to block in a transaction call well past its timeout across a broker restart.
That cannot be provoked at will, so the hang is made here: the worker's ``commit_transaction`` of the
transaction that carries an alert blocks, either after the real commit went through (the answer was lost)
or before anything was committed. In both cases the worker must give the call up at its deadline, abandon
the producer, fence it with a new one under the same transactional id, take up the committed state again,
and deliver every event once on ``activity.enriched`` and the alert once on ``alerts.hr``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kafka_reading import read_topics
from schemas.topics import topic_names

pytestmark = pytest.mark.integration

RULE = "file.sensitive_downloads_before_departure"
HR = {"employee_id": "E1001", "ts": "2026-03-01T09:00:00Z", "status": "notice", "last_day": "2026-03-31",
      "accounts": ["ann@corp.example"]}


def downloads(first: int, last: int) -> list[dict[str, Any]]:
    return [{"event_id": f"dl-{i}", "ts": f"2026-03-{i:02d}T10:00:00Z", "kind": "file", "action": "download",
             "actor": "ann@corp.example", "employee_id": "E1001", "source": "m365", "sensitivity": "restricted"}
            for i in range(first, last + 1)]


def produce(bootstrap: str, topic: str, records: list[dict[str, Any]], key: str) -> None:
    import json

    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap})
    for r in records:
        p.produce(topic, key=key.encode(), value=json.dumps(r).encode())
    assert p.flush(30) == 0


@pytest.mark.parametrize("when", ["after_commit", "before_commit"])
def test_a_hung_commit_is_abandoned_and_every_output_is_delivered_once(
        when: str, kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any, tmp_path: Path,
        monkeypatch: Any) -> None:
    from schemas.settings import Settings
    from streams.tx import txn
    from streams.tx.worker import TxWorker

    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    produce(kafka_bootstrap, names["hr_status"], [HR], "E1001")
    produce(kafka_bootstrap, names["activity_file"], downloads(10, 20), "E1001")  # the 11th download alerts
    s = Settings(kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, topic_prefix=unique_prefix,
                 app_id=f"{unique_prefix}worker", data_dir=str(tmp_path / "w"), models=False, tx_batch=2,
                 tx_call_timeout_s=2.0)
    monkeypatch.setattr(txn, "GRACE_S", 0.5)
    w = TxWorker(s)
    gate, hung = threading.Event(), []
    run = txn.Calls.run

    def hanging_run(self: txn.Calls, fn: Any, *args: Any, deadline: float) -> Any:
        if getattr(fn, "__name__", "") == "commit_transaction" and w.proc.alerts and not hung:
            hung.append(when)

            def commit_then_hang(*a: Any) -> None:
                if when == "after_commit":
                    fn(*a)  # the commit reaches the broker; its answer never comes back
                gate.wait(120)

            return run(self, commit_then_hang, *args, deadline=deadline)
        return run(self, fn, *args, deadline=deadline)

    monkeypatch.setattr(txn.Calls, "run", hanging_run)
    first_tx = w.tx
    w.start()
    try:
        deadline, idle_since = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            if w.step() or w.resume_due or not hung:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 3:
                break
        assert hung == [when], "the commit carrying the alert was never attempted"
        assert first_tx.abandoned and w.tx is not first_tx and not w.tx.abandoned and w.resume_due is None
    finally:
        w.close()
        gate.set()
    got = read_topics(kafka_bootstrap, [names["alerts_hr"], names["activity_enriched"]], timeout=30,
                      isolation="read_committed", to_end=True)
    enriched = Counter(e["event_id"] for e in got[names["activity_enriched"]])
    assert sorted(enriched) == [f"dl-{i}" for i in range(10, 21)] and set(enriched.values()) == {1}, enriched
    fired = [a["alert_id"] for a in got[names["alerts_hr"]] if a["rule_id"] == RULE]
    assert len(fired) == 1, fired
