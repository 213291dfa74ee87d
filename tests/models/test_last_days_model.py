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


# clearing out one's own folder, confidential files included
TIDY = {"kind": "file", "action": "delete", "object": "/sites/eng/docs/a.pdf", "sensitivity": "confidential"}
OUT_MAIL = {"kind": "email", "action": "send", "recipients": ["patient@gmail.com"], "external": True, "count": 0,
            "bytes": 20_000}


def _leaver_day(fields: dict, n: int = 30, also: tuple[dict, int] | None = None) -> list:
    s = Stream()
    s.add("E03", DAY, fields, n)
    if also:
        s.add("E03", DAY, *also)
    s.hr.append(hr("E03", DAY - 5, "notice", resignation_date=day_str(DAY - 5), last_day=day_str(DAY + 2)))
    _, model, alerts = run(s.items())
    assert model.warmed_up()
    return [a for a in alerts if a.rule_id == ID and a.employee_id == "E03"]


def test_uploads_to_the_team_library_on_the_last_days_are_low() -> None:
    got = _leaver_day(TEAM_LIB)
    assert all(a.severity == "low" for a in got)
    assert all(t["feature"] != "uploads" for a in got for t in a.explanation["top_features"])


def test_a_day_when_nothing_left_is_low() -> None:
    """Deleting one's own (confidential) files: unusual, told low; version 2 made it medium."""
    got = _leaver_day(TIDY, 40)
    assert got and {a.severity for a in got} == {"low"}


def test_a_plain_outside_mail_that_day_takes_nothing_out() -> None:
    got = _leaver_day(TIDY, 40, also=(OUT_MAIL, 2))
    assert got and {a.severity for a in got} == {"low"}


def test_what_takes_data_out() -> None:
    from detectors.models.behaviour import _leaves
    from schemas import ActivityEvent

    def e(fields: dict) -> ActivityEvent:
        return ActivityEvent.model_validate({"event_id": "x", "ts": "2026-02-09T10:00:00Z", "actor": "a",
                                             "source": "t", **fields})
    out = [{**OUT_MAIL, "count": 2}, PERSONAL, WORK_USB, {**TEAM_LIB, "action": "share_external"}]
    stays = [OUT_MAIL, TEAM_LIB, {"kind": "web", "action": "visit", "external": True, "destination": "x.com"},
             {"kind": "web", "action": "upload", "external": True, "personal": False, "destination": "github.com",
              "attrs": {"corporate_by_use": 40}}]  # the company's own organisation on github.com
    assert [_leaves(e(f), f["action"]) for f in out] == [True] * 4
    assert [_leaves(e(f), f["action"]) for f in stays] == [False] * 4


def test_the_same_uploads_to_a_personal_cloud_are_medium_or_more() -> None:
    got = _leaver_day(PERSONAL)
    assert got and got[0].severity in ("medium", "high", "critical")


def test_own_photos_on_a_thumb_drive_are_not_removable_copies() -> None:
    got = _leaver_day(PHOTOS)
    assert all(a.severity == "low" for a in got)
    assert all(t["feature"] not in ("removable_copies", "mb_moved") for a in got for t in a.explanation["top_features"])


def test_work_files_on_a_thumb_drive_are_medium_or_more() -> None:
    got = _leaver_day(WORK_USB)
    assert got and got[0].severity in ("medium", "high", "critical")
    assert "removable_copies" in [t["feature"] for t in got[0].explanation["top_features"]]


def test_own_photos_count_in_no_feature_of_the_day() -> None:
    """Neither removable copies nor megabytes moved: the photos are not the company's data."""
    from detectors.context import HRView
    from detectors.models import BehaviourModel
    from detectors.models import features as F
    from detectors.state import EmployeeState
    from schemas import ActivityEvent

    m, st = BehaviourModel(), EmployeeState()
    for i, fields in enumerate((PHOTOS, WORK_USB)):
        e = ActivityEvent.model_validate({"event_id": f"p{i}", "ts": "2026-02-09T10:00:00Z", "actor": "a",
                                          "source": "t", **fields})
        m.observe("E03", st, HRView(), e, 20493, e.ts.timestamp())
        acc = st.extra[ID]["a"]
        if i == 0:
            assert acc[F.F_USB] == 0 and acc[F.F_MB] == 0
    assert acc[F.F_USB] == 1 and acc[F.F_MB] == WORK_USB["bytes"]


def test_a_newcomers_big_crm_export_in_the_notice_is_its_rules_to_judge() -> None:
    """Version 7: a newcomer (a week of own history) exports 400 CRM records in the notice, nothing else unusual:
    low (crm.bulk_export_before_departure judges it against colleagues' largest exports, no own history needed).
    Version 6 graded it medium through the newcomer exception meant for behaviour no rule can judge yet."""
    from schemas import ActivityEvent, HRRecord

    s = Stream(employees=13)
    new, first = "E12", DAY - 8
    s.add(new, DAY, {"kind": "crm", "action": "report_export", "object": "Accounts", "count": 400,
                     "sensitivity": "confidential"}, 1)
    s.hr = [h for h in s.hr if h["employee_id"] != new] + [
        hr(new, first), hr(new, DAY - 2, "notice", resignation_date=day_str(DAY - 2), last_day=day_str(DAY + 10))]
    items = [(0, HRRecord.model_validate(h)) for h in sorted(s.hr, key=lambda h: h["ts"])]
    evs = [e for e in s.events() if not (e["actor"].startswith(new.lower()) and e["ts"] < day_str(first))]
    items = sorted(items + [(2, ActivityEvent.model_validate(e)) for e in evs],
                   key=lambda r: (r[1].ts, r[0]))
    _, model, alerts = run(items)
    assert model.warmed_up()
    got = [a for a in alerts if a.rule_id == ID and a.employee_id == new]
    assert got and got[0].explanation["top_feature"] == "crm_records_exported", [a.explanation for a in got]
    assert got[0].explanation["own_days"] < 14
    assert {a.severity for a in got} == {"low"}
