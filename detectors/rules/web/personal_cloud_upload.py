"""Uploads to personal cloud storage (a ``web`` or ``file`` upload whose destination is ``personal``).

What makes it matter is what went and who sent it. The value of an upload is its weight times its file
count (``count``; a proxy log that gives no count but the bytes counts each started ``BYTES_PER_FILE``, 25 MB,
as one file, so a 600 MB upload is not one file; else 1): a confidential or restricted object weighs
``SENSITIVE_WEIGHT`` (3), an internal or unlabelled one 1, a public one 0. A destination that many colleagues
use routinely (a company's GitHub organisation on a domain listed as personal) is the company's own: the
engine does not mark uploads to it personal (``detectors.habits``; version 2). The rule fires when a day's weight reaches 3: one sensitive file, or
three other non-public files; a single holiday photo does not. Grading then does the rest: in notice or
near the last day the score rises, ten times the employee's usual uploads raises the severity, and someone
who syncs to a personal drive every day is graded low.

Version 3: on the last working day (or the UTC day after it, which holds a late evening), a day of uploads
that is the employee's first in the departure period (30 days before the last day, or the notice if earlier)
is graded low: people take their own things home on their last day, and version 2 flagged 4 of 31 honest
leavers in a remote-first company for one upload of 75-200 MB then. Uploads earlier in the departure period,
or on several of its days, are graded as before (and ``web.personal_cloud_repeated_before_departure`` weighs
them together against the person's own habit).

Version 4: HR news arrives late. Someone terminated on the spot is "active" until the afternoon of their last
day; a resignation is often recorded days after it was given. Their uploads before the news were graded as a
stayer's (low), and the rule's episode, already raised, took nothing more. When the news arrives, the days of
the departure period (30 days before the last day, or from the notice if earlier) are read again under the new
picture (:meth:`detectors.windows.OnEventTakeHome.lookback`): the episode is raised once more, graded as a
leaver's. In outside_c seed 2 a backend engineer uploaded 726, 884 and 332 MB to three personal services in the
12 days before a termination on the spot and got one low alert.

Version 5: one's own photos, videos and music count nothing (:func:`detectors.content.own_media`: an
unlabelled media file in a personal-media folder, or named alone, without a folder, as a proxy names an upload
of one file); a labelled one, or one in a work folder, still counts. The same weights feed
``web.personal_cloud_first_before_departure`` and ``web.personal_cloud_repeated_before_departure``, which
flagged two honest leavers of the own profiles (shifts and subtle, seed 1) at medium for one or two holiday
photos sent to a personal drive in their notice, while the thieves these rules catch upload documents.

Version 6 (issue 14): a day of uploads that is the employee's own habit is graded low. Some people upload to
personal storage every week or two for months (a designer's portfolio, a marketer's media kit), up to hundreds of
MB at a time, and a 60 MB day in their notice read "20x usual" against a daily mean that is mostly zero. A day is
their habit when they uploaded on at least ``HABIT_DAYS`` (3) days before the departure period (30 days before the
last day, or the notice if earlier; for someone staying, before that day), the first of them at least
``HABIT_AGE_DAYS`` (30) days before, the day weighs no more than their largest upload day before the period
(magnitude against their own history), and it is the only day of the period at or above the threshold. The days
read are the ones the window keeps (its horizon, about two months): less history is no habit. Everything else is
graded as before: a first upload, one or two earlier days, a day bigger than any before (a thief's 700 MB after
weekly 5-30 MB uploads), a second day over the threshold (raised again at the rule's severity:
:meth:`HabitTakeHome.raises_again`). The same rule in mail: ``email.sensitive_to_personal`` v2.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView, day_date
from detectors.content import own_media
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.state import EmployeeState, Series
from detectors.windows import LOW_BELOW, RATIO_CAP, OnEventTakeHome, raised_above_episode
from schemas import ActivityEvent

UPLOAD_KINDS = frozenset({"web", "file"})
SENSITIVE_WEIGHT = 3.0
WEIGHT = {"restricted": SENSITIVE_WEIGHT, "confidential": SENSITIVE_WEIGHT, "internal": 1.0, None: 1.0,
          "public": 0.0}
#: Bytes that count as one file when an upload names no file count (a proxy or CASB log).
BYTES_PER_FILE = 25_000_000
#: Version 6, the employee's own habit: upload days before the departure period, the first this many days before.
HABIT_DAYS = 3
HABIT_AGE_DAYS = 30


def personal_cloud_upload(e: ActivityEvent) -> float:
    if e.action != "upload" or e.personal is not True or e.kind not in UPLOAD_KINDS or own_media(e.object, e.sensitivity):
        return 0.0
    if e.count:
        n = e.count
    elif e.bytes:
        n = max(1, -(-e.bytes // BYTES_PER_FILE))
    else:
        n = 1
    return WEIGHT[e.sensitivity] * n


@dataclass(frozen=True)
class HabitTakeHome(OnEventTakeHome):
    """``OnEventTakeHome`` graded low on a day that is the employee's own habit of uploading (version 6)."""

    #: a day other than the one alerted, graded above the episode's severity (a habit's low day, then one that
    #: is no habit), is raised again
    raises_again = staticmethod(raised_above_episode)

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        f = super().check_day(s, hr, day, st, rid)
        if f is None:
            return None
        f = dataclasses.replace(f, extra={**f.extra, "habit": ""})
        if f.ratio is not None and f.ratio < LOW_BELOW:
            return f  # low already (a take-home, or their usual)
        cut = day
        if hr.last_day is not None:
            cut = min(day, hr.departure_start(self.days))
        before = sorted((d, v) for d, v in s.days.items() if d < cut and v > 0)
        if len(before) < HABIT_DAYS or day - before[0][0] < HABIT_AGE_DAYS:
            return f
        largest = max(v for _, v in before)
        value = s.days.get(day, 0.0)
        others = [d for d, v in s.days.items() if cut <= d <= max(day, hr.last_day or day) + 1 and d != day
                  and v >= self.min_value]
        if value > largest or others:
            return f
        ratio = min(f.ratio if f.ratio is not None else RATIO_CAP, LOW_BELOW * 0.99)
        return dataclasses.replace(f, ratio=ratio, extra={**f.extra, "habit": (
            f"; they uploaded on {len(before)} days before, since {day_date(before[0][0])}, up to {largest:.0f} in a day: "
            "their habit (graded low)")})


_STAYER = [hr("2026-01-01T09:00:00Z")]
_LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
_UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="drive.example-personal.com")

RULE = Rule(
    id="web.personal_cloud_upload",
    version="6",
    title=(
        "Uploads to personal cloud storage on {day} weigh {observed:.0f} (a confidential or restricted file "
        "counts 3, any other non-public file 1; {threshold:.0f} or more is flagged); HR status {status}{take_home}"
        "{habit}"
    ),
    description=__doc__,
    severity="medium",
    score=50,
    predicate=personal_cloud_upload,
    kinds=("file", "web"),
    window=HabitTakeHome(when="always", min_value=3.0, days=30),
    runbook=(
        "Identify the service and account (destination) and the files (evidence); ask whether a personal account "
        "was used by mistake for a work share; in notice, ask the employee to delete the copies and confirm in "
        "writing; block the service if policy allows."
    ),
    false_positives=(
        "Employees syncing their own documents (CV, payslips) to a private drive",
        "Unlabelled files counted as internal that are in fact personal",
        "A personal flag set by a domain list that is out of date",
    ),
    examples=(
        Example("one 100 MB upload on the last working day, the first of the departure: a take-home (graded low)",
                True, [ev("2026-03-31T16:00:00Z", bytes=100_000_000, **_UP)], _LEAVER),
        Example("the same upload two weeks before the last day is not a take-home", True,
                [ev("2026-03-17T16:00:00Z", bytes=100_000_000, **_UP)], _LEAVER),
        Example("one restricted file to a personal drive", True,
                [ev("2026-02-10T10:00:00Z", sensitivity="restricted", **_UP)], _STAYER),
        Example("a sync client uploading 4 unlabelled files in notice", True,
                [ev("2026-03-10T10:00:00Z", kind="file", action="upload", personal=True, count=4)], _LEAVER),
        Example("one 600 MB upload without a file count or label (a proxy log)", True,
                [ev("2026-02-10T10:00:00Z", bytes=600_000_000, **_UP)], _STAYER),
        Example("a 40 MB upload without a file count: two files' worth", False,
                [ev("2026-02-10T10:00:00Z", bytes=40_000_000, **_UP)], _STAYER),
        Example("the company's own destination: a domain listed as personal that 30 colleagues use routinely", False,
                [ev(f"2026-02-{2 + d:02d}T10:00:00Z", actor=f"u{u}@corp.example", employee_id=f"U{u}",
                    **{**_UP, "destination": "github.com"})
                 for u in range(30) for d in range(3)]
                + [ev("2026-02-10T10:00:00Z", count=8, **{**_UP, "destination": "github.com"})], _STAYER),
        Example("two internal files: just under", False,
                daily("2026-02-10", 1, per_day=2, sensitivity="internal", **_UP), _STAYER),
        Example("public files do not count", False,
                daily("2026-02-10", 1, per_day=10, sensitivity="public", **_UP), _STAYER),
        Example("five holiday photos, each named alone, in notice: one's own", False,
                daily("2026-03-10", 1, per_day=5, object="photo-576.jpg", **_UP), _LEAVER),
        Example("... but five labelled pictures are work", True,
                daily("2026-03-10", 1, per_day=5, object="photo-576.jpg", sensitivity="internal", **_UP), _LEAVER),
        Example("a confidential upload to a company drive", False,
                [ev("2026-02-10T10:00:00Z", kind="web", action="upload", sensitivity="confidential", personal=False,
                    destination="corp.sharepoint.example")], _STAYER),
        Example("downloads from a personal drive are not uploads", False,
                [ev("2026-02-10T10:00:00Z", kind="web", action="download", sensitivity="restricted",
                    personal=True)], _STAYER),
    ),
)
