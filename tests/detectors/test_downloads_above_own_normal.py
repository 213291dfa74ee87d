"""A slow drip of downloads from the person's own places, without labels (issue 14): the volume against their own
normal, sustained over days, anchored to the departure, graded by whether it began before the resignation."""

from __future__ import annotations

import datetime as dt
import random

from detectors.context import HRView
from detectors.examples import daily, hr, run_example
from detectors.rule import Example
from detectors.rules.file.downloads_above_own_normal import RULE
from detectors.state import EmployeeState, Series
from detectors.windows import SustainedAbove

OWN = "/sites/support/cases/case.pdf"


def _workdays(start: str, n: int, per_day: int | list[int], hour: int = 10) -> list[dict]:
    d0 = dt.date.fromisoformat(start)
    out = []
    for i in range(n):
        d = d0 + dt.timedelta(days=i)
        if d.weekday() < 5:
            k = per_day if isinstance(per_day, int) else per_day[i % len(per_day)]
            out += daily(d.isoformat(), 1, k, hour=hour, action="download", object=OWN)
    return out


def _leaver(resigned: str, last_day: str = "2026-03-20") -> list[dict]:
    return [hr("2026-01-05T08:00:00Z"),
            hr(f"{resigned}T09:00:00Z", status="notice", resignation_date=resigned, last_day=last_day)]


def test_a_drip_that_began_before_the_resignation_is_medium_and_says_so() -> None:
    events = _workdays("2026-01-05", 80, [2, 1, 3, 2, 2, 1, 2]) + _workdays("2026-02-09", 39, 3, hour=15)
    alerts = run_example(RULE, Example("drip", True, events, _leaver("2026-03-02")))
    assert len(alerts) == 1
    a = alerts[0]
    assert a.severity == "medium", a.title  # not high: a share of days is capped below "10x"
    x = a.explanation
    assert x["evidence_before_notice"] >= 4 and x["when"] == "before the notice"
    assert x["excess"] >= 10 and x["observed"] >= 5
    assert "before the notice" in a.title
    assert dt.date.fromisoformat(a.ts.date().isoformat()) <= dt.date(2026, 3, 2)  # at the resignation, weeks ahead


def test_the_same_volume_only_after_the_resignation_is_low() -> None:
    events = _workdays("2026-01-05", 80, [2, 1, 3, 2, 2, 1, 2]) + _workdays("2026-02-23", 25, 3, hour=15)
    alerts = run_example(RULE, Example("handover", True, events, _leaver("2026-02-23")))
    assert [a.severity for a in alerts] == ["low"]
    assert "handovers look the same" in alerts[0].title


def test_sporadic_heavy_tailed_users_and_month_end_peaks_are_their_own_normal() -> None:
    rnd = random.Random(7)
    events = []
    d0 = dt.date(2026, 1, 5)
    for i in range(75):
        d = d0 + dt.timedelta(days=i)
        if d.weekday() >= 5:
            continue
        k = rnd.choice((0, 0, 0, 0, 0, 1, 2, 25, 40))  # nothing on most days, a lot on some
        if d.day >= 28:  # a month-end close
            k += 30
        if k:
            events += daily(d.isoformat(), 1, k, action="download", object=OWN)
    assert run_example(RULE, Example("sporadic", False, events, _leaver("2026-02-27"))) == []


def test_the_onset_search_finds_a_change_before_the_period_and_pays_for_the_onsets_tried() -> None:
    w = SustainedAbove(days=30, ref_days=30, min_days=5, min_evidence=4.0, onset_days=30)
    s = Series()
    for d in range(0, 40):
        s.days[d] = 0  # no downloads for forty days
    for d in range(40, 90):
        s.days[d] = 2  # then two a day, from fifty days before the last day
    st = EmployeeState(extra={"fs": 0})
    hr_view = HRView(status="notice", notice_from=85, last_day=89)
    f = w._check(s, hr_view, 89, st)
    assert f is not None and f.window_start == 40  # the onset, before the departure period (day 60)
    assert f.extra["when"] == "before the notice"
    # the same change judged from the period's start only (no onset search) would compare with drip days
    f0 = SustainedAbove(days=30, ref_days=30, min_days=5, min_evidence=4.0, onset_days=0)._check(s, hr_view, 89, st)
    assert f0 is None


def test_rule_version_and_severity() -> None:
    assert RULE.version == "1" and RULE.severity == "medium"
    assert RULE.window.ratio_cap < 10
