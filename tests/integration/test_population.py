"""The worker's HR population for the k-anonymity of alerts.secops comes from Redis: every HR record any
worker's HR agent wrote there, read back with ``HRStore.all_records`` (real Redis)."""

from __future__ import annotations

import asyncio

from evidence.privacy import Population
from schemas import HRRecord
from streams.hrstore import HRStore


def test_population_from_redis(redis_url: str, unique_prefix: str) -> None:
    async def go() -> list[dict]:
        store = HRStore(redis_url, prefix=unique_prefix)
        try:
            for i in range(7):
                await store.put(HRRecord.model_validate(
                    {"employee_id": f"E{i}", "ts": "2026-03-01T09:00:00Z", "status": "active",
                     "department": "sales", "role": "ae", "accounts": [f"e{i}@corp.example"]}))
            await store.put(HRRecord.model_validate(
                {"employee_id": "E0", "ts": "2026-03-02T09:00:00Z", "status": "notice", "department": "sales",
                 "role": "ae", "last_day": "2026-03-27"}))
            return await store.all_records()
        finally:
            keys = [k async for k in store.redis.scan_iter(match=f"{unique_prefix}*")]
            if keys:
                await store.redis.delete(*keys)
            await store.close()

    recs = asyncio.run(go())
    assert sorted(r["employee_id"] for r in recs) == [f"E{i}" for i in range(7)]
    pop = Population(k=5)
    for r in recs:
        pop.update(r)
    assert pop.level({"department": "sales", "role": "ae", "status": "active"}) == "exact"  # 6 share it
    # the one in notice is alone in every group that shows the status: nothing of them is left
    assert pop.level({"department": "sales", "role": "ae", "status": "notice", "last_day": "2026-03-27"}) == "none"
