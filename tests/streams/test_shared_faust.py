"""The Faust worker (``--engine faust``) keeps the engine-wide memories (detectors/shared.py) in a table of
its own, written with the states and read back after an assignment: a restarted worker has them."""

from __future__ import annotations

from typing import Any

import orjson

from agent_fakes import offline_worker


def _logon(i: int, emp: str, host: str) -> bytes:
    return orjson.dumps({"event_id": f"l{emp}{i}", "ts": f"2026-03-{1 + i:02d}T08:00:00Z", "kind": "logon",
                         "action": "logon", "actor": f"{emp.lower()}@corp.example", "source": "windows",
                         "host": host, "employee_id": emp,
                         "employee": {"employee_id": emp, "status": "active", "department": "Lab"}})


async def test_memories_are_written_and_read_back(tmp_path: Any) -> None:
    a = offline_worker(tmp_path / "a")
    for i in range(8):
        for emp in ("E1", "E2", "E3"):
            await a.detect_one("e", "test.activity.enriched", i, _logon(i, emp, f"PC-{emp}"))
    assert a.engine.hosts.usual_user(a.engine.hosts.parts["pc-e1"]) == "E1"
    kinds = {m.kind for m in a.engine.shared}  # hosts, peers, the department's day, the habits' memories
    assert a.store.shared and {k[0] for k in a.store.shared} <= kinds and "h" in {k[0] for k in a.store.shared}
    assert a.engine.shared_changes() == []  # all written with the states
    # Sealed at rest, as the states are.
    assert all(b"E1" not in v for v in a.store.shared.values())
    # A new process: the tables as the changelog restores them; the memories come back before the next batch.
    b = offline_worker(tmp_path / "b")
    b.store.table = dict(a.store.table)
    b.store.shared = dict(a.store.shared)
    assert b.engine.hosts.parts == {}
    await b.detect_one("e", "test.activity.enriched", 9, _logon(9, "E2", "PC-E2"))
    assert b.engine.hosts.parts["pc-e1"] == a.engine.hosts.parts["pc-e1"]
    assert b.engine.peer_firsts.share("Lab", "x") == a.engine.peer_firsts.share("Lab", "x") == (0, 3)
