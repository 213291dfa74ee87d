"""The k-anonymity population holds 100,000 employees in the worker: its per-employee record is compact."""

from __future__ import annotations

import orjson

from evidence.privacy import Population


def rec(emp: str, ts: str, **kw: object) -> dict[str, object]:
    # each record decoded on its own, as the worker reads them (equal strings, distinct objects)
    return orjson.loads(orjson.dumps({"employee_id": emp, "ts": ts, "department": "Sales", "role": "AE",
                                      "status": "active", **kw}))


def test_latest_shares_strings_and_ignores_older_records() -> None:
    p = Population(k=2)
    p.update(rec("E1", "2026-01-02T00:00:00Z"))
    p.update(rec("E2", "2026-01-02T00:00:00Z"))
    assert p.latest["E1"][0] is p.latest["E2"][0]  # one "Sales" for everyone
    assert isinstance(p.latest["E1"], tuple)
    p.update(rec("E1", "2026-01-05T00:00:00Z", status="notice", resignation_date="2026-01-05"))
    p.update(rec("E1", "2026-01-03T00:00:00Z"))  # older than what is known: ignored
    assert "E1" in p.leavers and p.latest["E1"][2] == "notice"
    # the groups follow the latest record: E1 left the "active" group at every level
    assert all("E1" not in g for name, groups in p.members.items() for key, g in groups.items() if "active" in key)
    p.update(rec("E3", "2026-01-06T00:00:00Z", status="notice", resignation_date="2026-01-09"))
    assert p.choose({"department": "Sales", "status": "notice"}, None)[0] == "department"
