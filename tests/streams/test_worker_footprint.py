"""What the default worker holds that does not grow with its work: the libraries it imports and the HR cache.

- The transactional worker's modules import no Faust, no aiohttp and not the Faust worker (streams/common.py
  holds what both share): about 18 MB of resident memory (reports/benchmarks/s11-mem/README.md).
- The HR cache keeps every employee's record (an expired entry is the answer while Redis is down): as the
  record's JSON bytes, a few hundred bytes each, not a dict (about 1.4 KB) nor orjson's output (about 4 KB).
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from typing import Any

from schemas import HRRecord
from streams.hrstore import HRCache

_FAUST_SIDE = ("faust", "aiohttp", "mode", "streams.app")


def test_the_default_workers_modules_import_no_faust() -> None:
    code = ("import sys, streams.cli, streams.health, streams.tx.worker, streams.tx.observe, streams.tx.hr, "
            "exitwatch.cli\n"
            f"print(','.join(m for m in {_FAUST_SIDE!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the default worker loads {out.stdout.strip()}"


def test_the_faust_sensor_is_still_there_for_the_faust_worker() -> None:
    from streams import observability

    assert observability.MetricsSensor is observability.MetricsSensor  # one class, made once
    assert observability.MetricsSensor.__mro__[1].__module__.startswith("faust")


class _Cache(HRCache):
    def __init__(self) -> None:
        class Client:
            def register_script(self, _src: str) -> Any:
                return None

        self._init_cache(Client(), "", ttl=30.0)


def _record(i: int) -> HRRecord:
    return HRRecord.model_validate({
        "employee_id": f"E{i:06d}", "ts": "2026-03-02T09:00:00Z", "status": "notice" if i % 7 == 0 else "active",
        "accounts": [f"person{i}@corp.example", f"CORP\\person{i}", f"crm-{i}"], "department": "Sales",
        "role": "Account executive", "manager_id": "E000001", "last_day": "2026-04-30" if i % 7 == 0 else None})


def test_the_hr_cache_holds_a_record_in_a_few_hundred_bytes_and_answers_with_the_record() -> None:
    cache = _Cache()
    records = [_record(i) for i in range(2000)]
    aliases = cache._alias
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for r in records:
            cache.remember(r)
        aliases.clear()  # (the aliases are another table: what is measured here is the records)
        per_record = (tracemalloc.get_traced_memory()[0] - before) / len(records)
    finally:
        tracemalloc.stop()
    assert per_record < 600, per_record
    out: dict[str, Any] = {}
    cache._stale_snapshots(["E000007", "E999999"], out)  # Redis down: the cache answers, stale
    want = {**records[7].model_dump(mode="json"), "_e": records[7].ts.timestamp()}
    assert out == {"E000007": (want, True), "E999999": (None, True)}
    out["E000007"][0]["status"] = "changed by a caller"  # each answer is a dict of its own
    fresh, _ = cache._cached_snapshots({"E000007"})
    assert fresh["E000007"] == (want, False)
    cache.remember(_record(7).model_copy(update={"ts": records[7].ts.replace(day=1), "status": "active"}))
    assert cache._cached_snapshots({"E000007"})[0]["E000007"][0]["status"] == "notice"  # older record ignored
