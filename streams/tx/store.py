"""The per-employee state store of the transactional worker (the engine's ``get``/``put``).

It keeps each employee's committed state as bytes (what the changelog holds, unsealed in memory) and a
bounded cache of decoded states; what a transaction changed is written to the changelog with the transaction,
and dropped again (back to the committed bytes) when the transaction aborts.

>>> s = StateStore(lambda emp: 0)
>>> from detectors.state import EmployeeState
>>> s.put("E1", EmployeeState()); [emp for emp, _, _ in s.changes()]
['E1']
>>> s.rollback(); s.get("E1") is None
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from detectors.state import EmployeeState
from evidence.recorder import stored_bytes

#: Decoded states kept between transactions (decoding is a large share of an event's cost).
CACHE_SIZE = 20000


class StateStore:
    """The engine's state store (``get``/``put``), by partition, with transactional changes."""

    def __init__(self, partition_of: Callable[[str], int], cache_size: int = CACHE_SIZE) -> None:
        self.partition_of = partition_of
        self.committed: dict[str, bytes] = {}
        self.owner: dict[str, int] = {}
        self._live: OrderedDict[str, EmployeeState] = OrderedDict()
        self._dirty: set[str] = set()
        self.cache_size = cache_size

    def __len__(self) -> int:
        return len(self.committed)

    def get(self, employee_id: str) -> EmployeeState | None:
        st = self._live.get(employee_id)
        if st is not None:
            return st
        raw = self.committed.get(employee_id)
        if raw is None:
            return None
        st = self._live[employee_id] = EmployeeState.from_bytes(raw)
        return st

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self._live[employee_id] = state
        self._dirty.add(employee_id)

    # ------------------------------------------------------------------ transactions
    def changes(self) -> list[tuple[str, int, bytes]]:
        """``(employee, partition, state bytes)`` of every state changed since the last commit."""
        out = []
        for emp in self._dirty:
            # the evidence kept for the ledger in its stored form (evidence.recorder), left unpacked in memory
            out.append((emp, self.partition_of(emp), stored_bytes(self._live[emp])))
        return out

    def committed_changes(self, changes: Iterable[tuple[str, int, bytes]]) -> None:
        """The transaction holding ``changes`` committed: they are the committed states now."""
        for emp, part, raw in changes:
            self.committed[emp] = raw
            self.owner[emp] = part
        self._dirty.clear()
        self._trim()

    def rollback(self) -> None:
        """The transaction aborted: forget what it changed (the committed bytes are the truth)."""
        for emp in self._dirty:
            self._live.pop(emp, None)
        self._dirty.clear()

    def _trim(self) -> None:
        live = self._live
        while len(live) > self.cache_size:
            emp = next(iter(live))
            if emp in self._dirty:
                break
            live.popitem(last=False)

    # ------------------------------------------------------------------ partitions
    def load(self, employee_id: str, partition: int, raw: bytes | None) -> None:
        """One changelog record (None: a tombstone)."""
        self._live.pop(employee_id, None)
        if raw is None:
            self.committed.pop(employee_id, None)
            self.owner.pop(employee_id, None)
        else:
            self.committed[employee_id] = raw
            self.owner[employee_id] = partition

    def drop_partitions(self, partitions: set[int]) -> int:
        """Forget the states of ``partitions`` (revoked); returns how many."""
        gone = [emp for emp, p in self.owner.items() if p in partitions]
        for emp in gone:
            self.committed.pop(emp, None)
            self.owner.pop(emp, None)
            self._live.pop(emp, None)
        return len(gone)

    def drop_all(self) -> None:
        self.committed.clear()
        self.owner.clear()
        self._live.clear()
        self._dirty.clear()
