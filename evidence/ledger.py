"""The evidence ledger: one signed entry per alert, hash-chained per employee, append-only.

An entry (one JSON object; one line in a ledger file, one message on ``evidence.ledger`` keyed by employee id)::

    {"v": 1, "type": "alert", "employee_id": "E00042", "n": 3, "prev": "<hash of entry n-1 of E00042>",
     "ts": "...", "rule": {"id", "version"}, "alert": {alerts.hr form}, "hr": {the HR record in force},
     "hr_records": [the employee's recent HR records], "evidence": [the Activity events the alert cites],
     "missing_evidence": [cited ids no longer held], "signals": [recent handover/asset signals],
     "key_id": "<fingerprint of the signing key>", "hash": "<sha256 of the rest>", "sig": "<Ed25519 of hash>"}

Why per employee and not one global chain: an employee's alerts are made on their partition by one worker, so
the chain head lives in the employee's state and is committed with it; a global chain would need one writer
for the whole company. ``n`` counts from 1 and ``prev`` of entry 1 is :data:`GENESIS`, so a deleted,
inserted or reordered entry breaks the chain, an edited one breaks its hash, and a re-hashed one its signature.
Entries carry event times only (no wall clock), and Ed25519 signatures are deterministic, so replay and the
worker write byte-identical entries for the same inputs.

>>> from evidence.keys import SigningKey
>>> k = SigningKey.from_hex("22" * 32)
>>> e1 = seal({"type": "alert", "employee_id": "E1", "ts": "2026-03-02T09:00:00Z"}, 1, GENESIS, k)
>>> e2 = seal({"type": "alert", "employee_id": "E1", "ts": "2026-03-03T09:00:00Z"}, 2, e1["hash"], k)
>>> check_chain([e1, e2], k.public) is None
True
>>> check_chain([e2, e1], k.public)
'entry 1 of E1 (n=2): expected n=1 (an entry is missing, inserted or out of order)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from evidence.keys import PublicKey, SigningKey

VERSION = 1
GENESIS = "0" * 64
#: Fields the hash does not cover.
UNSIGNED = ("hash", "sig")


def canonical(obj: Any) -> bytes:
    """The bytes that are hashed: orjson with sorted keys (deterministic for equal content)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k not in UNSIGNED})).hexdigest()


def seal(body: dict[str, Any], n: int, prev: str, key: SigningKey) -> dict[str, Any]:
    """``body`` as entry ``n`` of its employee's chain after the entry whose hash is ``prev``, hashed and signed."""
    entry = {"v": VERSION, **body, "n": n, "prev": prev, "key_id": key.public.fingerprint}
    h = entry_hash(entry)
    entry["hash"] = h
    entry["sig"] = key.sign(bytes.fromhex(h)).hex()
    return entry


def check_entry(entry: Any, key: PublicKey) -> str | None:
    """Why ``entry`` is not an intact entry signed by ``key``, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    for f in ("v", "employee_id", "n", "prev", "hash", "sig", "key_id"):
        if f not in entry:
            return f"field {f!r} missing"
    if entry["key_id"] != key.fingerprint:
        return f"signed by key {entry['key_id']!r}, not the pinned key {key.fingerprint!r}"
    if entry_hash(entry) != entry["hash"]:
        return "content does not match its hash (edited)"
    try:
        sig = bytes.fromhex(str(entry["sig"]))
        digest = bytes.fromhex(str(entry["hash"]))
    except ValueError:
        return "signature or hash is not hex"
    if not key.verify(sig, digest):
        return "signature does not verify (re-hashed or signed by another key)"
    return None


def check_chain(entries: Iterable[Any], key: PublicKey, where: str = "entry") -> str | None:
    """The first broken link of one employee's chain (entries in order, from n=1), or None when intact."""
    prev = GENESIS
    emp = None
    for i, e in enumerate(entries, 1):
        label = f"{where} {i}"
        if isinstance(e, dict):
            label += f" of {e.get('employee_id')} (n={e.get('n')})"
        bad = check_entry(e, key)
        if bad:
            return f"{label}: {bad}"
        if emp is None:
            emp = e["employee_id"]
        elif e["employee_id"] != emp:
            return f"{label}: belongs to {e['employee_id']!r}, the chain is {emp!r}'s"
        if e["n"] != i:
            return f"{label}: expected n={i} (an entry is missing, inserted or out of order)"
        if e["prev"] != prev:
            return f"{label}: does not link to the entry before it (prev hash differs)"
        prev = e["hash"]
    return None


def check_ledger(entries: Iterable[Any], key: PublicKey) -> tuple[int, str | None]:
    """Every employee's chain in a whole ledger (entries interleaved as written; an identical copy of an entry,
    as a retried write leaves, counts once). Returns (entries checked, first broken link or None)."""
    heads: dict[str, tuple[int, str]] = {}
    n = 0
    for i, e in enumerate(entries, 1):
        bad = check_entry(e, key)
        if bad:
            return n, f"line {i}: {bad}"
        emp = e["employee_id"]
        last_n, last_h = heads.get(emp, (0, GENESIS))
        if e["n"] == last_n and e["hash"] == last_h:
            continue  # the same entry written twice (a retry): not a new link
        if e["n"] != last_n + 1 or e["prev"] != last_h:
            return n, (f"line {i}: entry n={e['n']} of {emp} does not follow n={last_n} "
                       "(an entry is missing, inserted, edited or out of order)")
        heads[emp] = (e["n"], e["hash"])
        n += 1
    return n, None


def employee_entries(entries: Iterable[dict[str, Any]], employee_id: str) -> list[dict[str, Any]]:
    """One employee's entries in chain order, identical copies (retried writes) once; a conflicting copy (the
    same ``n``, other content) is an error."""
    by_n: dict[int, dict[str, Any]] = {}
    for e in entries:
        if not isinstance(e, dict) or e.get("employee_id") != employee_id:
            continue
        n = e.get("n")
        if not isinstance(n, int):
            raise ValueError(f"ledger entry of {employee_id} without a number: {str(e)[:200]}")
        old = by_n.get(n)
        if old is not None and old.get("hash") != e.get("hash"):
            raise ValueError(f"the ledger holds two different entries n={n} for {employee_id}: it was written by "
                             "two signers or tampered with; run `exitwatch evidence verify-ledger`")
        by_n[n] = e
    return [by_n[k] for k in sorted(by_n)]


def read_ledger(path: str) -> Iterator[Any]:
    """Entries of a ledger file (JSON lines, ``.gz`` too); a line that is not JSON is yielded as a string,
    so that checking names it instead of skipping it."""
    from detectors.replay import open_text

    with open_text(path) as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                yield line.rstrip("\n")


def read_topic(settings: Any, topic: str, timeout_s: float = 10.0) -> list[Any]:
    """Every entry on the ledger topic, from the beginning to the end offsets at the time of the call."""
    import time
    import uuid

    from confluent_kafka import Consumer, TopicPartition

    from schemas.transport import kafka_config

    bootstrap = settings.kafka_bootstrap
    extra: dict[str, Any] = {"group.id": f"exitwatch-evidence-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", "isolation.level": "read_committed"}
    c = Consumer(kafka_config(settings, **extra))
    try:
        md = c.list_topics(topic, timeout=timeout_s)
        meta = md.topics.get(topic)
        if meta is None or meta.error is not None:
            raise ValueError(f"ledger topic {topic!r} not found on {bootstrap}; pass --ledger FILE instead")
        ends = {}
        for p in meta.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
            if hi > lo:
                ends[p] = hi
        c.assign([TopicPartition(topic, p, 0) for p in ends] or [TopicPartition(topic, 0, 0)])
        out: list[Any] = []
        done: set[int] = set()
        deadline = time.monotonic() + max(timeout_s, 60.0)
        while len(done) < len(ends) and time.monotonic() < deadline:
            for m in c.consume(500, 1.0):
                value, part, off = m.value(), m.partition(), m.offset()
                if m.error() or value is None or part is None or off is None:
                    continue
                try:
                    out.append(orjson.loads(value))
                except orjson.JSONDecodeError:
                    out.append(value.decode("utf-8", "replace"))
                if off + 1 >= ends.get(part, 0):
                    done.add(part)
        return out
    finally:
        c.close()
