"""device.removable_copy_spike's "first ever" judgement must not depend on the order records of nearby times are
applied in (the worker's time merge applies a record late now and then: tests/detectors/test_rules_shuffle.py).

"Never copied before" was read from the days the series still kept. A copy day in the departure period teaches no
baseline, and once a record of the next day has been applied it is pruned: a copy of the day before, applied after
that record, then looked like the first ever and raised a high alert that time order does not raise (found by the
shuffle test in a generated company: E00021, 10 files a week after 81 in the notice).
"""

from __future__ import annotations

from detectors.engine import Engine, EngineConfig
from detectors.examples import daily, ev, hr
from detectors.rules.device.removable_copy_spike import RULE
from schemas import ActivityEvent, HRRecord

# Seen from 2 March, in notice from the start with the last day on 10 April: 9 learned days, then the departure period.
HR = [hr("2026-03-01T09:00:00Z"),
      hr("2026-03-02T08:00:00Z", status="notice", last_day="2026-04-10", resignation_date="2026-03-02")]
OPENS = daily("2026-03-02", 34, per_day=1, hour=9, action="open")  # up to 4 April
BIG = ev("2026-03-28T10:00:00Z", action="copy_to_removable", count=40)  # in the notice: history 26 days, too short
FIRST = ev("2026-04-04T10:00:00Z", action="copy_to_removable", count=1)
MORE = ev("2026-04-04T11:00:00Z", action="copy_to_removable", count=11)
NEXT = ev("2026-04-05T00:30:00Z", action="open")  # the next day's first record


def alerts(order: list[dict]) -> list[tuple[str, str, float]]:
    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    out = []
    for h in HR:
        out += eng.on_hr(HRRecord.model_validate(h))
    for e in order:
        out += eng.on_event(ActivityEvent.model_validate(e))
    return sorted((a.alert_id, a.severity, a.score) for a in out)


def test_a_copy_applied_after_the_next_days_first_record_is_not_taken_for_the_first_ever() -> None:
    before = sorted(OPENS + [BIG], key=lambda e: e["ts"])
    in_time = alerts(before + [FIRST, MORE, NEXT])
    assert in_time == []  # 12 files, a week after 40 in the notice: not a first
    assert alerts(before + [FIRST, NEXT, MORE]) == in_time
    assert alerts(before + [NEXT, FIRST, MORE]) == in_time


def test_a_first_copy_is_still_judged_the_first_ever_whatever_the_order() -> None:
    before = sorted(OPENS, key=lambda e: e["ts"])
    in_time = alerts(before + [FIRST, MORE, NEXT])
    assert [s for _, s, _ in in_time] == ["high"]  # 12 files, never any before, 33 days of history
    assert alerts(before + [FIRST, NEXT, MORE]) == in_time
    assert alerts(before + [NEXT, FIRST, MORE]) == in_time
