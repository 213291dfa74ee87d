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


def _hr(emp: str, ts: str, **kw: object) -> HRRecord:
    return HRRecord.model_validate({"employee_id": emp, "ts": ts, **kw})


def _signal(emp: str, ts: str, name: str, value: object = None) -> HRSignal:
    return HRSignal.model_validate({"employee_id": emp, "ts": ts, "signal": name, "value": value})


def test_the_watermark_writes_the_summary_of_a_leaver_with_no_news() -> None:
    """E1 is never heard of after the last day; another employee's records move the event-time watermark past
    it, and the summary is written as of midnight after the last day (Engine.advance), once."""
    eng = Engine(rules=OFFBOARDING, config=EngineConfig(risk=False))
    assert not eng.advance(_signal("E2", "2026-03-01T08:00:00Z", "late_arrival").ts)
    eng.on_hr(_hr("E1", "2026-03-02T09:00:00Z", status="notice", last_day="2026-03-13"))
    eng.on_signal(_signal("E1", "2026-03-03T10:00:00Z", "handover_item_open", "client list"))
    got = []
    for ts in ("2026-03-13T17:00:00Z", "2026-03-16T09:00:00Z", "2026-03-16T11:00:00Z", "2026-03-20T09:00:00Z"):
        got += [(ts, a) for a in eng.advance(_signal("E2", ts, "late_arrival").ts)]
    summaries = [(ts, a) for ts, a in got if a.rule_id == "offboarding.last_day_summary"]
    assert [ts for ts, _ in summaries] == ["2026-03-16T09:00:00Z"], "once, when the watermark passes the last day"
    a = summaries[0][1]
    assert a.employee_id == "E1" and a.ts.isoformat().startswith("2026-03-14T00:00:00")
    assert a.explanation["open_items"] == ["client list"]
    # the leaver's own news later does not repeat it; a late record (the watermark going back) changes nothing
    later = eng.on_signal(_signal("E1", "2026-03-21T10:00:00Z", "asset_returned", "LT-1"))
    assert not [x for x in later if x.rule_id == "offboarding.last_day_summary"]
    assert not eng.advance(_signal("E2", "2026-03-10T09:00:00Z", "late_arrival").ts)
    assert not eng.due and not eng.stats.errors


def test_the_watermark_waits_for_a_last_day_moved_later_and_for_its_own_lane() -> None:
    eng = Engine(rules=OFFBOARDING, config=EngineConfig(risk=False))
    eng.on_hr(_hr("E1", "2026-03-02T09:00:00Z", status="notice", last_day="2026-03-13"))
    eng.on_hr(_hr("E1", "2026-03-12T09:00:00Z", status="notice", last_day="2026-03-27"))  # extended
    assert not [a for a in eng.advance(_signal("E2", "2026-03-16T09:00:00Z", "absence").ts)]
    # a lane (a worker's input partition) that does not own E1 leaves it to the lane that does
    assert not eng.advance(_signal("E2", "2026-03-30T09:00:00Z", "absence").ts, lane=1, owns=lambda e: e != "E1")
    out = eng.advance(_signal("E2", "2026-03-30T09:00:00Z", "absence").ts, lane=0, owns=lambda e: e == "E1")
    assert [a.rule_id for a in out if a.employee_id == "E1"].count("offboarding.last_day_summary") == 1
    assert out[0].explanation["last_day"] == "2026-03-27"


def test_own_news_and_the_watermark_write_the_same_summary() -> None:
    """Whichever comes first, the leaver's own news after the last day or the watermark of others' records, the
    summary is made from the records up to the end of the last day and stamped midnight after it."""
    out = []
    for trigger in ("own news", "watermark"):
        eng = Engine(rules=OFFBOARDING, config=EngineConfig(risk=False))
        eng.on_hr(_hr("E1", "2026-03-02T09:00:00Z", status="notice", last_day="2026-03-13"))
        eng.on_signal(_signal("E1", "2026-03-03T10:00:00Z", "handover_item_open", "client list"))
        late = _signal("E1", "2026-03-16T10:00:00Z", "handover_item_done", "client list")
        got = eng.on_signal(late) if trigger == "own news" else eng.advance(late.ts) + eng.on_signal(late)
        s = [a for a in got if a.rule_id == "offboarding.last_day_summary"]
        assert len(s) == 1, trigger
        out.append(s[0].model_dump(mode="json"))
    assert out[0] == out[1]
    assert out[0]["explanation"]["open_items"] == ["client list"], "as of the end of the last day"
