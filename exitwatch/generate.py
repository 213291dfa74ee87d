"""``exitwatch generate``: a synthetic company in contract form, with labelled leavers.

Writes four JSON-lines files to ``--out``:

- ``hr.jsonl``: HR records (CONTRACT.md 3), sorted by ``ts``. Every employee starts with one ``active``
  record naming 2-3 account aliases (UPN, ``CORP\\sam``, a CRM id for CRM users), department, role and
  manager. Leavers get a ``notice`` record (about a third of them arrive 2-10 days late, with
  ``resignation_date`` in the past) and a ``departed`` record after the last day (sometimes late too).
  New hires, department transfers and a few watch-list placements happen along the way.
- ``signals.jsonl``: HR signals (CONTRACT.md 4): lateness, early leave, absences, leave requests, a
  performance-review cycle, monthly pulse surveys, handover items and returned assets.
- ``events.jsonl``: Activity events (CONTRACT.md 2), ``source`` = ``synthetic``, sorted by ``ts``, with
  ids unique and deterministic for the seed. Actors appear under their aliases (logon, device and web
  events under ``CORP\\sam``, CRM under the CRM id, files and mail under the UPN, case varying); about a
  quarter of events carry ``employee_id``, the rest leave it null; service accounts add unresolvable
  actors.
- ``labels.jsonl``: one line per leaver: ``employee_id``, ``scenario`` (one of :data:`SCENARIOS`, or
  ``benign_leaver``), ``start``, ``end`` (dates the behaviour spans) and ``last_day``.
- ``meta.json``: the parameters, counts and generation time.

What the company looks like (nothing here is tuned to a detector):

- departments whose normal work differs: engineering and research download confidential specifications
  every day, sales view and export CRM reports, support spends hours a day in the customer database,
  finance pulls restricted reports on consecutive days at every month-end close, marketing exports large
  campaign lists, IT administrators copy to removable media daily;
- per-person activity levels (log-normal), 5% heavy users on one channel, night owls, weekend workers,
  people who mail their own private address or use a personal cloud now and then, occasional clean-up
  days with dozens of deletions, job-site browsing by some who stay;
- public holidays (nobody works), vacations and sick days (that person does nothing), quiet weekends;
- about 2% of employees leave per month. Benign leavers hand over their work (a few sensitive downloads,
  mails to the successor, handover items), clean up their folders and often browsed job sites before
  resigning. Malicious leavers do the same and act out one scenario each; ``max(1, round(N / 250))``
  per scenario (4 each for 1,000 employees).

Volume: about 20 events per employee per working day; 1,000 employees x 120 days make about 1.7 million
events (~600 MB) in well under a minute.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> stats = generate(d, employees=40, days=50, seed=1)
>>> sorted(p.name for p in d.iterdir())
['events.jsonl', 'hr.jsonl', 'labels.jsonl', 'meta.json', 'signals.jsonl']
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exitwatch.generate_outside import PROFILES as OUTSIDE_PROFILES

SCENARIOS = (
    "research_to_personal_mail",
    "crm_bulk_export",
    "job_search_then_usb",
    "low_and_slow_downloads",
    "restricted_consecutive_days",
    "crm_access_spike",
    "after_hours_cloud_upload",
    "mass_deletion",
    "after_departure_access",
)
BENIGN = "benign_leaver"
#: Share of employees leaving per month (the brief: 1-3%).
LEAVE_RATE_PER_MONTH = 0.02
MIN_DAYS = 45
DOMAIN = "corp.example"

FIRST = ("ann", "ben", "carla", "dev", "elif", "farid", "greta", "hugo", "ines", "jon", "kira", "liam", "mona",
         "nils", "olga", "pavel", "quinn", "rosa", "sam", "tara", "umar", "vera", "wes", "xia", "yusuf", "zoe",
         "amir", "bea", "chen", "dana", "emil", "fatima", "gus", "hana", "ivan", "jade", "karl", "lea", "mateo",
         "nora", "omar", "priya", "raj", "sofia", "tom", "uma", "viktor", "wen", "yara", "zain")
LAST = ("lee", "novak", "garcia", "smith", "kowalski", "haddad", "berg", "dubois", "rossi", "tanaka", "okafor",
        "silva", "meyer", "nguyen", "kim", "patel", "jensen", "costa", "fischer", "moreau", "ivanova", "brown",
        "ali", "schmidt", "larsen", "romero", "weber", "sato", "murphy", "khan", "horvat", "lopez", "peters",
        "yilmaz", "andersen", "mills", "vargas", "hoffmann", "lin", "bauer")
PERSONAL_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me", "gmx.de", "icloud.com")
PERSONAL_CLOUD = ("drive.google.com", "www.dropbox.com", "onedrive.live.com", "mega.nz", "wetransfer.com")
JOB_SITES = ("www.linkedin.com/jobs/view/", "www.indeed.com/viewjob?jk=", "www.glassdoor.com/job-listing/",
             "www.monster.com/job-openings/", "www.stepstone.de/stellenangebote--", "careers.competitor.example/jobs/")
CUSTOMER_DOMAINS = ("acme-industries.com", "globex.example", "initech.example", "umbrella-health.com",
                    "stark-logistics.com", "wayne-retail.com", "hooli.example", "vandelay.example")
WEB_SITES = (("news.example.com/", "news"), ("stackoverflow.com/questions/", "reference"),
             ("docs.python.org/3/", "reference"), ("intranet.corp.example/", "business"),
             ("www.linkedin.com/feed/", "social"), ("en.wikipedia.org/wiki/", "reference"),
             ("corp.sharepoint.com/sites/", "business"), ("www.bbc.co.uk/news/", "news"),
             ("weather.example.org/", "news"), ("calendar.corp.example/", "business"))
SERVICE_ACCOUNTS = ("svc-backup@corp.example", "CORP\\svc_sql", "svc-indexer@corp.example", "CORP\\svc_print")

#: Per department: share of staff, roles (name, weight), and the mean daily rate of each activity.
#: open/dl: file opens and downloads; sens: share of confidential or restricted among them; restr: share of
#: restricted among the sensitive; mail, web: sends and visits; crm: CRM views; dur: mean seconds per view;
#: exp: CRM report exports a day; size: mean records per export; usb: removable-media copies a day;
#: dele: deletions a day; prn: prints a day.
DEPARTMENTS: dict[str, dict[str, Any]] = {
    "engineering": dict(share=0.26, roles=(("software_engineer", 6), ("senior_engineer", 3), ("engineering_manager", 1)),
                        open=3, dl=5, sens=0.6, restr=0.1, mail=3, web=4, crm=0, dur=0, exp=0, size=0, usb=0.02,
                        dele=1.0, prn=0.1, folder="engineering/specs"),
    "research": dict(share=0.07, roles=(("researcher", 5), ("research_lead", 1)),
                     open=3, dl=4, sens=0.65, restr=0.3, mail=3, web=4, crm=0, dur=0, exp=0, size=0, usb=0.05,
                     dele=0.8, prn=0.3, folder="research/studies"),
    "sales": dict(share=0.14, roles=(("account_executive", 3), ("sales_manager", 1)),
                  open=2, dl=1.2, sens=0.2, restr=0.05, mail=6, web=3, crm=8, dur=90, exp=0.5, size=35, usb=0.02,
                  dele=0.6, prn=0.3, folder="sales/accounts"),
    "support": dict(share=0.14, roles=(("support_agent", 6), ("support_lead", 1)),
                    open=1.5, dl=0.5, sens=0.1, restr=0.05, mail=3, web=3, crm=12, dur=700, exp=0.05, size=15,
                    usb=0.01, dele=0.4, prn=0.05, folder="support/cases"),
    "finance": dict(share=0.08, roles=(("accountant", 4), ("financial_analyst", 3), ("controller", 1)),
                    open=3, dl=2.5, sens=0.5, restr=0.45, mail=4, web=3, crm=1, dur=60, exp=0.3, size=60,
                    usb=0.03, dele=0.8, prn=1.0, folder="finance/reports"),
    "hr": dict(share=0.05, roles=(("hr_partner", 3), ("recruiter", 2)),
               open=3, dl=2, sens=0.55, restr=0.5, mail=5, web=4, crm=0, dur=0, exp=0, size=0, usb=0.02,
               dele=0.8, prn=0.8, folder="hr/personnel"),
    "it": dict(share=0.07, roles=(("it_admin", 3), ("helpdesk", 2)),
               open=2, dl=1.5, sens=0.2, restr=0.2, mail=3, web=5, crm=0, dur=0, exp=0, size=0, usb=0.4,
               dele=2.5, prn=0.1, folder="it/runbooks"),
    "marketing": dict(share=0.10, roles=(("marketing_specialist", 4), ("marketing_manager", 1)),
                      open=2.5, dl=2, sens=0.1, restr=0.05, mail=4, web=6, crm=1, dur=60, exp=0.1, size=400,
                      usb=0.03, dele=0.8, prn=0.2, folder="marketing/campaigns"),
    "operations": dict(share=0.09, roles=(("operations_analyst", 4), ("legal_counsel", 1)),
                       open=2.5, dl=1.5, sens=0.3, restr=0.2, mail=4, web=3, crm=0.5, dur=60, exp=0.05, size=30,
                       usb=0.03, dele=0.6, prn=0.4, folder="operations/contracts"),
}
CRM_DEPARTMENTS = frozenset({"sales", "support", "finance", "marketing", "operations"})
MANAGER_ROLES = frozenset({"engineering_manager", "research_lead", "sales_manager", "support_lead", "controller",
                           "hr_partner", "it_admin", "marketing_manager", "legal_counsel"})


@dataclass(frozen=True)
class Peak:
    """A seasonal peak: from ``start`` (a share of the period, 0..1) for ``days`` days, the listed departments
    (all when empty) work ``factor`` times as much (quarter-end close, a campaign, a release)."""

    start: float
    days: int
    factor: float
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """How one company differs from another. Each field is a share of employees or a factor; the defaults are
    the ``baseline`` company. Profile-only features draw from their own random stream, so the baseline company
    is byte for byte what it was before profiles existed."""

    name: str = "baseline"
    about: str = "the original generated company"
    #: Department shares overriding :data:`DEPARTMENTS` (the role mix); missing departments keep theirs.
    departments: tuple[tuple[str, float], ...] = ()
    leave_rate: float = LEAVE_RATE_PER_MONTH  # share of employees leaving per month
    heavy: float = 0.05  # heavy users on one channel (2.5-4x their peers)
    night_owl: float = 0.07  # evening sessions on 40% of days
    weekend: float = 0.08  # weekend workers ...
    weekend_days: float = 0.3  # ... working this share of weekend days
    usb_users: float = 0.12  # occasional thumb-drive users outside IT
    private_mail: float = 0.12  # mail their own private address now and then
    cloud: float = 0.04  # use a personal cloud now and then
    jobsite: float = 0.06  # browse job sites while staying
    transfers: float = 0.01  # stayers moving to another department mid-period (a role change)
    # ---- profile-only features (0 in the baseline)
    #: Sporadic, heavy-tailed users: on a share ``sporadic_days`` of days they use a channel (CRM time,
    #: downloads, removable copies or deletions), a log-normal amount with log-sd ``sporadic_sigma``.
    sporadic: float = 0.0
    sporadic_days: tuple[float, float] = (0.1, 0.3)
    sporadic_sigma: float = 1.2
    #: Lasting changes of normal: from a day on, one channel runs ``change_factor`` times as before (a new
    #: project, more customers), for a share of stayers.
    lasting_change: float = 0.0
    change_factor: tuple[float, float] = (2.5, 5.0)
    peaks: tuple[Peak, ...] = ()
    #: Share of employees on shared machines (a pool of hosts per department, a different one most days).
    shared_machines: float = 0.0
    #: Honest leavers' handover: this many times the packages and files of the baseline, and a handover
    #: CRM export of the usual reports for CRM users (share ``handover_export``).
    handover: float = 1.0
    handover_export: float = 0.0
    #: Malicious volumes and days are scaled by this (subtler thieves below 1; never below the rules'
    #: published floors' reach is not guaranteed: that is the point).
    thief_strength: float = 1.0


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile(),
    Profile(name="sales_org", about="CRM-heavy sales and support organisation: sporadic CRM users elsewhere, "
                                    "month-end peaks in sales and finance, honest leavers exporting their "
                                    "accounts for a successor",
            departments=(("sales", 0.28), ("support", 0.24), ("marketing", 0.14), ("engineering", 0.1),
                         ("research", 0.02)),
            sporadic=0.25, heavy=0.08, handover_export=0.6, handover=2.0, transfers=0.03,
            peaks=(Peak(0.30, 5, 2.5, ("sales", "finance")), Peak(0.63, 5, 2.5, ("sales", "finance")),
                   Peak(0.85, 7, 2.0, ("marketing",)))),
    Profile(name="rnd_lab", about="engineering and research lab: night owls, weekend workers, shared lab "
                                  "machines, sporadic heavy-tailed downloads and thumb-drive use",
            departments=(("engineering", 0.40), ("research", 0.20), ("sales", 0.06), ("support", 0.06)),
            night_owl=0.2, weekend=0.2, weekend_days=0.4, usb_users=0.25, sporadic=0.2, shared_machines=0.3,
            peaks=(Peak(0.55, 8, 2.0, ("engineering",)),)),
    Profile(name="churn", about="high turnover: 4% leave a month and hand over a lot, 8% change role mid-period, "
                                "10% change their normal for good",
            leave_rate=0.04, handover=4.0, handover_export=0.4, transfers=0.08, lasting_change=0.10,
            sporadic=0.1, jobsite=0.12, private_mail=0.2),
    Profile(name="shifts", about="operations and support on shifts: weekend and night work, shared machines, "
                                 "seasonal peaks everywhere",
            departments=(("support", 0.3), ("operations", 0.25), ("it", 0.12), ("engineering", 0.1)),
            night_owl=0.25, weekend=0.35, weekend_days=0.5, shared_machines=0.5, sporadic=0.15,
            lasting_change=0.05, peaks=(Peak(0.4, 10, 1.8), Peak(0.75, 6, 2.2, ("support", "operations")))),
    Profile(name="subtle", about="subtler thieves (half the volume, fewer days) in a mixed company with "
                                 "sporadic users, role changes and peaks",
            thief_strength=0.5, sporadic=0.15, transfers=0.04, lasting_change=0.05, handover=2.0,
            peaks=(Peak(0.5, 5, 2.0),)),
)}



def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous algorithm).

    >>> easter(2026)
    datetime.date(2026, 4, 5)
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month = (h + ll - 7 * m + 114) // 31
    day = (h + ll - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def holidays(year: int) -> set[dt.date]:
    """The company's public holidays: New Year, Good Friday, Easter Monday, 1 May, Ascension, Whit Monday,
    24-26 and 31 December."""
    e = easter(year)
    return {dt.date(year, 1, 1), e - dt.timedelta(days=2), e + dt.timedelta(days=1), dt.date(year, 5, 1),
            e + dt.timedelta(days=39), e + dt.timedelta(days=50), dt.date(year, 12, 24), dt.date(year, 12, 25),
            dt.date(year, 12, 26), dt.date(year, 12, 31)}


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass
class Employee:
    id: str
    first: str
    last: str
    upn: str
    sam: str
    crm: str | None
    private: str
    dept: str
    role: str
    manager: str | None
    host: str
    hired: int  # day index of the first working day (negative: before the data starts)
    start_h: float  # usual arrival, hours UTC
    act: float  # activity multiplier
    heavy: str | None  # channel used 2.5-4x as much as peers
    usb: float  # removable copies a day
    night_owl: bool
    weekend: bool
    personal_mail: float  # mails to own private address a day
    cloud: float  # personal cloud uploads a day
    jobsite: float  # job-site visits a day
    mood: float  # survey baseline
    perf: float
    off: set[int] = field(default_factory=set)  # vacation and sick days
    #: Profile features: a sporadic channel (channel, share of days, log-median, log-sd), a lasting change
    #: (from day, channel, factor), and a department pool of shared machines (None: own PC).
    sporadic: tuple[str, float, float, float] | None = None
    change: tuple[int, str, float] | None = None
    pool: tuple[str, ...] | None = None
    last_day: int | None = None
    notice: int | None = None
    scenario: str | None = None
    active_until: int | None = None  # last day index with any activity
    extra: dict[int, list[tuple[Callable[..., None], tuple[Any, ...]]]] = field(default_factory=dict)

    def plan(self, day: int, fn: Callable[..., None], *args: Any) -> None:
        self.extra.setdefault(day, []).append((fn, args))


class Company:
    """Builds the population and plans, then writes the files day by day."""

    def __init__(self, employees: int, days: int, seed: int, start: dt.date, profile: Profile | None = None) -> None:
        if employees < 20:
            raise ValueError("--employees must be at least 20")
        if days < MIN_DAYS:
            raise ValueError(f"--days must be at least {MIN_DAYS} (baselines need history before the leavers)")
        if start.weekday() >= 5:
            raise ValueError("--start must be a working day")
        self.n, self.days, self.seed, self.start = employees, days, seed, start
        self.rng = random.Random(seed)
        self.profile = profile or PROFILES["baseline"]
        #: Profile-only features draw from their own stream (the baseline company stays as it was).
        self.prng = random.Random(f"{seed}:{self.profile.name}")
        self.epoch0 = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc).timestamp())
        self.dates = [start + dt.timedelta(days=i) for i in range(days + 12)]
        hol: set[dt.date] = set()
        for y in {d.year for d in self.dates}:
            hol |= holidays(y)
        self.holidays = {i for i, d in enumerate(self.dates) if d in hol}
        self.working = [d.weekday() < 5 and i not in self.holidays for i, d in enumerate(self.dates)]
        self._datestr = [d.isoformat() for d in self.dates]
        self.emps: list[Employee] = []
        self.hr: list[tuple[int, dict[str, Any]]] = []
        self.signals: list[tuple[int, dict[str, Any]]] = []
        self.labels: list[dict[str, Any]] = []
        self.buckets: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        self.n_events = 0
        self._upns: list[str] = []

    # ------------------------------------------------------------------ helpers
    def t(self, day: int, hour: float) -> int:
        """Epoch seconds of ``hour`` (may exceed 24) on day index ``day``."""
        return self.epoch0 + day * 86400 + int(hour * 3600)

    def ts(self, t: int) -> str:
        d, s = divmod(t - self.epoch0, 86400)
        if 0 <= d < len(self._datestr):
            ds = self._datestr[d]
        else:
            ds = dt.datetime.fromtimestamp(t, dt.timezone.utc).date().isoformat()
        return f"{ds}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z"

    def date(self, day: int) -> str:
        return (self.start + dt.timedelta(days=day)).isoformat()

    def workdays(self, lo: int, hi: int) -> list[int]:
        return [d for d in range(max(lo, 0), min(hi, self.days - 1) + 1) if self.working[d]]

    def last_workday_at_or_before(self, day: int) -> int:
        while day > 0 and not self.working[day]:
            day -= 1
        return day

    # ------------------------------------------------------------------ people
    def build(self) -> None:
        rng = self.rng
        depts = list(DEPARTMENTS)
        shares = dict(self.profile.departments)
        weights = [shares.get(d, DEPARTMENTS[d]["share"]) for d in depts]
        P = self.profile
        seen: dict[str, int] = {}
        sams: dict[str, int] = {}
        n_hires = max(1, round(self.n * 0.006 * self.days / 30))
        for k in range(self.n + n_hires):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            base = f"{first}.{last}"
            seen[base] = seen.get(base, 0) + 1
            suffix = "" if seen[base] == 1 else str(seen[base])
            sam = f"{first[0]}{last}"
            sams[sam] = sams.get(sam, 0) + 1
            sam_suffix = "" if sams[sam] == 1 else str(sams[sam])
            dept = rng.choices(depts, weights)[0]
            roles = DEPARTMENTS[dept]["roles"]
            role = rng.choices([r for r, _ in roles], [w for _, w in roles])[0]
            eid = f"E{k + 1:05d}"
            prof = DEPARTMENTS[dept]
            usb = prof["usb"] * (8 if role == "it_admin" else 1)
            if role != "it_admin" and rng.random() < P.usb_users:
                usb = rng.uniform(0.1, 0.6)  # occasional thumb-drive users
            e = Employee(
                id=eid, first=first, last=last,
                upn=f"{base}{suffix}@{DOMAIN}",
                sam=f"CORP\\{sam}{sam_suffix}",
                crm=("005" + hashlib.blake2b(f"{self.seed}:{eid}".encode(), digest_size=6).hexdigest().upper()
                     if dept in CRM_DEPARTMENTS else None),
                private=f"{first}{last[:3]}{rng.randint(60, 99)}@{rng.choice(PERSONAL_MAIL)}",
                dept=dept, role=role, manager=None,
                host=f"PC-{rng.randint(1000, 9999)}",
                hired=-rng.randint(30, 3000) if k < self.n else rng.randint(5, self.days - 20),
                start_h=rng.uniform(7.0, 9.5),
                act=math.exp(rng.gauss(0, 0.35)),
                heavy=rng.choice(("dl", "mail", "crm", "dele", "prn")) if rng.random() < P.heavy else None,
                usb=usb,
                night_owl=rng.random() < P.night_owl,
                weekend=rng.random() < P.weekend or role == "it_admin" and rng.random() < 0.4,
                personal_mail=rng.uniform(0.05, 0.3) if rng.random() < P.private_mail else 0.0,
                cloud=rng.uniform(0.02, 0.15) if rng.random() < P.cloud else 0.0,
                jobsite=rng.uniform(0.05, 0.4) if rng.random() < P.jobsite else 0.0,
                mood=min(9.5, max(2.0, rng.gauss(7.0, 1.3))),
                perf=min(5.0, max(1.5, rng.gauss(3.4, 0.6))),
            )
            self._profile_features(e)
            self.emps.append(e)
        self._upns = [e.upn for e in self.emps]
        by_dept: dict[str, list[Employee]] = {}
        for e in self.emps:
            by_dept.setdefault(e.dept, []).append(e)
        for dept, members in by_dept.items():
            managers = [m for m in members if m.role in MANAGER_ROLES and m.hired < 0] or members[:1]
            for e in members:
                if e not in managers:
                    e.manager = rng.choice(managers).id
        self._time_off()
        self._leavers()
        self._hr_records()
        self._signals()

    def _time_off(self) -> None:
        rng = self.rng
        for e in self.emps:
            for _ in range(rng.choice((0, 1, 1, 2))):  # vacations
                d0 = rng.randrange(0, self.days)
                length = rng.randint(1, 5)
                days = [d for d in self.workdays(d0, d0 + length + 2)][:length]
                if not days:
                    continue
                e.off.update(days)
                self.sig(e, self.t(days[0] - rng.randint(7, 30), rng.uniform(9, 17)), "leave_request", len(days))
            for d in self.workdays(max(0, e.hired), self.days - 1):  # sick days
                if rng.random() < 0.012:
                    e.off.add(d)
                    self.sig(e, self.t(d, rng.uniform(7, 10)), "absence", 1)

    def _leavers(self) -> None:
        rng = self.rng
        per = max(1, round(self.n / 250))
        n_mal = per * len(SCENARIOS)
        target = round(self.n * self.days / 30 * self.profile.leave_rate)
        n_benign = max(target - n_mal, math.ceil(n_mal / 2))
        pool = [e for e in self.emps if e.hired < 0]
        rng.shuffle(pool)
        taken: set[str] = set()

        def pick(ok: Callable[[Employee], bool]) -> Employee:
            for cand in pool:
                if cand.id not in taken and ok(cand):
                    taken.add(cand.id)
                    return cand
            for cand in pool:
                if cand.id not in taken:
                    taken.add(cand.id)
                    return cand
            raise ValueError("too few employees for the leavers")

        eligible: dict[str, Callable[[Employee], bool]] = {
            "research_to_personal_mail": lambda e: e.dept == "research",
            "crm_bulk_export": lambda e: e.role == "sales_manager",
            "job_search_then_usb": lambda e: e.dept != "it",
            "crm_access_spike": lambda e: e.crm is not None,
        }
        lo, hi = max(35, int(0.4 * self.days)), self.days - 9
        plans: list[tuple[Employee, str]] = []
        for sc in SCENARIOS:
            for _ in range(per):
                plans.append((pick(eligible.get(sc, lambda e: True)), sc))
        for _ in range(n_benign):
            plans.append((pick(lambda e: True), BENIGN))
        for e, sc in plans:
            last = self.last_workday_at_or_before(rng.randint(lo, hi))
            notice_len = rng.choice((14, 14, 21, 28, 30, 30))
            notice = self.last_workday_at_or_before(last - notice_len)
            e.last_day, e.notice, e.scenario = last, notice, sc
            e.active_until = last
            self._leaver_common(e)
            start, end = (notice, last) if sc == BENIGN else getattr(self, "_sc_" + sc)(e)
            self.labels.append({"employee_id": e.id, "scenario": sc, "start": self.date(start),
                                "end": self.date(end), "last_day": self.date(last)})
        self.labels.sort(key=lambda x: (x["last_day"], x["employee_id"]))


    # ------------------------------------------------------------------ profile features
    def _crm_id(self, eid: str) -> str:
        return "005" + hashlib.blake2b(f"{self.seed}:{eid}".encode(), digest_size=6).hexdigest().upper()

    def _profile_features(self, e: Employee) -> None:
        """Sporadic heavy-tailed use, a lasting change of normal and shared machines (profile shares)."""
        P, r = self.profile, self.prng
        if P.sporadic and r.random() < P.sporadic:
            ch = r.choice(("crm", "crm", "dl", "usb", "dele"))
            median = {"crm": 400.0, "dl": 4.0, "usb": 5.0, "dele": 15.0}[ch]
            e.sporadic = (ch, r.uniform(*P.sporadic_days), math.log(median * r.uniform(0.5, 2.0)),
                          P.sporadic_sigma * r.uniform(0.7, 1.2))
            if ch == "crm" and e.crm is None:
                e.crm = self._crm_id(e.id)
        if P.lasting_change and r.random() < P.lasting_change:
            chans = ["dl", "mail", "dele", "usb"] + (["crm", "crm"] if e.dept in CRM_DEPARTMENTS else [])
            ch = r.choice(chans)
            if ch == "usb" and not e.usb:
                e.usb = r.uniform(0.1, 0.4)
            e.change = (r.randrange(15, max(16, self.days - 15)), ch, r.uniform(*P.change_factor))
        if P.shared_machines and r.random() < P.shared_machines:
            e.pool = tuple(f"{e.dept[:3].upper()}-SH{i:02d}" for i in range(8))

    def _peak(self, e: Employee, day: int) -> float:
        f = 1.0
        for pk in self.profile.peaks:
            d0 = int(pk.start * self.days)
            if d0 <= day < d0 + pk.days and (not pk.departments or e.dept in pk.departments):
                f *= pk.factor
        return f

    def _sporadic(self, e: Employee, day: int, a: float, span: float) -> None:
        """A sporadic user's channel: most days nothing, some days a log-normal amount (heavy-tailed)."""
        assert e.sporadic is not None
        ch, p, mu, sigma = e.sporadic
        r = self.prng
        if r.random() >= p:
            return
        amount = r.lognormvariate(mu, sigma)
        prof = DEPARTMENTS[e.dept]

        def at() -> int:
            return self.t(day, a + r.random() * span)

        if ch == "crm" and e.crm:
            left = min(amount, 6 * 3600.0)
            while left > 1:
                dur = min(left, round(r.expovariate(1 / 150), 1) + 5)
                self.emit(e, at(), "crm", "view", object=f"Account/{r.randint(10000, 99999)}", duration_s=dur,
                          sensitivity="confidential")
                left -= dur
        elif ch == "dl":
            for _ in range(min(200, int(round(amount)))):
                sens = self._sens(prof)
                self.emit(e, at(), "file", "download", object=self._obj(prof["folder"], sens), sensitivity=sens,
                          bytes=r.randint(20_000, 8_000_000))
        elif ch == "usb":
            self.usb_session(e, day, max(1, min(300, int(round(amount)))), False)
        elif ch == "dele":
            self.deletions(e, day, max(1, min(400, int(round(amount)))), False)

    def thief(self, n: int) -> int:
        """A malicious volume scaled by the profile's ``thief_strength`` (at least 1)."""
        return max(1, int(round(n * self.profile.thief_strength)))

    # ------------------------------------------------------------------ HR records and signals
    def sig(self, e: Employee, t: int, signal: str, value: Any) -> None:
        self.signals.append((t, {"employee_id": e.id, "ts": self.ts(t), "signal": signal, "value": value}))

    def _record(self, e: Employee, t: int, status: str = "active", **kw: Any) -> None:
        accounts = [e.upn, e.sam] + ([e.crm] if e.crm else [])
        rec = {"employee_id": e.id, "ts": self.ts(t), "status": status, "accounts": accounts,
               "department": e.dept, "role": e.role, "manager_id": e.manager,
               "resignation_date": None, "last_day": None, "watchlist": False}
        rec.update(kw)
        self.hr.append((t, rec))

    def _hr_records(self) -> None:
        rng = self.rng
        for e in self.emps:
            t0 = self.t(min(e.hired, -1), 6) if e.hired < 0 else self.t(e.hired, 7)
            self._record(e, t0)
            if e.last_day is None:
                r = rng.random()
                if r < self.profile.transfers:  # a transfer, effective from day d
                    d = rng.randrange(10, self.days - 10)
                    old, e.dept = e.dept, rng.choice(list(DEPARTMENTS))
                    if e.crm is None and e.dept in CRM_DEPARTMENTS:
                        e.crm = self._crm_id(e.id)
                    self._record(e, self.t(d, 8))
                    e.plan(d, self.transfer, e.dept)
                    e.dept = old
                elif r < self.profile.transfers + 0.003:  # placed on watch (an investigation, not a leaver)
                    self._record(e, self.t(rng.randrange(10, self.days - 10), 11), watchlist=True)
                continue
            assert e.notice is not None
            late = rng.random() < 0.35
            delay = rng.randint(2, min(10, e.last_day - e.notice - 2)) if late else 0
            told = self.t(e.notice + delay, rng.uniform(9, 17))
            self._record(e, told, "notice", resignation_date=self.date(e.notice), last_day=self.date(e.last_day))
            if e.last_day + 1 < self.days:
                dd = e.last_day + 1 + (rng.randint(1, 7) if rng.random() < 0.2 else 0)
                self._record(e, self.t(dd, rng.uniform(6, 12)), "departed", resignation_date=self.date(e.notice),
                             last_day=self.date(e.last_day))

    def _signals(self) -> None:
        rng = self.rng
        review = min(self.days - 1, 20)
        for e in self.emps:
            leaving = e.last_day is not None
            # monthly pulse survey on the first Wednesday of each month
            for i, d in enumerate(self.dates[: self.days]):
                if d.day <= 7 and d.weekday() == 2 and rng.random() < 0.6 and i >= e.hired:
                    m = e.mood
                    if leaving and e.notice is not None and e.notice - 75 <= i <= e.last_day:  # type: ignore[operator]
                        m -= rng.uniform(1, 3)
                    self.sig(e, self.t(i, rng.uniform(9, 17)), "survey",
                             int(min(10, max(0, round(rng.gauss(m, 1.0))))))
            if e.hired < review:
                p = e.perf - (rng.uniform(0, 0.8) if leaving else 0)
                self.sig(e, self.t(review, rng.uniform(9, 17)), "performance_review", round(min(5, max(1, p)), 1))
        from exitwatch.generate_signals import add_hr_signals  # history, noise and drift (issue 18)

        add_hr_signals(self)

    def _leaver_common(self, e: Employee) -> None:
        """What every leaver does: job hunting before, handover and clean-up during the notice."""
        rng = self.rng
        assert e.notice is not None and e.last_day is not None
        notice, last = e.notice, e.last_day
        if rng.random() < 0.6:  # job hunting before resigning
            for d in self.workdays(notice - rng.randint(20, 50), notice):
                if rng.random() < 0.4:
                    e.plan(d, self.job_visits, rng.randint(1, 4))
        for d in self.workdays(notice - 60, notice - 1):  # interviews
            if rng.random() < 0.03:
                e.off.add(d)
                self.sig(e, self.t(d, rng.uniform(7, 10)), "absence", 1)
        items = [f"handover-{k}" for k in range(rng.randint(3, 8))]
        for it in items:
            self.sig(e, self.t(notice + rng.randint(1, 3), rng.uniform(9, 17)), "handover_item_open", it)
        done = items if e.scenario == BENIGN else items[: rng.randint(0, len(items))]
        for it in done:
            self.sig(e, self.t(rng.randint(notice + 3, last), rng.uniform(9, 17)), "handover_item_done", it)
        if last < self.days and rng.random() < 0.9:
            self.sig(e, self.t(last, rng.uniform(14, 17)), "asset_returned", f"LT-{rng.randint(10000, 99999)}")
        work = self.workdays(notice + 1, last)
        for d in rng.sample(work, min(len(work), rng.randint(1, 5))):  # handover packages
            e.plan(d, self.handover, rng.randint(1, 3))
        P, r = self.profile, self.prng
        if P.handover > 1 and work:  # a big handover: more packages, more files each
            for d in r.sample(work, min(len(work), int(round(r.randint(1, 5) * (P.handover - 1))))):
                e.plan(d, self.handover, r.randint(1, 3 + int(2 * P.handover)))
        if P.handover_export and e.crm and work and r.random() < P.handover_export:
            prof = DEPARTMENTS[e.dept]  # the usual report, for the successor
            for d in r.sample(work, min(len(work), r.randint(1, 2))):
                size = max(1, int(r.lognormvariate(math.log(max(prof["size"], 10)), 0.7)))
                e.plan(d, self.crm_export, size, "report_export")
        if rng.random() < 0.6:  # clearing out the home folder
            days = self.workdays(last - 5, last)
            if days:
                e.plan(rng.choice(days), self.deletions, rng.randint(10, 120), False)
        if rng.random() < 0.3:  # own payslips, contacts, photos to the private address
            for d in rng.sample(work, min(len(work), rng.randint(1, 3))):
                e.plan(d, self.personal_mail, rng.choice(("internal", "public", None)), 1)
        if rng.random() < 0.05 and last + 1 < self.days:  # a phone still syncing the morning after
            e.plan(last + 1, self.residual)
            e.active_until = last + 1

    # ------------------------------------------------------------------ scenarios: (start, end) day indexes
    def _notice_days(self, e: Employee, lo_off: int = 0, hi_off: int = 0) -> list[int]:
        assert e.notice is not None and e.last_day is not None
        return self.workdays(e.notice + lo_off, e.last_day - hi_off)

    def _sc_research_to_personal_mail(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        days = self._notice_days(e, rng.randint(0, 4), rng.randint(0, 2))
        chosen = sorted(rng.sample(days, min(len(days), rng.randint(4, 8))))
        for d in chosen:
            e.plan(d, self.research_mail, self.thief(rng.randint(2, 6)))
        return chosen[0], chosen[-1]

    def _sc_crm_bulk_export(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.last_day is not None
        days = self.workdays(e.last_day - 14, e.last_day)
        chosen = sorted(rng.sample(days, min(len(days), rng.randint(1, 3))))
        for d in chosen:
            e.plan(d, self.crm_export, self.thief(int(rng.uniform(120, 2500))),
                   rng.choice(("report_export", "export", "bulk_query")))
        return chosen[0], chosen[-1]

    def _sc_job_search_then_usb(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.notice is not None and e.last_day is not None
        hunt = self.workdays(e.notice - rng.randint(14, 35), e.notice + 5)
        hunt_days = [d for d in hunt if rng.random() < 0.6] or hunt[:1]
        for d in hunt_days:
            e.plan(d, self.job_visits, rng.randint(2, 8))
        usb_days = sorted(rng.sample(self._notice_days(e, 2), rng.randint(3, 6)))
        for d in usb_days:
            e.plan(d, self.usb_session, self.thief(rng.randint(25, 150)), True)
        return min(hunt_days[0], usb_days[0]), usb_days[-1]

    def _sc_low_and_slow_downloads(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.last_day is not None
        days = self.workdays(e.last_day - 30, e.last_day - 1)
        for d in days:
            e.plan(d, self.sensitive_downloads, self.thief(rng.randint(2, 4)), None)
        return days[0], days[-1]

    def _sc_restricted_consecutive_days(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.notice is not None and e.last_day is not None
        k = rng.randint(3, 5)
        starts = [d for d in range(e.notice, e.last_day - k + 1) if all(self.working[d + j] for j in range(k))]
        s = rng.choice(starts) if starts else e.notice
        for d in range(s, s + k):
            e.plan(d, self.sensitive_downloads, self.thief(rng.randint(2, 6)), "restricted")
        return s, s + k - 1

    def _sc_crm_access_spike(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        days = sorted(rng.sample(self._notice_days(e, 1), rng.randint(3, 6)))
        for d in days:
            e.plan(d, self.crm_spike, self.thief(rng.randint(30, 90)))
        return days[0], days[-1]

    def _sc_after_hours_cloud_upload(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.notice is not None and e.last_day is not None
        days = sorted(rng.sample(range(e.notice + 1, e.last_day), rng.randint(2, 5)))
        for d in days:
            e.plan(d, self.night_upload, self.thief(rng.randint(5, 30)))
        return days[0], days[-1]

    def _sc_mass_deletion(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.last_day is not None
        days = sorted(rng.sample(self.workdays(e.last_day - 5, e.last_day), rng.randint(1, 2)))
        for d in days:
            e.plan(d, self.deletions, self.thief(rng.randint(200, 1500)), True)
        return days[0], days[-1]

    def _sc_after_departure_access(self, e: Employee) -> tuple[int, int]:
        rng = self.rng
        assert e.last_day is not None
        hi = min(e.last_day + 10, self.days - 1)
        days = sorted(rng.sample(range(e.last_day + 1, hi + 1), min(hi - e.last_day, rng.randint(1, 4))))
        for d in days:
            e.plan(d, self.remote_access, self.thief(rng.randint(3, 15)))
        e.active_until = max(days)
        return days[0], days[-1]

    # ------------------------------------------------------------------ event writers
    def emit(self, e: Employee | None, t: int, kind: str, action: str, **f: Any) -> None:
        rng = self.rng
        if e is None:
            actor, eid = f.pop("actor"), None
        else:
            if kind in ("logon", "device", "web"):
                actor = e.sam if rng.random() < 0.8 else e.sam.upper()
            elif kind == "crm" and e.crm:
                actor = e.crm
            elif rng.random() < 0.9:
                actor = e.upn
            else:
                actor = e.upn.title() if rng.random() < 0.5 else e.upn.upper()
            eid = e.id if rng.random() < 0.25 else None
        rec = {"event_id": "", "ts": "", "kind": kind, "action": action, "actor": actor, "employee_id": eid,
               "source": "synthetic"}
        if e is not None and "host" not in f:
            rec["host"] = e.host
        rec.update(f)
        self.buckets.setdefault((t - self.epoch0) // 86400, []).append((t, rec))

    def _sens(self, prof: dict[str, Any], scale: float = 1.0) -> str:
        r = self.rng.random()
        s = prof["sens"] * scale
        if r < s:
            return "restricted" if self.rng.random() < prof["restr"] else "confidential"
        return "internal" if r < s + (1 - s) * 0.8 else "public"

    def _obj(self, folder: str, sens: str) -> str:
        ext = self.rng.choice(("pdf", "docx", "xlsx", "pptx"))
        return f"/sites/{folder}/{sens[:4]}/doc-{self.rng.randint(1, 2000):04d}.{ext}"

    def _hours(self, e: Employee, day: int) -> tuple[float, float]:
        rng = self.rng
        a = rng.gauss(e.start_h, 0.3)
        b = a + rng.gauss(8.6, 0.5)
        leaving_soon = e.notice is not None and e.notice - 45 <= day <= (e.last_day or 0)
        if rng.random() < (0.08 if leaving_soon else 0.03):
            late = rng.uniform(0.5, 2.5)
            a += late
            self.sig(e, self.t(day, a), "late_arrival", int(late * 60))
        if rng.random() < (0.06 if leaving_soon else 0.025):
            early = rng.uniform(0.75, 3)
            b -= early
            self.sig(e, self.t(day, b), "early_leave", int(early * 60))
        return a, max(b, a + 2)

    def normal_day(self, e: Employee, day: int, scale: float = 1.0, a: float | None = None,
                   b: float | None = None) -> tuple[float, float]:
        """A day of ordinary work for ``e``'s department and habits."""
        rng = self.rng
        prof = DEPARTMENTS[e.dept]
        if a is None or b is None:
            a, b = self._hours(e, day)
        span = b - a
        act = e.act * scale * self._peak(e, day)
        ch = e.change if e.change is not None and day >= e.change[0] else None

        def at() -> int:
            return self.t(day, a + rng.random() * span)

        def n(key: str) -> int:
            return poisson(rng, prof[key] * act * (rng.uniform(2.5, 4) if e.heavy == key else 1.0)
                           * (ch[2] if ch is not None and ch[1] == key else 1.0))

        self.emit(e, self.t(day, a), "logon", "logon", object=None, destination=e.host)
        self.emit(e, self.t(day, b), "logon", "logoff", object=None, destination=e.host)
        folder = prof["folder"]
        for _ in range(n("open")):
            s = self._sens(prof, 0.7)
            self.emit(e, at(), "file", "open", object=self._obj(folder, s), sensitivity=s)
        dl = poisson(rng, prof["dl"] * act * (rng.uniform(2.5, 4) if e.heavy == "dl" else 1.0)
                     * (ch[2] if ch is not None and ch[1] == "dl" else 1.0))
        for _ in range(dl):
            s = self._sens(prof)
            self.emit(e, at(), "file", "download" if rng.random() < 0.8 else "sync_download",
                      object=self._obj(folder, s), sensitivity=s, bytes=rng.randint(20_000, 8_000_000))
        if rng.random() < 0.15 * act:
            s = self._sens(prof, 0.5)
            self.emit(e, at(), "file", "upload", object=self._obj(folder, s), sensitivity=s,
                      bytes=rng.randint(20_000, 4_000_000), destination="corp.sharepoint.com", external=False)
        for _ in range(n("mail")):
            self._mail(e, at(), prof)
        for _ in range(poisson(rng, prof["web"] * act)):
            site, cat = rng.choice(WEB_SITES)
            self.emit(e, at(), "web", "visit", object=f"https://{site}{rng.randint(1, 9999)}",
                      destination=site.split("/")[0], external=not site.startswith(("intranet", "calendar")),
                      attrs={"category": cat})
        if prof["crm"] and e.crm:
            views = n("crm")
            for _ in range(views):
                self.emit(e, at(), "crm", "view", object=f"Account/{rng.randint(10000, 99999)}",
                          duration_s=round(rng.expovariate(1 / prof["dur"]), 1), sensitivity="confidential")
            if rng.random() < prof["exp"] * act:
                size = max(1, int(rng.lognormvariate(math.log(prof["size"]), 0.7)))
                self.crm_export(e, day, size, "report_export", at())
        for _ in range(n("prn")):
            s = self._sens(prof, 0.5)
            self.emit(e, at(), "print", "print", object=self._obj(folder, s), sensitivity=s, count=rng.randint(1, 30))
        for _ in range(n("dele")):
            self.emit(e, at(), "file", "delete", object=self._obj(folder, "internal"), sensitivity="internal")
        if rng.random() < (0.05 if e.role == "it_admin" else 0.012):
            self.deletions(e, day, rng.randint(15, 150 if e.role == "it_admin" else 90), False)
        if e.sporadic is not None:
            self._sporadic(e, day, a, span)
        if e.usb and rng.random() < min(1.0, e.usb * (ch[2] if ch is not None and ch[1] == "usb" else 1.0)):
            self.usb_session(e, day, max(1, poisson(rng, max(1.0, e.usb * 3))), False)
        if rng.random() < 0.01 * act and prof["sens"] > 0.1:
            s = self._sens(prof)
            self.emit(e, at(), "file", "share_external", object=self._obj(folder, s), sensitivity=s,
                      destination=rng.choice(CUSTOMER_DOMAINS), external=True, personal=False)
        if e.personal_mail and rng.random() < e.personal_mail:
            self.personal_mail(e, day, rng.choices(("public", "internal", None, "confidential"), (3, 5, 3, 0.3))[0],
                               1, at())
        if e.cloud and rng.random() < e.cloud:
            self.emit(e, at(), "web", "upload", object=f"photo-{rng.randint(1, 999)}.jpg",
                      destination=rng.choice(PERSONAL_CLOUD), external=True, personal=True,
                      bytes=rng.randint(100_000, 5_000_000), attrs={"category": "cloud_storage"})
        if e.jobsite and rng.random() < e.jobsite:
            self.job_visits(e, day, rng.randint(1, 3), at())
        return a, b

    def _mail(self, e: Employee, t: int, prof: dict[str, Any]) -> None:
        rng = self.rng
        ext = e.dept in ("sales", "support", "marketing") and rng.random() < 0.35
        if ext:
            dom = rng.choice(CUSTOMER_DOMAINS)
            rcpt = [f"{rng.choice(FIRST)}@{dom}"]
        else:
            dom = DOMAIN
            rcpt = [rng.choice(self._upns) for _ in range(rng.randint(1, 3))]
        att = rng.random() < 0.3
        s = self._sens(prof, 0.3 if ext else 0.6) if att else None
        self.emit(e, t, "email", "send" if rng.random() < 0.85 else "forward", recipients=rcpt, destination=dom,
                  external=ext, personal=False, sensitivity=s, count=rng.randint(1, 3) if att else 0,
                  bytes=rng.randint(5_000, 3_000_000) if att else rng.randint(2_000, 60_000))

    # actions used by plans: fn(e, day, *args)
    def job_visits(self, e: Employee, day: int, k: int, t: int | None = None) -> None:
        rng = self.rng
        for _ in range(k):
            site = rng.choice(JOB_SITES)
            tt = t if t is not None else self.t(day, rng.uniform(e.start_h, e.start_h + 9))
            self.emit(e, tt + rng.randint(0, 900), "web", "visit", object=f"https://{site}{rng.randint(10**6, 10**7)}",
                      destination=site.split("/")[0], external=True, attrs={"category": "job_search"})

    def handover(self, e: Employee, day: int, k: int) -> None:
        rng = self.rng
        prof = DEPARTMENTS[e.dept]
        t = self.t(day, rng.uniform(e.start_h + 0.5, e.start_h + 7))
        for i in range(k):
            s = self._sens(prof, 1.3)
            self.emit(e, t + 60 * i, "file", "download", object=self._obj(prof["folder"], s), sensitivity=s,
                      bytes=rng.randint(50_000, 6_000_000))
        who = next((x.upn for x in self.emps if x.id == e.manager), rng.choice(self._upns))
        self.emit(e, t + 60 * k + 120, "email", "send", recipients=[who], destination=DOMAIN, external=False,
                  personal=False, sensitivity="internal", count=k, bytes=rng.randint(100_000, 9_000_000),
                  object="Handover notes")

    def deletions(self, e: Employee, day: int, k: int, sensitive: bool) -> None:
        rng = self.rng
        prof = DEPARTMENTS[e.dept]
        t = self.t(day, rng.uniform(e.start_h + 1, e.start_h + 7))
        for i in range(k):
            s = self._sens(prof) if sensitive else rng.choice(("internal", "internal", "public"))
            self.emit(e, t + i * rng.randint(1, 6), "file", "delete", object=self._obj(prof["folder"], s), sensitivity=s)

    def personal_mail(self, e: Employee, day: int, sens: str | None, k: int, t: int | None = None) -> None:
        rng = self.rng
        for _ in range(k):
            tt = t if t is not None else self.t(day, rng.uniform(e.start_h, e.start_h + 9))
            self.emit(e, tt, "email", "send", recipients=[e.private], destination=e.private.split("@")[1],
                      external=True, personal=True, sensitivity=sens, count=1 if sens else 0,
                      bytes=rng.randint(20_000, 2_000_000))

    def usb_session(self, e: Employee, day: int, k: int, sensitive: bool) -> None:
        rng = self.rng
        prof = DEPARTMENTS[e.dept]
        serial = f"USB-{hashlib.blake2b(e.id.encode(), digest_size=3).hexdigest()}"
        if sensitive:
            serial += f"-{rng.randint(100, 999)}"
        t = self.t(day, rng.uniform(e.start_h + 0.5, e.start_h + 7.5))
        self.emit(e, t, "device", "connect", object="Mass storage", destination=serial)
        for i in range(k):
            s = self._sens(prof, 1.5 if sensitive else 0.5)
            self.emit(e, t + 20 + i * rng.randint(3, 30), "file", "copy_to_removable",
                      object=self._obj(prof["folder"], s), sensitivity=s, destination=serial,
                      bytes=rng.randint(50_000, 30_000_000))
        self.emit(e, t + 40 + k * 31, "device", "disconnect", object="Mass storage", destination=serial)

    def crm_export(self, e: Employee, day: int, size: int, action: str, t: int | None = None) -> None:
        rng = self.rng
        if t is None:
            t = self.t(day, rng.uniform(e.start_h + 0.5, e.start_h + 8))
        self.emit(e, t, "crm", action, object=rng.choice(("Accounts - all customers", "Pipeline report",
                                                           "Contacts by region", "Opportunities", "Renewals")),
                  count=size, sensitivity="confidential", bytes=size * rng.randint(300, 900))

    def research_mail(self, e: Employee, day: int, k: int) -> None:
        rng = self.rng
        t = self.t(day, rng.uniform(e.start_h + 0.5, e.start_h + 8))
        sens = []
        for i in range(k):
            s = "restricted" if rng.random() < 0.4 else "confidential"
            sens.append(s)
            self.emit(e, t + 90 * i, "file", "download", object=f"/sites/research/studies/{s[:4]}/study-"
                      f"{rng.randint(1, 400):03d}.pdf", sensitivity=s, bytes=rng.randint(200_000, 9_000_000))
        self.emit(e, t + 90 * k + 300, "email", "send", recipients=[e.private], destination=e.private.split("@")[1],
                  external=True, personal=True, sensitivity="restricted" if "restricted" in sens else "confidential",
                  count=k, bytes=rng.randint(1_000_000, 20_000_000), object="notes")

    def sensitive_downloads(self, e: Employee, day: int, k: int, sens: str | None) -> None:
        rng = self.rng
        for _ in range(k):
            s = sens or rng.choice(("confidential", "confidential", "restricted"))
            folder = rng.choice(("finance/reports", "hr/personnel", "research/studies", "engineering/specs",
                                 "exec/board", "sales/accounts"))
            self.emit(e, self.t(day, rng.uniform(e.start_h + 0.2, e.start_h + 8.5)), "file",
                      rng.choice(("download", "download", "sync_download")), object=self._obj(folder, s),
                      sensitivity=s, bytes=rng.randint(50_000, 5_000_000))

    def crm_spike(self, e: Employee, day: int, k: int) -> None:
        rng = self.rng
        for _ in range(k):
            self.emit(e, self.t(day, rng.uniform(e.start_h, e.start_h + 9.5)), "crm", "view",
                      object=f"Account/{rng.randint(10000, 99999)}", duration_s=round(rng.uniform(300, 1800), 1),
                      sensitivity="confidential")

    def night_upload(self, e: Employee, day: int, k: int) -> None:
        rng = self.rng
        h = rng.uniform(20.5, 25.5)
        t = self.t(day, h)
        dest = rng.choice(PERSONAL_CLOUD)
        self.emit(e, t - 300, "logon", "logon", host=e.host, destination=e.host, object=None)
        prof = DEPARTMENTS[e.dept]
        for i in range(k):
            s = self._sens(prof, 1.5)
            self.emit(e, t + 60 * i, "web", "upload", object=self._obj(prof["folder"], s).rsplit("/", 1)[1],
                      destination=dest, external=True, personal=True, sensitivity=s,
                      bytes=rng.randint(500_000, 200_000_000), attrs={"category": "cloud_storage"})
        self.emit(e, t + 60 * k + 200, "logon", "logoff", host=e.host, destination=e.host, object=None)

    def remote_access(self, e: Employee, day: int, k: int) -> None:
        rng = self.rng
        prof = DEPARTMENTS[e.dept]
        t = self.t(day, rng.uniform(6, 23))
        host = f"VPN-{rng.randint(10, 99)}"
        self.emit(e, t, "logon", "logon", host=host, destination="vpn.corp.example", object=None)
        for i in range(k):
            s = self._sens(prof, 1.3)
            if e.crm and rng.random() < 0.4:
                self.emit(e, t + 45 * (i + 1), "crm", "view", host=host, object=f"Account/{rng.randint(10000, 99999)}",
                          duration_s=round(rng.uniform(30, 600), 1), sensitivity="confidential")
            else:
                self.emit(e, t + 45 * (i + 1), "file", "download", host=host, object=self._obj(prof["folder"], s),
                          sensitivity=s, bytes=rng.randint(50_000, 5_000_000))

    def transfer(self, e: Employee, day: int, dept: str) -> None:
        e.dept = dept

    def residual(self, e: Employee, day: int) -> None:
        self.emit(e, self.t(day, self.rng.uniform(0.2, 7)), "logon", "logon", host="MOBILE", destination="mail sync",
                  object=None)

    def service_noise(self, day: int) -> None:
        rng = self.rng
        for _ in range(poisson(rng, self.n * 0.15)):
            acct = rng.choice(SERVICE_ACCOUNTS)
            self.emit(None, self.t(day, rng.uniform(0, 24)), "file", rng.choice(("open", "delete", "copy")),
                      actor=acct, host="SRV-01", object=f"/backup/{rng.randint(1, 99999)}.bak", sensitivity="internal")

    # ------------------------------------------------------------------ the day loop
    def day(self, day: int) -> None:
        rng = self.rng
        working = self.working[day]
        holiday = day in self.holidays
        for e in self.emps:
            if day < e.hired or (e.active_until is not None and day > e.active_until):
                continue
            present = working and day not in e.off and (e.last_day is None or day <= e.last_day)
            if e.pool is not None:
                e.host = self.prng.choice(e.pool)
            if present:
                a, b = self.normal_day(e, day)
                if e.night_owl and rng.random() < 0.4:
                    self.normal_day(e, day, 0.3, b + rng.uniform(1.5, 3), min(23.9, b + rng.uniform(3.5, 5)))
            elif not working and not holiday and e.weekend and rng.random() < self.profile.weekend_days and \
                    (e.last_day is None or day <= e.last_day):
                s = rng.uniform(9, 15)
                self.normal_day(e, day, 0.25, s, s + rng.uniform(1, 3))
            for fn, args in e.extra.get(day, ()):
                fn(e, day, *args)
        if not holiday:
            self.service_noise(day)

    def days_of_events(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Plan the company, then yield ``(day index, that day's events in ts order)`` with their final ids
        and timestamps; HR records, signals and labels are complete once the last day is yielded."""
        self.build()
        seed_key = str(self.seed).encode()
        n = 0
        for day in range(self.days):
            self.day(day)
            rows = self.buckets.pop(day, [])
            rows.sort(key=lambda r: r[0])
            out = []
            for t, rec in rows:
                n += 1
                rec["event_id"] = "syn-" + hashlib.blake2b(n.to_bytes(5, "big"), key=seed_key,
                                                           digest_size=8).hexdigest()
                rec["ts"] = self.ts(t)
                out.append(rec)
            self.n_events = n
            yield day, out
        self.buckets.clear()  # activity planned past the end of the data is dropped
        self.signals = [s for s in self.signals if s[0] < self.t(self.days, 0)]
        self.hr.sort(key=lambda r: r[0])
        self.signals.sort(key=lambda r: r[0])

    def write(self, out: Path, progress: bool = False) -> dict[str, Any]:
        t0 = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)

        def dump(name: str, rows: list[tuple[int, dict[str, Any]]]) -> int:
            with open(out / name, "wb") as fh:
                fh.write(b"".join(orjson.dumps(r) + b"\n" for _, r in rows))
            return len(rows)

        size = 0
        with open(out / "events.jsonl", "wb") as fh:
            for day, rows in self.days_of_events():
                data = b"".join(orjson.dumps(rec) + b"\n" for rec in rows)
                size += len(data)
                fh.write(data)
                if progress and (day % 5 == 4 or day == self.days - 1):
                    el = time.perf_counter() - t0
                    sys.stderr.write(f"\rgenerate: day {day + 1}/{self.days}, {self.n_events:,} events, "
                                     f"{size / 1e6:,.0f} MB, {el:.1f} s")
                    sys.stderr.flush()
        if progress:
            sys.stderr.write("\n")
        n = self.n_events
        n_hr = dump("hr.jsonl", self.hr)
        n_sig = dump("signals.jsonl", self.signals)
        with open(out / "labels.jsonl", "wb") as fh:
            fh.write(b"".join(orjson.dumps(lab) + b"\n" for lab in self.labels))
        seconds = time.perf_counter() - t0
        working_days = sum(self.working[: self.days])
        meta = {
            "employees": self.n, "new_hires": len(self.emps) - self.n, "days": self.days, "seed": self.seed,
            "profile": self.profile.name,
            "start": self.start.isoformat(), "end": self.date(self.days - 1), "working_days": working_days,
            "holidays": [self.date(d) for d in sorted(self.holidays) if d < self.days],
            "events": n, "events_bytes": size, "hr_records": n_hr, "signals": n_sig,
            "leavers": len(self.labels),
            "malicious": sum(1 for lab in self.labels if lab["scenario"] != BENIGN),
            "events_per_employee_working_day": round(n / max(1, self.n * working_days), 1),
            "seconds": round(seconds, 1),
        }
        (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        return meta


def profile_of(name: str | Profile | None) -> Profile:
    """A profile by name (see :data:`PROFILES`); an unknown name is an error naming the known ones."""
    if name is None:
        return PROFILES["baseline"]
    if isinstance(name, Profile):
        return name
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


def generate(out: str | Path, employees: int = 1000, days: int = 120, seed: int = 7,
             start: str | dt.date = "2026-01-05", progress: bool = False,
             profile: str | Profile | None = None) -> dict[str, Any]:
    """Write a synthetic company to ``out``; returns the counts written (also in ``out/meta.json``)."""
    d0 = dt.date.fromisoformat(start) if isinstance(start, str) else start
    return Company(employees, days, seed, d0, profile_of(profile)).write(Path(out), progress=progress)


def workforce(employees: int = 60, days: int = 60, seed: int = 7, start: str | dt.date = "2026-01-05",
              profile: str | Profile | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The same company in memory, for tests and measurements without files: ``(hr_records, events, labels)``
    as contract dicts, each in ``ts`` order (signals are left out; :func:`generate` writes them).

    >>> hr, events, labels = workforce(employees=20, days=45, seed=1)
    >>> len({r["employee_id"] for r in hr}) >= 20, all(a["ts"] <= b["ts"] for a, b in zip(events, events[1:]))
    (True, True)
    >>> sorted(labels[0])
    ['employee_id', 'end', 'last_day', 'scenario', 'start']
    """
    d0 = dt.date.fromisoformat(start) if isinstance(start, str) else start
    c = Company(employees, days, seed, d0, profile_of(profile))
    events = [rec for _, rows in c.days_of_events() for rec in rows]
    return [r for _, r in c.hr], events, list(c.labels)


#: The companies written apart from this generator (:mod:`exitwatch.generate_outside`), by profile name.
OUTSIDE = tuple(OUTSIDE_PROFILES)


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("generate", help="write a synthetic company (HR, signals, events, labels) as JSON lines",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--employees", type=int, default=1000)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default=None, help="first day (YYYY-MM-DD, a working day; default 2026-01-05, and "
                                                 "each outside profile's own)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--profile", default="baseline", choices=list(PROFILES) + list(OUTSIDE),
                   help="the kind of company (" + "; ".join(f"{k}: {v.about}" for k, v in PROFILES.items()).replace("%", "%%")
                   + "); outside_a, outside_b, outside_c are written apart from this generator "
                     "(exitwatch/generate_outside.py)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress line on stderr (default: when stderr is a terminal)")
    return p


def run(args: argparse.Namespace) -> int:
    show = sys.stderr.isatty() if args.progress is None else args.progress
    if args.profile in OUTSIDE:
        from exitwatch.generate_outside import generate as generate_outside

        meta = generate_outside(args.out, args.employees, args.days, args.seed, args.profile, args.start, progress=show)
    else:
        meta = generate(args.out, args.employees, args.days, args.seed, args.start or "2026-01-05", progress=show,
                        profile=args.profile)
    print(f"generate: {meta['employees']:,} employees (+{meta['new_hires']} hires), {meta['days']} days: "
          f"{meta['events']:,} events ({meta['events_bytes'] / 1e6:,.0f} MB), {meta['hr_records']:,} HR records, "
          f"{meta['signals']:,} signals, {meta['leavers']} leavers ({meta['malicious']} malicious) to {args.out} "
          f"in {meta['seconds']:.1f} s", file=sys.stderr)
    return 0
