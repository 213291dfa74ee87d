"""Events already applied to an employee's state, so that a repeat of the same source record counts once.

The contract makes ``event_id`` stable per source record ("ingesting the same record twice gives the same
id"), so every stage may repeat a record without harm as long as detection recognises it. Repeats come from:
the same record in two input files (replay), a connector restarted from its checkpoint, the enrich stage
re-reading its input after a crash (the copies land at new ``activity.enriched`` offsets), and the detect
stage re-reading messages after its last committed offset.

Each employee's state keeps short fingerprints of the event ids it applied, in two parts of
:attr:`EmployeeState.extra`: ``"d"``, the last :data:`RING` applied events as one string of 6-character
fingerprints (36 bits of BLAKE2b: with 16 entries a false match has odds of about 1 in 4 billion per event),
oldest first; and ``"dq"``, the events applied while streaming whose messages are not committed yet, as
``[fingerprint, seq, ...]`` (a ``seq`` names a message: topic, partition and offset, :func:`seq_of`; an event
that reached detection through a second topic has the message it entered the worker by and the one it was
detected from). An entry stays in ``"dq"`` as long as one of its messages is at or above the committed
offset of its partition (the worker supplies it through ``floor``), then moves to ``"d"``. So every message that a restarted or re-assigned worker can read again is
recognised, however many events the employee had in the uncommitted stretch; once the commit has passed
them, the state is back to :data:`RING` fingerprints (about 100 bytes).

>>> st = EmployeeState()
>>> seen_or_add(st, "evt-1"), seen_or_add(st, "evt-1"), seen_or_add(st, "evt-2")
(False, True, False)
>>> st.extra["d"] == fingerprint("evt-1") + fingerprint("evt-2")
True
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from detectors.state import EmployeeState

#: Fingerprints of committed events kept per employee (the newest ones).
RING = 16
#: Cap on uncommitted entries (a partition whose commit never advances must not grow the state for ever).
PENDING_MAX = 4096
#: Length of a fingerprint in characters.
FP_LEN = 6
#: Bits of a ``seq`` for the topic's index and for the partition.
_TOPIC_BITS = 4
_PART_BITS = 8
_TOPIC_MASK = (1 << _TOPIC_BITS) - 1
_PART_MASK = (1 << _PART_BITS) - 1
_OFF_SHIFT = _TOPIC_BITS + _PART_BITS

#: ``floor(topic_index, partition)``: the committed offset of that partition, or None if unknown (a message
#: whose floor is unknown counts as committed).
Floor = Callable[[int, int], "int | None"]


def fingerprint(event_id: str) -> str:
    """Short, stable fingerprint of an event id.

    >>> fingerprint("m365:abc"), len(fingerprint("x"))
    ('7eZP56', 6)
    """
    return base64.b64encode(hashlib.blake2b(event_id.encode(), digest_size=6).digest())[:FP_LEN].decode()


def seq_of(topic_index: int, partition: int, offset: int) -> int:
    """Where a message sits: the index of its topic (0..15), its partition (0..255) and offset in one integer.

    >>> unseq(seq_of(3, 7, 1234))
    (3, 7, 1234)
    """
    return (offset << _OFF_SHIFT) | ((partition & _PART_MASK) << _TOPIC_BITS) | (topic_index & _TOPIC_MASK)


def unseq(seq: int) -> tuple[int, int, int]:
    """``(topic_index, partition, offset)`` of a ``seq``."""
    return seq & _TOPIC_MASK, (seq >> _TOPIC_BITS) & _PART_MASK, seq >> _OFF_SHIFT


def _committed(entry: list[Any], floor: Floor) -> bool:
    """Whether no message of ``entry`` can be read again.

    An event that reached detection through a second topic (two ``seq``: the copy detected, then its source
    record) can have *further copies*: the source record, read again before its commit, is sent again, to a
    new offset of the copy's partition. Those copies are all written before the source record's commit
    (Faust flushes its producer before it commits), but one may be detected after it. So once both messages
    are committed, the entry waits for one more thing: that detection has passed the end of the copy's
    partition as it was then (``floor.end(topic_index, partition)``, when the floor has it). The entry then
    holds a single *barrier* seq, stored negated."""
    seqs = entry[1:]
    if seqs and seqs[0] < 0:  # a barrier: released once detection has passed it
        idx, part, off = unseq(-seqs[0] - 1)
        f = floor(idx, part)
        return f is None or f > off
    for seq in seqs:
        idx, part, off = unseq(seq)
        f = floor(idx, part)
        if f is not None and off >= f:
            return False
    end = getattr(floor, "end", None)
    if len(seqs) >= 2 and end is not None:
        idx, part, _ = unseq(seqs[0])
        e = end(idx, part)
        f = floor(idx, part)
        if e is not None and f is not None and f < e:
            entry[1:] = [-seq_of(idx, part, e - 1) - 1]
            return False
    return True


def _in(ring: str, fp: str) -> bool:
    i = ring.find(fp)
    while i >= 0:
        if i % FP_LEN == 0:
            return True
        i = ring.find(fp, i + 1)
    return False


def seen_or_add(st: EmployeeState, event_id: str, seqs: tuple[int, ...] = (), floor: Floor | None = None) -> bool:
    """True if ``event_id`` was already applied to ``st``; otherwise remember it (with the messages ``seqs``
    it came by, while they are uncommitted) and return False."""
    fp = fingerprint(event_id)
    x = st.extra
    ring: str = x.get("d", "")
    if _in(ring, fp):
        return True
    pending: list[list[Any]] | None = x.get("dq")
    if pending:
        for e in pending:
            if e[0] == fp:
                return True
        # Entries whose messages the commit has passed become plain fingerprints (oldest first).
        moved = 0
        for e in pending:
            if floor is not None and not _committed(e, floor):
                break
            ring += e[0]
            moved += 1
        if moved:
            del pending[:moved]
        if len(pending) >= PENDING_MAX:
            ring += "".join(e[0] for e in pending[: len(pending) - PENDING_MAX + 1])
            del pending[: len(pending) - PENDING_MAX + 1]
    if not seqs or floor is None:
        ring += fp
    else:
        if pending is None:
            pending = x["dq"] = []
        pending.append([fp, *seqs])
    if pending is not None and not pending:
        del x["dq"]
    x["d"] = ring[-RING * FP_LEN:]
    return False
