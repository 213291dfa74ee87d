"""The per-employee state store of the transactional worker (the engine's ``get``/``put``).

It keeps each employee's committed state as bytes (what the changelog holds, unsealed) and a bounded cache of
decoded states; what a transaction changed is written to the changelog with the transaction, and dropped
again (back to the committed bytes) when the transaction aborts. The worker keeps the committed bytes in a
local file (:class:`DiskBytes`, SQLite, a cache of the changelog: rebuilt from it at every start), so its
memory does not grow with the number of employees; without a path they stay in a dict.

>>> s = StateStore(lambda emp: 0)
>>> from detectors.state import EmployeeState
>>> s.put("E1", EmployeeState()); [emp for emp, _, _ in s.changes()]
['E1']
>>> s.rollback(); s.get("E1") is None
True
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from detectors.state import EmployeeState
from evidence.recorder import stored_bytes

#: Decoded states kept between transactions (``EXITWATCH_TX_STATE_CACHE``; 20,000 before the tenth session: see
#: reports/benchmarks/s10-mem/README.md for what each costs in memory and time).
CACHE_SIZE = 5000


class DiskBytes:
    """``employee id -> committed state bytes`` in a local SQLite file: what of a dict the store uses.

    The file is a cache of the changelog, never read after a restart: it is emptied when opened, written
    without a journal or syncs, and deleted at :meth:`close`. Its memory is SQLite's page cache (``cache_kb``).

    >>> import tempfile, os; d = DiskBytes(os.path.join(tempfile.mkdtemp(), "s.db"))
    >>> d["E1"] = b"{}"; d.update([("E2", b"[]")]); d.get("E1"), d.pop("E2"), d.get("E2"), "E1" in d
    (b'{}', b'[]', None, True)
    >>> d.close()
    """

    def __init__(self, path: str, cache_kb: int = 8192) -> None:
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):  # a previous run's cache: the changelog is the truth
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{cache_kb}", "temp_store=MEMORY"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE s (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")

    def get(self, key: str, default: bytes | None = None) -> bytes | None:
        row = self.db.execute("SELECT v FROM s WHERE k = ?", (key,)).fetchone()
        return default if row is None else bytes(row[0])

    def __getitem__(self, key: str) -> bytes:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key: object) -> bool:
        return self.db.execute("SELECT 1 FROM s WHERE k = ?", (key,)).fetchone() is not None

    def __setitem__(self, key: str, value: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO s (k, v) VALUES (?, ?)", (key, value))

    def update(self, items: Iterable[tuple[str, bytes]]) -> None:
        self.db.execute("BEGIN")
        try:
            self.db.executemany("INSERT OR REPLACE INTO s (k, v) VALUES (?, ?)", items)
        finally:
            self.db.execute("COMMIT")

    def pop(self, key: str, default: bytes | None = None) -> bytes | None:
        v = self.get(key, default)
        self.db.execute("DELETE FROM s WHERE k = ?", (key,))
        return v

    def delete(self, keys: Iterable[str]) -> None:
        self.db.execute("BEGIN")
        try:
            self.db.executemany("DELETE FROM s WHERE k = ?", ((k,) for k in keys))
        finally:
            self.db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM s").fetchone()[0])

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self.db.execute("SELECT k FROM s")])

    def values(self) -> Iterator[bytes]:
        return (bytes(v) for (v,) in self.db.execute("SELECT v FROM s").fetchall())

    def clear(self) -> None:
        self.db.execute("DELETE FROM s")

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class StateStore:
    """The engine's state store (``get``/``put``), by partition, with transactional changes. ``path``: keep
    the committed bytes in a local file there (:class:`DiskBytes`), not in memory."""

    def __init__(self, partition_of: Callable[[str], int], cache_size: int = CACHE_SIZE,
                 path: str | None = None) -> None:
        self.partition_of = partition_of
        self.committed: dict[str, bytes] | DiskBytes = DiskBytes(path) if path else {}
        self.owner: dict[str, int] = {}
        self._live: OrderedDict[str, EmployeeState] = OrderedDict()
        self._dirty: set[str] = set()
        self.cache_size = cache_size

    def __len__(self) -> int:
        return len(self.owner)  # every committed state has its partition there

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
            # the evidence kept for the ledger in its stored form (evidence.recorder), left packed in memory too;
            # copied to its exact size: orjson's output of a 7 KB state holds about 40 KB (a batch's changes
            # wait for the commit, and their allocations stay with the process)
            out.append((emp, self.partition_of(emp), bytes(memoryview(stored_bytes(self._live[emp])))))
        return out

    def committed_changes(self, changes: Iterable[tuple[str, int, bytes]]) -> None:
        """The transaction holding ``changes`` committed: they are the committed states now."""
        changes = list(changes)
        if isinstance(self.committed, DiskBytes):
            self.committed.update((emp, raw) for emp, _, raw in changes)
        for emp, part, raw in changes:
            if not isinstance(self.committed, DiskBytes):
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
        if isinstance(self.committed, DiskBytes):
            self.committed.delete(gone)
        for emp in gone:
            if not isinstance(self.committed, DiskBytes):
                self.committed.pop(emp, None)
            self.owner.pop(emp, None)
            self._live.pop(emp, None)
        return len(gone)

    def close(self) -> None:
        """Let go of the local file, if any."""
        if isinstance(self.committed, DiskBytes):
            self.committed.close()

    def drop_all(self) -> None:
        self.committed.clear()
        self.owner.clear()
        self._live.clear()
        self._dirty.clear()
