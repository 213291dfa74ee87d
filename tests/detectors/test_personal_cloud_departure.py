"""Personal-cloud uploads around a departure (issue 14): a take-home on the last day stays low; a few small
uploads on several days of the departure period, by someone who never uploaded there, reach medium."""

from __future__ import annotations

from typing import Any

from detectors.examples import ev, hr, run_example
from detectors.rule import Example
from detectors.rules.web.personal_cloud_repeated_before_departure import RULE as REPEATED
from detectors.rules.web.personal_cloud_upload import RULE as UPLOAD

_UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="dropbox.com")
_WORK = [ev(f"2026-01-{5 + i:02d}T10:00:00Z", action="open", object="/sites/x/a.docx") for i in range(20)]
LEAVER = [hr("2026-01-05T08:00:00Z"),
          hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02")]


def _up(ts: str, mb: int, **kw: Any) -> dict[str, Any]:
    return ev(ts, bytes=mb * 1_000_000, **{**_UP, **kw})


def _severities(rule: Any, events: list[dict[str, Any]], hr_: list[dict[str, Any]] = LEAVER) -> list[str]:
    return [a.severity for a in run_example(rule, Example("x", True, events, hr_))]


def test_a_single_upload_on_the_last_day_is_a_take_home_graded_low() -> None:
    assert _severities(UPLOAD, _WORK + [_up("2026-03-27T15:00:00Z", 150)]) == ["low"]
    # its evening, which the UTC clock puts on the next day (a New York leaver)
    assert _severities(UPLOAD, _WORK + [_up("2026-03-28T01:30:00Z", 150)]) == ["low"]


def test_the_same_upload_earlier_in_the_notice_is_medium_or_more() -> None:
    sev = _severities(UPLOAD, _WORK + [_up("2026-03-13T15:00:00Z", 150)])
    assert len(sev) == 1 and sev[0] != "low"


def test_a_last_day_upload_after_earlier_ones_in_the_departure_is_not_a_take_home() -> None:
    from detectors.context import HRView
    from detectors.state import EmployeeState, Series

    w = UPLOAD.window
    hr_view = HRView(status="notice", notice_from=100, last_day=120)
    st = EmployeeState()
    first = w.check_day(Series(days={120: 6.0}, n=30), hr_view, 120, st, "r")
    again = w.check_day(Series(days={110: 6.0, 120: 6.0}, n=30), hr_view, 120, st, "r")
    assert first is not None and first.ratio is not None and first.ratio < 1.5 and first.extra["take_home"]
    assert again is not None and (again.ratio is None or again.ratio >= 1.5) and again.extra["take_home"] == ""


def test_two_small_uploads_days_apart_in_the_departure_reach_medium() -> None:
    events = _WORK + [_up("2026-03-09T19:30:00Z", 12), _up("2026-03-16T20:10:00Z", 30)]
    assert _severities(UPLOAD, events) == []  # each day is too small for the daily rule
    alerts = run_example(REPEATED, Example("x", True, events, LEAVER))
    assert [a.severity for a in alerts] == ["medium"]
    x = alerts[0].explanation
    assert x["observed"] == 2 and x["ref_days_with"] == 0 and x["evidence"] >= 1.0


def test_the_company_own_destination_is_not_personal_for_the_repeated_rule() -> None:
    from detectors.engine import Engine, EngineConfig

    github = dict(_UP, destination="github.com")
    colleagues = [ev(f"2026-02-{2 + d:02d}T10:00:00Z", actor=f"u{u}@corp.example", employee_id=f"U{u}",
                     bytes=40_000, **github) for u in range(30) for d in range(3)]
    events = _WORK + colleagues + [ev("2026-03-09T10:00:00Z", bytes=20_000_000, **github),
                                   ev("2026-03-16T10:00:00Z", bytes=20_000_000, **github)]
    ex = Example("x", False, events, LEAVER)
    assert run_example(REPEATED, ex, lambda: Engine(rules=[REPEATED], config=EngineConfig(risk=False))) == []


def test_versions() -> None:
    assert UPLOAD.version == "6" and REPEATED.version == "3"


def test_two_uploads_early_in_the_period_of_an_occasional_uploader_are_judged_over_the_whole_period() -> None:
    from detectors.context import HRView
    from detectors.state import EmployeeState, Series

    # an occasional uploader: 2 upload days in the 60 before the period; then 2 in its first 6 days
    s = Series(days={20: 4.0, 45: 2.0, 101: 1.0, 105: 2.0})
    st = EmployeeState(extra={"fs": 0})
    hr_view = HRView(status="notice", notice_from=110, last_day=129)
    assert REPEATED.window.min_period_days == 30
    assert REPEATED.window._check(s, hr_view, 105, st) is None
    import dataclasses

    eager = dataclasses.replace(REPEATED.window, min_period_days=0)  # judged over the 6 days elapsed: fires
    assert eager._check(s, hr_view, 105, st) is not None


#: Terminated on the spot: HR says active until the afternoon of the last day (issue 14, outside_c s2).
TERMINATED = [hr("2026-01-05T08:00:00Z"),
              hr("2026-03-20T16:00:00Z", status="notice", last_day="2026-03-20", resignation_date="2026-03-20")]


def test_uploads_before_a_late_termination_are_raised_when_hr_news_arrives() -> None:
    """Version 4: the days of the departure period judged while HR still said active are read again when the
    news arrives; the episode is raised once, under the new picture, at medium or more."""
    events = _WORK + [_up("2026-03-10T20:00:00Z", 700), _up("2026-03-16T20:00:00Z", 850),
                      _up("2026-03-18T20:00:00Z", 300)]
    alerts = run_example(UPLOAD, Example("x", True, events, TERMINATED))
    assert [a.severity for a in alerts][:1] == ["low"]  # a stayer's day: capped low
    late = [a for a in alerts if a.explanation["status"] == "notice"]
    assert len(late) == 1 and late[0].severity in ("high", "critical"), [(a.severity, a.title) for a in alerts]
    assert late[0].ts.isoformat().startswith("2026-03-20T16:00")  # raised by the HR record
    assert late[0].explanation["day"] in ("2026-03-16", "2026-03-18")
    # without the news, nothing more than the stayer's low alert
    assert [a.severity for a in run_example(UPLOAD, Example("x", True, events, TERMINATED[:1]))] == ["low"]


def test_hr_news_does_not_reach_uploads_before_the_departure_period() -> None:
    """Uploads more than 30 days before the last day (and before the notice) stay a stayer's."""
    events = _WORK + [_up("2026-02-02T20:00:00Z", 700), _up("2026-02-09T20:00:00Z", 850)]
    assert [a.severity for a in run_example(UPLOAD, Example("x", True, events, TERMINATED))] == ["low"]


def test_a_take_home_on_the_last_day_stays_low_when_the_news_comes_first() -> None:
    """The lookback grades the last day's first upload as a take-home, as the event itself would be."""
    events = _WORK + [_up("2026-03-27T15:00:00Z", 150)]
    late_news = [hr("2026-01-05T08:00:00Z"),
                 hr("2026-03-27T18:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-27")]
    assert _severities(UPLOAD, events, late_news) == ["low"]


def _team_case(uploaders: int, team: int = 8) -> list[Any]:
    """A leaver of a marketing team (role in department) with two small uploads in the notice; ``uploaders``
    of the ``team`` colleagues upload to personal drives now and then from January."""
    dept = {"department": "marketing", "role": "marketing_manager"}
    events: list[dict[str, Any]] = list(_WORK)
    people = [hr("2026-01-05T08:00:00Z", **dept),
              hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02",
                 **dept)]
    for i in range(team):
        who = dict(actor=f"m{i}@corp.example")
        events += [ev(f"2026-01-{5 + d:02d}T09:00:00Z", action="open", object="/sites/m/a.docx", **who)
                   for d in range(20)]
        if i < uploaders:
            events += [_up(f"2026-01-{8 + d:02d}T11:00:00Z", 10, **who) for d in (0, 7)]
        people.append(hr("2026-01-05T08:00:00Z", employee_id=f"M{i}", accounts=[f"m{i}@corp.example"], **dept))
    events += [_up("2026-03-09T19:30:00Z", 12), _up("2026-03-16T20:10:00Z", 30)]
    return run_example(REPEATED, Example("x", True, events, people))


def test_version_2_a_team_that_uploads_to_personal_drives_grades_the_leaver_low() -> None:
    """At least a quarter of the colleagues upload at all: the team's way of working, graded low; fewer: the
    person's own habit judges, medium as before."""
    alerts = _team_case(uploaders=1)  # 1 of 8: fewer than a quarter
    assert [a.severity for a in alerts] == ["medium"] and "team_habit" not in alerts[0].explanation
    alerts = _team_case(uploaders=2)  # 2 of 8
    assert [a.severity for a in alerts] == ["low"]
    assert "2 of 8 colleagues (marketing/marketing_manager)" in alerts[0].explanation["team_habit"]
