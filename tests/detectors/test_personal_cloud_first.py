"""A leaver's first personal-cloud upload ever, in the departure period, read against the department (issue 14):
one small upload by someone whose colleagues never upload to personal drives is medium; the same in a team that
does, on the last day, or by someone who uploaded before, is nothing."""

from __future__ import annotations

from typing import Any

from detectors.examples import daily, ev, hr, run_example
from detectors.rule import Example
from detectors.rules.web.personal_cloud_first_before_departure import RULE

_UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="mega.nz")
_DEPT = {"department": "people", "role": "people_ops"}
_WORK = daily("2026-01-05", 40, hour=9)
LEAVER = [hr("2026-01-01T08:00:00Z", **_DEPT),
          hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02", **_DEPT)]


def _team(n: int, uploaders: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    for i in range(n):
        who = dict(actor=f"c{i}@corp.example")
        events += daily("2026-01-05", 30, **who)
        if i < uploaders:
            events.append(ev(f"2026-01-{10 + i:02d}T11:00:00Z", bytes=8_000_000, **{**_UP, **who}))
    people = [hr("2026-01-01T08:00:00Z", employee_id=f"C{i}", accounts=[f"c{i}@corp.example"], **_DEPT)
              for i in range(n)]
    return events, people


def _up(ts: str, mb: int = 18, **kw: Any) -> dict[str, Any]:
    return ev(ts, bytes=mb * 1_000_000, **{**_UP, **kw})


def _alerts(uploads: list[dict[str, Any]], team: int = 10, uploaders: int = 0,
            hr_: list[dict[str, Any]] = LEAVER, work: list[dict[str, Any]] = _WORK) -> list[Any]:
    events, people = _team(team, uploaders)
    return run_example(RULE, Example("x", True, events + work + uploads, people + hr_))


def test_a_first_small_upload_in_the_notice_of_a_department_that_never_uploads_is_medium_once() -> None:
    alerts = _alerts([_up("2026-03-20T22:10:00Z"), _up("2026-03-23T20:40:00Z")])
    assert [a.severity for a in alerts] == ["medium"]
    x = alerts[0].explanation
    assert x["peers_before"] == "0 of 10" and x["day"] == "2026-03-20"
    assert "0 of 10 colleagues" in alerts[0].title


def test_a_first_upload_on_the_last_day_or_its_utc_evening_is_a_take_home() -> None:
    assert _alerts([_up("2026-03-27T15:00:00Z")]) == []
    assert _alerts([_up("2026-03-28T02:00:00Z")]) == []


def test_the_department_habit_decides_a_quarter_of_colleagues_or_more_is_their_way_of_working() -> None:
    assert [a.severity for a in _alerts([_up("2026-03-12T15:00:00Z")], team=10, uploaders=2)] == ["medium"]
    assert _alerts([_up("2026-03-12T15:00:00Z")], team=10, uploaders=3) == []
    assert _alerts([_up("2026-03-12T15:00:00Z")], team=4, uploaders=0) == []  # too few peers to read


def test_someone_who_uploaded_before_the_departure_period_or_too_new_is_not_told() -> None:
    assert _alerts([_up("2026-02-03T15:00:00Z"), _up("2026-03-12T15:00:00Z")]) == []
    late_start = daily("2026-02-20", 10, hour=9)  # 20 days of history at the upload
    assert _alerts([_up("2026-03-12T15:00:00Z")], work=late_start) == []


def test_a_stayer_is_not_told_and_a_resignation_recorded_after_the_upload_is() -> None:
    stayer = [hr("2026-01-01T08:00:00Z", **_DEPT)]
    assert _alerts([_up("2026-03-05T15:00:00Z")], hr_=stayer) == []
    # the resignation was given on 2 March and recorded on 10 March: the upload of 5 March is read again
    late = [hr("2026-01-01T08:00:00Z", **_DEPT),
            hr("2026-03-10T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02",
               **_DEPT)]
    alerts = _alerts([_up("2026-03-05T15:00:00Z")], hr_=late)
    assert [a.severity for a in alerts] == ["medium"]
    assert alerts[0].explanation["peers_before"] == "0 of 10" and alerts[0].explanation["day"] == "2026-03-05"
