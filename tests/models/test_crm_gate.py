"""CRM minutes through the own gate: a support-like employee's CRM time far above their own normal and peak counts
fully (the feature is otherwise down-weighted context), while a heavy CRM user's ordinary variation does not."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import replace

from detectors.models import BehaviourModel
from detectors.models import features as F
from detectors.models.behaviour import ID
from tests.models.conftest import SMALL, START, Stream, day_str, hr, run

NOTICE_DAY = 30
SPIKE_DAY = 35  # a Tuesday in week 6, in notice


def view(seconds: float) -> dict:
    return {"kind": "crm", "action": "view", "object": "Account/12345", "duration_s": round(seconds, 1),
            "sensitivity": "confidential"}


def weekdays(days: int) -> list[int]:
    return [d for d in range(days) if (START + dt.timedelta(days=d)).weekday() < 5]


def support_stream(emp: str, minutes_of_day, days: int = 42, notice: bool = True) -> Stream:
    """``emp`` spends ``minutes_of_day(d)`` minutes in the CRM every weekday, in 12 views."""
    s = Stream(days=days)
    for d in weekdays(days):
        s.add(emp, d, view(minutes_of_day(d) * 60 / 12), 12)
    if notice:
        s.hr.append(hr(emp, NOTICE_DAY, "notice", resignation_date=day_str(NOTICE_DAY), last_day=day_str(60)))
    return s


def test_crm_time_four_times_the_own_normal_in_notice_alerts_on_crm_minutes() -> None:
    rng = random.Random(5)
    steady = {d: 180 * rng.uniform(0.85, 1.15) for d in range(42)}  # ~3 h a day
    s = support_stream("E04", lambda d: 4 * 180 if d == SPIKE_DAY else steady[d])
    eng, model, alerts = run(s.items())
    assert model.warmed_up()
    mine = [a for a in alerts if a.employee_id == "E04"]
    assert [a.explanation["day"] for a in mine] == [day_str(SPIKE_DAY)], [a.explanation for a in mine]
    a = mine[0]
    x = a.explanation
    assert a.rule_id == ID and a.severity in ("medium", "high", "critical")
    assert x["top_feature"] == "crm_minutes" and x["own_gate"] == ["crm_minutes"]
    top = x["top_features"][0]
    assert top["feature"] == "crm_minutes" and top["unit"] == "minutes"
    # it fired while the day was open, once the time was well past the own normal (observed), with the baselines
    assert 2 * 207 <= top["observed"] <= 4 * 180
    assert 150 <= top["usual_own"] <= 210 and top["usual_peers"] is not None and top["z"] >= SMALL.gate_z
    assert x["top_observed"] == top["observed"] and x["baseline"]["own_mean"] == top["usual_own"]
    assert "crm_minutes" in a.title
    assert a.evidence and all(e.startswith("ev") for e in a.evidence)
    # nobody else, and the spike did not become E04's normal
    assert {a.employee_id for a in alerts} == {"E04"}
    st = eng.store.get("E04").extra[ID]
    assert F.untransform(F.F_CRMT, st["p"][F.F_CRMT]) < 260


def test_without_the_gate_the_same_day_stays_quiet() -> None:
    """The gate is what makes it count: CRM minutes alone, at context weight and capped by the peak, do not."""
    rng = random.Random(5)
    steady = {d: 180 * rng.uniform(0.85, 1.15) for d in range(42)}
    s = support_stream("E04", lambda d: 4 * 180 if d == SPIKE_DAY else steady[d])
    _, _, alerts = run(s.items(), config=replace(SMALL, gate_features=()))
    assert [a for a in alerts if a.employee_id == "E04"] == []


def test_heavy_crm_user_with_ordinary_variation_does_not_alert_even_in_notice() -> None:
    rng = random.Random(9)
    # 3 h a day with support-like day-to-day variation (log sd 0.35) and a busy day at twice the usual now and then
    minutes = {d: 180 * math.exp(rng.gauss(0, 0.35)) * (2 if d % 9 == 4 else 1) for d in range(56)}
    s = support_stream("E05", lambda d: minutes[d], days=56)
    _, model, alerts = run(s.items())
    assert model.warmed_up()
    assert max(minutes.values()) > 2.5 * 180  # it really varies
    assert alerts == []


def test_gate_needs_own_history_peak_and_an_absolute_margin() -> None:
    m = BehaviourModel(SMALL)
    i = F.F_CRMT
    mean = [0.0] * F.N
    var = [0.0] * F.N
    peak = [0.0] * F.N
    mean[i], var[i], peak[i] = math.log1p(180), 0.01, math.log1p(220)
    own = (mean, var, peak)
    base = (mean, var, 30, None, peak, own)
    assert m._gate(i, math.log1p(720), base) is not None  # 4x the usual, 3.3x the peak
    assert m._gate(i, math.log1p(400), base) is None  # under twice the peak
    assert m._gate(i, math.log1p(720), base[:5] + (None,)) is None  # no full own history yet
    assert m._gate(F.F_CRM, math.log1p(720), base) is None  # records exported are not gated
    low = ([0.0] * F.N, [0.0] * F.N, [0.0] * F.N)
    assert m._gate(i, math.log1p(30), (low[0], low[1], 30, None, low[2], low)) is None  # +30 min is not enough


def _spike_then_resignation(resign_day: int) -> list:
    """E04's CRM day at 4x their steady ~3 h on SPIKE_DAY; the resignation (dated and recorded) on ``resign_day``."""
    rng = random.Random(5)
    steady = {d: 180 * rng.uniform(0.85, 1.15) for d in range(56)}
    s = support_stream("E04", lambda d: 4 * 180 if d == SPIKE_DAY else steady[d], days=56, notice=False)
    s.hr.append(hr("E04", resign_day, "notice", resignation_date=day_str(resign_day), last_day=day_str(70)))
    _, model, alerts = run(s.items())
    assert model.warmed_up()
    return [a for a in alerts if a.employee_id == "E04"]


def test_crm_time_alone_before_the_resignation_is_low_and_in_the_notice_is_not() -> None:
    """Version 5: the 30 days before the resignation count as departing (data gathered and taken before resigning,
    seen when HR news arrives); time in the CRM alone, with nothing leaving, is not that, gate or no gate. The same
    day in the notice keeps the gate's medium."""
    before = _spike_then_resignation(SPIKE_DAY + 5)  # HR news five days after the busy day
    assert [a.explanation["day"] for a in before] == [day_str(SPIKE_DAY)], [a.explanation for a in before]
    a = before[0]
    assert a.rule_id == ID and a.severity == "low", a.explanation
    assert a.explanation["top_feature"] == "crm_minutes" and a.explanation["own_gate"] == ["crm_minutes"]
    assert a.explanation["ratio_to_own_normal"] is None  # no "ten times the normal" step up either
    during = _spike_then_resignation(SPIKE_DAY - 3)
    assert [(a.explanation["day"], a.severity in ("medium", "high")) for a in during] == [(day_str(SPIKE_DAY), True)]
