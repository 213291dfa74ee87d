"""Episodes and the alert budget (detectors/engine.py): one rule gives one person at most two alerts in any 30
days, whatever the rule's window; an ongoing episode is raised again only when it grows to a higher severity
or HR adds something; thieves are still alerted when their notice comes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from detectors.catalogue import load_rules
from detectors.engine import ALERT_BUDGET, BUDGET_DAYS, Engine, EngineConfig
from detectors.examples import daily, ev, hr
from detectors.rule import Rule
from detectors.windows import BeforeLastDay
from schemas import ActivityEvent, HRRecord


#: A departure-anchored rule of the test's own (no episodes): more than 10 restricted downloads in the 30 days
#: up to the last day.
_BEFORE_LAST_DAY = Rule(id="test.downloads_before_last_day", version="1", title="{observed} downloads",
                        description="test", severity="high", score=70,
                        predicate=lambda e: e.action == "download" and e.sensitivity == "restricted",
                        window=BeforeLastDay(days=30, threshold=10), runbook="", false_positives=(), examples=())


def _engine(prefixes: tuple[str, ...]) -> Engine:
    return Engine(rules=[r for r in load_rules() if r.id.startswith(prefixes)], config=EngineConfig(risk=False))


def _run(eng: Engine, hrs: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[Any]:
    items = [(h["ts"], 0, h) for h in hrs] + [(e["ts"], 1, e) for e in events]
    out = []
    for _, kind, x in sorted(items, key=lambda i: (i[0], i[1])):
        out += eng.on_hr(HRRecord.model_validate(x)) if kind == 0 else eng.on_event(ActivityEvent.model_validate(x))
    return out


def _most_in_30_days(alerts: list[Any], rule_id: str) -> int:
    days = sorted(a.ts.date().toordinal() for a in alerts if a.rule_id == rule_id)
    return max((sum(1 for y in days if x <= y < x + BUDGET_DAYS) for x in days), default=0)


def _day(i: int) -> str:
    return (dt.date(2026, 1, 5) + dt.timedelta(days=i)).isoformat()


def test_sporadic_bursts_stay_within_the_budget() -> None:
    """Someone who copies 1-2 files to their drive most days and 12-30 every two or three weeks."""
    events = [e for i in range(120) for e in daily(_day(i), 1, per_day=1 + i % 2, action="copy_to_removable")]
    for i in range(20, 120, 17):
        events += daily(_day(i), 1, per_day=12 + i % 19, hour=15, action="copy_to_removable")
        events += daily(_day(i + 1), 1, per_day=25, hour=15, action="copy_to_removable")
    alerts = _run(_engine(("device.removable_copy_spike",)), [hr("2026-01-01T09:00:00Z")], events)
    assert alerts  # the first burst is news
    assert _most_in_30_days(alerts, "device.removable_copy_spike") <= ALERT_BUDGET


def test_a_job_search_then_daily_exfiltration_alerts_once_not_daily() -> None:
    work = daily("2026-01-05", 40, per_day=3, action="open")
    search = [ev(f"2026-02-{d:02d}T12:00:00Z", action="visit", kind="web", object="https://www.indeed.com/x")
              for d in (16, 17, 18)]
    exfil = [e for d in range(10) for e in daily(_day(45 + d), 1, per_day=8 + d, action="copy_to_removable",
                                                 destination=f"USB-{d}")]
    alerts = _run(_engine(("sequence.job_search_then_exfiltration",)), [hr("2026-01-01T09:00:00Z")],
                  work + search + exfil)
    seq = [a for a in alerts if a.rule_id == "sequence.job_search_then_exfiltration"]
    assert 1 <= len(seq) <= ALERT_BUDGET, [(a.ts.date(), a.severity) for a in seq]


def test_growth_at_the_same_severity_is_not_news_but_notice_is() -> None:
    """A stayer's spike (capped at low) doubles the next day: no second alert. Notice arrives while the episode
    goes on: raised again, graded as a departure."""
    base = daily("2026-01-05", 30, per_day=2, action="copy_to_removable")
    spikes = (daily("2026-02-10", 1, per_day=12, action="copy_to_removable")
              + daily("2026-02-11", 1, per_day=30, action="copy_to_removable")
              + daily("2026-02-20", 1, per_day=14, action="copy_to_removable"))
    hrs = [hr("2026-01-01T09:00:00Z"),
           hr("2026-02-16T09:00:00Z", status="notice", last_day="2026-03-06", resignation_date="2026-02-16")]
    alerts = _run(_engine(("device.removable_copy_spike",)), hrs, base + spikes)
    got = [(a.ts.date().isoformat(), a.severity) for a in alerts]
    assert got[0] == ("2026-02-10", "low") and len(got) == 2, got
    assert got[1][0] == "2026-02-20" and got[1][1] != "low", got


def test_provisional_departures_take_one_alert_and_leave_room_for_the_notice() -> None:
    """A rule without episodes (sensitive downloads before the last day) under provisional departures from the
    propensity, flagged again and again: one provisional alert a month at most, and the real notice's alert
    still comes."""
    eng = Engine(rules=[_BEFORE_LAST_DAY], config=EngineConfig(risk=False))
    hrs = [hr("2026-01-01T09:00:00Z")]
    events = daily("2026-01-05", 20, per_day=1, action="open")
    _run(eng, hrs, events)
    alerts: list[Any] = []
    for flag in (20, 27, 34):  # the propensity flags the person weekly; each day 12 restricted downloads
        st = eng.store.get("E1")
        assert st is not None
        st.extra["pl"] = [dt.date.fromisoformat(_day(flag)).toordinal() - dt.date(1970, 1, 1).toordinal(), 0.4]
        alerts += _run(eng, [], daily(_day(flag + 1), 1, per_day=12, action="download", sensitivity="restricted"))
    provisional = [a for a in alerts if a.explanation.get("possibly_leaving")]
    assert len(provisional) == 1, [(a.ts.date(), a.title) for a in alerts]
    notice = [hr(f"{_day(40)}T09:00:00Z", status="notice", last_day=_day(60), resignation_date=_day(40))]
    alerts += _run(eng, notice, daily(_day(41), 1, per_day=12, action="download", sensitivity="restricted"))
    real = [a for a in alerts if not a.explanation.get("possibly_leaving")]
    assert real and real[-1].severity != "low"
    assert _most_in_30_days(alerts, _BEFORE_LAST_DAY.id) <= ALERT_BUDGET
