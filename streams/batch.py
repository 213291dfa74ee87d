"""A second driver of the detection core: a plain confluent-kafka batch loop, no Faust.

It makes the same alerts as the Faust worker (same :func:`detectors.factory.build_engine`, same alert forms on
``alerts.hr`` and ``alerts.secops``) and serves as the benchmark's measure of what the detection work costs in
Python without a stream framework around it. One loop iteration::

    consume up to --batch messages (activity.*, hr.signals)  ──► validate (orjson + pydantic)
       ──► resolve actor → employee through the in-process HR cache (all of hr.status, read at start and
           followed while running)  ──► Engine  ──► produce alerts, wait for the broker's acks
       ──► write the changed employees' state to the changelog topic  ──► commit the consumer offsets

Delivery is at-least-once with idempotent effects, as in the worker: offsets are committed only after the
batch's alerts and state are acknowledged, and alert ids are deterministic, so a restart repeats an alert with
the same id at worst. State lives in process (the engine's :class:`~detectors.engine.DictStore`) and, with
``--changelog`` (the default), in a compacted topic it is restored from at start. Restoring reads the whole
changelog, so several processes in one group each hold every employee's state: fine for a benchmark, not a
replacement for the worker's partitioned tables.

    python -m streams.batch --topic-prefix acme. [--out-prefix bench.] [--group G] [--idle-exit 5]

>>> BatchDriver.__name__
'BatchDriver'
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from detectors.engine import DictStore, Engine, EngineConfig
from detectors.factory import build_engine
from detectors.replay import error_reason
from detectors.routing import for_secops
from detectors.state import EmployeeState
from schemas import ActivityEvent, Alert, DeadLetter, HRRecord, HRSignal
from schemas.models import utcnow
from schemas.settings import Settings
from schemas.topics import ACTIVITY_KINDS, topic_names
from schemas.secrets import Sealer, cli_guard, sealer
from schemas.transport import kafka_config
from streams.common import secops_view  # the one definition of the alerts.secops form

log = logging.getLogger("exitwatch.batch")

#: Largest message accepted; larger ones are dead-lettered (as in the worker).
MAX_MESSAGE_BYTES = 1 << 20


class TrackingStore(DictStore):
    """The engine's dict store, remembering which employees changed since the last :meth:`take_dirty`."""

    def __init__(self) -> None:
        super().__init__()
        self.dirty: set[str] = set()

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self.data[employee_id] = state
        self.dirty.add(employee_id)

    def take_dirty(self) -> set[str]:
        d, self.dirty = self.dirty, set()
        return d


@dataclass
class BatchStats:
    messages: int = 0
    events: int = 0
    signals: int = 0
    hr_records: int = 0
    alerts: int = 0
    deadletter: int = 0
    unresolved: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class BatchDriver:
    """The detection core behind a confluent-kafka consume/produce/commit loop."""

    def __init__(self, bootstrap: str, in_prefix: str = "", out_prefix: str | None = None, group: str = "exitwatch-batch",
                 engine: Engine | None = None, batch: int = 2000, changelog: bool = True,
                 pseudonym_key: bytes = b"change-me-exitwatch-pseudonym-key", consumer_config: dict[str, Any] | None = None,
                 producer_config: dict[str, Any] | None = None, state_sealer: Sealer | None = None) -> None:
        """``state_sealer``: AES-256-GCM of the changelog values (default: ``EXITWATCH_DATA_KEY``'s)."""
        from confluent_kafka import Consumer, Producer

        self.bootstrap = bootstrap
        self.inp = topic_names(in_prefix)
        self.out = topic_names(in_prefix if out_prefix is None else out_prefix)
        self.group = group
        self.store = TrackingStore()
        self.engine = engine if engine is not None else build_engine()
        self.engine.store = self.store
        self.batch = batch
        self.key = pseudonym_key
        self.sealer = state_sealer if state_sealer is not None else sealer()
        self.stats = BatchStats()
        self.changelog_topic = (self.out["deadletter"].removesuffix("deadletter") + f"batch.{group}.state") if changelog else None
        self._stop = False
        cconf: dict[str, Any] = {
            **kafka_config(bootstrap=bootstrap), "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": False,
            "fetch.wait.max.ms": 50, "queued.min.messages": 20000,
        }
        cconf.update(consumer_config or {})
        self.consumer = Consumer(cconf)
        pconf: dict[str, Any] = {**kafka_config(bootstrap=bootstrap), "acks": "all", "linger.ms": 5,
                                 "enable.idempotence": True, "compression.type": "lz4",
                                 "partitioner": "murmur2_random"}
        pconf.update(producer_config or {})
        self.producer = Producer(pconf)
        self._hr_consumer = Consumer({**kafka_config(bootstrap=bootstrap), "group.id": f"{group}.hr-cache",
                                      "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                      "enable.partition.eof": False})
        self._kind_topics = [self.inp[f"activity_{k}"] for k in ACTIVITY_KINDS]
        self._signals_topic = self.inp["hr_signals"]
        self._failed: list[str] = []
        self._pending: list[Alert] = []  # alerts of the HR records applied at start, sent with the first batch
        self._seen_ts = float("-inf")  # the latest record time applied (the watermark once drained)

    # ------------------------------------------------------------------ start
    def _assign_all(self, consumer: Any, topic: str) -> list[Any]:
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition

        md = consumer.list_topics(topic, timeout=30)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return []
        tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in t.partitions]
        consumer.assign(tps)
        return tps

    def _read_to_end(self, consumer: Any, topic: str, apply: Any) -> int:
        """Read all of ``topic`` (every partition) from the start to its current end; returns records read."""
        tps = self._assign_all(consumer, topic)
        ends = {}
        for tp in tps:
            lo, hi = consumer.get_watermark_offsets(tp, timeout=30)
            if hi > lo:
                ends[tp.partition] = hi
        n = 0
        idle_since = time.monotonic()
        while ends and time.monotonic() - idle_since < 30:
            for m in consumer.consume(1000, 1.0):
                idle_since = time.monotonic()
                if m.error():
                    continue
                apply(m)
                n += 1
                if m.offset() + 1 >= ends.get(m.partition(), 0):
                    ends.pop(m.partition(), None)
        return n

    def start(self) -> None:
        """Restore state from the changelog, load the HR cache (all of hr.status), subscribe."""
        if self.changelog_topic:
            self._ensure_topic(self.changelog_topic, {"cleanup.policy": "compact"})
            c = type(self._hr_consumer)({**kafka_config(bootstrap=self.bootstrap), "group.id": f"{self.group}.restore",
                                         "enable.auto.commit": False, "enable.partition.eof": False})
            try:
                n = self._read_to_end(c, self.changelog_topic, self._restore_one)
                if n:
                    log.info("restored %d state records from %s", n, self.changelog_topic)
            finally:
                c.close()
        made: list[Alert] = []
        self._read_to_end(self._hr_consumer, self.inp["hr_status"], lambda m: made.extend(self._apply_hr(m)))
        self.store.take_dirty()  # HR applied at start is in hr.status already; nothing to write back ...
        for a in made:  # ... except where it made alerts (a departure known at start: the last-day summary),
            self.store.put(a.employee_id, self.store.data[a.employee_id])  # sent with the first batch
        self._pending = made
        self.consumer.subscribe([*self._kind_topics, self._signals_topic])

    def _ensure_topic(self, topic: str, config: dict[str, str]) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(kafka_config(bootstrap=self.bootstrap))
        if topic in admin.list_topics(timeout=30).topics:
            return
        fut = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config=config)])[topic]
        try:
            fut.result(30)
        except Exception as exc:  # created meanwhile by another process
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise

    def _restore_one(self, m: Any) -> None:
        if m.value() is not None:
            emp = m.key().decode()
            self.store.data[emp] = EmployeeState.from_bytes(self.sealer.open(m.value(), emp.encode()))

    # ------------------------------------------------------------------ per message
    def _apply_hr(self, m: Any) -> list[Alert]:
        raw = m.value()
        if raw is None:  # a tombstone in the compacted topic
            return []
        try:
            rec = HRRecord.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            self._deadletter("hr", f"invalid {m.topic()} record: {error_reason(exc)}", raw)
            return []
        self.stats.hr_records += 1
        return self.engine.on_hr(rec)

    def _deadletter(self, stage: str, reason: str, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        dl = DeadLetter(source=stage, reason=reason[:2000], raw=text[:65536], ts=utcnow())
        self.stats.deadletter += 1
        self.producer.produce(self.out["deadletter"], key=stage.encode(), value=orjson.dumps(dl.model_dump(mode="json")),
                              on_delivery=self._on_delivery)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failed.append(f"{msg.topic()}: {err}")

    def _emit(self, alerts: list[Alert]) -> None:
        for a in alerts:
            self.producer.produce(self.out["alerts_hr"], key=a.employee_id.encode(),
                                  value=orjson.dumps(a.model_dump(mode="json")), on_delivery=self._on_delivery)
            if for_secops(a):  # departure propensity stays with HR (detectors/routing.py)
                sec = secops_view(a, self.key)
                self.producer.produce(self.out["alerts_secops"], key=sec["employee_id"].encode(),
                                      value=orjson.dumps(sec), on_delivery=self._on_delivery)
            self.stats.alerts += 1

    def process(self, msgs: list[Any]) -> list[Alert]:
        """Validate, resolve and detect one batch of consumed messages; returns the alerts (not yet sent)."""
        engine, aliases = self.engine, self.engine.aliases
        alerts: list[Alert] = []
        signals_topic = self._signals_topic
        for m in msgs:
            if m.error():
                continue
            self.stats.messages += 1
            raw = m.value()
            if raw is None:
                continue
            if len(raw) > MAX_MESSAGE_BYTES:
                self._deadletter("enrich", f"record too large: {len(raw)} bytes", raw[:4096])
                continue
            try:
                if m.topic() == signals_topic:
                    sig = HRSignal.model_validate_json(raw)
                    self.stats.signals += 1
                    self._seen_ts = max(self._seen_ts, sig.ts.timestamp())
                    alerts += engine.on_signal(sig)
                    continue
                ev = ActivityEvent.model_validate_json(raw)
            except (ValidationError, ValueError) as exc:
                stage = "signals" if m.topic() == signals_topic else "enrich"
                self._deadletter(stage, f"invalid {m.topic()} record: {error_reason(exc)}", raw)
                continue
            self.stats.events += 1
            self._seen_ts = max(self._seen_ts, ev.ts.timestamp())
            emp = ev.employee_id or aliases.resolve(ev.actor)
            if emp is None:
                self.stats.unresolved += 1
                continue
            try:
                alerts += engine.on_event(ev, employee_id=emp)
            except Exception as exc:  # one bad record never stops the stream
                log.exception("detect failed on %s@%s", m.topic(), m.offset())
                self._deadletter("detect", f"detector failure: {type(exc).__name__}: {exc}", raw)
        return alerts

    def _follow_hr(self) -> list[Alert]:
        alerts: list[Alert] = []
        for m in self._hr_consumer.consume(500, 0):
            if not m.error():
                alerts += self._apply_hr(m)
        return alerts

    def step(self, timeout: float = 0.5) -> int:
        """One batch: consume, detect, produce alerts and state, wait for acks, commit. Returns messages read."""
        alerts, self._pending = self._pending + self._follow_hr(), []
        msgs = self.consumer.consume(self.batch, timeout)
        if not msgs and self._seen_ts > float("-inf"):
            # Drained: every record there is has been applied (this driver does not merge its inputs in time,
            # so only now is the latest time seen a safe watermark): the leavers whose last day it passed get
            # their last-day summary without news of their own (Engine.advance).
            alerts += self.engine.advance(self._seen_ts)
        if not msgs and not alerts:
            return 0
        alerts += self.process(msgs)
        self._emit(alerts)
        if self.changelog_topic:
            for emp in self.store.take_dirty():
                self.producer.produce(self.changelog_topic, key=emp.encode(),
                                      value=self.sealer.seal(self.store.data[emp].to_bytes(), emp.encode()),
                                      on_delivery=self._on_delivery)
        else:
            self.store.take_dirty()
        left = self.producer.flush(60)
        if left or self._failed:
            raise RuntimeError(f"delivery failed ({left} not delivered): {self._failed[:3]}")
        if msgs:
            self.consumer.commit(asynchronous=False)
        self.stats.batches += 1
        return len(msgs)

    def run(self, idle_exit: float | None = None, max_messages: int | None = None, progress: bool = False) -> BatchStats:
        """Loop until stopped (SIGTERM/SIGINT), ``idle_exit`` seconds without a message, or ``max_messages``."""
        t0 = last = time.perf_counter()
        shown = t0
        while not self._stop:
            n = self.step()
            now = time.perf_counter()
            if n:
                last = now
            elif idle_exit is not None and now - last >= idle_exit:
                break
            if max_messages is not None and self.stats.messages >= max_messages:
                break
            if progress and now - shown >= 2.0:
                shown = now
                s = self.stats
                sys.stderr.write(f"batch: {s.messages:,} messages, {s.alerts:,} alerts, "
                                 f"{s.messages / (now - t0):,.0f}/s\n")
        self.stats.seconds = time.perf_counter() - t0
        return self.stats

    def stop(self, *_: Any) -> None:
        self._stop = True

    def close(self) -> None:
        try:
            self.producer.flush(30)
        finally:
            self.consumer.close()
            self._hr_consumer.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.batch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: settings / KAFKA_BOOTSTRAP)")
    p.add_argument("--topic-prefix", default=None, help="prefix of the topics read (and written, unless --out-prefix)")
    p.add_argument("--out-prefix", default=None, help="prefix of the alert, deadletter and changelog topics written")
    p.add_argument("--group", default=None, help="consumer group (default: <app id>-batch)")
    p.add_argument("--batch", type=int, default=2000, help="messages per batch")
    p.add_argument("--no-models", action="store_true", help="rules only")
    p.add_argument("--rules-config", default=None)
    p.add_argument("--no-changelog", action="store_true", help="keep state in process only")
    p.add_argument("--idle-exit", type=float, default=None, help="exit after this many seconds without a message")
    p.add_argument("--max-messages", type=int, default=None)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--dev", action="store_true", help="a development run: accept the development keys")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = Settings()
    from schemas.runtime import tune_gc

    tune_gc(s.gc_gen0)  # as every exitwatch command (exitwatch.cli.main)
    if a.dev:
        s = s.model_copy(update={"dev_mode": True})
    refused = cli_guard(s, "python -m streams.batch")
    if refused is not None:
        return int(refused)
    prefix = s.topic_prefix if a.topic_prefix is None else a.topic_prefix
    engine = build_engine(rules_config=a.rules_config or s.rules_config, models=not a.no_models,
                          config=EngineConfig(lookback_days=s.lookback_days))
    d = BatchDriver(a.bootstrap or s.kafka_bootstrap, prefix, a.out_prefix, a.group or f"{s.app_id}-batch", engine,
                    batch=a.batch, changelog=not a.no_changelog, pseudonym_key=s.pseudonym_key.get_secret_value().encode())
    signal.signal(signal.SIGTERM, d.stop)
    signal.signal(signal.SIGINT, d.stop)
    try:
        d.start()
        st = d.run(idle_exit=a.idle_exit, max_messages=a.max_messages, progress=a.progress)
    finally:
        d.close()
    print(orjson.dumps({k: v for k, v in st.__dict__.items()}).decode(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
