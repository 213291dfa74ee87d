"""Copies to removable media (USB drives, SD cards) on one day markedly above the employee's own normal.

Counts ``file`` ``copy_to_removable`` events, each worth its ``count`` (files) or 1. Fires when a day is
above 3 times the employee's usual daily copies, 3 standard deviations above it, and at least 10 files.
The baseline learns from normal days only (not in notice, not within 30 days of the last day, not a day
that already alerted) and is trusted after 14 learned days.

Version 2 counts work content only: personal media (photos, music, videos in a personal-media folder such as
``E:\\Pictures\\2019``: :func:`detectors.content.personal_media`) count nothing, whatever their number; a work
file in such a folder still counts. Version 1 flagged 15 of 51 honest leavers of two outside companies (400
employees, 100 days, seed 1) at high or critical for copying 15-300 of their own photos to a thumb drive on
their last day.

Version 3: never copying to removable media is a normal too. The departure period teaches no baseline, so
someone terminated on the spot, whose last 30 days are the departure period, can have fewer than 14 learned
days though they were seen for months. With at least 28 days of own history (``AboveBaseline.absent_days``, as
``device.first_removable_media`` asks) and no copy in any learned day, a day of 10 or more work files is
judged as the first ever, at the rule's own severity. In outside_c seed 2 an engineer terminated on the spot
filled a new thumb drive with 40 work files on the last evening, with 43 days of history of which 13 were
learned, and got only ``device.first_removable_media`` (low).

Version 4: "no copy before" no longer depends on the order records of nearby times are applied in. It was read
from the days the series still kept, and a copy day that taught no baseline (the departure period) is dropped
once a record of a later day is applied: a copy applied after the next day's first record (the worker's time
merge does that now and then) looked like the first ever. The first day with a copy is now remembered
(``windows.FIRST_VALUE``). In time order the last copy day was always still kept, so replay is unchanged (the
shuffle test, tests/detectors/test_rules_shuffle.py, found it: a generated leaver's 10 files a week after 81 in
the notice raised a high alert in 2 of 2 shuffled orders, none in time order).
"""

from detectors.content import personal_media
from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


def removable_copy_spike(e: ActivityEvent) -> int:
    if e.kind != "file" or e.action != "copy_to_removable" or personal_media(e.object):
        return 0
    return e.count or 1


_STAYER = [hr("2026-01-01T09:00:00Z")]
_LEAVER = [hr("2026-01-01T09:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
# Seen from 2 March (work every day), terminated on the spot on 13 April: the 30 days before are not learned.
_SEEN = daily("2026-03-02", 42, per_day=1, action="open")
_FIRED = [hr("2026-01-01T09:00:00Z"),
          hr("2026-04-13T16:00:00Z", status="notice", last_day="2026-04-13", resignation_date="2026-04-13")]
# Someone who moves 2 files a day to a USB stick, for 30 days.
_HISTORY = daily("2026-01-10", 30, per_day=2, action="copy_to_removable")

RULE = Rule(
    id="device.removable_copy_spike",
    version="4",
    title=(
        "{observed:.0f} files copied to removable media on {day}, {ratio_to_own_normal}x the employee's usual "
        "{baseline[mean]:.1f} a day (limit {threshold:.0f}){first_ever}; HR status {status}"
    ),
    description=__doc__,
    severity="high",
    score=60,
    predicate=removable_copy_spike,
    kinds=("file",),
    window=AboveBaseline(when="always", factor=3.0, z=3.0, min_value=10.0, absent_days=28),
    runbook=(
        "Identify the device (host, destination) and the files (evidence); check whether the device is a "
        "company-issued encrypted drive; ask the manager about the business need; in notice, ask for the drive "
        "to be returned with the asset hand-in."
    ),
    false_positives=(
        "Field staff preparing presentations or offline material for a trip",
        "Backups to a company-issued encrypted drive",
    ),
    examples=(
        Example("40 files in a day against a normal of 2", True,
                _HISTORY + daily("2026-02-12", 1, per_day=40, action="copy_to_removable"), _STAYER),
        Example("one event counting 25 files, in notice", True,
                _HISTORY + daily("2026-03-10", 1, per_day=1, action="copy_to_removable", count=25), _LEAVER),
        Example("10 files is not above the floor of 10", False,
                _HISTORY + daily("2026-02-12", 1, per_day=10, action="copy_to_removable"), _STAYER),
        Example("someone who always copies about 30 a day", False,
                daily("2026-01-10", 30, per_day=30, action="copy_to_removable")
                + daily("2026-02-12", 1, per_day=45, action="copy_to_removable"), _STAYER),
        Example("300 of one's own photos on the last day, in notice", False,
                _HISTORY + daily("2026-03-31", 1, per_day=1, action="copy_to_removable", count=300,
                                 object="E:\\Pictures\\2019"), _LEAVER),
        Example("... but 40 spreadsheets put in a photo folder are work", True,
                _HISTORY + daily("2026-03-31", 1, per_day=40, action="copy_to_removable",
                                 object="E:\\Pictures\\2019\\BOM 001.xlsx"), _LEAVER),
        Example("ordinary copies (not to removable media) do not count", False,
                _HISTORY + daily("2026-02-12", 1, per_day=40, action="copy"), _STAYER),
        Example("no history yet: the baseline is not trusted", False,
                daily("2026-02-12", 1, per_day=40, action="copy_to_removable"), _STAYER),
        Example("terminated on the spot: 40 files on the last evening, seen for 42 days, 13 of them learned", True,
                _SEEN + daily("2026-04-13", 1, per_day=1, hour=23, action="copy_to_removable", count=40), _FIRED),
        Example("... the same with only 19 days seen: too little history to call it a first", False,
                _SEEN[23:] + daily("2026-04-13", 1, per_day=1, hour=23, action="copy_to_removable", count=40),
                _FIRED),
        Example("... and someone who copied to a drive in a learned day is judged on their baseline", False,
                _SEEN[:5] + daily("2026-03-06", 1, per_day=1, action="copy_to_removable", count=12) + _SEEN[5:]
                + daily("2026-04-13", 1, per_day=1, hour=23, action="copy_to_removable", count=40), _FIRED),
    ),
)
