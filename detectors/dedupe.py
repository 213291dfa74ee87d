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
``[fingerprint, seq]`` (``seq``: offset and topic, :func:`seq_of`). An entry stays in ``"dq"`` as long as
its offset is at or above the committed offset of its partition (the worker supplies it through
``floor``), then moves to ``"d"``. So every message that a restarted or re-assigned worker can read again is
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
#: Topic index bits of a ``seq``.
_TOPIC_BITS = 4
_TOPIC_MASK = (1 << _TOPIC_BITS) - 1

#: ``floor(topic_index)``: the committed offset of that topic's partition the employee lives on, or None if
#: unknown (an entry whose floor is unknown counts as committed).
Floor = Callable[[int], "int | None"]


def fingerprint(event_id: str) -> str:
    """Short, stable fingerprint of an event id.

    >>> fingerprint("m365:abc"), len(fingerprint("x"))
    ('7eZP56', 6)
    """
    return base64.b64encode(hashlib.blake2b(event_id.encode(), digest_size=6).digest())[:FP_LEN].decode()


def seq_of(topic_index: int, offset: int) -> int:
    """Where a message sits: its offset and the index of its topic (0..15) in one integer.

    >>> divmod(seq_of(3, 1234), 16)
    (1234, 3)
    """
    return (offset << _TOPIC_BITS) | (topic_index & _TOPIC_MASK)


def _in(ring: str, fp: str) -> bool:
    i = ring.find(fp)
    while i >= 0:
        if i % FP_LEN == 0:
            return True
        i = ring.find(fp, i + 1)
    return False


def seen_or_add(st: EmployeeState, event_id: str, seq: int | None = None, floor: Floor | None = None) -> bool:
    """True if ``event_id`` was already applied to ``st``; otherwise remember it and return False."""
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
            f = None if floor is None else floor(e[1] & _TOPIC_MASK)
            if f is not None and e[1] >> _TOPIC_BITS >= f:
                break
            ring += e[0]
            moved += 1
        if moved:
            del pending[:moved]
        if len(pending) >= PENDING_MAX:
            ring += "".join(e[0] for e in pending[: len(pending) - PENDING_MAX + 1])
            del pending[: len(pending) - PENDING_MAX + 1]
    if seq is None or floor is None:
        ring += fp
    else:
        if pending is None:
            pending = x["dq"] = []
        pending.append([fp, seq])
    if pending is not None and not pending:
        del x["dq"]
    x["d"] = ring[-RING * FP_LEN:]
    return False
