"""Honest leavers' last days: the last working day is the employee's own (a night shift, a late evening, a
company on another clock), and acts of tidying up are not graded as theft (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest

from detectors import habits
from detectors.examples import ev, hr, run_in_time_order
from detectors.habits import Habits
from detectors.rules.activity.after_departure import RULE as AFTER
from detectors.state import EmployeeState


_run = run_in_time_order


LEAVER = [hr("2026-01-01T09:00:00Z"),
          hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]


def _shift(start: dt.datetime, hours: int, actor: str = "ann@corp.example", action: str = "view") -> list[dict]:
    return [ev((start + dt.timedelta(minutes=40 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"), actor=actor, action=action)
            for i in range(hours * 3 // 2)]


def test_stretch_keeps_a_night_shift_on_the_day_it_began() -> None:
    h, st = Habits(), EmployeeState()
    d = 20000
    assert h.stretch(st, d * 86400 + 21 * 3600, d) == d          # begins at 21:00 UTC
    assert h.stretch(st, (d + 1) * 86400 + 3600, d + 1) == d    # 01:00 the next day: still that day's work
    assert h.stretch(st, (d + 1) * 86400 + 6 * 3600, d + 1) == d
    assert h.stretch(st, (d + 1) * 86400 + 13 * 3600, d + 1) == d + 1  # after a 7-hour rest: a new day
    # a stretch is at most STRETCH_S long, however short its pauses
    st2 = EmployeeState()
    days = {h.stretch(st2, d * 86400 + 3600 * k, d + (k >= 24)) for k in range(0, 40)}
    assert d + 1 in days


def test_company_boundary_needs_enough_history() -> None:
    h = Habits()
    h.hours.touch(0, "hours")[:] = [1, 0, 0, 0, 0, 0, 2, 3, 3, 3, 2, 1]
    assert h.company_boundary() == -1  # 15 block-days: nothing to say yet


def test_company_hours_are_an_engine_wide_memory() -> None:
    """Two partitions' contributions add up; a restarted engine reading the records answers the same."""
    h = Habits()
    for part, mask in ((0, 0b111111000000), (3, 0b000011000000)):
        h.part = part
        for _ in range(30):
            h.hours.add(part, mask)
    assert h.company_boundary() == 3
    assert h.hours in h.memories
    new = Habits()
    for key, _, value in h.hours.dump():
        new.hours.load(key, value)
    assert new.hours.totals() == h.hours.totals() and new.company_boundary() == 3
    new.hours.load("w3|hours", None)  # another worker's partition gone: its counts go, the answer follows
    assert new.hours.totals()[6] == 30


def test_a_night_shift_on_the_last_day_is_not_after_it() -> None:
    night = _shift(dt.datetime(2026, 3, 31, 21), 13)
    assert night[-1]["ts"].startswith("2026-04-01T09")
    assert _run(AFTER, LEAVER, night) == []
    # the same events with no notion of a stretch: version 3 flagged them
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(habits, "STRETCH_S", 0)
        assert len(_run(AFTER, LEAVER, night)) == 1


def test_rotating_shifts_take_the_company_day() -> None:
    """A nurse on rotating shifts (active round the clock: no quiet hours of her own) in a New York company:
    clean-up at 03:10 UTC after her last day's morning shift is her last day's evening; work the next UTC
    afternoon is after the last day."""
    events: list[dict] = []
    day0 = dt.datetime(2026, 2, 2)
    hrs = list(LEAVER)
    for c in range(12):  # colleagues in New York: 09:00-21:00 local, 14:00-02:00 UTC
        who = f"c{c}@corp.example"
        hrs.append(hr("2026-01-01T09:00:00Z", employee_id=f"C{c}", accounts=[who]))
        for d in range(40):
            events += _shift(day0 + dt.timedelta(days=d, hours=14), 12, actor=who)
    for d in range(40):  # the nurse: a week of mornings, a week of afternoons, a week of nights
        start = [3, 11, 19][(d // 7) % 3]
        events += _shift(day0 + dt.timedelta(days=d, hours=start), 8)
    events += _shift(dt.datetime(2026, 3, 31, 3), 8)  # the last day: 03:00-11:00 UTC
    tidy = [ev("2026-04-01T03:10:00Z", action="delete"), ev("2026-04-01T03:20:00Z", action="delete")]
    assert _run(AFTER, hrs, events + tidy) == []
    with pytest.MonkeyPatch.context() as mp:  # without the company's day: flagged
        mp.setattr(Habits, "company_boundary", lambda self: -1)
        assert len(_run(AFTER, hrs, events + tidy)) == 1
    late = tidy + [ev("2026-04-01T17:00:00Z", action="download")]
    assert len(_run(AFTER, hrs, events + late)) == 1


def _new_york(hrs: list[dict], events: list[dict]) -> None:
    """Twelve colleagues in New York: 09:00-21:00 local (14:00-02:00 UTC), 40 days."""
    for c in range(12):
        who = f"c{c}@corp.example"
        hrs.append(hr("2026-01-01T09:00:00Z", employee_id=f"C{c}", accounts=[who]))
        for d in range(40):
            events += _shift(dt.datetime(2026, 2, 2) + dt.timedelta(days=d, hours=14), 12, actor=who)


def test_a_night_worker_west_of_utc_takes_the_company_day() -> None:
    """A night porter in New York (23:00-07:00 local, 03:00-11:00 UTC: his own day begins in the UTC afternoon)
    mails in the afternoon of his last day and tidies up at 22:19 local (02:19 UTC the next day)."""
    hrs, events = list(LEAVER), []
    _new_york(hrs, events)
    for d in range(39):  # up to his last night, which ends at 11:00 UTC on his last day
        events += _shift(dt.datetime(2026, 2, 21) + dt.timedelta(days=d, hours=3), 8)
    last = [ev("2026-03-31T19:15:00Z", action="send", kind="email"), ev("2026-04-01T02:19:00Z", action="delete")]
    assert _run(AFTER, hrs, events + last) == []
    with pytest.MonkeyPatch.context() as mp:  # his own day alone: flagged
        mp.setattr(Habits, "company_boundary", lambda self: -1)
        assert len(_run(AFTER, hrs, events + last)) == 1
    assert len(_run(AFTER, hrs, events + last + [ev("2026-04-01T15:00:00Z", action="download")])) == 1


def test_access_days_after_leaving_still_fires() -> None:
    night = _shift(dt.datetime(2026, 3, 31, 21), 13)
    later = _shift(dt.datetime(2026, 4, 2, 22), 6, action="download")
    got = _run(AFTER, LEAVER, night + later)
    assert len(got) == 1 and got[0].explanation["day"] == "2026-04-02"


def test_evening_access_days_after_leaving_still_fires_in_the_company_day() -> None:
    """A New York leaver who comes back on evenings after the last day (19:00-22:00 local, 00:00-03:00 UTC: before
    the company's day begins) is after the last day whichever day the evening belongs to."""
    hrs, events = list(LEAVER), []
    _new_york(hrs, events)
    for d in range(38):  # rotating shifts up to the last day
        start = [3, 11, 19][(d // 7) % 3]
        events += _shift(dt.datetime(2026, 2, 21) + dt.timedelta(days=d, hours=start), 8)
    evenings = [ev(f"2026-04-0{d}T0{h}:30:00Z", action="download") for d in (3, 4, 6) for h in (0, 1, 2)]
    got = _run(AFTER, hrs, events + evenings)
    assert len(got) == 1 and got[0].explanation["day"] == "2026-04-03"
    with pytest.MonkeyPatch.context() as mp:  # marked "previous day" regardless: the evenings would be hidden
        mp.setattr(habits, "_past_last_day", lambda st, day: False)
        assert _run(AFTER, hrs, events + evenings) == []


# ------------------------------------------------------------------------------------------ the last days' acts
from detectors.examples import daily  # noqa: E402
from detectors.rules.device.removable_copy_spike import RULE as USB  # noqa: E402
from detectors.rules.file.mass_deletion_before_departure import RULE as DELETE  # noqa: E402

USB_HISTORY = daily("2026-01-10", 30, per_day=2, action="copy_to_removable", object="E:\\team\\notes.docx")


@pytest.mark.parametrize("photos", [r"E:\Pictures\2019", r"E:\Pictures\2019\IMG_0042.JPG", r"F:\DCIM\100APPLE",
                                    r"E:\My Music\Album"])
def test_own_photos_to_a_thumb_drive_on_the_last_day_do_not_fire(photos: str) -> None:
    copies = daily("2026-03-31", 1, per_day=1, action="copy_to_removable", count=230, object=photos)
    assert _run(USB, LEAVER, USB_HISTORY + copies) == []


def test_work_files_to_a_thumb_drive_on_the_last_evening_fire_high() -> None:
    copies = daily("2026-03-31", 1, per_day=1, hour=21, action="copy_to_removable", count=230,
                   object=r"E:\digital\projects\tolerance_studys\BOM 001.xlsx")
    got = _run(USB, LEAVER, USB_HISTORY + copies)
    assert len(got) == 1 and got[0].severity in ("high", "critical")


LIB = "https://corp.sharepoint.com/sites/clinical/Shared Documents/"
# a working day from 09:00 to 18:00 (the deletions below at 15:00 are at the employee's own hours: version 7 of
# the deletion rule weighs deletions at hours never worked double)
OWN_WORK = ([e for h in range(9, 19, 2) for e in daily("2026-01-10", 40, hour=h, action="open", object="notes.txt")]
            + daily("2026-01-10", 40, per_day=3, action="open", object=LIB + "plans/plan.docx")
            + daily("2026-01-10", 40, per_day=1, action="download", object=LIB + "trackers/t.xlsx"))


def _deletions(obj: str | None, n: int) -> list[dict]:
    extra = {"object": obj} if obj else {}
    return [ev(f"2026-03-31T15:{i % 60:02d}:00Z", action="delete", **extra) for i in range(n)]


def test_clearing_own_team_library_on_the_last_day_does_not_fire() -> None:
    assert _run(DELETE, LEAVER, OWN_WORK + _deletions(LIB + "archive/old plan.docx", 400)) == []


def test_wiping_a_share_never_worked_in_is_critical() -> None:
    got = _run(DELETE, LEAVER, OWN_WORK + _deletions(r"\\srv08\it\it\archive\network_diagrams\runbook.csv", 400))
    assert len(got) == 1 and got[0].severity == "critical"


def test_wiping_far_beyond_a_clean_up_of_own_files_is_not_low() -> None:
    got = _run(DELETE, LEAVER, OWN_WORK + _deletions(LIB + "archive/old plan.docx", 1200))
    assert len(got) == 1 and got[0].severity in ("high", "critical")
    assert got[0].explanation["unexplained_share"] == 0.25


def test_deletions_without_a_path_weigh_fully() -> None:
    got = _run(DELETE, LEAVER, OWN_WORK + _deletions(None, 400))
    assert len(got) == 1 and got[0].severity == "critical"


def test_job_search_then_own_photos_is_no_exfiltration() -> None:
    from detectors.rules.sequence import job_search_then_exfiltration as seq

    work = daily("2026-01-05", 40, per_day=3, action="open")
    search = [ev(f"2026-03-{d:02d}T12:00:00Z", action="visit", kind="web", object="https://jobs.example/x",
                 attrs={"category": "job_search"}) for d in (16, 18, 23, 25)]
    photos = daily("2026-03-31", 1, per_day=1, hour=15, action="copy_to_removable", count=26,
                   object=r"E:\Pictures\2024", destination="USB-NEW")
    assert _run(seq.RULE, LEAVER, work + search + photos) == []
    with pytest.MonkeyPatch.context() as mp:  # photos taken as work files: version 3 flagged it
        mp.setattr(seq, "personal_media", lambda obj: False)
        assert len(_run(seq.RULE, LEAVER, work + search + photos)) == 1
    work_files = [{**e, "object": r"E:\clinical\plans\plan 001.xlsx"} for e in photos]
    assert len(_run(seq.RULE, LEAVER, work + search + work_files)) == 1
