"""Engine-wide memories (shared by the employees one engine sees, not per employee), kept so that a worker
can persist them and read them back: :class:`detectors.hosts.HostUsers` and :class:`detectors.peers.PeerFirsts`.

Each memory is held as *contributions*: one small record per (partition, key), where the partition is the
one of the employee whose event changed it (``Engine.partition_of``; 0 in replay, where there is one). A
partition is written by one worker at a time (its owner), so a contribution has a single writer, and the
memory's answer merges the contributions of every partition: with one worker or with several, the same
counts as replay's. The driver (``streams/tx``, the Faust worker) writes each changed contribution to a
compacted topic with the transaction that holds the events that changed it, reads the whole topic back when
it starts or its assignment changes (:meth:`SharedMemory.load`), and the contributions of partitions other
workers own as they come (read-only here).

A contribution's record key is ``<kind><partition>|<name>`` (``h3|pc-17``: host ``pc-17`` seen by employees of
partition 3; ``g0|Sales``: department ``Sales``), its value the contribution as JSON; ``None`` removes it.

>>> class Counts(SharedMemory):
...     kind = "c"
>>> m = Counts()
>>> m.touch(2, "x")["n"] = 1
>>> m.changes(), m.record_key(2, "x")
([('c2|x', 2, b'{"n":1}')], 'c2|x')
>>> m.committed(); m.changes()
[]
>>> m.touch(2, "x")["n"] = 5; m.rollback(); m.parts["x"][2]
{'n': 1}
>>> n = Counts(); n.load("c2|x", b'{"n":1}'), n.parts == m.parts
(True, True)
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import orjson


class SharedMemory:
    """Contributions by name and partition, with the changes of the open transaction and their rollback."""

    #: One letter naming the memory in record keys.
    kind: ClassVar[str] = "?"

    def __init__(self) -> None:
        #: name -> partition -> contribution (a JSON-able dict or list)
        self.parts: dict[str, dict[int, Any]] = {}
        #: (name, partition) -> the contribution as last committed (None: there was none), for the changes of
        #: the open transaction.
        self._before: dict[tuple[str, int], Any] = {}

    def empty(self) -> Any:
        return {}

    def touch(self, part: int, name: str) -> Any:
        """The contribution of ``part`` to ``name``, to change (created empty): recorded as changed."""
        by_part = self.parts.setdefault(name, {})
        cur = by_part.get(part)
        if (name, part) not in self._before:
            self._before[(name, part)] = copy.deepcopy(cur)
        if cur is None:
            cur = by_part[part] = self.empty()
        return cur

    def record_key(self, part: int, name: str) -> str:
        return f"{self.kind}{part}|{name}"

    # ------------------------------------------------------------------ persistence
    def changes(self) -> list[tuple[str, int, bytes | None]]:
        """``(record key, partition, value)`` of every contribution changed since the last commit."""
        out: list[tuple[str, int, bytes | None]] = []
        for name, part in self._before:
            cur = self.parts.get(name, {}).get(part)
            out.append((self.record_key(part, name), part, None if cur is None else orjson.dumps(cur)))
        return out

    def committed(self) -> None:
        """The changes were written with a committed transaction."""
        self._before.clear()

    def rollback(self) -> None:
        """The transaction aborted: the contributions are back to what was committed."""
        for (name, part), before in self._before.items():
            by_part = self.parts.setdefault(name, {})
            if before is None:
                by_part.pop(part, None)
            else:
                by_part[part] = before
            if not by_part:
                del self.parts[name]
        self._before.clear()

    def load(self, key: str, value: bytes | None) -> bool:
        """Apply one record of the topic (a restore, or another worker's change); False if the key is not
        this memory's."""
        if not key.startswith(self.kind):
            return False
        head, sep, name = key.partition("|")
        if not sep or not head[1:].isdigit():
            return False
        part = int(head[1:])
        if value is None:
            by_part = self.parts.get(name)
            if by_part is not None:
                by_part.pop(part, None)
                if not by_part:
                    del self.parts[name]
        else:
            self.parts.setdefault(name, {})[part] = orjson.loads(value)
        return True

    def clear(self) -> None:
        self.parts.clear()
        self._before.clear()

    def dump(self) -> list[tuple[str, int, bytes]]:
        """Every contribution as records (what a full restore reads)."""
        return [(self.record_key(p, name), p, orjson.dumps(c)) for name, by in self.parts.items()
                for p, c in by.items()]
