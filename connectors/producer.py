"""Sinks: where connector outputs go. All have ``send_event``, ``send_hr``, ``send_signal``,
``send_deadletter``, ``flush()`` and ``close()``, and count ``failures``.

* :class:`KafkaSink`: the contract topics (``activity.*``, ``hr.status``, ``hr.signals``, ``deadletter``),
  with ``acks=all``, idempotence, delivery reports checked, back-pressure handled by polling, never dropping.
* :class:`FileSink`: JSON lines; dead letters go to ``OUT.jsonl.deadletter``; HR records and signals of a
  connector other than ``hr`` go beside OUT (``OUT.hr.jsonl``, ``OUT.signals.jsonl``).
* :class:`NullSink`: counts only (benchmarks).

>>> import tempfile, os
>>> from schemas.models import ActivityEvent
>>> out = os.path.join(tempfile.mkdtemp(), "out.jsonl")
>>> with FileSink(out) as s:
...     s.send_event(ActivityEvent.model_validate({"event_id": "e1", "ts": "2026-03-02T09:15:00Z",
...         "kind": "file", "action": "open", "actor": "ann", "source": "synthetic"}))
>>> open(out).read()[:40]
'{"event_id":"e1","ts":"2026-03-02T09:15:'
"""

from __future__ import annotations

import os
import time
from typing import IO, Any

import orjson

from schemas.models import ActivityEvent, DeadLetter, HRRecord, HRSignal
from schemas.topics import activity_topic, topic_names


def to_json(model: Any) -> bytes:
    """Contract JSON of a model: times RFC 3339 with offset, ``Z`` for UTC."""
    d = model.model_dump(mode="json")
    return orjson.dumps(d)


def _deadletter_json(dl: DeadLetter) -> bytes:
    return orjson.dumps(
        {"source": dl.source, "reason": dl.reason, "raw": dl.raw, "ts": dl.ts.isoformat().replace("+00:00", "Z")}
    )


def event_json(ev: ActivityEvent) -> bytes:
    d = ev.model_dump(mode="json", exclude_none=False)
    return orjson.dumps(d)


class _Base:
    failures = 0
    delivered = 0

    def __enter__(self) -> "_Base":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.flush()


class NullSink(_Base):
    """Counts what it is sent; for benchmarks and dry runs."""

    def __init__(self) -> None:
        self.counts = {"event": 0, "hr": 0, "signal": 0, "deadletter": 0}

    def send_event(self, ev: ActivityEvent) -> None:
        self.counts["event"] += 1

    def send_hr(self, rec: HRRecord) -> None:
        self.counts["hr"] += 1

    def send_signal(self, sig: HRSignal) -> None:
        self.counts["signal"] += 1

    def send_deadletter(self, dl: DeadLetter) -> None:
        self.counts["deadletter"] += 1

    def flush(self) -> int:
        return 0


def side_path(path: str, tag: str) -> str:
    """``out.jsonl`` -> ``out.<tag>.jsonl``."""
    base, ext = os.path.splitext(path)
    if ext.lower() in (".jsonl", ".json", ".ndjson"):
        return f"{base}.{tag}{ext}"
    return f"{path}.{tag}.jsonl"


class FileSink(_Base):
    """JSON lines to ``path``; dead letters to ``path + ".deadletter"``.

    ``hr_path`` / ``signals_path`` say where HR records and signals go (default: ``path`` itself when
    ``primary`` is ``"hr"``, else beside it). ``append`` keeps what the files hold (follow mode, restarts).
    """

    def __init__(
        self,
        path: str,
        *,
        append: bool = False,
        primary: str = "event",
        hr_path: str | None = None,
        signals_path: str | None = None,
        deadletter_path: str | None = None,
    ) -> None:
        self.path = path
        self.mode = "ab" if append else "wb"
        self.paths = {
            "event": path,
            "hr": hr_path or (path if primary == "hr" else side_path(path, "hr")),
            "signal": signals_path or side_path(path, "signals"),
            "deadletter": deadletter_path or f"{path}.deadletter",
        }
        self._fh: dict[str, IO[bytes]] = {}
        self.counts = {"event": 0, "hr": 0, "signal": 0, "deadletter": 0}
        self.failures = 0
        # the main file exists after a run even when nothing was written to it
        self._open("event" if primary != "hr" else "hr")
        self._open("deadletter")  # emptied when not appending: no stale dead letters of an earlier run

    def _open(self, kind: str) -> IO[bytes]:
        p = self.paths[kind]
        for k, fh in self._fh.items():
            if self.paths[k] == p:
                self._fh[kind] = fh
                return fh
        d = os.path.dirname(os.path.abspath(p))
        os.makedirs(d, exist_ok=True)
        fh = open(p, self.mode)
        self._fh[kind] = fh
        return fh

    def _write(self, kind: str, data: bytes) -> None:
        fh = self._fh.get(kind) or self._open(kind)
        fh.write(data + b"\n")
        self.counts[kind] += 1
        self.delivered += 1

    def send_event(self, ev: ActivityEvent) -> None:
        self._write("event", event_json(ev))

    def send_hr(self, rec: HRRecord) -> None:
        self._write("hr", to_json(rec))

    def send_signal(self, sig: HRSignal) -> None:
        self._write("signal", to_json(sig))

    def send_deadletter(self, dl: DeadLetter) -> None:
        self._write("deadletter", _deadletter_json(dl))

    def flush(self) -> int:
        seen = set()
        for fh in self._fh.values():
            if id(fh) in seen:
                continue
            seen.add(id(fh))
            fh.flush()
            try:
                os.fsync(fh.fileno())
            except OSError:
                pass
        return 0

    def close(self) -> None:
        self.flush()
        seen = set()
        for fh in self._fh.values():
            if id(fh) not in seen:
                seen.add(id(fh))
                fh.close()
        self._fh = {}


class KafkaSink(_Base):
    """Produce to the contract topics; key = employee id if known, else the actor.

    ``failures`` counts records whose delivery failed (reported by the broker or still queued after
    ``flush``); the CLI exits non-zero when it is not 0.
    """

    def __init__(
        self,
        bootstrap: str,
        prefix: str = "",
        *,
        config: dict[str, Any] | None = None,
        flush_timeout: float = 60.0,
    ) -> None:
        from confluent_kafka import Producer

        self.prefix = prefix
        self.topics = topic_names(prefix)
        conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 20,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",  # same partitions as the Java client and aiokafka (Faust)
            "message.timeout.ms": 120000,
            "queue.buffering.max.messages": 200000,
        }
        conf.update(config or {})
        self._producer = Producer(conf)
        self.flush_timeout = flush_timeout
        self.failures = 0
        self.delivered = 0
        self.errors: list[str] = []

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self.failures += 1
            if len(self.errors) < 20:
                self.errors.append(f"{msg.topic()}: {err}")
        else:
            self.delivered += 1

    def produce(self, topic: str, key: str | None, value: bytes) -> None:
        """Produce one message; on a full local queue, serve delivery reports and try again (never drop)."""
        k = key.encode("utf-8") if key is not None else None
        while True:
            try:
                self._producer.produce(topic, value=value, key=k, on_delivery=self._on_delivery)
                break
            except BufferError:
                self._producer.poll(0.1)
        self._producer.poll(0)

    def send_event(self, ev: ActivityEvent) -> None:
        self.produce(activity_topic(ev.kind, self.prefix), ev.employee_id or ev.actor, event_json(ev))

    def send_hr(self, rec: HRRecord) -> None:
        self.produce(self.topics["hr_status"], rec.employee_id, to_json(rec))

    def send_signal(self, sig: HRSignal) -> None:
        self.produce(self.topics["hr_signals"], sig.employee_id, to_json(sig))

    def send_deadletter(self, dl: DeadLetter) -> None:
        self.produce(self.topics["deadletter"], dl.source, _deadletter_json(dl))

    def flush(self, timeout: float | None = None) -> int:
        """Wait for every delivery report; what is still queued after the timeout counts as failed."""
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        left = self._producer.flush(max(0.0, deadline - time.monotonic()))
        while left and time.monotonic() < deadline:
            left = self._producer.flush(max(0.0, deadline - time.monotonic()))
        if left:
            self.failures += left
            self.errors.append(f"{left} messages not delivered within the flush timeout")
        return left

    def close(self) -> None:
        self.flush()


__all__ = ["FileSink", "KafkaSink", "NullSink", "event_json", "side_path"]
