"""device.first_copies_before_departure: a first thumb drive of work files in the 30 days before the last day.

What the rule's examples (tests/detectors/test_catalogue.py) do not show: the judgement does not depend on the
order the records arrive in (the first use is the smallest day seen), one departure gives one alert however many
days of copies it has, a late resignation re-judges copies made while the person was active on record, and the
rule adds what ``device.removable_copy_spike`` leaves low or below its floor.
"""

from __future__ import annotations

from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, ev, hr
from detectors.rules.device.first_copies_before_departure import RULE
from detectors.rules.device.removable_copy_spike import RULE as SPIKE
from schemas import ActivityEvent, HRRecord

RULE_ID = RULE.id
WORK = daily("2026-01-05", 60, per_day=2, hour=9, action="open")
NOTICE = [hr("2026-01-01T09:00:00Z"),
          hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-02")]
# resigned on the last day: HR's record arrives after the copies
LATE = [hr("2026-01-01T09:00:00Z"),
        hr("2026-03-31T13:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-31")]


def run(events: list[dict], hrs: list[dict], rules=(RULE,), late: bool = False) -> list:
    """The engine's alerts for the HR records and events; with ``late`` the last HR record comes after them."""
    eng = Engine(rules=list(rules), config=EngineConfig(risk=False))
    out = []
    for h in hrs[:-1] if late else hrs:
        out += eng.on_hr(HRRecord.model_validate(h))
    for e in events:
        out += eng.on_event(ActivityEvent.model_validate(e))
    if late:
        out += eng.on_hr(HRRecord.model_validate(hrs[-1]))
    return out


def test_one_alert_a_departure_however_many_days_of_copies() -> None:
    copies = [ev(f"2026-03-{d:02d}T15:00:00Z", action="copy_to_removable", count=8) for d in (10, 12, 17, 24)]
    got = [a for a in run(WORK + copies, NOTICE) if a.rule_id == RULE_ID]
    assert len(got) == 1
    assert got[0].explanation["observed"] == 8
    assert got[0].severity in ("high", "critical")


def test_the_first_use_is_the_earliest_whatever_the_order() -> None:
    """A January connect applied after the first March copies (under the threshold) still makes the person no
    newcomer to drives: the first use is the smallest day seen, not the first applied."""
    jan = ev("2026-01-20T10:00:00Z", kind="device", action="connect")
    copies = [ev("2026-03-24T15:00:00Z", action="copy_to_removable", count=10)]
    in_time = run(sorted(WORK + [jan], key=lambda e: e["ts"]) + copies, NOTICE)
    assert [a for a in in_time if a.rule_id == RULE_ID] == []
    connect_late = run(WORK + [ev("2026-03-24T14:00:00Z", action="copy_to_removable", count=2), jan] + copies,
                       NOTICE)
    assert [a for a in connect_late if a.rule_id == RULE_ID] == []


def test_a_resignation_recorded_on_the_last_day_judges_the_copies_again() -> None:
    copies = [ev("2026-03-20T15:00:00Z", action="copy_to_removable", count=30)]
    got = run(WORK + copies, LATE, rules=(RULE, SPIKE), late=True)
    mine = [a for a in got if a.rule_id == RULE_ID]
    spike = [a for a in got if a.rule_id == SPIKE.id]
    # removable_copy_spike judged the day while the person was active on record: low, and not judged again
    assert [a.severity for a in spike] == ["low"]
    assert len(mine) == 1 and mine[0].severity in ("high", "critical")
    assert mine[0].ts.isoformat().startswith("2026-03-31T13:00")  # when HR's news arrived


def test_ten_files_on_the_last_day_are_under_the_spike_floor_but_a_first_drive() -> None:
    copies = [ev("2026-03-31T07:30:00Z", action="copy_to_removable", count=10)]
    got = run(WORK + copies, NOTICE, rules=(RULE, SPIKE))
    assert [a.rule_id for a in got] == [RULE_ID]
