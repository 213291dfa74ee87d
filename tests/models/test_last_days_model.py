"""model.behaviour_anomaly on honest leavers' last days (issue 14): a day on which nothing leaves the company
is low; one's own photos on a thumb drive are no removable copies of work; data leaving still grades medium+."""

from __future__ import annotations

from detectors.models.behaviour import ID
from tests.models.conftest import Stream, day_str, hr, run

DAY = 35  # a Tuesday
TEAM_LIB = {"kind": "file", "action": "upload", "external": False,
            "object": "https://corp.sharepoint.com/sites/eng/Shared Documents/handover/notes.docx", "bytes": 900_000}
PERSONAL = {"kind": "file", "action": "upload", "personal": True, "external": True, "destination": "dropbox.com",
            "object": "notes.docx", "bytes": 900_000}
PHOTOS = {"kind": "file", "action": "copy_to_removable", "object": "E:\\Pictures\\2019", "bytes": 40_000_000,
          "destination": "usb7"}
WORK_USB = {**PHOTOS, "object": "E:\\eng\\specs\\pump spec.docx", "bytes": 200_000}


def _leaver_day(fields: dict, n: int = 30) -> list:
    s = Stream()
    s.add("E03", DAY, fields, n)
    s.hr.append(hr("E03", DAY - 5, "notice", resignation_date=day_str(DAY - 5), last_day=day_str(DAY + 2)))
    _, model, alerts = run(s.items())
    assert model.warmed_up()
    return [a for a in alerts if a.rule_id == ID and a.employee_id == "E03"]


def test_uploads_to_the_team_library_on_the_last_days_are_low() -> None:
    got = _leaver_day(TEAM_LIB)
    assert got, "the day is still unusual: the model says so"
    assert {a.severity for a in got} == {"low"}


def test_the_same_uploads_to_a_personal_cloud_are_medium_or_more() -> None:
    got = _leaver_day(PERSONAL)
    assert got and got[0].severity in ("medium", "high", "critical")


def test_own_photos_on_a_thumb_drive_are_not_removable_copies() -> None:
    got = _leaver_day(PHOTOS)
    assert all(a.severity == "low" for a in got)
    assert all(t["feature"] != "removable_copies" for a in got for t in a.explanation["top_features"])


def test_work_files_on_a_thumb_drive_are_medium_or_more() -> None:
    got = _leaver_day(WORK_USB)
    assert got and got[0].severity in ("medium", "high", "critical")
    assert "removable_copies" in [t["feature"] for t in got[0].explanation["top_features"]]
