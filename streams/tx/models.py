"""The learned models' shared state (peer groups, the tree model: not per employee) in the transactions, so a
restarted worker goes on with exactly the models of its last committed transaction.

The state lives on a compacted topic ``<prefix><app id>.tx.models`` (one partition), under keys of the worker
instance (``<instance>|...``), written in the same transaction as the outputs, states and offsets:

- ``<instance>|journal|<seq>``: what a transaction taught a model that keeps a journal (the behaviour model:
  one entry per learned day, :meth:`detectors.models.behaviour.BehaviourModel.replay_learned`);
- ``<instance>|snapshot``: every ``EXITWATCH_MODEL_CHECKPOINT_S`` with new journal entries, the journaled
  models' whole state (their ``state_dict``) and the first journal number after it; the journal records it
  covers are deleted (tombstones) in the same transaction;
- ``<instance>|state|<model id>``: the whole state of a model without a journal (small: the departure
  propensity's department means), whenever a transaction changed it.

When the worker starts, or after a transaction whose outcome is unknown (streams/tx/resume.py), the models
are loaded from the snapshot and the journal after it is applied again; when a transaction aborts they go back
to the committed state the same way, from memory. Values are sealed as the per-employee states are.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from detectors.engine import Engine
from streams.tx.topics import watermarks

log = logging.getLogger("exitwatch.tx.models")


def models_topic(prefix: str, app_id: str) -> str:
    return f"{prefix}{app_id}.tx.models"


class ModelLog:
    """The engine's model state, committed with each transaction (see the module docstring)."""

    def __init__(self, engine: Engine, topic: str, instance: str, seal: Callable[[bytes, bytes], bytes],
                 unseal: Callable[[bytes, bytes], bytes], snapshot_s: float = 60.0) -> None:
        self.topic, self.instance, self.seal, self.unseal = topic, instance, seal, unseal
        self.snapshot_s = snapshot_s
        stateful = [m for m in engine.models if hasattr(m, "state_dict")]
        self.journaled = [m for m in stateful if hasattr(m, "journal")]
        self.whole = [m for m in stateful if not hasattr(m, "journal")]
        for m in self.journaled:
            m.journal = []
        self.initial = {m.id: m.state_dict() for m in stateful}  # models as built: before any committed state
        self.base = {m.id: self.initial[m.id] for m in self.journaled}  # the committed snapshot (or the start)
        self.tail: list[dict[str, list[Any]]] = []  # journal records committed after it
        self.states = {m.id: self.initial[m.id] for m in self.whole}  # committed states of the others
        self.base_seq = self.seq = 0  # first journal number after the snapshot; the next one
        self.snapshot_at = time.monotonic()
        self._pending: tuple[str, Any, dict[str, bytes]] | None = None

    def __bool__(self) -> bool:
        return bool(self.journaled or self.whole)

    def key(self, *parts: Any) -> bytes:
        return "|".join((self.instance, *map(str, parts))).encode()

    def _send(self, send: Callable[..., None], key: bytes, value: bytes | None) -> None:
        send(self.topic, None if value is None else self.seal(value, key), key, partition=0)

    # ------------------------------------------------------------------ transactions
    def send(self, send: Callable[..., None]) -> None:
        """What the open transaction changed, to it (``send``: the transaction's)."""
        entries = {m.id: m.journal for m in self.journaled if m.journal}
        changed = {}
        for m in self.whole:
            raw = m.state_dict()
            if raw != self.states.get(m.id):
                self._send(send, self.key("state", m.id), raw)
                changed[m.id] = raw
        if entries and time.monotonic() - self.snapshot_at >= self.snapshot_s:
            blobs = {m.id: m.state_dict() for m in self.journaled}
            self._send(send, self.key("snapshot"), pickle.dumps({"seq": self.seq, "models": blobs}))
            for seq in range(self.base_seq, self.seq):
                self._send(send, self.key("journal", f"{seq:012d}"), None)
            self._pending = ("snapshot", blobs, changed)
        elif entries:
            self._send(send, self.key("journal", f"{self.seq:012d}"), orjson.dumps(entries))
            self._pending = ("journal", entries, changed)
        else:
            self._pending = ("", None, changed) if changed else None

    def committed(self) -> None:
        p, self._pending = self._pending, None
        for m in self.journaled:
            m.journal = []
        if p is None:
            return
        kind, what, changed = p
        self.states.update(changed)
        if kind == "snapshot":
            self.base, self.tail, self.base_seq = what, [], self.seq
            self.snapshot_at = time.monotonic()
        elif kind == "journal":
            self.tail.append(what)
            self.seq += 1

    def rollback(self) -> None:
        """The transaction aborted: the models as committed (the snapshot, the journal after it applied again)."""
        self._pending = None
        if any(m.journal for m in self.journaled):
            self._load(self.base, self.tail)
        for m in self.journaled:
            m.journal = []
        for m in self.whole:
            if m.state_dict() != self.states[m.id]:
                m.load_state_dict(self.states[m.id])

    def _load(self, base: dict[str, bytes], tail: list[dict[str, list[Any]]]) -> None:
        for m in self.journaled:
            m.load_state_dict(base.get(m.id, self.initial[m.id]))
            for rec in tail:
                m.replay_learned(rec.get(m.id, []))
            m.journal = []

    # ------------------------------------------------------------------ restore
    def restore(self, consumer_factory: Callable[[], Any], timeout: float = 120.0) -> int:
        """The models as this instance last committed them (read_committed, the whole topic); records read."""
        if not self:
            return 0
        latest = self._read(consumer_factory, timeout)
        snap = latest.pop(self.key("snapshot"), None)
        base_seq, base = 0, {m.id: self.initial[m.id] for m in self.journaled}
        if snap is not None:
            o = pickle.loads(snap)  # noqa: S301 - our own record, sealed with the data key
            base_seq, base = o["seq"], o["models"]
        journal_prefix = self.key("journal", "")
        tail_keys = sorted(k for k in latest if k.startswith(journal_prefix) and latest[k] is not None
                           and int(k[len(journal_prefix):]) >= base_seq)
        tail = [orjson.loads(latest[k] or b"{}") for k in tail_keys]
        self._load(base, tail)
        self.base, self.tail, self.base_seq = base, tail, base_seq
        self.seq = int(tail_keys[-1][len(journal_prefix):]) + 1 if tail_keys else base_seq
        for m in self.whole:
            raw = latest.get(self.key("state", m.id)) or self.initial[m.id]
            m.load_state_dict(raw)
            self.states[m.id] = raw
        self.snapshot_at = 0.0 if tail else time.monotonic()  # a journal to replay: the next commit snapshots
        log.warning("models restored from %s: snapshot %s, %d journal records after it", self.topic,
                    "found" if snap is not None else "none", len(tail))
        return len(tail) + (snap is not None)

    def _read(self, consumer_factory: Callable[[], Any], timeout: float) -> dict[bytes, bytes | None]:
        mine = self.key("")
        latest: dict[bytes, bytes | None] = {}
        c = consumer_factory()
        try:
            tp = TopicPartition(self.topic, 0)
            lo, hi = watermarks(c, tp)
            if hi <= lo:
                return latest
            c.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
            deadline = time.monotonic() + timeout
            while c.position([tp])[0].offset < hi:  # transaction markers are never delivered: positions
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {self.topic} took over {timeout:.0f} s; is the broker reachable?")
                for m in c.consume(5000, 0.2):
                    k = m.key() if not m.error() else None
                    if k is not None and k.startswith(mine):
                        v = m.value()
                        latest[k] = None if v is None else self.unseal(v, k)
        finally:
            c.close()
        return latest
