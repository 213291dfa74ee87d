"""Offboarding: handover and asset tracking, and a last-day summary for every leaver in replay."""

from __future__ import annotations

from pathlib import Path

import orjson

from detectors.catalogue import discover
from detectors.engine import Engine, EngineConfig
from detectors.replay import replay_files
from exitwatch.generate import generate
from schemas import HRRecord, HRSignal

OFFBOARDING = [r for r in discover() if r.id.startswith("offboarding.")]


def test_every_offboarding_rule_has_examples_that_fire_and_that_do_not() -> None:
    ids = {r.id for r in OFFBOARDING}
    assert {"offboarding.open_handover", "offboarding.assets_not_returned",
            "offboarding.customers_not_handed_over", "offboarding.last_day_summary"} <= ids
    for r in OFFBOARDING:
        assert any(e.fires for e in r.examples) and any(not e.fires for e in r.examples), r.id
        assert r.security is False


def test_summary_names_what_was_handed_over_and_what_is_open() -> None:
    eng = Engine(rules=OFFBOARDING, config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "notice",
                                       "last_day": "2026-03-31", "accounts": ["ann@corp.example"]}))
    for ts, name, value in (("2026-03-02T10:00:00Z", "handover_item_open", "client list"),
                            ("2026-03-02T10:01:00Z", "handover_item_open", "admin passwords"),
                            ("2026-03-20T10:00:00Z", "handover_item_done", "client list"),
                            ("2026-03-31T16:00:00Z", "asset_returned", "LT-1")):
        eng.on_signal(HRSignal.model_validate({"employee_id": "E1", "ts": ts, "signal": name, "value": value}))
    alerts = eng.on_hr(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-04-01T08:00:00Z",
                                                "status": "departed", "last_day": "2026-03-31"}))
    summary = [a for a in alerts if a.rule_id == "offboarding.last_day_summary"]
    assert len(summary) == 1
    ex = summary[0].explanation
    assert ex["handed_over"] == ["client list"] and ex["open_items"] == ["admin passwords"]
    assert ex["assets_returned"] == ["LT-1"]
    assert "1 item(s) handed over, 1 open" in summary[0].title
    # once per last day: more news after it does not repeat it
    more = eng.on_signal(HRSignal.model_validate({"employee_id": "E1", "ts": "2026-04-02T08:00:00Z",
                                                  "signal": "handover_item_done", "value": "admin passwords"}))
    assert not [a for a in more if a.rule_id == "offboarding.last_day_summary"]
    assert not eng.stats.errors


def test_replay_writes_a_last_day_summary_for_every_leaver(tmp_path: Path) -> None:
    data = tmp_path / "c"
    generate(data, employees=60, days=60, seed=3)
    labels = [orjson.loads(x) for x in (data / "labels.jsonl").read_bytes().splitlines()]
    assert labels
    out = tmp_path / "alerts.jsonl"
    replay_files([str(data / "hr.jsonl")], [str(data / "signals.jsonl")], [str(data / "events.jsonl")], str(out),
                 show_progress=False)
    alerts = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    summaries = [a for a in alerts if a["rule_id"] == "offboarding.last_day_summary"]
    by_emp: dict[str, int] = {}
    for a in summaries:
        by_emp[a["employee_id"]] = by_emp.get(a["employee_id"], 0) + 1
    leavers = {lab["employee_id"] for lab in labels}
    assert set(by_emp) == leavers, (sorted(leavers - set(by_emp)), sorted(set(by_emp) - leavers))
    assert all(n == 1 for n in by_emp.values()), by_emp
    for a in summaries:
        lab = next(x for x in labels if x["employee_id"] == a["employee_id"])
        assert a["explanation"]["last_day"] == lab["last_day"]
        assert a["severity"] == "low" and a["evidence"]
    # malicious leavers leave handover items open; the summary and the open-handover alert say so
    mal = {lab["employee_id"] for lab in labels if lab["scenario"] != "benign_leaver"}
    assert any(a["explanation"]["open_count"] > 0 for a in summaries if a["employee_id"] in mal)
    assert any(a["rule_id"] == "offboarding.open_handover" for a in alerts)
