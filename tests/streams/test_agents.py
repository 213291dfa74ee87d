"""Agent tests (tier 2): the Faust agents through ``test_context()``, with the broker sends and the Redis
HR store replaced by in-memory fakes. The integration tier runs the same agents on the real broker."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas import HRRecord
from schemas.identity import normalize_account
from agent_fakes import offline_worker
from evidence.ledger import check_chain
from evidence.privacy import secops_alert_id
from streams.app import secops_view

HR = {"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "notice", "last_day": "2026-03-31",
      "department": "R&D", "role": "engineer", "manager_id": "E0", "accounts": ["ann@corp.example", "CORP\\alee"]}


def event(i: int, actor: str = "ANN@corp.example", **kw: Any) -> bytes:
    return orjson.dumps({"event_id": f"e{i}", "ts": f"2026-03-{10 + i:02d}T10:00:00Z", "kind": "file",
                         "action": "download", "actor": actor, "source": "m365", "sensitivity": "restricted", **kw})


class FakeHRStore:
    """What the agents need of streams.hrstore.HRStore, in memory."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, str] = {}
        self.lookups = 0

    async def put(self, record: HRRecord) -> bool:
        self.records[record.employee_id] = record.model_dump(mode="json")
        for a in [record.employee_id, *record.accounts]:
            self.aliases[normalize_account(a)] = record.employee_id
        return True

    async def resolve_many(self, accounts: set[str]) -> dict[str, str | None]:
        self.lookups += 1
        return {a: self.aliases.get(normalize_account(a)) for a in accounts}

    async def snapshots(self, emps: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        return {e: (self.records.get(e), False) for e in emps}


@pytest.fixture
def worker(tmp_path: Any) -> Any:
    w = offline_worker(tmp_path)
    w.app.flow_control.resume()
    w.hr_store = FakeHRStore()
    # The agents captured hr_store when they were built: point them at the fake.
    for agent in w.agents.values():
        for cell in agent.fun.__closure__ or ():
            if type(cell.cell_contents).__name__ == "HRStore":
                cell.cell_contents = w.hr_store
    return w


async def test_hr_agent_keeps_records(worker: Any) -> None:
    async with worker.agents["hr"].test_context() as agent:
        await agent.put(orjson.dumps(HR))
        await agent.put(b"{broken")  # dead-lettered by the detect stage, ignored here
    assert worker.hr_store.records["E1"]["last_day"] == "2026-03-31"
    assert worker.hr_store.aliases["corp\\alee"] == "E1"


async def test_enrich_resolves_alias_and_attaches_snapshot(worker: Any) -> None:
    await worker.hr_store.put(HRRecord.model_validate(HR))
    async with worker.agents["enrich"].test_context() as agent:
        await agent.put(event(1, actor="corp\\ALEE"))
        await agent.put(event(2, actor="stranger@else.example"))
        await agent.put(b'{"event_id": "x", "kind": "file"}')
    out = worker.sent["activity_enriched"].items
    assert [k for k, _ in out] == [b"E1", b"stranger@else.example"]
    first, second = out[0][1], out[1][1]
    assert first["employee_id"] == "E1" and first["employee"]["last_day"] == "2026-03-31"
    assert first["employee"]["department"] == "R&D" and first["employee"]["resolved"] is True
    assert second["employee_id"] is None and second["employee"]["resolved"] is False
    dead = worker.sent["deadletter"].items
    assert len(dead) == 1 and "ts" in dead[0][1]["reason"] and dead[0][1]["source"] == "enrich"


async def test_detect_fires_once_and_pseudonymizes(worker: Any) -> None:
    await worker.detect_one("h", "test.hr.status", 0, orjson.dumps(HR))
    enriched = []
    for i in range(12):
        e = orjson.loads(event(i))
        e["employee_id"] = "E1"
        e["employee"] = {"employee_id": "E1", "status": "notice", "last_day": "2026-03-31"}
        enriched.append(orjson.dumps(e))
    for off, raw in enumerate(enriched):
        await worker.detect_one("e", "test.activity.enriched", off, raw)
    hr_alerts = [v for _, v in worker.sent["alerts_hr"].items if v["rule_id"] == "file.sensitive_downloads_before_departure"]
    assert len(hr_alerts) == 1 and hr_alerts[0]["explanation"]["observed"] == 11
    keyed_id = secops_alert_id(hr_alerts[0]["alert_id"], worker.pseudonym_key)
    sec = [v for k, v in worker.sent["alerts_secops"].items if v["alert_id"] == keyed_id]
    assert len(sec) == 1 and "E1" not in orjson.dumps(sec[0]).decode()
    # E1 is the only employee the worker knows, and is leaving: a departure alert would single them out, so it goes
    # out under a pseudonym of its own, with no HR field (evidence.privacy)
    assert sec[0]["employee_id"].startswith("u-") and sec[0]["employee"]["linkable"] is False
    assert not set(sec[0]["evidence"]) & set(hr_alerts[0]["evidence"])
    # the evidence ledger got one signed entry per alert, with the events themselves, chained per employee
    led = [v for _, v in worker.sent["evidence_ledger"].items]
    assert [e["alert"]["alert_id"] for e in led] == [v["alert_id"] for _, v in worker.sent["alerts_hr"].items]
    entry = next(e for e in led if e["alert"]["alert_id"] == hr_alerts[0]["alert_id"])
    assert {ev["event_id"] for ev in entry["evidence"]} == set(hr_alerts[0]["evidence"]) and not entry["missing_evidence"]
    assert check_chain([e for e in led if e["employee_id"] == "E1"], worker.outputs.key.public) is None
    # A re-delivered message (same offset) changes nothing and emits nothing.
    before = len(worker.sent["alerts_hr"].items)
    state_before = worker.store.table["E1"]
    assert await worker.detect_one("e", "test.activity.enriched", 10, enriched[10]) == []
    assert len(worker.sent["alerts_hr"].items) == before and worker.store.table["E1"] == state_before


async def test_detect_dead_letters_bad_records(worker: Any) -> None:
    await worker.detect_one("h", "test.hr.status", 0, b'{"employee_id": "E1", "status": "gone"}')
    await worker.detect_one("s", "test.hr.signals", 0, b"not json")
    reasons = [v["reason"] for _, v in worker.sent["deadletter"].items]
    assert len(reasons) == 2 and "status" in reasons[0]


def test_secops_view_removes_identity() -> None:
    from schemas import Alert

    a = Alert.model_validate({"alert_id": "x", "ts": "2026-03-01T00:00:00Z", "employee_id": "E1", "rule_id": "r",
                              "rule_version": "1", "severity": "high", "score": 50, "title": "t", "explanation": {},
                              "evidence": ["e1"], "employee": {"employee_id": "E1", "manager_id": "E0",
                                                               "department": "R&D", "status": "notice"}})
    v = secops_view(a, b"key")  # no HR population known: every HR field is dropped
    assert v["employee_id"] != "E1" and v["employee"] == {"generalised": "none", "k": 5}
    assert v["alert_id"] != "x" and v["evidence"] != ["e1"]


async def test_enrich_agent_detects_events_on_their_employees_partition(worker: Any) -> None:
    """One pass through Faust: an event on its employee's partition is detected where it is enriched; one
    that sits elsewhere (keyed by an account that hashed to another partition) goes to the rekey topic."""
    from streams.app import partition_of

    await worker.hr_store.put(HRRecord.model_validate(HR))
    home = partition_of(b"E1", worker.settings.partitions)
    away = (home + 1) % worker.settings.partitions
    async with worker.agents["enrich"].test_context() as agent:
        for i in range(11):
            await agent.put(event(i), key=b"E1", partition=home)
        await agent.put(event(20), key=b"ANN@corp.example", partition=away)
    assert len(worker.sent["activity_enriched"].items) == 12  # the contract topic gets every event
    fired = [v for _, v in worker.sent["alerts_hr"].items if v["rule_id"] == "file.sensitive_downloads_before_departure"]
    assert len(fired) == 1 and fired[0]["explanation"]["observed"] == 11
    rekeyed = worker.sent["rekey"].items
    assert [(k, v["event_id"]) for k, v in rekeyed] == [(b"E1", "e20")]
    assert "E1" in worker.store.table  # the state was written by the enrich agent
