"""crm.access_time_spike v4 (issue 14): for someone departing or on the watchlist, a short history is judged (at
three times its usual), no single day is told alone, and someone who had days above their limit before the
departure period is told only when the period's days above it are too many for their own share of them."""

from __future__ import annotations

import dataclasses

from detectors.catalogue import discover
from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, hr, run_hr_first

RULE = next(r for r in discover() if r.id == "crm.access_time_spike")
NOTICE = [hr("2026-01-01T09:00:00Z"),
          hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-02-27", resignation_date="2026-02-02")]


def _views(day: str, n: int, days: int = 1, dur: float = 120.0) -> list[dict]:
    return daily(day, days, per_day=n, action="view", duration_s=dur)


def _run(events: list[dict], rule=RULE, hrs=NOTICE) -> list:
    return run_hr_first(Engine(rules=[rule], config=EngineConfig(risk=False)), hrs, events)


def _configured(**kw):
    return dataclasses.replace(RULE, window=dataclasses.replace(RULE.window, **kw))


def test_a_leaver_with_ten_days_of_history_who_reads_four_times_their_usual_twice_is_told() -> None:
    """rnd_lab s5 E00191: a support agent who resigned in their first weeks of data was never judged."""
    events = _views("2026-01-19", 10, days=10) + _views("2026-02-10", 40) + _views("2026-02-12", 40)
    alerts = _run(events)
    assert [(a.severity, a.explanation["day"]) for a in alerts] == [("medium", "2026-02-12")], \
        [a.title for a in alerts]
    assert "judged on" in alerts[0].title
    assert _run(events, _configured(short_days=0)) == []  # as on main: too little history, nothing


def test_a_short_history_is_judged_at_three_times_its_usual() -> None:
    events = _views("2026-01-19", 10, days=10) + _views("2026-02-10", 28) + _views("2026-02-12", 28)
    assert _run(events) == []  # 2.8 times the usual of 10 days: not enough on so little history


def test_a_short_history_teaches_nothing_about_people_who_stay() -> None:
    events = _views("2026-01-19", 10, days=10) + _views("2026-01-29", 40) + _views("2026-01-31", 40)
    assert _run(events, hrs=[hr("2026-01-01T09:00:00Z")]) == []  # 10 and 12 days of history: not judged


def test_one_day_far_beyond_a_small_usual_is_not_told_alone() -> None:
    """rnd_lab s5 E00272: an engineer's 77 record views on one day of the notice against 93 seconds a day."""
    events = _views("2026-01-05", 1, days=24, dur=90.0) + _views("2026-02-10", 80, dur=150.0)
    assert _run(events) == []
    assert len(_run(events, _configured(alone_ratio=10.0))) == 1  # as on main: told alone at 10x


def test_a_sporadic_users_second_busy_day_is_their_normal_a_steady_users_is_not() -> None:
    """Days above the limit before the departure period make two in it likely (outside_a s5 NW-76026)."""
    steady = _views("2026-01-05", 10, days=24)
    busy_before = [e for e in steady if not e["ts"].startswith(("2026-01-12", "2026-01-22"))] \
        + _views("2026-01-12", 40) + _views("2026-01-22", 40)
    notice = _views("2026-02-10", 40) + _views("2026-02-17", 40)
    def counted(alerts: list) -> list:  # the busy days before the notice were told at low, as to anyone staying
        return [a for a in alerts if a.severity != "low"]

    assert [a.severity for a in _run(busy_before + notice)] == ["low"]
    assert len(counted(_run(busy_before + notice, _configured(own_share=0.0)))) == 1  # as on main
    told = _run(steady + notice)
    assert [(a.severity, a.explanation["day"]) for a in told] == [("medium", "2026-02-17")]
