"""The learned models' shared state in the transactional worker's transactions (streams/tx/models.py), with
the real models and a generated company, and a fake topic in place of the broker (the worker on the broker:
tests/integration/test_tx_hang_broker.py and the demo fed day by day with kills).

A worker restored from what its committed transactions wrote must have exactly the models of an engine that
never stopped; an aborted transaction must leave them as committed."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from detectors.factory import build_engine
from detectors.replay import merged
from streams.tx.models import ModelLog


class Topic:
    """A compacted topic: the latest value per key, as a restore reads it."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes | None]] = []
        self.open: list[tuple[bytes, bytes | None]] = []

    def send(self, topic: str, value: bytes | None, key: bytes, partition: int = 0) -> None:
        self.open.append((key, value))

    def commit(self) -> None:
        self.records += self.open
        self.open = []

    def abort(self) -> None:
        self.open = []

    def latest(self, prefix: bytes) -> dict[bytes, bytes | None]:
        return {k: v for k, v in self.records if k.startswith(prefix)}


def seal(v: bytes, k: bytes) -> bytes:
    return b"sealed:" + k + b":" + v


def unseal(v: bytes, k: bytes) -> bytes:
    head = b"sealed:" + k + b":"
    assert v.startswith(head)
    return v[len(head):]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, Any]]:
    from exitwatch.generate import generate

    d = tmp_path_factory.mktemp("co")
    generate(d, employees=25, days=50, seed=4)
    return list(merged([d / "hr.jsonl"], [d / "signals.jsonl"], [d / "events.jsonl"], lambda *a: None,
                       {"hr": 0, "signals": 0, "events": 0}))


def feed(engine: Any, recs: list[tuple[int, Any]]) -> None:
    for kind, obj in recs:
        (engine.on_hr, engine.on_signal, engine.on_event)[kind](obj)


def shared(engine: Any) -> dict[str, Any]:
    """The models' shared state, comparable: peers, tree counters, the trees' own numbers."""
    out = {}
    for m in engine.models:
        o = pickle.loads(m.state_dict())
        if "hst" in o:
            o["hst"] = pickle.dumps(o["hst"].trees if hasattr(o["hst"], "trees") else o["hst"])
        out[m.id] = o
    return out


def restored(topic: Topic, monkeypatch: Any) -> Any:
    engine = build_engine(models=True)
    log = ModelLog(engine, "models", "inst", seal, unseal)
    monkeypatch.setattr(log, "_read", lambda *_: {k: None if v is None else unseal(v, k)
                                                  for k, v in topic.latest(b"inst|").items()})
    log.restore(lambda: None)
    engine.restored_log = log
    return engine


def test_restored_models_are_exactly_those_of_an_engine_that_never_stopped(records: Any, monkeypatch: Any) -> None:
    engine = build_engine(models=True)
    log = ModelLog(engine, "models", "inst", seal, unseal, snapshot_s=0.0)
    topic = Topic()
    behaviour = next(m for m in engine.models if m.id == "model.behaviour_anomaly")
    chunks = [records[i:i + 700] for i in range(0, len(records), 700)]
    snapshots = 0
    for i, chunk in enumerate(chunks):
        log.snapshot_s = 0.0 if i % 7 == 3 and i < len(chunks) - 3 else 1e9  # a snapshot now and then
        feed(engine, chunk)
        log.send(topic.send)
        snapshots += any(k == b"inst|snapshot" for k, _ in topic.open)
        topic.commit()
        log.committed()
    assert behaviour.learned_days > 50 and snapshots >= 2
    assert any(b"|journal|" in k and v is not None for k, v in topic.latest(b"inst|").items())
    again = restored(topic, monkeypatch)
    assert shared(again) == shared(engine)
    assert again.restored_log.snapshot_at == 0.0  # the journal it replayed is folded into a snapshot next
    # and they go on alike: the same alerts from the same records
    tail = records[-3000:]
    a = [x.model_dump(mode="json") for kind, obj in tail for x in (engine.on_event(obj) if kind == 2 else [])]
    b = [x.model_dump(mode="json") for kind, obj in tail for x in (again.on_event(obj) if kind == 2 else [])]
    assert [x["score"] for x in a if x["rule_id"].startswith("model.")] == \
        [x["score"] for x in b if x["rule_id"].startswith("model.")]


def test_an_aborted_transaction_leaves_the_models_as_committed(records: Any, monkeypatch: Any) -> None:
    engine = build_engine(models=True)
    log = ModelLog(engine, "models", "inst", seal, unseal, snapshot_s=1e9)
    topic = Topic()
    half = len(records) // 2
    feed(engine, records[:half])
    log.send(topic.send)
    topic.commit()
    log.committed()
    committed = shared(engine)
    feed(engine, records[half:half + 5000])  # learned, then the transaction aborts
    assert shared(engine) != committed
    log.send(topic.send)
    topic.abort()
    log.rollback()
    assert shared(engine) == committed
    assert shared(restored(topic, monkeypatch)) == committed  # what a restart finds is the same


def test_without_models_nothing_is_written(monkeypatch: Any) -> None:
    engine = build_engine(models=False)
    log = ModelLog(engine, "models", "inst", seal, unseal)
    topic = Topic()
    log.send(topic.send)
    assert not log and topic.open == [] and log.restore(lambda: None) == 0
