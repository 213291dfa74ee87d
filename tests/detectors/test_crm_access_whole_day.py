"""crm.access_time_spike v4 (issue 14): a departing employee's day above the limit is judged once it is over, on
its total: told when it reaches 3x the usual as the second such day in 30 (or alone at 10x); people who stay are
judged as before, at the minute the day crosses the limit."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, hr
from detectors.rules.crm.access_time_spike import RULE as ACCESS, WAIT
from schemas import ActivityEvent, HRRecord


def _engine(notice: bool = True) -> Engine:
    eng = Engine(rules=[ACCESS], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-01T09:00:00Z")))
    for e in daily("2026-01-05", 30, per_day=10, action="view", duration_s=120.0):  # 1200 s a day
        eng.on_event(ActivityEvent.model_validate(e))
    if notice:
        eng.on_hr(HRRecord.model_validate(hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-02-27",
                                             resignation_date="2026-02-02")))
    return eng


def _day(eng: Engine, date: str, views: int, hour: int = 10) -> list:
    out = []
    for e in daily(date, 1, per_day=views, hour=hour, action="view", duration_s=120.0):
        out += eng.on_event(ActivityEvent.model_validate(e))
    return [a for a in out if a.rule_id == ACCESS.id]


def test_a_leavers_second_busy_day_is_told_on_its_whole_total_the_next_morning() -> None:
    eng = _engine()
    assert _day(eng, "2026-02-10", 40) == []  # 4x: one day, not told alone
    assert _day(eng, "2026-02-17", 60) == []  # 6x: waits for the day to be over
    alerts = _day(eng, "2026-02-18", 1, hour=8)  # the next input
    assert len(alerts) == 1, alerts
    a = alerts[0]
    assert a.explanation["day"] == "2026-02-17" and a.explanation["observed"] == 7200.0  # the whole day
    assert a.explanation["days_above"] == 2 and a.explanation["judged"] == "on the whole day"
    assert a.severity in ("medium", "high") and a.explanation["ratio_to_own_normal"] == 6.0
    assert WAIT not in eng.store.get("E1").extra  # judged once, forgotten
    assert _day(eng, "2026-02-19", 1, hour=8) == []


def test_a_leavers_days_above_the_limit_but_under_three_times_the_usual_are_handover_days() -> None:
    """2.5x twice in a notice (above the limit of 2x): what 13 honest leavers' second day looked like."""
    eng = _engine()
    assert _day(eng, "2026-02-10", 25) == []
    assert _day(eng, "2026-02-17", 25) == []
    assert _day(eng, "2026-02-18", 1, hour=8) == []
    assert _day(eng, "2026-02-24", 25) + _day(eng, "2026-02-25", 1, hour=8) == []


def test_the_second_busy_day_counts_only_a_first_day_that_reached_three_times() -> None:
    eng = _engine()
    assert _day(eng, "2026-02-10", 25) == []  # 2.5x: above the limit, not a busy day for a leaver
    assert _day(eng, "2026-02-17", 60) + _day(eng, "2026-02-18", 1, hour=8) == []


def test_a_day_far_beyond_anything_is_told_at_once() -> None:
    eng = _engine()
    alerts = _day(eng, "2026-02-10", 150)
    assert len(alerts) == 1 and alerts[0].explanation["ratio_to_own_normal"] >= 10


def test_the_last_day_is_judged_at_midnight_after_it() -> None:
    eng = _engine()
    _day(eng, "2026-02-20", 50)
    assert _day(eng, "2026-02-27", 50) == []
    alerts = [a for a in eng.advance(dt.datetime(2026, 2, 28, 0, 30, tzinfo=dt.timezone.utc))
              if a.rule_id == ACCESS.id]
    assert len(alerts) == 1 and alerts[0].explanation["day"] == "2026-02-27"


def test_someone_staying_is_judged_at_the_minute_the_day_crosses_the_limit() -> None:
    eng = _engine(notice=False)
    alerts = _day(eng, "2026-02-10", 25)
    assert len(alerts) == 1 and alerts[0].severity == "low"  # the staying cap
    assert alerts[0].explanation["observed"] < 3000  # raised while crossing, not at the day's end
