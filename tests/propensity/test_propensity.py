"""Departure propensity: factors in HR's terms, the alert on alerts.hr only, never in alerts.secops."""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from detectors.engine import Engine, EngineConfig
from detectors.models.propensity import ID, PropensityModel
from detectors.routing import for_secops
from schemas import Alert, HRRecord, HRSignal

D0 = dt.date(2026, 1, 5)  # a Monday


def _sig(emp: str, day: int, signal: str, value: Any = None, hour: int = 10) -> HRSignal:
    d = D0 + dt.timedelta(days=day)
    return HRSignal.model_validate({"employee_id": emp, "ts": f"{d.isoformat()}T{hour:02d}:00:00Z",
                                    "signal": signal, "value": value})


def _history(emp: str, days: int, drift_from: int | None, late_per_week: int = 1,
             perf: float = 3.5, mood: int = 7) -> list[HRSignal]:
    """A plain HR history: weekly lateness, surveys monthly, check-ins every six weeks, leave now and then.
    From ``drift_from`` on: lateness every day, performance and satisfaction down, more leave requests."""
    out = []
    for day in range(days):
        drifting = drift_from is not None and day >= drift_from
        wd = (D0 + dt.timedelta(days=day)).weekday()
        if wd >= 5:
            continue
        if drifting or (wd == 1 and late_per_week >= 1):
            out.append(_sig(emp, day, "late_arrival", 30, hour=9))
        if day % 28 == 2:
            out.append(_sig(emp, day, "survey", mood - (4 if drifting else 0) + (day // 28) % 2, hour=11))
        if day % 42 == 3:
            out.append(_sig(emp, day, "performance_review", round(perf * (0.7 if drifting else 1.0), 1), hour=12))
        if day % 60 == 4 or (drifting and day % 9 == 0):
            out.append(_sig(emp, day, "leave_request", 2, hour=13))
    return out


def _engine(level: float = 0.2) -> Engine:
    return Engine(rules=[], models=[PropensityModel(level=level)], config=EngineConfig())


def _hr(emp: str, dept: str = "sales", **kw: Any) -> HRRecord:
    return HRRecord.model_validate({"employee_id": emp, "ts": "2025-06-01T08:00:00Z", "status": "active",
                                    "department": dept, **kw})


def _run(engine: Engine, signals: list[HRSignal]) -> list[Alert]:
    alerts: list[Alert] = []
    for s in sorted(signals, key=lambda s: s.ts):
        alerts += engine.on_signal(s)
    return alerts


def test_drift_on_several_fronts_raises_an_explained_alert() -> None:
    eng = _engine()
    for e in ("E1", "E2"):
        eng.on_hr(_hr(e))
    alerts = _run(eng, _history("E1", 240, drift_from=150) + _history("E2", 240, drift_from=None))
    mine = [a for a in alerts if a.rule_id == ID]
    assert [a.employee_id for a in mine] == ["E1"], [(a.employee_id, a.title) for a in mine]
    a = mine[0]
    assert a.ts.date() >= D0 + dt.timedelta(days=150)
    ex = a.explanation
    assert ex["propensity"] >= 0.2 and ex["threshold"] == 0.2
    names = {f["factor"] for f in ex["factors"]}
    assert "attendance" in names and len(names) >= 2, ex["factors"]
    assert any("weeks running" in f["text"] or "week(s) running" in f["text"] for f in ex["factors"])
    assert all(f["contribution"] > 0 for f in ex["factors"])
    assert a.evidence and all(e.startswith("signal:") for e in a.evidence)
    assert "{" not in a.title and "%" in a.title


def test_a_month_of_lateness_alone_does_not_alert() -> None:
    """Honest people late for a month (a move, a new baby) who do not leave."""
    eng = _engine()
    eng.on_hr(_hr("E3"))
    sigs = _history("E3", 240, drift_from=None)
    sigs += [_sig("E3", d, "late_arrival", 40, hour=9) for d in range(150, 180)
             if (D0 + dt.timedelta(days=d)).weekday() < 5]
    st_alerts = _run(eng, sigs)
    assert not [a for a in st_alerts if a.rule_id == ID]
    st = eng.store.get("E3")
    assert st is not None and st.extra["hp"]["p"] < 0.2


def test_no_alert_for_someone_already_leaving_and_no_security_side_effects() -> None:
    eng = _engine()
    eng.on_hr(_hr("E4"))
    eng.on_hr(HRRecord.model_validate({"employee_id": "E4", "ts": "2026-01-06T08:00:00Z", "status": "notice",
                                       "last_day": "2026-12-31", "department": "sales"}))
    assert not _run(eng, _history("E4", 240, drift_from=150))
    eng2 = _engine()
    eng2.on_hr(_hr("E5"))
    alerts = _run(eng2, _history("E5", 240, drift_from=150))
    assert any(a.rule_id == ID for a in alerts)
    st = eng2.store.get("E5")
    assert st is not None
    assert st.risk == [0.0, 0.0] or st.risk[0] == 0.0, "the propensity never adds to the security risk"
    assert not st.extra.get("flagged"), "nor marks a day flagged for the security baselines"
    assert not any(a.rule_id == "risk.employee" for a in alerts)


def test_routing_keeps_propensity_out_of_secops() -> None:
    assert not for_secops({"rule_id": ID})
    assert not for_secops({"rule_id": "hr.some_other_propensity"})
    assert for_secops({"rule_id": "activity.after_departure"})


def _alert(rule_id: str) -> Alert:
    return Alert(alert_id="a" + rule_id, ts=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc), employee_id="E1",
                 rule_id=rule_id, rule_version="1", severity="low", score=40, title="t", explanation={},
                 evidence=["x"], employee={"employee_id": "E1", "status": "active"})


def test_faust_worker_never_sends_propensity_to_secops() -> None:
    from streams.app import Worker

    sent: dict[str, list[bytes]] = {"alerts_hr": [], "alerts_secops": [], "evidence_ledger": []}

    class Topic:
        def __init__(self, name: str) -> None:
            self.name = name

        async def send(self, key: bytes, value: bytes) -> Any:
            sent[self.name].append(value)
            fut: asyncio.Future[None] = asyncio.get_event_loop().create_future()
            fut.set_result(None)
            return fut

    fake = SimpleNamespace(topics={k: Topic(k) for k in sent}, pseudonym_key=b"k", counters={"alerts": 0}, made={})
    asyncio.run(Worker.emit(fake, [_alert(ID), _alert("file.sensitive_downloads_before_departure")]))  # type: ignore[arg-type]
    assert len(sent["alerts_hr"]) == 2
    assert len(sent["alerts_secops"]) == 1
    assert b"propensity" not in sent["alerts_secops"][0]


def test_batch_worker_never_sends_propensity_to_secops() -> None:
    from streams.batch import BatchDriver, BatchStats

    produced: list[tuple[str, bytes]] = []

    class Producer:
        def produce(self, topic: str, key: bytes, value: bytes, on_delivery: Any = None) -> None:
            produced.append((topic, value))

    fake = SimpleNamespace(producer=Producer(), out={"alerts_hr": "alerts.hr", "alerts_secops": "alerts.secops"},
                           key=b"k", stats=BatchStats(), _on_delivery=None)
    BatchDriver._emit(fake, [_alert(ID), _alert("activity.after_departure")])  # type: ignore[arg-type]
    topics = [t for t, _ in produced]
    assert topics.count("alerts.hr") == 2 and topics.count("alerts.secops") == 1
    assert all(b"propensity" not in v for t, v in produced if t == "alerts.secops")


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5])
def test_level_must_be_a_probability(level: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        PropensityModel(level=level)


def test_shared_state_round_trip() -> None:
    m = PropensityModel()
    eng = Engine(rules=[], models=[m])
    eng.on_hr(_hr("E6"))
    _run(eng, _history("E6", 120, None))
    m2 = PropensityModel()
    m2.load_state_dict(m.state_dict())
    assert m2.peer_att == m.peer_att and m2.peer_att


def test_replay_alerts_secops_never_holds_propensity(tmp_path: Any) -> None:
    """``exitwatch replay --alerts-secops`` (CONTRACT.md 7): the propensity is in the alerts.hr form only."""
    import orjson

    from exitwatch.cli import main

    hr = tmp_path / "hr.jsonl"
    recs = [_hr("E1"), _hr("E2"), HRRecord.model_validate({"employee_id": "E2", "ts": "2026-07-01T08:00:00Z",
                                                          "status": "notice", "last_day": "2026-08-01",
                                                          "department": "sales"})]
    hr.write_bytes(b"".join(orjson.dumps(r.model_dump(mode="json")) + b"\n" for r in recs))
    sigs = sorted(_history("E1", 240, drift_from=150) + _history("E2", 240, drift_from=None), key=lambda s: s.ts)
    sp = tmp_path / "signals.jsonl"
    sp.write_bytes(b"".join(orjson.dumps(s.model_dump(mode="json")) + b"\n" for s in sigs))
    ev = tmp_path / "events.jsonl"
    ev.write_bytes(b"".join(orjson.dumps({"event_id": f"e{e}", "ts": "2026-09-01T10:00:00Z", "kind": "file",
                                          "action": "download", "actor": "x", "employee_id": e,
                                          "source": "synthetic"}) + b"\n" for e in ("E1", "E2")))
    out, sec = tmp_path / "alerts.jsonl", tmp_path / "secops.jsonl"
    assert main(["replay", "--hr", str(hr), "--signals", str(sp), "--events", str(ev), "--alerts", str(out),
                 "--alerts-secops", str(sec), "--no-progress"]) == 0
    hr_alerts = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert any("propensity" in a["rule_id"] for a in hr_alerts), "the run must make a propensity alert to test"
    sec_alerts = [orjson.loads(x) for x in sec.read_bytes().splitlines()]
    assert sec_alerts, "the leaver's alerts (after departure, offboarding) do reach the secops form"
    assert not any("propensity" in a["rule_id"] for a in sec_alerts)
    assert b"propensity" not in sec.read_bytes()


def test_possibly_leaving_raises_monitoring_at_a_lower_severity() -> None:
    """A high propensity lets the departure-anchored rules look at the person, at severity low, and says so."""
    from detectors.catalogue import load_rules
    from schemas import ActivityEvent

    rules = [r for r in load_rules(preset=None) if r.id == "file.sensitive_downloads_before_departure"]

    def run(with_drift: bool) -> list[Alert]:
        eng = Engine(rules=rules, models=[PropensityModel(level=0.2)], config=EngineConfig())
        eng.on_hr(_hr("E1").model_copy(update={"accounts": ["ann@corp.example"]}))
        out = _run(eng, _history("E1", 200, drift_from=140 if with_drift else None))
        flagged = [a for a in out if a.rule_id == ID]
        start = (flagged[0].ts.date() if flagged else D0 + dt.timedelta(days=200)) + dt.timedelta(days=2)
        for i in range(12):
            out += eng.on_event(ActivityEvent.model_validate({
                "event_id": f"d{i}", "ts": f"{start + dt.timedelta(days=i)}T10:00:00Z", "kind": "file",
                "action": "download", "actor": "ann@corp.example", "source": "synthetic",
                "sensitivity": "restricted"}))
        return out

    plain = run(False)
    assert not [a for a in plain if a.rule_id.startswith("file.")]
    out = run(True)
    assert any(a.rule_id == ID for a in out)
    dl = [a for a in out if a.rule_id == "file.sensitive_downloads_before_departure"]
    assert len(dl) == 1, [a.title for a in out]
    a = dl[0]
    assert a.severity == "low"
    pl = a.explanation["possibly_leaving"]
    assert pl["propensity"] >= 0.2 and pl["since"] and a.explanation["last_day"] is None
    assert a.employee.get("last_day") is None, "the HR snapshot stays what HR says"


def test_the_level_is_the_companys_own_learned_from_those_who_stay() -> None:
    """StayerLevel: every employee's highest propensity per four-week block, counted once 90 days passed after
    it without a notice; once enough blocks are known the level in force is the company's quantile, not the
    configured one; a notice drops the leaver's blocks still waiting; the weeks before anyone's factors have
    their own history to compare with (WARM_DAYS) teach it nothing."""
    from detectors.models.propensity import BLOCK_DAYS, FLOOR, MIN_BLOCKS, WARM_DAYS

    m = PropensityModel(level=0.6, stayer_rate=0.08)
    eng = Engine(rules=[], models=[m], config=EngineConfig())
    emps = [f"E{i:03d}" for i in range(60)]
    for e in emps:
        eng.on_hr(_hr(e))
    sigs: list[HRSignal] = []
    for i, e in enumerate(emps):  # a tenth drift from day 150 and stay: the company's top
        sigs += _history(e, 330, drift_from=150 if i % 10 == 0 else None, late_per_week=i % 3)
    _run(eng, sigs)
    day0 = (D0 - dt.date(1970, 1, 1)).days
    day = day0 + 329
    assert sum(m.population.counts(day)) >= MIN_BLOCKS
    assert min(m.population.hist) >= (day0 + WARM_DAYS) // BLOCK_DAYS, "no block of the warm-up weeks"
    level = m.population.level(day)
    assert level != 0.6 and level >= FLOOR, "the company's own level replaced the configured one"
    # the drifting tenth (who stayed) set it: most of them reach it, the others do not
    ps = {e: eng.store.get(e).extra["hp"]["p"] for e in emps}
    drifting = [ps[e] for i, e in enumerate(emps) if i % 10 == 0]
    others = [ps[e] for i, e in enumerate(emps) if i % 10]
    assert max(others) < level and sum(p >= level for p in drifting) >= len(drifting) // 2, (level, drifting)
    assert "top 8.00%" in m.population.basis(day)
    # a notice drops the blocks that are still waiting: they never count as a stayer's
    assert eng.store.get("E000").extra["hp"].get("bp")
    eng.on_hr(HRRecord.model_validate({"employee_id": "E000", "ts": "2026-12-01T08:00:00Z", "status": "notice",
                                       "last_day": "2026-12-31", "department": "sales"}))
    assert "bp" not in eng.store.get("E000").extra["hp"]


def test_secops_never_sees_the_propensity_behind_a_provisional_alert(tmp_path: Any) -> None:
    """A security rule that looked at someone because of a high propensity (provisional departure window) goes
    to alerts.secops like any other security alert, but without the propensity or the "possibly leaving" that
    came from HR data: ``exitwatch replay --alerts-secops``, end to end."""
    import orjson

    from exitwatch.cli import main

    hr = tmp_path / "hr.jsonl"
    recs = [_hr("E1", accounts=["ann@corp.example"]), _hr("E2")]
    hr.write_bytes(b"".join(orjson.dumps(r.model_dump(mode="json")) + b"\n" for r in recs))
    sigs = sorted(_history("E1", 200, drift_from=140) + _history("E2", 200, drift_from=None), key=lambda s: s.ts)
    sp = tmp_path / "signals.jsonl"
    sp.write_bytes(b"".join(orjson.dumps(s.model_dump(mode="json")) + b"\n" for s in sigs))

    def replay(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bytes]:
        ev, out, sec = tmp_path / "events.jsonl", tmp_path / "alerts.jsonl", tmp_path / "secops.jsonl"
        ev.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
        assert main(["replay", "--hr", str(hr), "--signals", str(sp), "--events", str(ev), "--alerts", str(out),
                     "--alerts-secops", str(sec), "--no-progress"]) == 0
        return [orjson.loads(x) for x in out.read_bytes().splitlines()], sec.read_bytes()

    first, _ = replay([{"event_id": "e0", "ts": "2026-07-20T10:00:00Z", "kind": "file", "action": "download",
                        "actor": "bob", "employee_id": "E2", "source": "synthetic"}])
    flagged = [a for a in first if a["rule_id"] == ID and a["employee_id"] == "E1"]
    assert flagged, "the drifting employee must be flagged for the test to mean anything"
    start = dt.date.fromisoformat(flagged[0]["ts"][:10]) + dt.timedelta(days=2)
    downloads = [{"event_id": f"d{i}", "ts": f"{start + dt.timedelta(days=i)}T10:00:00Z", "kind": "file",
                  "action": "download", "actor": "ann@corp.example", "source": "synthetic",
                  "sensitivity": "restricted"} for i in range(12)]
    hr_alerts, sec = replay(downloads)
    provisional = [a for a in hr_alerts if a["employee_id"] == "E1" and "possibly_leaving" in a["explanation"]]
    assert provisional and all(a["severity"] == "low" for a in provisional), "a provisional security alert to test"
    sec_alerts = [orjson.loads(x) for x in sec.splitlines()]
    ids = {a["rule_id"] for a in sec_alerts}
    assert {a["rule_id"] for a in provisional} <= ids, "the security finding itself does reach secops"
    assert b"propensity" not in sec and b"possibly_leaving" not in sec


def _absences(emp: str, days: int, every: int, rising_from: int | None = None) -> list[HRSignal]:
    """A person with no lateness, steady surveys and reviews, and an absence every ``every`` working days; from
    ``rising_from`` on, an absence a week (interviews, appointments)."""
    out = []
    for day in range(days):
        if (D0 + dt.timedelta(days=day)).weekday() >= 5:
            continue
        if rising_from is not None and day >= rising_from:
            if (D0 + dt.timedelta(days=day)).weekday() == 3:
                out.append(_sig(emp, day, "absence", 1, hour=8))
        elif day % every == 0:
            out.append(_sig(emp, day, "absence", 1, hour=8))
        if day % 28 == 2:
            out.append(_sig(emp, day, "survey", 7, hour=11))
    return out


def test_absences_rising_against_the_own_rate_is_a_factor_of_its_own() -> None:
    m = PropensityModel(level=0.99)
    eng = Engine(rules=[], models=[m], config=EngineConfig())
    for e in ("A1", "A2", "A3"):
        eng.on_hr(_hr(e))
    # A1: an absence a month for six months, then one a week for eight weeks; A2: an absence a month throughout;
    # A3: the same weekly absences but no earlier history (a new hire: nothing to compare with)
    sigs = _absences("A1", 240, every=30, rising_from=180) + _absences("A2", 240, every=30)
    sigs += [s for s in _absences("A3", 240, every=30, rising_from=180) if s.ts.date() >= D0 + dt.timedelta(180)]
    _run(eng, sigs)
    units = {}
    for e in ("A1", "A2", "A3"):
        st = eng.store.get(e)
        assert st is not None
        s = st.extra["hp"]
        units[e] = m.features(s, s["w"] * 7 + 6, "sales")
    assert units["A1"]["absence"] >= 1.0, units["A1"]
    assert units["A1"]["_abs_recent"] >= 7 and units["A1"]["_abs_usual"] is not None and units["A1"]["_abs_usual"] < 3
    assert units["A2"]["absence"] == 0.0 and units["A3"]["absence"] == 0.0
    assert units["A3"]["_abs_usual"] is None
    text = [f["text"] for f in m.explain(units["A1"]) if f["factor"] == "absence"]
    assert text and "absences in the last 8 weeks" in text[0], m.explain(units["A1"])
    assert len(eng.store.get("A1").extra["hp"]["ab"]) <= 24  # type: ignore[union-attr]


def _surveys(scale_usual: list[int], low: dict[str, list[int]], people: int = 40) -> tuple[PropensityModel, Engine]:
    """A company whose HR data start now (no history): ``people`` answer one survey each (cycling through
    ``scale_usual``), then the people of ``low`` answer theirs."""
    m = PropensityModel(level=0.99)
    eng = Engine(rules=[], models=[m], config=EngineConfig())
    sigs = []
    for i in range(people):
        eng.on_hr(_hr(f"U{i:02d}"))
        sigs.append(_sig(f"U{i:02d}", 3, "survey", scale_usual[i % len(scale_usual)], hour=9))
    for emp, answers in low.items():
        eng.on_hr(_hr(emp))
        sigs += [_sig(emp, 10 + 30 * k, "survey", v, hour=11) for k, v in enumerate(answers)]
    _run(eng, sigs)
    return m, eng


def _units(m: PropensityModel, eng: Engine, emp: str) -> dict[str, Any]:
    st = eng.store.get(emp)
    assert st is not None
    s = st.extra["hp"]
    return m.features(s, s["w"] * 7 + 6, "sales")


def test_without_own_history_a_survey_answer_is_read_on_the_companys_own_scale() -> None:
    """A new customer: no one has three answers to fall from. An answer far below the company's answers counts
    (satisfaction, explained as such); the same number on a survey whose usual answer it is does not; two low
    answers weigh more than one (Stouffer), and once three own answers exist the own fall decides again."""
    m, eng = _surveys([7, 6, 8, 7], {"L1": [2], "L2": [2, 2], "M1": [6]})
    one, two, mid = _units(m, eng, "L1"), _units(m, eng, "L2"), _units(m, eng, "M1")
    assert one["satisfaction"] > 0 and one["_sat_place"] < -2, one
    assert two["satisfaction"] > one["satisfaction"], (one, two)
    assert mid["satisfaction"] == 0.0, mid
    text = [f["text"] for f in m.explain(one) if f["factor"] == "satisfaction"]
    assert text and "lower than" in text[0] and "company" in text[0], m.explain(one)
    # the same answer, 2, on a 1-5 survey whose people mostly answer 2 or 3: nothing to read
    m5, eng5 = _surveys([2, 3, 2, 3, 1], {"L1": [2]})
    assert _units(m5, eng5, "L1")["satisfaction"] == 0.0
    # three own answers, steady at the same low level: the own history says it is not a fall
    m3, eng3 = _surveys([7, 6, 8, 7], {"L3": [2, 2, 2]})
    u3 = _units(m3, eng3, "L3")
    assert u3["satisfaction"] == 0.0 and u3["_sat_place"] is None, u3
    # the company's answers are shared state: they survive a restart
    m2 = PropensityModel()
    m2.load_state_dict(m.state_dict())
    assert m2.sv_all == m.sv_all and m2.sv_count == m.sv_count and len(m2.sv_all) == 44



def test_one_absence_in_a_persons_first_week_is_not_three_weeks_above_usual() -> None:
    """Evidence in proportion: with no closed week yet, the first week's count is not read as the recent weeks'
    mean; a person with weeks behind them and three bad weeks still is."""
    m = PropensityModel(level=0.99)
    eng = Engine(rules=[], models=[m], config=EngineConfig())
    quiet = [f"Q{i}" for i in range(10)]
    for e in ["F1", "F2", *quiet]:
        eng.on_hr(_hr(e))
    sigs = [_sig(e, d, "survey", 7, hour=12) for e in [*quiet, "F2"] for d in range(0, 84, 7)]  # quiet weeks
    sigs += [_sig("F2", d, "late_arrival", 30, hour=9) for d in range(63, 84)
             if (D0 + dt.timedelta(days=d)).weekday() < 5]
    sigs.append(_sig("F1", 80, "absence", 1, hour=8))
    _run(eng, sigs)
    assert _units(m, eng, "F1")["attendance"] == 0.0
    assert _units(m, eng, "F2")["attendance"] > 0.0
