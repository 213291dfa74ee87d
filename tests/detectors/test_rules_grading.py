"""Grading of catalogue rules: the same behaviour weighs more for a leaver than for someone staying."""

from __future__ import annotations

from detectors.catalogue import discover
from detectors.engine import LEVELS
from detectors.examples import ev, hr, run_example
from detectors.rule import Example

RULES = {r.id: r for r in discover()}


def _alert(rule_id: str, hr_records: list[dict], events: list[dict]):
    alerts = run_example(RULES[rule_id], Example("grading", True, events, hr_records))
    assert len(alerts) == 1, [a.title for a in alerts]
    return alerts[0]


def _forward(ts: str) -> dict:
    return ev(ts, action="forward", sensitivity="restricted", personal=True)


def test_sensitive_to_personal_weighs_more_for_a_leaver() -> None:
    stayer = _alert("email.sensitive_to_personal", [hr("2026-01-01T09:00:00Z")], [_forward("2026-03-10T10:00:00Z")])
    in_notice = _alert(
        "email.sensitive_to_personal",
        [hr("2026-03-01T09:00:00Z", status="notice", resignation_date="2026-03-01", last_day="2026-04-30")],
        [_forward("2026-03-10T10:00:00Z")],
    )
    last_weeks = _alert(
        "email.sensitive_to_personal",
        [hr("2026-03-01T09:00:00Z", status="notice", resignation_date="2026-03-01", last_day="2026-03-20")],
        [_forward("2026-03-10T10:00:00Z")],
    )
    # Not in notice yet, but HR already has a last day within 30 days.
    last_day_known = _alert(
        "email.sensitive_to_personal",
        [hr("2026-01-01T09:00:00Z", last_day="2026-03-25")],
        [_forward("2026-03-10T10:00:00Z")],
    )
    assert stayer.score < in_notice.score < last_weeks.score
    assert stayer.score < last_day_known.score
    for leaver in (in_notice, last_weeks, last_day_known):
        assert LEVELS.index(leaver.severity) >= LEVELS.index(stayer.severity)
    assert stayer.explanation["in_notice"] is False and in_notice.explanation["in_notice"] is True


def test_personal_cloud_upload_weighs_more_for_a_leaver_and_for_sensitive_files() -> None:
    rid = "web.personal_cloud_upload"
    up = dict(kind="web", action="upload", personal=True, destination="dropbox.com")
    stayer = _alert(rid, [hr("2026-01-01T09:00:00Z")], [ev("2026-03-10T10:00:00Z", sensitivity="restricted", **up)])
    leaver = _alert(
        rid,
        [hr("2026-03-01T09:00:00Z", status="notice", resignation_date="2026-03-01", last_day="2026-03-20")],
        [ev("2026-03-10T10:00:00Z", sensitivity="restricted", **up)],
    )
    assert leaver.score > stayer.score
    assert LEVELS.index(leaver.severity) >= LEVELS.index(stayer.severity)
