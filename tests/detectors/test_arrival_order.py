"""Streaming reads HR news and activity from different topics, so HR records can be processed before the
events they precede in time. The engine judges each event by the HR picture at the event's own time (and,
if HR changed since, by the one known now), so the alert ids do not depend on that interleaving."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.factory import build_engine
from schemas import ActivityEvent, HRRecord


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[HRRecord], list[ActivityEvent]]:
    from exitwatch.cli import main

    out: Path = tmp_path_factory.mktemp("company")
    assert main(["generate", "--employees", "40", "--days", "60", "--seed", "3", "--out", str(out),
                 "--no-progress"]) == 0
    hr = [HRRecord.model_validate_json(x) for x in (out / "hr.jsonl").read_bytes().splitlines() if x]
    ev = [ActivityEvent.model_validate_json(x) for x in (out / "events.jsonl").read_bytes().splitlines() if x]
    return hr, ev


def alert_ids(order: list[tuple[str, object]], hr: list[HRRecord], models: bool) -> dict[str, str]:
    eng = build_engine(models=models)
    for h in hr:  # enrichment resolves actors in streaming; here the alias index does
        eng.aliases.add(h.employee_id, h.accounts)
    out: dict[str, str] = {}
    for kind, obj in order:
        for a in eng.on_hr(obj) if kind == "h" else eng.on_event(obj):  # type: ignore[arg-type]
            out[a.alert_id] = a.rule_id
    return out


@pytest.mark.parametrize("models", [False, True], ids=["rules", "rules+models"])
def test_hr_news_processed_first_gives_the_same_alerts(company, models: bool) -> None:
    hr, ev = company
    ts_order = sorted([("h", h) for h in hr] + [("e", e) for e in ev], key=lambda x: (x[1].ts, x[0] != "h"))
    hr_first = [("h", h) for h in hr] + [("e", e) for e in ev]
    a = alert_ids(ts_order, hr, models)
    b = alert_ids(hr_first, hr, models)
    assert len(a) > 10
    assert a == b, {"only in ts order": sorted(set(a) - set(b)), "only hr first": sorted(set(b) - set(a))}


def test_sequence_completes_when_its_first_step_arrives_late() -> None:
    """Streaming reads activity.crm and activity.email in no fixed order: a CRM export processed after the
    mail that followed it (in time) still completes ``sequence.crm_export_then_personal_mail``."""
    from detectors.catalogue import load_rules
    from detectors.engine import Engine, EngineConfig
    from detectors.examples import ev, hr

    rule = {r.id: r for r in load_rules()}["sequence.crm_export_then_personal_mail"]
    export = ActivityEvent.model_validate(ev("2026-02-10T10:00:00Z", action="report_export", count=350))
    mail = ActivityEvent.model_validate(ev("2026-02-10T11:00:00Z", action="send", personal=True, count=1,
                                           recipients=["ann@mail.example"]))
    ids = []
    for order in ([export, mail], [mail, export]):
        eng = Engine(rules=[rule], config=EngineConfig(risk=False))
        eng.on_hr(HRRecord.model_validate(hr("2026-01-01T09:00:00Z")))
        alerts = [a for e in order for a in eng.on_event(e)]
        assert len(alerts) == 1, order
        ids.append(alerts[0].alert_id)
    assert ids[0] == ids[1]


def test_consecutive_days_complete_when_the_middle_day_arrives_late() -> None:
    from detectors.catalogue import load_rules
    from detectors.engine import Engine, EngineConfig
    from detectors.examples import ev, hr

    rule = {r.id: r for r in load_rules()}["file.restricted_downloads_consecutive_days"]
    days = [ActivityEvent.model_validate(ev(f"2026-03-{d:02d}T10:00:00Z", action="download",
                                            sensitivity="restricted")) for d in (10, 11, 12)]
    ids = []
    for order in (days, [days[0], days[2], days[1]]):
        eng = Engine(rules=[rule], config=EngineConfig(risk=False))
        eng.on_hr(HRRecord.model_validate(hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31")))
        alerts = [a for e in order for a in eng.on_event(e)]
        assert len(alerts) == 1, order
        ids.append(alerts[0].alert_id)
    assert ids[0] == ids[1]
