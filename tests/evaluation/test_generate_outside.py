"""exitwatch/generate_outside.py: deterministic, contract-valid, labels that agree with HR and with the events,
the habits it promises (shared machines, several machines, sparse labels, time zones, moves, hires), and wired
into ``exitwatch generate --profile`` and ``exitwatch evaluate --profiles``."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from exitwatch.generate_outside import BENIGN, PROFILES, SCENARIOS, company, generate
from schemas import ActivityEvent, HRRecord, HRSignal
from schemas.guard import TsWindow, decode_record
from schemas.identity import AliasIndex

FILES = ("hr.jsonl", "signals.jsonl", "events.jsonl", "labels.jsonl", "meta.json")
SIZE = dict(employees=40, days=42)


def _lines(path: Path) -> list[bytes]:
    return [x for x in path.read_bytes().splitlines() if x.strip()]


@pytest.fixture(scope="module", params=sorted(PROFILES))
def outside(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp(request.param)
    generate(d, seed=3, profile=request.param, **SIZE)
    return d


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, employees=25, days=35, seed=5, profile="outside_b")
    generate(b, employees=25, days=35, seed=5, profile="outside_b")
    generate(c, employees=25, days=35, seed=6, profile="outside_b")
    for name in FILES[:-1]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "events.jsonl").read_bytes() != (c / "events.jsonl").read_bytes()
    ma, mb = orjson.loads((a / "meta.json").read_bytes()), orjson.loads((b / "meta.json").read_bytes())
    assert {k: v for k, v in ma.items() if k != "seconds"} == {k: v for k, v in mb.items() if k != "seconds"}


def test_every_record_passes_the_contract_and_the_guard(outside: Path) -> None:
    window = TsWindow(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
                      "test")
    events = []
    for raw in _lines(outside / "events.jsonl"):
        ev, why = decode_record(raw, ActivityEvent, window=window)
        assert why is None, (why, raw[:300])
        assert "sanitized" not in ev.attrs and "bad_bytes" not in ev.attrs, raw[:300]
        events.append(ev)
    hr = [HRRecord.model_validate_json(x) for x in _lines(outside / "hr.jsonl")]
    sig = [HRSignal.model_validate_json(x) for x in _lines(outside / "signals.jsonl")]
    assert len(events) > 5_000 and hr and sig
    for recs in (events, hr, sig):
        assert all(recs[i].ts <= recs[i + 1].ts for i in range(len(recs) - 1)), "sorted by ts"
    assert len({e.event_id for e in events}) == len(events), "event ids are unique"
    assert {e.kind for e in events} >= {"file", "email", "crm", "device", "logon", "web"}
    assert len({e.source for e in events}) >= 4, "several connectors, not one synthetic source"
    # every actor resolves through the HR aliases (as enrichment does), though events rarely carry the id
    idx = AliasIndex()
    for r in hr:
        idx.add(r.employee_id, r.accounts)
    assert all(e.employee_id is None for e in events)
    unresolved = {e.actor for e in events if idx.resolve(e.actor) is None}
    assert not unresolved, sorted(unresolved)[:5]
    owners: dict[str, set[str]] = defaultdict(set)
    for r in hr:
        for a in r.accounts:
            owners[a.casefold()].add(r.employee_id)
    assert all(len(v) == 1 for v in owners.values()), "no alias names two employees"


def test_labels_agree_with_hr_and_with_the_events(outside: Path) -> None:
    labels = [orjson.loads(x) for x in _lines(outside / "labels.jsonl")]
    hr = [orjson.loads(x) for x in _lines(outside / "hr.jsonl")]
    events = [orjson.loads(x) for x in _lines(outside / "events.jsonl")]
    meta = orjson.loads((outside / "meta.json").read_bytes())
    by_emp: dict[str, list[dict]] = defaultdict(list)
    for r in hr:
        by_emp[r["employee_id"]].append(r)
    alias = {a.casefold(): r["employee_id"] for r in hr for a in r["accounts"]}
    days_of: dict[str, set[str]] = defaultdict(set)
    for e in events:
        days_of[alias[e["actor"].casefold()]].add(e["ts"][:10])
    assert len({lab["employee_id"] for lab in labels}) == len(labels), "one label per leaver"
    mal = [lab for lab in labels if lab["scenario"] != BENIGN]
    assert meta["malicious"] == len(mal) >= 3 and meta["leavers"] == len(labels) > len(mal)
    end = meta["end"]
    for lab in labels:
        assert lab["scenario"] in SCENARIOS or lab["scenario"] == BENIGN
        assert lab["start"] <= lab["end"], lab
        recs = by_emp[lab["employee_id"]]
        notice = [r for r in recs if r["status"] == "notice"]
        assert notice and all(r["last_day"] == lab["last_day"] for r in notice), lab
        departed = [r for r in recs if r["status"] == "departed"]
        assert departed and departed[0]["ts"][:10] > lab["last_day"], lab
        if lab["scenario"] == BENIGN:
            continue
        assert lab["end"] <= end and lab["last_day"] <= end, "a thief acts and leaves within the data"
        acted = {d for d in days_of[lab["employee_id"]] if lab["start"] <= d <= lab["end"]}
        assert acted, f"{lab} has no activity in its window"
        # the last day is a local day: an evening in New York or Los Angeles is the next day in UTC
        next_day = (dt.date.fromisoformat(lab["last_day"]) + dt.timedelta(days=1)).isoformat()
        after = {d for d in days_of[lab["employee_id"]] if d > next_day}
        if lab["scenario"] == "access_after_leaving":
            assert after, "the account is used after the last day"
        elif lab["scenario"] != "sabotaging_admin":
            assert not after, f"{lab}: activity after the last day"


def test_the_habits_it_promises(outside: Path) -> None:
    name = orjson.loads((outside / "meta.json").read_bytes())["profile"]
    hr = [orjson.loads(x) for x in _lines(outside / "hr.jsonl")]
    events = [orjson.loads(x) for x in _lines(outside / "events.jsonl")]
    alias = {a.casefold(): r["employee_id"] for r in hr for a in r["accounts"]}
    logons = [e for e in events if e["kind"] == "logon" and e["action"] == "logon"]
    users_of: dict[str, set[str]] = defaultdict(set)
    hosts_of: dict[str, set[str]] = defaultdict(set)
    for e in logons:
        users_of[e["host"]].add(alias[e["actor"].casefold()])
        hosts_of[alias[e["actor"].casefold()]].add(e["host"])
    assert sum(len(v) >= 2 for v in hosts_of.values()) >= 5, "people with several machines"
    assert sum(len(v) >= 3 for v in users_of.values()) >= 2, "machines several people use"
    files = [e for e in events if e["kind"] in ("file", "print")]
    labelled = sum("label" in e.get("attrs", {}) for e in files) / len(files)
    assert labelled <= PROFILES[name].label_rate + 0.03, "labels stay sparse"
    if PROFILES[name].label_rate == 0:
        assert labelled == 0
    # role changes and team moves: an active record after the first with another role or department
    first_role: dict[str, tuple[str, str]] = {}
    moved = 0
    for r in hr:
        key = (r["department"], r["role"])
        if r["employee_id"] not in first_role:
            first_role[r["employee_id"]] = key
        elif r["status"] == "active" and key != first_role[r["employee_id"]]:
            moved += 1
    assert moved >= 1
    # the working day follows the company's clocks: logon hours in UTC spread over a span that a single
    # 9-to-5 office in UTC would not give
    hours = Counter(int(e["ts"][11:13]) for e in logons)
    busiest = max(hours, key=hours.__getitem__)
    assert busiest != 9 or name == "outside_a"
    assert len([h for h, n in hours.items() if n > len(logons) / 200]) >= 10


def test_company_in_memory_matches_the_files(tmp_path: Path) -> None:
    hr, events, labels = company("outside_c", employees=20, days=30, seed=2)
    generate(tmp_path, employees=20, days=30, seed=2, profile="outside_c")
    assert [orjson.loads(x) for x in _lines(tmp_path / "events.jsonl")] == events
    assert [orjson.loads(x) for x in _lines(tmp_path / "labels.jsonl")] == labels
    assert [orjson.loads(x) for x in _lines(tmp_path / "hr.jsonl")] == hr


def test_unknown_profile_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="known: outside_a"):
        generate(tmp_path, employees=5, days=5, profile="outside_z")


def test_wired_into_generate_and_the_sweep(tmp_path: Path) -> None:
    from exitwatch.cli import main
    from exitwatch.evaluate import evaluate_profiles, profile_names

    assert profile_names(["outside"]) == sorted(PROFILES)
    assert profile_names(["all"])[-3:] == sorted(PROFILES) and "baseline" in profile_names(None)
    with pytest.raises(ValueError, match="unknown profile"):
        profile_names(["nope"])
    out = tmp_path / "gen"
    assert main(["generate", "--profile", "outside_b", "--employees", "20", "--days", "30", "--seed", "4",
                 "--out", str(out), "--no-progress"]) == 0
    meta = orjson.loads((out / "meta.json").read_bytes())
    assert meta["profile"] == "outside_b" and meta["generator"] == "exitwatch.generate_outside"
    assert meta["start"] == PROFILES["outside_b"].start.isoformat()
    rep = evaluate_profiles(tmp_path / "rep", ["outside_a"], seeds=[1], employees=30, days=40,
                            work=tmp_path / "work")
    p = rep["profiles"]["outside_a"]
    assert p["malicious"] >= 3 and p["about"] == PROFILES["outside_a"].about
    seen = {sc for r in rep["per_seed"]["outside_a"] for sc, v in r["scenarios"].items() if v["employees"]}
    assert seen and seen <= set(SCENARIOS), "the outside scenarios are scored by name"
    assert (tmp_path / "rep" / "profiles.md").read_text().count("outside_a") >= 2


def test_intended_rules_name_rules_of_the_catalogue() -> None:
    from detectors.catalogue import discover
    from exitwatch.generate_outside import INTENDED

    ids = {r.id for r in discover()}
    assert set(INTENDED) == set(SCENARIOS)
    missing = {r for rules in INTENDED.values() for r in rules} - ids
    assert not missing, f"rules named for the outside scenarios that the catalogue lacks: {sorted(missing)}"
