"""A slow drip of downloads from the person's own places, without labels (issue 14): the volume against their own
normal, sustained over days, anchored to the departure, graded by whether it began before the resignation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from detectors.context import HRView
from detectors.examples import daily, hr, run_example
from detectors.rule import Example
from detectors.rules.file.downloads_above_own_normal import RULE
from detectors.state import EmployeeState, Series
from detectors.windows import SustainedAbove, mark_present, present_days

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
    assert RULE.version == "3" and RULE.severity == "medium"
    assert RULE.window.ratio_cap < 10


# ---------------------------------------------------------------------------- days present (v3)
def _at_work(start: str, n: int, per_day: list[int]) -> list[dict]:
    """Workdays from ``start`` with a mail each and ``per_day`` downloads (a day without downloads is still a
    day at work)."""
    d0 = dt.date.fromisoformat(start)
    out: list[dict] = []
    for i in range(n):
        d = d0 + dt.timedelta(days=i)
        if d.weekday() < 5:
            out += daily(d.isoformat(), 1, hour=9, action="send", kind="email", external=False,
                         recipients=["bob@corp.example"], object="status")
            k = per_day[i % len(per_day)]
            if k:
                out += daily(d.isoformat(), 1, k, hour=10, action="download", object=OWN)
    return out


#: 3-14 downloads a day for six weeks, three weeks away (no event at all), back at the same work for five weeks,
#: then the resignation (the shape of outside_b seed 2's honest finance analyst, flagged medium by v2)
_BACK = (_at_work("2026-01-05", 40, [5, 3, 14, 7, 3, 0, 0, 8, 3, 6, 6, 3])
         + _at_work("2026-03-09", 40, [5, 3, 14, 7, 3, 0, 0, 8, 3, 6, 6, 3, 13, 1, 6]))
_BACK_HR = [hr("2026-01-05T08:00:00Z"),
            hr("2026-04-09T09:00:00Z", status="notice", resignation_date="2026-04-09", last_day="2026-04-20")]


def test_an_absence_is_no_usual_day_back_at_the_same_work_is_no_drip() -> None:
    assert _run(_BACK, _BACK_HR) == []
    # judged on every calendar day (v2), the three weeks away made the usual day 0 and the return a change
    calendar = dataclasses.replace(RULE, window=dataclasses.replace(RULE.window, presence=""))
    assert [a.severity for a in _run(_BACK, _BACK_HR, calendar)] == ["medium"]


def test_a_drip_among_days_at_work_is_still_caught_with_days_present() -> None:
    # the same person without the absence, whose downloads rise to twice as many from five weeks before the end
    events = (_at_work("2026-01-05", 60, [2, 1, 3, 0, 2, 1, 2])
              + _at_work("2026-03-06", 45, [5, 6, 4, 7, 5, 6]))
    alerts = _run(events, [hr("2026-01-05T08:00:00Z"), hr("2026-04-09T09:00:00Z", status="notice",
                                                       resignation_date="2026-04-09", last_day="2026-04-20")])
    assert [a.severity for a in alerts] == ["medium"] and alerts[0].explanation["when"] == "before the notice"


def test_without_an_absence_weekends_are_judged_as_before() -> None:
    # five-day weeks, no absence: v3 finds exactly what v2 (every calendar day) finds
    events = (_at_work("2026-01-05", 60, [2, 1, 3, 0, 2, 1, 2])
              + _at_work("2026-03-06", 45, [3, 4, 2, 5, 3]))
    hrs = [hr("2026-01-05T08:00:00Z"),
           hr("2026-04-09T09:00:00Z", status="notice", resignation_date="2026-04-09", last_day="2026-04-20")]
    calendar = dataclasses.replace(RULE, window=dataclasses.replace(RULE.window, presence=""))
    got, before = _run(events, hrs), _run(events, hrs, calendar)
    assert got and [(a.severity, a.title) for a in got] == [(a.severity, a.title) for a in before]


def test_an_absence_before_the_onset_teaches_no_usual_day_one_after_it_stays_judged() -> None:
    w = dataclasses.replace(RULE.window, peer_rates=False)

    def judge(away: range) -> tuple:
        s, st = Series(), EmployeeState(extra={"fs": 0})
        for d in range(0, 70):
            if d in away:
                continue  # no event at all that day
            mark_present(st, "dp", d)
            s.days[d] = 1 if d < 40 else 4  # one download a day, then four from day 40
        f = w._check(s, HRView(status="notice", notice_from=65, last_day=69), 69, st)
        return None if f is None else (f.window_start, f.observed, f.extra["period_days"], f.baseline["days"])

    # a week away after the onset: judged as days not above the usual day, exactly as without presence
    s, st = Series(), EmployeeState(extra={"fs": 0})
    for d in range(0, 70):
        if d not in range(50, 57):
            s.days[d] = 1 if d < 40 else 4
    f = dataclasses.replace(w, presence="")._check(s, HRView(status="notice", notice_from=65, last_day=69), 69, st)
    assert judge(range(50, 57)) == (f.window_start, f.observed, f.extra["period_days"], f.baseline["days"])
    assert judge(range(50, 57))[2] == 30  # the 7 days away are in the period judged
    # two weeks away before the onset: not 14 usual days of 0; the reference is the 16 days at work
    assert judge(range(20, 34))[:3] == (40, 30, 30) and judge(range(20, 34))[3] == 16


def test_the_presence_record_keeps_the_absences_a_rule_reads() -> None:
    st = EmployeeState()
    for d in (10, 11, 40, 129):
        mark_present(st, "dp", d)
    assert st.extra["dp"] == [129, 12, 39, 41, 128]  # the last day seen, then each absence of 3 or more days
    assert present_days(st, "dp", 10, 12) == [True, True, False]
    assert present_days(st, "dp", 39, 41) == [False, True, False] and present_days(st, "dp", 129, 130) == [True, False]
    mark_present(st, "dp", 200)  # seventy days later: 12-39 is more than 120 days back and gives way
    assert st.extra["dp"] == [200, 41, 128, 130, 199]
    assert present_days(st, "dp", 12, 12) == [True]  # out of reach: present, as before the record began
    assert present_days(st, "dp", 129, 129) == [True] and present_days(st, "dp", 130, 131) == [False, False]
    assert present_days(st, "dp", 200, 201) == [True, False]
    assert present_days(EmployeeState(), "dp", 0, 1) == [True, True]  # no record: every day, as before v3
    busy = EmployeeState()
    for d in range(300, 400):
        if d % 7 not in (5, 6):  # weekends off: no absence to keep
            mark_present(busy, "dp", d)
    assert busy.extra["dp"] == 399  # 399 % 7 == 0: a working day


# ---------------------------------------------------------------------------- the peer fallback (v2)
def _agent(i: int) -> str:
    return f"p{i}@corp.example"


def _team(per_day: list[int], start: str = "2026-01-05", days: int = 60) -> list[dict]:
    """Colleague i downloads per_day[i] files every day."""
    return [x for i, k in enumerate(per_day) if k
            for x in daily(start, days, k, hour=9, action="download", actor=_agent(i), object=OWN)]


def _hr_team(n: int, first: str = "2026-01-05") -> list[dict]:
    return [hr(f"{first}T07:00:00Z", employee_id=f"P{i}", accounts=[_agent(i)], department="support", role="agent")
            for i in range(n)]


def _new_leaver(first: str = "2026-01-20", resigned: str = "2026-02-25", last_day: str = "2026-03-13") -> list[dict]:
    return [hr(f"{first}T08:00:00Z", department="support", role="agent"),
            hr(f"{resigned}T09:00:00Z", status="notice", resignation_date=resigned, last_day=last_day,
               department="support", role="agent")]


def _run(events: list[dict], hrs: list[dict], rule=RULE) -> list:
    return run_example(rule, Example("x", True, events, hrs))


def _drip(start: str = "2026-01-20", days: int = 53, per_day: int = 4) -> list[dict]:
    return daily(start, days, per_day, hour=14, action="download", object=OWN)


def test_a_drip_from_the_first_day_seen_is_caught_by_the_peers_and_only_by_them() -> None:
    import dataclasses

    from detectors.rule import Rule

    events, hrs = _drip() + _team([1] * 8), _new_leaver() + _hr_team(8)
    alerts = _run(events, hrs)
    assert [a.severity for a in alerts] == ["medium"], [a.title for a in alerts]
    x = alerts[0].explanation
    assert x["peer_group"] == "support/agent" and x["baseline"]["peers"] == 8
    assert x["when"] == "before the notice" and x["window_end"] == "2026-02-24"  # the notice's days never count
    assert 3 * 31.0 <= x["rate_30d"] == 120.0  # 4 a day against the team's 1 (bucket top 31 per 30 days)
    assert "their peers' (support/agent, 8 others)" in alerts[0].title
    assert alerts[0].ts.date() <= dt.date(2026, 2, 25)  # at the resignation, 16 days before the last day
    assert alerts[0].evidence  # the latest downloads of the drip
    # a long notice: the days before it lie more than 30 days before the last day, the alert is still medium
    long = _run(_drip(days=60) + _team([1] * 8, days=75), _new_leaver(last_day="2026-05-29") + _hr_team(8))
    assert [a.severity for a in long] == ["medium"], [(a.severity, a.title) for a in long]
    # without the fallback the own normal sees nothing: the drip is all the history there is
    own_only = Rule(**{**{f.name: getattr(RULE, f.name) for f in dataclasses.fields(RULE)},
                       "window": dataclasses.replace(RULE.window, peer_rates=False)})
    assert _run(events, hrs, own_only) == []


def test_peers_who_download_as_much_or_too_few_peers_give_nothing() -> None:
    assert _run(_drip() + _team([4] * 8), _new_leaver() + _hr_team(8)) == []
    assert _run(_drip() + _team([1] * 4), _new_leaver() + _hr_team(4)) == []  # 4 colleagues: fewer than 5


def test_one_busy_colleague_does_not_hide_a_drip_but_two_do() -> None:
    assert len(_run(_drip() + _team([1] * 7 + [6]), _new_leaver() + _hr_team(8))) == 1
    assert _run(_drip() + _team([1] * 6 + [6, 6]), _new_leaver() + _hr_team(8)) == []


def test_a_burst_is_not_a_rate_and_the_notice_alone_is_not_peer_evidence() -> None:
    burst = daily("2026-02-02", 1, 150, hour=14, action="download", object=OWN) + _drip("2026-02-03", 5, 1) \
        + _drip("2026-02-25", 17, 1)
    assert _run(burst + _team([1] * 8), _new_leaver() + _hr_team(8)) == []
    # the same drip, only from the resignation on: a handover looks the same, the peers are not asked
    alerts = _run(_drip("2026-02-25", 17) + _team([1] * 8), _new_leaver() + _hr_team(8))
    assert all(a.explanation.get("peer_group") is None for a in alerts)


def test_the_peer_rates_are_shared_memory_that_survives_a_restore() -> None:
    from detectors.engine import Engine, EngineConfig
    from detectors.peerrates import PeerRates

    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    _run(_drip() + _team([1] * 8), _new_leaver() + _hr_team(8))  # smoke: a fresh engine per run
    assert any(isinstance(m, PeerRates) for m in eng.shared)
    pr = PeerRates()
    st = EmployeeState()
    for d in range(20):
        pr.member(st, "s", ("s:a/b", "s:a"), d, 0, 2.0)
    assert pr.busiest("s:a", own=None, rank=1)[0] == 1
    pr.member(st, "s", ("s:c",), 20, 0, 0.0)  # moved to another department: out of the old groups
    assert pr.busiest("s:a", own=None, rank=1) == (0, 0.0) and pr.busiest("s:c", own=None, rank=1)[0] == 1
    back = PeerRates()
    for key, _part, value in pr.dump():
        assert back.load(key, value)
    assert back.parts == pr.parts


def test_an_own_normal_finding_is_graded_by_what_the_median_colleague_downloads() -> None:
    """2 a day for 40 days, then 5 a day from two weeks before the resignation: medium on its own normal; low
    when the median colleague downloads 5 a day as well (back at the role's volume); medium again when they
    download 1 (5 a day is 150 per 30 days, over twice their 31)."""
    own = _workdays("2026-01-05", 80, 2) + daily("2026-02-14", 21, 5, hour=14, action="download", object=OWN)
    hrs = [{**x, "department": "support", "role": "agent"} for x in _leaver("2026-03-02", "2026-03-13")]
    busy = _run(own + _team([5] * 8, days=70), hrs + _hr_team(8))
    assert [a.severity for a in busy] == ["low"], [a.title for a in busy]
    assert "median colleague (support/agent, 8 others)" in busy[0].title
    assert busy[0].explanation["evidence_before_notice"] >= 4  # the own normal alone would say medium
    quiet = _run(own + _team([1] * 8, days=70), hrs + _hr_team(8))
    assert [a.severity for a in quiet] == ["medium"], [a.title for a in quiet]
    assert quiet[0].explanation["peer_typical_30d"] < quiet[0].explanation["rate_30d"] / 2


def test_a_notice_only_finding_of_someone_without_own_normal_yields_to_the_peers() -> None:
    """Four a day from the first day seen, twelve a day in the notice: the own normal sees only the notice's
    step (low, a handover looks the same); the peers see the days before the notice at 4x the team (medium), and
    the rule fires once per departure, so the peers' finding is the one sent."""
    events = _drip(days=36) + _drip("2026-02-25", 17, per_day=12) + _team([1] * 8)
    late = _new_leaver()
    late[1] = {**late[1], "ts": "2026-03-06T09:00:00Z"}  # HR records the resignation of 25 February late
    alerts = _run(events, late + _hr_team(8))
    assert [a.severity for a in alerts] == ["medium"], [a.title for a in alerts]
    assert alerts[0].explanation["peer_group"] == "support/agent"
    alone = _run(_drip(days=36) + _drip("2026-02-25", 17, per_day=12), late)  # no peers: the own low
    assert [a.severity for a in alone] == ["low"] and "handovers look the same" in alone[0].title
