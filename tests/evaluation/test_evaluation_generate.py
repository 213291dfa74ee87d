"""exitwatch generate: deterministic, contract-valid, every scenario labelled, last days respected."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import orjson

from exitwatch.generate import BENIGN, SCENARIOS, generate
from schemas import ActivityEvent, HRRecord, HRSignal
from schemas.identity import AliasIndex

FILES = ("hr.jsonl", "signals.jsonl", "events.jsonl", "labels.jsonl")


def _lines(path: Path) -> list[bytes]:
    return [x for x in path.read_bytes().splitlines() if x.strip()]


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, employees=30, days=45, seed=11)
    generate(b, employees=30, days=45, seed=11)
    generate(c, employees=30, days=45, seed=12)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "events.jsonl").read_bytes() != (c / "events.jsonl").read_bytes()


def test_every_line_is_a_valid_contract_record(small_company: Path) -> None:
    hr = [HRRecord.model_validate_json(x) for x in _lines(small_company / "hr.jsonl")]
    sig = [HRSignal.model_validate_json(x) for x in _lines(small_company / "signals.jsonl")]
    ev = [ActivityEvent.model_validate_json(x) for x in _lines(small_company / "events.jsonl")]
    assert hr and sig and len(ev) > 10_000
    for recs in (hr, sig, ev):
        assert all(recs[i].ts <= recs[i + 1].ts for i in range(len(recs) - 1)), "sorted by ts"
    assert len({e.event_id for e in ev}) == len(ev), "event ids are unique"
    assert {e.source for e in ev} == {"synthetic"}
    assert all(2 <= len(r.accounts) <= 3 and r.department and r.role for r in hr)
    with_id = sum(e.employee_id is not None for e in ev)
    assert 0 < with_id < len(ev) / 2, "some events name the employee, most only an alias"
    kinds = Counter(e.kind for e in ev)
    assert set(kinds) == {"file", "email", "crm", "device", "logon", "web", "print"}
    assert {s.signal for s in sig} >= {"late_arrival", "absence", "leave_request", "performance_review", "survey",
                                       "handover_item_open", "handover_item_done"}
    # actors resolve through the HR aliases (case-insensitively), except the service accounts
    idx = AliasIndex()
    for r in hr:
        idx.add(r.employee_id, r.accounts)
    unresolved = [e for e in ev if e.employee_id is None and idx.resolve(e.actor) is None]
    assert {e.actor for e in unresolved} <= {"svc-backup@corp.example", "CORP\\svc_sql", "svc-indexer@corp.example",
                                              "CORP\\svc_print"}
    # no alias names two employees
    owners: dict[str, set[str]] = {}
    for r in hr:
        for a in r.accounts:
            owners.setdefault(a.casefold(), set()).add(r.employee_id)
    assert all(len(v) == 1 for v in owners.values())


def test_every_scenario_and_benign_leavers_are_labelled(small_company: Path) -> None:
    labels = [orjson.loads(x) for x in _lines(small_company / "labels.jsonl")]
    scen = Counter(lab["scenario"] for lab in labels)
    assert set(scen) == set(SCENARIOS) | {BENIGN}
    assert all(set(lab) == {"employee_id", "scenario", "start", "end", "last_day"} for lab in labels)
    assert len({lab["employee_id"] for lab in labels}) == len(labels)


def test_late_hr_updates_and_departures(small_company: Path) -> None:
    hr = [HRRecord.model_validate_json(x) for x in _lines(small_company / "hr.jsonl")]
    notices = [r for r in hr if r.status == "notice"]
    assert notices and all(r.last_day and r.resignation_date for r in notices)
    assert any(r.ts.date() > r.resignation_date for r in notices if r.resignation_date), "some notices arrive late"
    assert any(r.status == "departed" for r in hr)


def test_malicious_behaviour_respects_the_last_day(small_company: Path) -> None:
    labels = {lab["employee_id"]: lab for lab in map(orjson.loads, _lines(small_company / "labels.jsonl"))}
    for lab in labels.values():
        start, end, last = (dt.date.fromisoformat(lab[k]) for k in ("start", "end", "last_day"))
        assert start <= end
        if lab["scenario"] == "after_departure_access":
            assert start > last
        else:
            assert end <= last, lab
    idx = AliasIndex()
    for r in map(HRRecord.model_validate_json, _lines(small_company / "hr.jsonl")):
        idx.add(r.employee_id, r.accounts)
    after: Counter[str] = Counter()
    for line in _lines(small_company / "events.jsonl"):
        e = ActivityEvent.model_validate_json(line)
        emp = e.employee_id or idx.resolve(e.actor)
        lab = labels.get(emp or "")
        if lab and e.ts.date() > dt.date.fromisoformat(lab["last_day"]):
            if lab["scenario"] == "after_departure_access":
                after[emp or ""] += 1
            else:  # only a phone still syncing mail the morning after
                assert e.host == "MOBILE" and e.kind == "logon", line
    assert set(after) == {k for k, v in labels.items() if v["scenario"] == "after_departure_access"}


def test_weekends_and_holidays_are_quiet(tmp_path: Path) -> None:
    meta = generate(tmp_path, employees=40, days=120, seed=3)
    per_day: Counter[str] = Counter()
    for line in _lines(tmp_path / "events.jsonl"):
        per_day[orjson.loads(line)["ts"][:10]] += 1
    holidays = set(meta["holidays"])
    assert holidays, "Easter falls in the first 120 days of 2026"
    weekday = [v for d, v in per_day.items() if dt.date.fromisoformat(d).weekday() < 5 and d not in holidays]
    weekend = [v for d, v in per_day.items() if dt.date.fromisoformat(d).weekday() >= 5]
    assert max(weekend) < min(weekday) / 3
    assert max(per_day[h] for h in holidays) < min(weekday) / 5  # only service accounts and stragglers
