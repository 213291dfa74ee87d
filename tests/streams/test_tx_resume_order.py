"""After a resumption (streams/tx/resume.py) the worker applies records in event-time order across topics, on the
real broker and Redis.

A resumption seeks every input partition back to its committed offset. Until the consumer has fetched from a
partition again, its position is unknown (-1001) and the end it caches for it is the one of its last fetch
from it before. Taken together (the committed offset against that old end) they said "caught up" for a
partition whose new records had not been fetched yet, and the time-ordered merge released later records of
another topic before them: the out-of-order application seen after a hung transaction across the fault run's
broker restart, when partitions come back at different moments. Here the consumer's fetch from one partition
is held (paused) right after the resumption, the way a fetch not answered yet holds it, while records of an
earlier time wait in it and later ones arrive on another topic. The merge must wait for it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from schemas.topics import topic_names

pytestmark = pytest.mark.integration

HR = {"employee_id": "E1001", "ts": "2026-03-01T08:00:00Z", "status": "active", "accounts": ["ann@corp.example"]}


def mail(i: int, ts: str) -> dict[str, Any]:
    return {"event_id": f"mail-{i}", "ts": ts, "kind": "email", "action": "send", "actor": "ann@corp.example",
            "employee_id": "E1001", "source": "m365", "count": 1, "recipients": ["bob@corp.example"]}


def download(i: int, ts: str) -> dict[str, Any]:
    return {"event_id": f"dl-{i}", "ts": ts, "kind": "file", "action": "download", "actor": "ann@corp.example",
            "employee_id": "E1001", "source": "m365"}


def produce(bootstrap: str, topic: str, records: list[dict[str, Any]]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for r in records:
        p.produce(topic, key=b"E1001", value=json.dumps(r).encode())
    assert p.flush(30) == 0


def run_until_idle(w: Any, idle_s: float = 2.0, limit_s: float = 60.0) -> None:
    deadline, last = time.monotonic() + limit_s, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last < idle_s:
        if w.step() or w.resume_due or w.tx.open:
            last = time.monotonic()


def test_after_a_resumption_a_partition_not_fetched_again_holds_the_merge(
        kafka_bootstrap: str, redis_url: str, unique_prefix: str, kafka_admin: Any, tmp_path: Path) -> None:
    from schemas.settings import Settings
    from streams.tx import resume
    from streams.tx.worker import TxWorker

    names = topic_names(unique_prefix)
    kafka_admin.create_topics(list(names.values()), partitions=4)
    produce(kafka_bootstrap, names["hr_status"], [HR])
    produce(kafka_bootstrap, names["activity_email"], [mail(i, f"2026-03-02T{9 + i:02d}:00:00Z") for i in range(3)])
    produce(kafka_bootstrap, names["activity_file"], [download(i, f"2026-03-02T{9 + i:02d}:30:00Z") for i in range(3)])
    s = Settings(kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, topic_prefix=unique_prefix,
                 app_id=f"{unique_prefix}worker", data_dir=str(tmp_path / "w"), models=False, tx_call_timeout_s=5.0)
    w = TxWorker(s)
    w.merge.lag_wait = 120.0  # (its safety net must not end the wait during the test on a loaded machine)
    applied: list[str] = []
    process = w.proc.process

    def recording(recs: list[Any]) -> None:
        applied.extend(r.obj.event_id for r in recs if hasattr(r.obj, "event_id"))
        process(recs)

    w.proc.process = recording  # type: ignore[method-assign]
    w.start()
    try:
        run_until_idle(w)
        assert applied == ["mail-0", "dl-0", "mail-1", "dl-1", "mail-2", "dl-2"]  # the backlog, in time order
        # a transaction fails: the worker takes up the committed state again and seeks every partition back
        resume.failed(w, KafkaException(KafkaError(KafkaError._TIMED_OUT, "injected")))
        assert w.resume_due is None
        mails = TopicPartition(names["activity_email"], w.partition_of("E1001"))
        w.consumer.pause([mails])  # its first fetch since the seek is not answered yet
        produce(kafka_bootstrap, names["activity_email"], [mail(3, "2026-03-03T09:00:00Z")])
        produce(kafka_bootstrap, names["activity_file"], [download(3, "2026-03-03T10:00:00Z"),
                                                          download(4, "2026-03-03T11:00:00Z")])
        files = (names["activity_file"], mails.partition)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (w.merge.buffered(files) or applied[6:]):
            w.step()  # until the later downloads are at hand
        for _ in range(20):
            w.step()
        assert applied[6:] == [], "the later downloads went before the mail still in the partition not fetched again"
        assert (mails.topic, mails.partition) in w.merge.blocked
        w.consumer.resume([mails])
        run_until_idle(w)
    finally:
        w.close()
    assert applied[6:] == ["mail-3", "dl-3", "dl-4"]
