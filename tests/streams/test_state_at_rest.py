"""The worker's state at rest (AES-256-GCM in the table and its changelog) and the retention purge (issue 17)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.secrets import MAGIC, Sealer, sealer
from schemas.settings import Settings
from streams.hrstore import HRStore
from streams.retention import purge_expired
from tests.streams.agent_fakes import offline_worker

HR = {"employee_id": "E1", "ts": "2026-01-02T09:00:00Z", "status": "notice", "last_day": "2026-01-31",
      "department": "R&D", "role": "chemist", "accounts": ["ann.lee@corp.example", "alee"]}
STAYING = {"employee_id": "E2", "ts": "2026-01-02T09:00:00Z", "status": "active", "department": "R&D",
           "accounts": ["bob@corp.example"]}


def event(emp: str, i: int) -> bytes:
    return orjson.dumps({"event_id": f"{emp}-secret-plan-{i}.docx", "ts": f"2026-01-{10 + i:02d}T10:00:00Z",
                         "kind": "file", "action": "download", "actor": "x", "source": "synthetic",
                         "object": f"/research/secret-plan-{i}.docx", "sensitivity": "restricted",
                         "employee_id": emp, "employee": {"employee_id": emp, "status": "notice"}})


class FakeRedis:
    """What HRStore's writes, reads and purge need of redis.asyncio.Redis."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def register_script(self, _src: str) -> Any:
        async def script(keys: list[str], args: list[Any], client: Any = None) -> int:
            self.data[keys[0]] = {"e": float(args[0]), "r": args[1]}
            for k in keys[1:]:
                self.data[k] = args[2].encode()
            return 1
        return script

    async def hget(self, key: str, field: str) -> Any:
        return self.data.get(key, {}).get(field)

    async def mget(self, keys: list[str]) -> list[Any]:
        return [self.data.get(k) for k in keys]

    async def delete(self, *keys: str) -> int:
        return sum(self.data.pop(k, None) is not None for k in keys)

    async def aclose(self) -> None:
        pass


@pytest.fixture
def worker(tmp_path: Path) -> Any:
    return offline_worker(tmp_path)


async def feed(worker: Any) -> None:
    for n, rec in enumerate((HR, STAYING)):
        await worker.detect_one("h", "test.hr.status", n, orjson.dumps(rec), partition=0)
    for i in range(5):
        await worker.detect_one("e", "test.activity.enriched", i, event("E1", i), partition=0)
        await worker.detect_one("e", "test.activity.enriched", 10 + i, event("E2", i), partition=0)


async def test_state_is_sealed_in_the_table(worker: Any) -> None:
    await feed(worker)
    raw = worker.store.table["E1"]
    assert raw.startswith(MAGIC)
    for clear in (b"secret-plan", b"R&D", b"chemist", b"ann.lee", b"2026-01-31"):
        assert clear not in raw  # no evidence id, HR field or account in clear
    st = worker.store.decoded("E1")
    assert st.hr["department"] == "R&D" and any("secret-plan" in e for s in st.series.values() for e in s.evidence(0, 10**6))
    # bound to the employee: E1's sealed state put under E2 does not open, and another key opens nothing
    with pytest.raises(ValueError, match="does not open"):
        worker.store.sealer.open(raw, b"E2")
    with pytest.raises(ValueError, match="EXITWATCH_DATA_KEY changed"):
        sealer(Settings(data_key="another key, 32 characters long!")).open(raw, b"E1")
    # a value written before sealing was on still reads
    plain = st.to_bytes()
    worker.store.table["E3"] = plain
    assert worker.store.decoded("E3").hr == st.hr


def test_data_key_rotation_reads_old_values() -> None:
    old = sealer(Settings(data_key="the old data key, 32 characters."))
    box = old.seal(b'{"hr": null}', b"E1")
    new = sealer(Settings(data_key="the new data key, 32 characters.", data_key_previous="the old data key, 32 characters."))
    assert new.open(box, b"E1") == b'{"hr": null}'  # read with the previous key
    assert new.seal(b'{"hr": null}', b"E1") != box  # written with the new one
    with pytest.raises(ValueError, match="EXITWATCH_DATA_KEY_PREVIOUS"):
        sealer(Settings(data_key="the new data key, 32 characters.")).open(box, b"E1")


def test_sealing_is_deterministic_per_value_and_employee() -> None:
    s = Sealer(b"k" * 32)
    assert s.seal(b"v", b"E1") == s.seal(b"v", b"E1")  # an unchanged state rewrites the same record
    assert s.seal(b"v", b"E1") != s.seal(b"v", b"E2") != s.seal(b"w", b"E2")
    assert s.seal(b"v", b"E1")[4:16] != s.seal(b"w", b"E1")[4:16]  # a new value, a new nonce
    assert s.open_text(s.seal_text("subject: offer letter", b"E1"), b"E1") == "subject: offer letter"


async def test_retention_purges_state_and_identity_mapping(worker: Any) -> None:
    fake = FakeRedis()
    worker.hr_store = HRStore("redis://unused", prefix="test.", client=fake)
    for rec in (HR, STAYING):
        from schemas import HRRecord

        assert await worker.hr_store.put(HRRecord.model_validate(rec))
    await feed(worker)
    assert {"test.alias:ann.lee@corp.example", "test.alias:alee", "test.hr:E1"} <= set(fake.data)

    worker.settings = worker.settings.model_copy(update={"retention_days": 30})
    # 30 days after the last day: kept; 31: purged. E2 (no last day) always kept.
    assert await purge_expired(worker, today=dt.date(2026, 3, 2)) == []
    assert "E1" in worker.store.table
    assert await purge_expired(worker, today=dt.date(2026, 3, 3)) == ["E1"]
    assert "E1" not in worker.store.table and "E2" in worker.store.table
    assert not [k for k in fake.data if "E1" in k or "ann.lee" in k or k.endswith(":alee")]
    assert "test.hr:E2" in fake.data and "test.alias:bob@corp.example" in fake.data
    assert await worker.hr_store.resolve_many({"ann.lee@corp.example"}) == {"ann.lee@corp.example": None}
    # and nothing of it comes back from the worker's in-process cache
    assert worker.store.get("E1") is None

    # retention off (0): nothing goes
    worker.settings = worker.settings.model_copy(update={"retention_days": 0})
    assert await purge_expired(worker, today=dt.date(2030, 1, 1)) == []


async def test_retention_skips_partitions_owned_elsewhere(worker: Any) -> None:
    worker.hr_store = HRStore("redis://unused", prefix="test.", client=FakeRedis())
    await feed(worker)
    worker.settings = worker.settings.model_copy(update={"retention_days": 1})
    from streams.app import partition_of

    p = partition_of(b"E1", worker.settings.partitions)
    assert await purge_expired(worker, today=dt.date(2027, 1, 1), owned={(p + 1) % worker.settings.partitions}) == []
    assert await purge_expired(worker, today=dt.date(2027, 1, 1), owned={p}) == ["E1"]
