"""Calm severity for people who stay and for honest leavers (issue 14): crm.access_time_spike tells one busy day
of a departing or watched person only when it repeats (v3: or is far beyond their usual; v4: not alone)."""

from __future__ import annotations

from detectors.catalogue import discover
from detectors.context import day_number
from detectors.engine import Engine, EngineConfig, series_key
from detectors.examples import daily, hr, run_hr_first
from detectors.windows import AboveBaseline

RULE = next(r for r in discover() if r.id == "crm.access_time_spike")
HISTORY = daily("2026-01-05", 30, per_day=10, action="view", duration_s=120.0)  # 1200 s a day


def _busy(day: str, views: int = 40) -> list[dict]:
    return daily(day, 1, per_day=views, action="view", duration_s=120.0)


def _run(hrs: list[dict], events: list[dict]) -> tuple[list, Engine]:
    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    return run_hr_first(eng, hrs, events), eng


LEAVER = [hr("2026-01-01T09:00:00Z"),
          hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-02-27", resignation_date="2026-02-02")]


def test_an_honest_leavers_one_busy_handover_day_is_not_told() -> None:
    alerts, _ = _run(LEAVER, HISTORY + _busy("2026-02-10"))
    assert alerts == []


def test_a_leaver_who_comes_back_for_more_is_told_on_the_second_day_at_medium() -> None:
    alerts, _ = _run(LEAVER, HISTORY + _busy("2026-02-10") + _busy("2026-02-17"))
    assert [(a.severity, a.explanation["day"], a.explanation["days_above"]) for a in alerts] == [
        ("medium", "2026-02-17", 2)]


def test_a_day_far_beyond_the_usual_is_not_told_alone_but_its_return_is() -> None:
    """v4: a sporadic user's one large day reads far beyond their usual too (see test_crm_access_v4)."""
    assert _run(LEAVER, HISTORY + _busy("2026-02-10", views=150))[0] == []
    alerts, _ = _run(LEAVER, HISTORY + _busy("2026-02-10", views=150) + _busy("2026-02-12", views=150))
    assert [(a.explanation["day"], a.explanation["days_above"]) for a in alerts] == [("2026-02-12", 2)]


def test_busy_days_more_than_30_days_apart_are_not_a_pattern() -> None:
    long_notice = [hr("2026-01-01T09:00:00Z"),
                   hr("2026-02-02T09:00:00Z", status="notice", last_day="2026-04-30", resignation_date="2026-02-02")]
    alerts, _ = _run(long_notice, HISTORY + _busy("2026-02-10") + _busy("2026-03-20"))
    assert alerts == []


def test_a_watched_person_is_judged_like_a_leaver() -> None:
    watched = [hr("2026-01-01T09:00:00Z"), hr("2026-02-02T09:00:00Z", watchlist=True)]
    assert _run(watched, HISTORY + _busy("2026-02-10"))[0] == []
    assert len(_run(watched, HISTORY + _busy("2026-02-10") + _busy("2026-02-12"))[0]) == 1


def test_someone_staying_is_still_told_at_low() -> None:
    alerts, _ = _run([hr("2026-01-01T09:00:00Z")], HISTORY + _busy("2026-02-10"))
    assert [a.severity for a in alerts] == ["low"]


def test_only_the_days_above_the_limit_are_kept() -> None:
    """The window keeps 30 days for the count, but only the days that count (the state stays small)."""
    _, eng = _run(LEAVER, HISTORY + _busy("2026-02-10") + daily("2026-02-11", 10, per_day=10, action="view",
                                                                 duration_s=120.0))
    s = eng.store.get("E1").series[series_key(RULE.id)]
    kept = sorted(s.days)
    assert day_number("2026-02-10") in kept
    assert all(s.days[d] > 2400 or d >= day_number("2026-02-20") - 4 for d in kept), kept
    assert len(kept) <= 6


def test_without_repeat_days_every_day_above_the_limit_is_told() -> None:
    w = AboveBaseline(when="always", factor=2.0, z=3.0, min_value=1800.0)
    assert w.horizon(45) == 1 and w.repeat_days == 0
