"""Job-site visits followed within 30 days by data moved somewhere new to the employee: a removable device,
a personal address, a personal cloud, or people at a competitor.

First step (``job_site_visit``): a ``web`` ``visit`` to a job board or recruiting site: the connectors'
``attrs.category`` ``job_search`` (``connectors/classification.toml``), or the list in ``sequence/_lists.py``
matched on the URL in ``object`` or the ``destination`` domain. Last step: files copied to removable media,
mail sent or forwarded to a personal address or to people at a competitor, or an upload to personal cloud
storage, each worth its ``count`` or 1, counted only when it goes to a destination (the device, the first
recipient, the site) the employee first used in the last 7 days, once they had 14 days of history: honest
leavers browse job sites and then do their ordinary work, which includes their usual thumb drive and their
usual private address (device connects are ``sequence.job_search_then_device_use``). Benign people glance at
a job site now and then, so it takes at least 3 job-site visits in the 30 days before, at least 5 files or
messages to new destinations on one day, and at least 3 times the employee's usual daily amount of such
data (nothing is judged before they have 14 days of history). Fires for anyone (many leavers search before
they resign, so HR news is not needed); one alert per episode (``detectors.engine``).

Version 3: the last step needs a new destination and a known normal; version 2 flagged 5 or 6 honest people
per company profile (their usual USB drive, in their first weeks of history).

Version 4: one's own photos, music and videos copied to a thumb drive (``E:\\Pictures\\2019``:
:func:`detectors.content.personal_media`) are no data moved; version 3 flagged 6 honest leavers of two outside
companies (400 employees, 100 days, seed 1) medium for taking their photos home on the last day after a few
job-site visits.

Version 5: files copied to removable media by someone who is not leaving, when such copies are their team's
habit (``attrs.routine`` ``"team"``, ``detectors.habits``: at least 3 others of their department or role, and
40% of it, copied files to removable media), are their work, not data moved: the marketing staff who carry
presentations to trade fairs, test engineers who move builds to test rigs. Version 4 flagged 3 such staying
employees of one outside company (400 employees, 100 days, seed 2) high: 15-25 team presentations to a thumb
drive new to them, a week or three after 3-4 job-site visits, in roles where 18 of 18 and 13 of 14 colleagues
copy to thumb drives every few weeks. Someone leaving or on the watchlist is judged as before (the team's habit
does not cover them), and so is mail, personal cloud and competitor mail. The team's copies still teach the
person's own normal (a leaver who copied as the team did is judged against it, as in version 4): the rule keeps
the day's team-habit copies apart (:func:`observe`, ``st.extra["jr"]``, the last :data:`ROUTINE_DAYS` days) and
the last step is that day's amount without them. (They are subtracted whether or not their drive was new to the
person: a miss, never a false alert.)

Version 6: the job-site visits must fall on at least :data:`MIN_SEARCH_DAYS` different days. A search for work is
something one comes back to; three pages of one sitting are one glance. Version 5 flagged a staying design
engineer of an outside company (400 employees, 100 days, seed 1) high for three job-board pages within eight
minutes, then his first thumb drive three weeks later. Every thief this rule caught on the 18 evaluation companies
had visited job sites on 3 to 21 days of the 30 (:data:`JOB_DAYS`, ``st.extra``: the last days with a visit,
recorded when the visit is read, whatever order the streams arrive in).
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from detectors.content import personal_media
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.sequence._lists import is_job_site
from detectors.state import EmployeeState, Series
from detectors.windows import Sequence
from schemas import ActivityEvent

SENDS = frozenset({"send", "forward", "auto_forward"})
UPLOAD_KINDS = frozenset({"web", "file"})


def job_site_visit(e: ActivityEvent) -> bool:
    return e.kind == "web" and e.action == "visit" and (
        e.attrs.get("category") == "job_search" or is_job_site(e.destination, e.object))


def job_search_then_exfiltration(e: ActivityEvent) -> int:
    a = e.action
    if a == "copy_to_removable":
        return 0 if personal_media(e.object) else (e.count or 1)
    if e.kind == "email" and a in SENDS and "competitor" in (e.attrs.get("recipient_categories") or ()):
        return e.count or 1
    if e.personal is not True:
        return 0
    if (a == "upload" and e.kind in UPLOAD_KINDS) or (e.kind == "email" and a in SENDS):
        return e.count or 1
    return 0


#: Different days with a job-site visit that the first step needs.
MIN_SEARCH_DAYS = 3
#: st.extra key of the last days (day numbers) on which the employee visited a job site (at most JOB_DAYS_KEPT).
JOB_DAYS = "jd"
JOB_DAYS_KEPT = 4

#: st.extra key of the team-habit copies of the last days: ``[[day, files], ...]``.
ROUTINE = "jr"
ROUTINE_DAYS = 3


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float) -> None:
    """Keep the day's copies to removable media that the engine marked the team's habit (``attrs.routine``)."""
    if e.action != "copy_to_removable" or e.attrs.get("routine") != "team" or personal_media(e.object):
        return
    rec: list[list[int]] = st.extra.setdefault(ROUTINE, [])
    entry = next((x for x in rec if x[0] == day), None)
    if entry is None:
        rec.append([day, 0])
        entry = rec[-1]
    entry[1] += e.count or 1
    rec.sort()
    del rec[:-ROUTINE_DAYS]


@dataclass(frozen=True)
class BeyondTeamHabit(Sequence):
    """A :class:`Sequence` whose first step needs job-site visits on :data:`MIN_SEARCH_DAYS` different days and
    whose last step is the day's amount without the copies that are the team's habit."""

    def on_late_first(self, s: Series | None, hr: Any, t: float, st: EmployeeState, rid: str) -> Any:
        """Called for every first step (a job-site visit), in or out of time order: remember its day first."""
        d = int(t // 86400)
        days: list[int] = st.extra.setdefault(JOB_DAYS, [])
        if d not in days:
            days.append(d)
            days.sort()
            del days[:-JOB_DAYS_KEPT]
        return super().on_late_first(s, hr, t, st, rid)

    def _check_at(self, s: Series, t: float, day: int, st: EmployeeState, rid: str) -> Any:
        lo = int((t - self.within_hours * 3600) // 86400)
        if sum(lo <= d <= day for d in st.extra.get(JOB_DAYS, ())) < MIN_SEARCH_DAYS:
            return None
        routine = sum(n for d, n in st.extra.get(ROUTINE, ()) if d == day)
        if routine:
            s = dataclasses.replace(s, days={**s.days, day: max(0.0, s.days.get(day, 0.0) - routine)})
        return super()._check_at(s, t, day, st, rid)


def destination_key(e: ActivityEvent) -> str:
    """What an event sends data to: its first recipient, else its kind and destination (a device, a domain); a
    rule's ``fresh`` key for "somewhere new to the employee".

    >>> destination_key(ActivityEvent.model_validate({"event_id": "a", "ts": "2026-03-02T10:00:00Z",
    ...     "kind": "file", "action": "copy_to_removable", "actor": "ann", "source": "x", "destination": "USB-1"}))
    'file:usb-1'
    """
    if e.recipients:
        return "to:" + e.recipients[0].lower()
    return f"{e.kind}:{(e.destination or e.action).lower()}"


_HR = [hr("2026-01-01T09:00:00Z")]
# a month of ordinary work first: nothing is judged without 14 days of history
_WORK = daily("2026-01-05", 30, per_day=3, action="open")
_SEARCH = [ev(f"2026-02-0{d}T12:{m}:00Z", action="visit", kind="web", object=url)
           for d, m, url in ((2, 10, "https://www.indeed.com/viewjob?jk=1"),
                             (3, 15, "https://www.linkedin.com/jobs/view/42"),
                             (5, 20, "https://uk.glassdoor.com/Job/index.htm"))]

# a marketing department of five, each copying 20 files to a thumb drive on two days in January
_MKT_HR = [hr("2026-01-01T09:00:00Z", employee_id=f"M{i}", accounts=[f"m{i}@corp.example"], department="Marketing")
           for i in range(5)]
_MINE_MKT = hr("2026-01-01T09:00:00Z", department="Marketing")
_MKT = [ev(f"2026-01-{d + i:02d}T09:00:00Z", actor=f"m{i}@corp.example", action="copy_to_removable", count=20,
           destination=f"USB-M{i}") for i in range(5) for d in (6, 20)]

RULE = Rule(
    # The signal comes before anyone resigns (CERT scenario 2), so it keeps its severity for people staying.
    staying_cap=None,
    id="sequence.job_search_then_exfiltration",
    version="6",
    title=(
        "{first_steps} job-site visits since {window_start}, then {observed:.0f} files or messages moved to "
        "removable media, personal mail, personal cloud or a competitor new to the employee on {day} "
        "({hours_since_first} h after the first visit); status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=job_search_then_exfiltration,
    kinds=("email", "file", "web"),
    first=job_site_visit,
    fresh=destination_key,
    observe=observe,
    window=BeyondTeamHabit(within_hours=24 * 30, min_first=3, then_min=5, then_factor=3.0, fresh_days=7,
                           warmup_days=14),
    runbook=(
        "Treat the job search as context, not wrongdoing: look at what left (evidence after the visits) and its "
        "sensitivity; if it is company data, raise it with HR and the manager as a possible pre-resignation "
        "collection; do not confront the employee about the job search itself."
    ),
    false_positives=(
        "Recruiters and HR staff who visit job boards as their work",
        "Employees who regularly move work files to a company-approved USB drive",
    ),
    examples=(
        Example("3 job-site visits, then 12 files to a new USB drive a week later", True,
                _WORK + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable",
                                        destination="USB-NEW"), _HR),
        Example("... but 120 of one's own photos to a new USB drive are no data moved", False,
                _WORK + _SEARCH + daily("2026-02-12", 1, per_day=1, action="copy_to_removable", count=120,
                                        object="E:\\Pictures\\2019", destination="USB-NEW"), _HR),
        Example("visits, then a folder of 6 files to a personal drive", True,
                _WORK + _SEARCH + [ev("2026-02-20T18:00:00Z", kind="web", action="upload", personal=True, count=6,
                                      destination="dropbox.com")], _HR),
        Example("visits, then 6 messages to people at a competitor", True,
                _WORK + _SEARCH + daily("2026-02-12", 1, per_day=6, action="send", recipients=["x@rival.example"],
                                        attrs={"recipient_categories": ["competitor"]}), _HR),
        Example("three job-board pages in one sitting, then 12 files to a new USB drive: one glance", False,
                _WORK + [ev(f"2026-02-02T12:{m}:00Z", action="visit", kind="web",
                            object=f"https://www.indeed.com/viewjob?jk={m}") for m in (10, 14, 18)]
                + daily("2026-02-12", 1, per_day=12, action="copy_to_removable", destination="USB-NEW"), _HR),
        Example("a single glance at a job board, then 12 files to USB", False,
                _WORK + _SEARCH[:1] + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("job search, then a single file to USB", False,
                _WORK + _SEARCH + [ev("2026-02-12T10:00:00Z", action="copy_to_removable")], _HR),
        Example("the exfiltration 40 days after the visits", False,
                _WORK + _SEARCH + daily("2026-03-17", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("exfiltration before the job search", False,
                _WORK + daily("2026-01-20", 1, per_day=12, action="copy_to_removable") + _SEARCH, _HR),
        Example("12 files to the USB drive the employee has used for weeks", False,
                _WORK + daily("2026-01-06", 4, per_day=1, action="copy_to_removable", destination="USB-MINE")
                + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable", destination="USB-MINE"),
                _HR),
        Example("in the first weeks of history nothing is judged", False,
                _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable", destination="USB-NEW"), _HR),
        Example("someone who copies about 10 files to new drives every day", False,
                [e for d in range(72) for e in daily((dt.date(2025, 12, 1) + dt.timedelta(days=d)).isoformat(), 1,
                                                     per_day=10, action="copy_to_removable", destination=f"USB-{d}")]
                + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable", destination="USB-X"),
                [hr("2025-11-01T09:00:00Z")]),
        Example("a staying marketing specialist whose colleagues copy to thumb drives every few weeks", False,
                _WORK + _MKT + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable",
                                               destination="USB-NEW"), _MKT_HR + [_MINE_MKT]),
        Example("... the same in her notice: the team's habit does not cover a leaver", True,
                _WORK + _MKT + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable",
                                               destination="USB-NEW"),
                _MKT_HR + [_MINE_MKT, hr("2026-02-09T09:00:00Z", status="notice", last_day="2026-03-06",
                                         department="Marketing")]),
        Example("... and a stayer in Finance, where nobody copies to thumb drives, is told", True,
                _WORK + _MKT + _SEARCH + daily("2026-02-12", 1, per_day=12, action="copy_to_removable",
                                               destination="USB-NEW"),
                _MKT_HR + [hr("2026-01-01T09:00:00Z", department="Finance")]),
        Example("device connects alone are not files moved", False,
                daily("2026-01-05", 30, per_day=1, action="connect") + _SEARCH
                + daily("2026-02-12", 1, per_day=6, action="connect"), _HR),
        Example("a site the classification puts in job_search", True,
                _WORK + [ev(f"2026-02-0{d}T12:00:00Z", action="visit", kind="web", object="https://jobs.example/x",
                            attrs={"category": "job_search"}) for d in (2, 3, 5)]
                + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
        Example("mail to a work address is not exfiltration", False,
                _WORK + _SEARCH + daily("2026-02-12", 1, per_day=12, action="send", personal=False), _HR),
        Example("linkedin feed is not a job search", False,
                _WORK + [ev(f"2026-02-0{d}T12:00:00Z", action="visit", kind="web",
                            object="https://www.linkedin.com/feed/") for d in (2, 3, 5)]
                + daily("2026-02-12", 1, per_day=12, action="copy_to_removable"), _HR),
    ),
)
