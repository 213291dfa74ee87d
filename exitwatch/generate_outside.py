"""Companies written apart from :mod:`exitwatch.generate`, to measure the detectors on habits they were not tuned on.

``exitwatch generate --profile outside_a --out DIR`` (or ``outside_b``, ``outside_c``) writes the same files as
``exitwatch generate`` (``hr.jsonl``, ``signals.jsonl``, ``events.jsonl``, ``labels.jsonl``, ``meta.json``), so
``exitwatch evaluate --data DIR`` and ``exitwatch evaluate --profiles outside_a,...`` read them. Nothing here comes
from the project's own generator: the departments, roles, rates, hours, account names, holidays and the insider
scenarios are written from the contract (CONTRACT.md 2-4), the behaviours issue 14 describes and the way real
companies look in their audit logs:

- **own working week and clock**: each company lives in its own time zones (Berlin; New York with remote staff
  in Chicago and Los Angeles; a remote-first company spread from California to India), with daylight saving
  changes, shift work, night and weekend staff, holidays of its region, vacations and sick days;
- **heavy-tailed and bursty people**: a per-person activity level (log-normal), a per-person burstiness
  (gamma day factors), sporadic CRM users, project crunches and a quarter-end peak;
- **machines**: a primary machine each, a second one for some, shared terminals and workstations on wheels in
  some departments, helpdesk staff who log on to colleagues' machines, administrators on many servers;
- **sparse labels**: only a configurable share of documents carries a source label (a few percent; none in one
  company), so most sensitivity comes from the connectors' path patterns or not at all;
- **account naming**: ``j.mueller@...`` and ``NWT\\jmueller`` with Salesforce ids; Windows SIDs for logons;
  first-name addresses; every alias in the HR record's ``accounts``, and most events carry no ``employee_id``
  (enrichment resolves the actor, as for real sources);
- **HR life**: new hires, role changes and team moves mid-period, notice recorded days late, terminations with
  no notice period, honest leavers who hand over a lot (downloads, CRM exports for a successor, clean-up
  deletions, personal files to a thumb drive, job search before notice);
- **insiders** (:data:`SCENARIOS`) with their own parameters and a share of subtle ones.

Every event is built and classified by :meth:`connectors.base.Context.event` (the connectors' own path, with the
company's domains and competitors configured as a security team would), so each one is a valid contract event.
Seeded and deterministic: the same profile, size and seed give the same bytes.

>>> from exitwatch.generate_outside import company
>>> hr, events, labels = company("outside_a", employees=30, days=30, seed=1)
>>> len({r["employee_id"] for r in hr}) >= 30, all(a["ts"] <= b["ts"] for a, b in zip(events, events[1:]))
(True, True)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

#: The label of a leaver who is not malicious (the labels format ``exitwatch evaluate`` reads).
BENIGN = "benign_leaver"
SCENARIOS = (
    "research_mailed_home",        # R&D documents mailed to a private address, before and after notice
    "crm_export_before_leaving",   # customer lists exported from the CRM in the last weeks, some mailed home
    "thumb_drive_last_evening",    # a new thumb drive on the last evening, many files copied to it
    "slow_drip_downloads",         # a few more downloads a day for weeks, within reach of the person's normal
    "job_hunt_then_exfiltration",  # job sites for weeks, then personal cloud, a thumb drive or private mail
    "sabotaging_admin",            # an administrator deletes in bulk on servers and logs on where he never did
    "personal_cloud_uploads",      # uploads to personal cloud storage, some from home after hours
    "competitor_contact_then_usb", # mail to a competitor, their careers site, then a thumb drive far more than before
    "access_after_leaving",        # the account still works after the last day: logons and downloads
)
#: The rules of the catalogue meant for each scenario (for the per-scenario notes of ``exitwatch evaluate``).
INTENDED = {
    "research_mailed_home": ("email.sensitive_to_personal", "email.attachments_to_personal"),
    "crm_export_before_leaving": ("crm.bulk_export_before_departure", "sequence.crm_export_then_personal_mail"),
    "thumb_drive_last_evening": ("device.removable_copy_spike", "device.first_removable_media"),
    "slow_drip_downloads": ("file.sensitive_downloads_before_departure", "file.downloads_from_new_places"),
    "job_hunt_then_exfiltration": ("sequence.job_search_then_exfiltration",),
    "sabotaging_admin": ("file.mass_deletion_before_departure", "logon.other_users_machine"),
    "personal_cloud_uploads": ("web.personal_cloud_upload",),
    "competitor_contact_then_usb": ("email.to_competitor", "sequence.job_search_then_device_use"),
    "access_after_leaving": ("activity.after_departure",),
}
UTC = dt.timezone.utc
DAY = 86400
#: Scales every role's daily rates: about 10-14 events per employee and working day, so that a company of 400
#: people over 100 days stays near 350,000 events.
VOLUME = 0.4


# ------------------------------------------------------------------------------------------------ profiles
@dataclass(frozen=True)
class Role:
    """A role: its department, share of the headcount, working pattern and daily rates (events per working day
    of an average person; each person scales them by their own level)."""

    name: str
    dept: str
    share: float
    pattern: str = "office"  # office, early, shift (rotating early/late/night), night, flex, field
    rates: dict[str, float] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()  # shared_hosts, helpdesk, admin, security, comms, crm, engineer, usb


def _r(**kw: float) -> dict[str, float]:
    return kw


@dataclass(frozen=True)
class Outside:
    """One independently configured company."""

    name: str
    about: str
    domain: str
    org: str                     # NetBIOS-style domain, host prefix
    start: dt.date
    zones: tuple[tuple[str, float], ...]
    holidays: tuple[str, ...]    # company holidays (YYYY-MM-DD), local
    roles: tuple[Role, ...]
    label_rate: float            # share of documents with a source label
    leave_rate: float            # leavers per month, share of headcount
    insiders: float              # insiders per 100 employees over the period
    subtle: float                # share of insiders acting subtly
    notice_days: tuple[int, int]
    termination_share: float     # leavers told to go with a short notice
    hr_lag_days: int             # notice recorded up to this many days late
    ids: str                     # employee id style: nw, num, hex
    upn: str                     # first.last, initial.last, first
    logon_actor: str             # sam, sid, upn
    crm_actor: str               # crmid, upn
    sources: dict[str, str]
    partners: tuple[str, ...]
    competitors: tuple[str, ...]
    private_domains: tuple[str, ...]
    job_sites: tuple[str, ...]
    news: tuple[str, ...]
    weekend_share: float         # office staff who sometimes work at the weekend
    second_machine: float
    move_rate: float             # role changes / team moves over the period, share of headcount
    hire_rate: float             # new hires over the period, share of headcount
    quarter_end: tuple[str, ...] = ()  # days of a quarter-end peak (sales, finance)
    crunch: tuple[str, str, str] | None = None  # (department, first day, last day) of a project crunch
    file_share: str = "sharepoint"  # sharepoint, fileserver, drive


ROLES_A = (
    Role("design_engineer", "engineering", .16, "office", _r(open=14, download=3, upload=2, print=.3, mail=7, ext=.15,
         web=10, usb=.04, github=0, share_ext=.1), frozenset({"engineer", "research"})),
    Role("test_engineer", "engineering", .05, "early", _r(open=8, download=2, upload=2, mail=4, ext=.05, web=6,
         usb=.25), frozenset({"engineer", "usb", "research"})),
    Role("production_lead", "production", .06, "shift", _r(open=5, download=.5, print=1.5, mail=3, ext=.05, web=3),
         frozenset({"shared_hosts"})),
    Role("machine_operator", "production", .14, "shift", _r(open=2, print=.5, mail=.5, web=1),
         frozenset({"shared_hosts"})),
    Role("quality_inspector", "quality", .06, "early", _r(open=6, download=1, print=1, mail=3, ext=.2, web=3, usb=.1),
         frozenset({"shared_hosts", "usb"})),
    Role("buyer", "procurement", .05, "office", _r(open=6, download=2, mail=12, ext=.6, web=8, crm_view=1), frozenset()),
    Role("key_account_manager", "sales", .09, "office", _r(open=5, download=2, mail=14, ext=.55, web=9, crm_view=6,
         crm_export=.25, comp_web=.15, comp_mail=.01), frozenset({"crm", "travel"})),
    Role("sales_assistant", "sales", .04, "office", _r(open=6, download=1, mail=9, ext=.4, web=6, crm_view=10,
         crm_export=.4), frozenset({"crm"})),
    Role("field_service_technician", "service", .08, "field", _r(open=3, download=2, mail=4, ext=.5, web=4, usb=.35,
         crm_view=1.5), frozenset({"usb", "travel", "crm"})),
    Role("controller", "finance", .04, "office", _r(open=12, download=4, mail=8, ext=.1, web=5, crm_export=.05, print=.5),
         frozenset({"finance"})),
    Role("hr_partner", "people", .03, "office", _r(open=8, download=2, mail=10, ext=.2, web=6, mass=.04),
         frozenset({"comms"})),
    Role("it_admin", "it", .025, "office", _r(open=4, download=1, mail=5, ext=.05, web=12, servers=4),
         frozenset({"admin"})),
    Role("helpdesk_technician", "it", .03, "early", _r(open=3, mail=6, web=8, usb=.2, deskside=1.2),
         frozenset({"helpdesk", "usb"})),
    Role("security_analyst", "it", .008, "office", _r(open=4, mail=5, web=14, hack_web=.3), frozenset({"security"})),
    Role("managing_director", "management", .012, "office", _r(open=6, download=2, mail=18, ext=.3, web=6, mass=.05,
         crm_view=.5), frozenset({"comms"})),
    Role("marketing_specialist", "marketing", .03, "flex", _r(open=7, download=3, upload=2, mail=8, ext=.3, web=14,
         usb=.08, cloud_up=.15, mass_ext=.05), frozenset({"usb"})),
    Role("logistics_planner", "logistics", .06, "early", _r(open=5, download=1, print=1, mail=8, ext=.4, web=5,
         crm_view=1), frozenset()),
)

ROLES_B = (
    Role("registered_nurse", "clinical", .22, "shift", _r(open=3, print=.6, mail=1.5, web=2, crm_view=4),
         frozenset({"shared_hosts", "crm"})),
    Role("unit_clerk", "clinical", .05, "shift", _r(open=4, print=2, mail=4, ext=.1, web=4, crm_view=8, crm_export=.05),
         frozenset({"shared_hosts", "crm"})),
    Role("physician", "clinical", .06, "flex", _r(open=4, download=1, mail=5, ext=.2, web=5, crm_view=5),
         frozenset({"shared_hosts", "crm", "research"})),
    Role("billing_specialist", "revenue_cycle", .09, "early", _r(open=6, download=2, mail=8, ext=.4, web=5,
         crm_view=9, crm_export=.3, print=.5), frozenset({"crm"})),
    Role("call_center_agent", "patient_access", .09, "shift", _r(open=1, mail=2, web=3, crm_view=25, crm_export=.02),
         frozenset({"crm", "shared_hosts"})),
    Role("data_analyst", "analytics", .05, "flex", _r(open=10, download=8, upload=3, mail=6, ext=.1, web=12,
         crm_api=1.5, crm_export=.6, github=.2), frozenset({"crm", "research"})),
    Role("software_engineer", "digital", .07, "flex", _r(open=5, download=3, mail=4, ext=.05, web=16, github=1.5,
         cloud_up=.05), frozenset({"engineer", "research"})),
    Role("research_coordinator", "research", .04, "office", _r(open=10, download=4, upload=2, mail=9, ext=.35, web=8,
         share_ext=.3, usb=.05), frozenset({"research"})),
    Role("account_executive", "sales", .03, "office", _r(open=4, download=2, mail=15, ext=.6, web=9, crm_view=7,
         crm_export=.3, comp_web=.2, comp_mail=.02), frozenset({"crm", "travel"})),
    Role("hr_generalist", "human_resources", .025, "office", _r(open=8, download=2, mail=10, ext=.2, web=6, mass=.05),
         frozenset({"comms"})),
    Role("compliance_officer", "compliance", .015, "office", _r(open=10, download=5, mail=7, ext=.2, web=6,
         crm_export=.1), frozenset()),
    Role("systems_administrator", "it", .03, "flex", _r(open=3, download=1, mail=5, ext=.05, web=10, servers=6),
         frozenset({"admin"})),
    Role("desktop_support", "it", .035, "early", _r(open=2, mail=6, web=6, usb=.3, deskside=2),
         frozenset({"helpdesk", "usb"})),
    Role("security_engineer", "it", .01, "flex", _r(open=4, mail=5, web=16, hack_web=.5, usb=.1),
         frozenset({"security", "usb"})),
    Role("communications_manager", "communications", .012, "office", _r(open=6, download=2, mail=12, ext=.3, web=10,
         mass=.15, mass_ext=.05, cloud_up=.1), frozenset({"comms"})),
    Role("finance_analyst", "finance", .04, "office", _r(open=12, download=5, mail=8, ext=.1, web=5, print=.4),
         frozenset({"finance"})),
    Role("facilities_technician", "facilities", .07, "night", _r(open=1, mail=1, web=2, print=.2),
         frozenset({"shared_hosts"})),
)

ROLES_C = (
    Role("backend_engineer", "platform", .22, "flex", _r(open=6, download=2, mail=3, ext=.05, web=18, github=3,
         cloud_up=.05), frozenset({"engineer", "research"})),
    Role("frontend_engineer", "product_engineering", .12, "flex", _r(open=5, download=2, mail=3, ext=.05, web=20,
         github=2.5, cloud_up=.05), frozenset({"engineer", "research"})),
    Role("data_scientist", "data", .07, "flex", _r(open=8, download=7, upload=3, mail=3, ext=.05, web=15, github=1.5,
         crm_api=.6, cloud_up=.1), frozenset({"engineer", "research", "crm"})),
    Role("site_reliability_engineer", "platform", .05, "flex", _r(open=3, mail=3, web=14, github=1, servers=8),
         frozenset({"admin", "engineer"})),
    Role("product_manager", "product", .07, "flex", _r(open=10, download=2, upload=1, mail=10, ext=.2, web=12,
         crm_view=1, comp_web=.3), frozenset({"crm"})),
    Role("designer", "product", .05, "flex", _r(open=8, download=4, upload=4, mail=4, ext=.1, web=14, cloud_up=.2),
         frozenset()),
    Role("account_executive", "revenue", .09, "office", _r(open=4, download=2, mail=16, ext=.65, web=10, crm_view=9,
         crm_export=.3, comp_web=.25, comp_mail=.03), frozenset({"crm", "travel"})),
    Role("customer_success_manager", "revenue", .09, "office", _r(open=5, download=2, mail=14, ext=.6, web=8,
         crm_view=12, crm_export=.25), frozenset({"crm"})),
    Role("support_engineer", "support", .08, "shift", _r(open=3, mail=8, ext=.7, web=10, crm_view=18, github=.3),
         frozenset({"crm"})),
    Role("people_ops", "people", .03, "office", _r(open=7, download=2, mail=10, ext=.3, web=8, mass=.08),
         frozenset({"comms"})),
    Role("finance_manager", "finance", .03, "office", _r(open=10, download=5, mail=8, ext=.3, web=6, crm_export=.1),
         frozenset({"finance"})),
    Role("security_engineer", "security", .02, "flex", _r(open=4, mail=4, web=16, hack_web=.6, github=1, servers=3),
         frozenset({"security", "admin"})),
    Role("it_operations", "it", .03, "office", _r(open=3, mail=5, web=10, usb=.15, deskside=.5, servers=2),
         frozenset({"helpdesk", "admin", "usb"})),
    Role("marketing_manager", "marketing", .05, "flex", _r(open=7, download=3, upload=3, mail=9, ext=.3, web=16,
         cloud_up=.3, mass_ext=.08, comp_web=.2), frozenset()),
)

PROFILES: dict[str, Outside] = {p.name: p for p in (
    Outside(
        name="outside_a",
        about="a Bavarian machine builder on Berlin time (UTC+1, +2 from 29 March), "
              "three production shifts on shared terminals, field technicians with thumb drives, Salesforce ids, "
              "NWT\\\\sam logons, 6% of documents labelled, long European notice periods, German holidays",
        domain="northwind-tools.eu", org="NWT", start=dt.date(2026, 1, 12),
        zones=(("Europe/Berlin", .93), ("Europe/London", .04), ("America/Chicago", .03)),
        holidays=("2026-01-01", "2026-01-06", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14"),
        roles=ROLES_A, label_rate=.06, leave_rate=.012, insiders=4.0, subtle=.35, notice_days=(28, 90),
        termination_share=.1, hr_lag_days=4, ids="nw", upn="initial.last", logon_actor="sam", crm_actor="crmid",
        sources={"file": "m365", "fileserver": "windows", "email": "exchange", "crm": "salesforce", "device": "mde",
                 "logon": "windows", "web": "zscaler", "print": "windows"},
        partners=("boschmann-antriebe.de", "kuehne-logistik.de", "stahlwerk-sued.de", "festo-partner.com",
                  "siemens.com", "tuev-sued.de", "kpmg.de", "dhl.com"),
        competitors=("kestrelwerk.de", "brightmill-systems.com", "ostara-tooling.com"),
        private_domains=("gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.com", "proton.me"),
        job_sites=("stepstone.de", "indeed.de", "xing.com/jobs", "linkedin.com/jobs/view", "glassdoor.de",
                   "arbeitsagentur.de/jobsuche"),
        news=("spiegel.de", "heise.de", "sueddeutsche.de", "faz.net", "bbc.co.uk", "sap.com", "autodesk.com",
              "maps.google.com", "wetter.com", "amazon.de", "zoom.us", "atlassian.net", "dassault-systemes.com"),
        weekend_share=.05, second_machine=.25, move_rate=.03, hire_rate=.03,
        quarter_end=("2026-03-23", "2026-03-31"), crunch=("engineering", "2026-02-16", "2026-03-06"),
    ),
    Outside(
        name="outside_b",
        about="a US hospital network: New York time with remote staff in Chicago and Los Angeles, 24x7 nurses and "
              "clerks on shared workstations on wheels, night facilities staff, Windows SIDs in logon records, "
              "2% of documents labelled, two weeks' notice, terminations on the spot, US holidays",
        domain="halcyonhealth.org", org="HALCYON", start=dt.date(2026, 2, 2),
        zones=(("America/New_York", .8), ("America/Chicago", .12), ("America/Los_Angeles", .08)),
        holidays=("2026-02-16", "2026-05-25"),
        roles=ROLES_B, label_rate=.02, leave_rate=.025, insiders=4.5, subtle=.4, notice_days=(10, 21),
        termination_share=.25, hr_lag_days=2, ids="num", upn="first.last", logon_actor="sid", crm_actor="upn",
        sources={"file": "m365", "fileserver": "windows", "email": "m365", "crm": "dynamics", "device": "mde",
                 "logon": "windows", "web": "paloalto", "print": "windows"},
        partners=("unitedhealthcare.com", "aetna.com", "cigna.com", "labcorp.com", "questdiagnostics.com",
                  "epic.com", "cerner.com", "nyu.edu", "cms.gov"),
        competitors=("meridianhealth.com", "northwellhealth.org", "mountsinai.org"),
        private_domains=("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "hotmail.com"),
        job_sites=("indeed.com", "glassdoor.com", "ziprecruiter.com", "linkedin.com/jobs/view", "monster.com",
                   "healthecareers.com"),
        news=("cnn.com", "nytimes.com", "espn.com", "uptodate.com", "pubmed.ncbi.nlm.nih.gov", "medscape.com",
              "weather.com", "amazon.com", "youtube.com", "office.com", "webmd.com", "reddit.com"),
        weekend_share=.08, second_machine=.2, move_rate=.04, hire_rate=.05,
        quarter_end=("2026-03-23", "2026-03-31"), crunch=("digital", "2026-03-30", "2026-04-17"),
        file_share="sharepoint",
    ),
    Outside(
        name="outside_c",
        about="a remote-first software company: staff from California to India (five time zones, both daylight "
              "saving changes), flexible hours and weekend work, engineers pushing to github.com every day, "
              "first-name addresses, no document labels at all, high churn, many team moves and new hires",
        domain="kestrel.io", org="KESTREL", start=dt.date(2026, 3, 2),
        zones=(("America/Los_Angeles", .3), ("America/New_York", .2), ("Europe/Lisbon", .2), ("Europe/Warsaw", .15),
               ("Asia/Kolkata", .15)),
        holidays=("2026-05-25",),
        roles=ROLES_C, label_rate=0.0, leave_rate=.035, insiders=4.0, subtle=.45, notice_days=(10, 30),
        termination_share=.15, hr_lag_days=3, ids="hex", upn="first", logon_actor="upn", crm_actor="upn",
        sources={"file": "gworkspace", "fileserver": "gworkspace", "email": "gworkspace", "crm": "hubspot",
                 "device": "jamf", "logon": "okta", "web": "netskope", "print": "gworkspace"},
        partners=("stripe.com", "aws.amazon.com", "datadoghq.com", "acme-logistics.com", "globex.com",
                  "initech.com", "umbrella-corp.net", "hooli.com", "piedpiper.com", "vandelay.com"),
        competitors=("ospreylabs.io", "harrier.dev", "merlin-software.com"),
        private_domains=("gmail.com", "proton.me", "icloud.com", "outlook.com", "hey.com", "yahoo.com"),
        job_sites=("wellfound.com", "linkedin.com/jobs/view", "greenhouse.io", "lever.co", "indeed.com",
                   "weworkremotely.com", "glassdoor.com"),
        news=("news.ycombinator.com", "stackoverflow.com", "docs.python.org", "developer.mozilla.org", "medium.com",
              "theverge.com", "slack.com", "notion.so", "figma.com", "aws.amazon.com", "youtube.com", "twitter.com"),
        weekend_share=.2, second_machine=.35, move_rate=.07, hire_rate=.08, crunch=("platform", "2026-04-20", "2026-05-08"),
        file_share="drive",
    ),
)}

FIRST = ("anna", "lukas", "sofia", "jonas", "mia", "felix", "lea", "elias", "hannah", "noah", "amelie", "paul",
         "marie", "leon", "emma", "ben", "clara", "finn", "ida", "moritz", "olivia", "liam", "ava", "ethan",
         "isabella", "mason", "sophia", "logan", "chloe", "aiden", "priya", "arjun", "ananya", "rohan", "kavya",
         "vikram", "meera", "rahul", "joao", "beatriz", "tiago", "ines", "kasia", "piotr", "zofia", "tomasz",
         "agnieszka", "marek", "fatima", "omar", "yusuf", "aylin", "mehmet", "lina", "diego", "lucia", "mateo",
         "valentina", "kenji", "yuki", "wei", "mei", "chen", "grace", "samuel", "ruth", "daniel", "esther", "kofi",
         "ama", "tunde", "ngozi", "sven", "astrid", "nils", "freya", "ivan", "olga", "dmitri", "elena")
LAST = ("mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "hoffmann", "koch",
        "richter", "wolf", "neumann", "schwarz", "zimmermann", "braun", "krueger", "hartmann", "lange", "werner",
        "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez",
        "lopez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "thompson",
        "sharma", "patel", "iyer", "reddy", "gupta", "nair", "silva", "santos", "ferreira", "costa", "nowak",
        "kowalski", "wisniewski", "wojcik", "kaminski", "yilmaz", "kaya", "demir", "nguyen", "tanaka", "sato",
        "wang", "li", "zhang", "okafor", "mensah", "adeyemi", "larsen", "nielsen", "petrov", "ivanova", "rossi")
DOC_STEMS = {
    "engineering": ("assembly drawing", "BOM", "FEA results", "tolerance study", "spec sheet", "test report",
                    "CAD model", "design review", "change request"),
    "research": ("study protocol", "enrolment log", "grant draft", "dataset extract", "IRB submission",
                 "results summary", "consent form template"),
    "sales": ("offer", "price calculation", "customer visit notes", "account plan", "pipeline review",
              "framework agreement", "tender response"),
    "finance": ("monthly close", "cost center report", "budget plan", "cash forecast", "audit workpapers",
                "intercompany reconciliation"),
    "people": ("onboarding checklist", "training plan", "org chart", "policy draft", "works council minutes",
               "compensation review"),
    "it": ("runbook", "network diagram", "backup schedule", "change log", "firewall rules", "asset inventory"),
}
PERSONAL_CLOUD = ("dropbox.com", "wetransfer.com", "drive.google.com", "mega.nz", "onedrive.live.com")
LEAK_OR_TOOL = ("exploit-db.com", "hashcat.net", "openwall.com")


def _dept_stems(dept: str) -> tuple[str, ...]:
    if dept in DOC_STEMS:
        return DOC_STEMS[dept]
    return {"production": DOC_STEMS["engineering"], "quality": DOC_STEMS["engineering"],
            "platform": DOC_STEMS["engineering"], "product_engineering": DOC_STEMS["engineering"],
            "digital": DOC_STEMS["engineering"], "data": DOC_STEMS["research"], "analytics": DOC_STEMS["research"],
            "revenue": DOC_STEMS["sales"], "revenue_cycle": DOC_STEMS["finance"], "human_resources": DOC_STEMS["people"],
            "security": DOC_STEMS["it"]}.get(dept, ("meeting notes", "status report", "plan", "checklist",
                                                    "presentation", "minutes", "tracker"))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth below 30, a rounded normal above)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# ------------------------------------------------------------------------------------------------ people
@dataclass
class Person:
    eid: str
    first: str
    surname: str
    role: Role
    tz: ZoneInfo
    upn: str
    sam: str
    sid: str
    crm_id: str
    private: str
    manager: str | None = None
    level: float = 1.0          # activity level (log-normal)
    burst: float = 2.0          # gamma shape of day factors: small is bursty
    start_h: float = 8.0        # local start of the working day
    hours: float = 8.5
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    weekend: float = 0.0
    shift_phase: int = 0
    host: str = ""
    second: str | None = None
    usb_serials: tuple[str, ...] = ()
    crm_sporadic: bool = False
    export_rows: float = 100.0
    servers: tuple[str, ...] = ()
    hired: int = -10**6         # day index the person starts
    last: int | None = None     # last working day (day index)
    notice: int | None = None   # day index of notice
    leaver: str | None = None   # scenario or BENIGN
    subtle: bool = False
    plan: dict[str, Any] = field(default_factory=dict)
    vacation: tuple[int, int] = (-1, -1)
    job_browser: float = 0.0    # honest occasional job-site visits per working day
    mails_self: float = 0.0     # honest mails to the own private address per working day
    folders: tuple[str, ...] = ()
    moved: tuple[int, Role] | None = None

    @property
    def accounts(self) -> list[str]:
        return [self.upn, self.sam.lower(), self.sid, self.crm_id]  # HR keeps them in its own case


class Company:
    """One outside company: plan the people and their HR life, then the days."""

    def __init__(self, profile: str | Outside, employees: int, days: int, seed: int, start: dt.date | None = None):
        from connectors.base import Context
        from connectors.classification import Classifier

        self.p = profile if isinstance(profile, Outside) else PROFILES[profile]
        self.n, self.days, self.seed = employees, days, seed
        self.start = start or self.p.start
        key = hashlib.blake2b(f"{self.p.name}:{seed}:{employees}:{days}".encode(), digest_size=8).digest()
        self.rng = random.Random(int.from_bytes(key, "big"))
        self.key = key
        self.ctx = Context(classifier=Classifier.load(overrides={
            "company_domains": [self.p.domain],
            "categories": {"competitor": {"domains": list(self.p.competitors)}},
        }))
        self.holidays = {(dt.date.fromisoformat(h) - self.start).days for h in self.p.holidays}
        self.people: list[Person] = []
        self.hr: list[tuple[float, dict[str, Any]]] = []
        self.signals: list[tuple[float, dict[str, Any]]] = []
        self.labels: list[dict[str, Any]] = []
        self.buckets: dict[int, list[tuple[float, int, bytes]]] = defaultdict(list)
        self.n_events = 0
        self.seq = 0
        self._mid: dict[tuple[str, int], float] = {}
        self.shared: dict[str, list[str]] = {}
        self.hosts_of: dict[str, str] = {}
        self.used_ids: set[str] = set()
        self.used_upn: set[str] = set()
        self.used_sam: set[str] = set()
        self.n_people = 0
        self.pre = "HHS" if self.p.name == "outside_b" else self.p.org[:3]
        self.servers = [f"{self.pre.lower()}-srv{i:02d}" for i in range(1, 25)]

    # -- helpers -----------------------------------------------------------------------------------------------
    def date(self, d: int) -> dt.date:
        return self.start + dt.timedelta(days=d)

    def midnight(self, tz: ZoneInfo, d: int) -> float:
        k = (tz.key, d)
        m = self._mid.get(k)
        if m is None:
            noon = dt.datetime.combine(self.date(d), dt.time(12), tzinfo=tz)
            m = self._mid[k] = noon.timestamp() - 12 * 3600
        return m

    def at(self, p: Person, d: int, hour: float) -> float:
        return self.midnight(p.tz, d) + hour * 3600

    def _id(self) -> str:
        r = self.rng
        while True:
            if self.p.ids == "nw":
                v = f"NW-{r.randint(10000, 99999)}"
            elif self.p.ids == "num":
                v = str(r.randint(100000, 999999))
            else:
                v = "emp_" + "".join(r.choice("0123456789abcdef") for _ in range(6))
            if v not in self.used_ids:
                self.used_ids.add(v)
                return v

    def _person(self, role: Role) -> Person:
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        base = {"first.last": f"{first}.{last}", "initial.last": f"{first[0]}.{last}", "first": first}[self.p.upn]
        local, k = base, 1
        while local in self.used_upn:
            k += 1
            local = f"{base}{k}" if self.p.upn != "first" else f"{first}.{last[:k - 1]}" if k <= len(last) + 1 \
                else f"{first}{k}"
        self.used_upn.add(local)
        upn = f"{local}@{self.p.domain}"
        short, j = (first[0] + last)[:12], 1
        while f"{short}{'' if j == 1 else j}" in self.used_sam:
            j += 1
        short = f"{short}{'' if j == 1 else j}"
        self.used_sam.add(short)
        sam = f"{self.p.org}\\{short}"
        if r.random() < .3:  # sources spell the account in their own case
            sam = sam.upper() if r.random() < .5 else f"{self.p.org}\\{short.capitalize()}"
        self.n_people += 1
        sid = f"S-1-5-21-{zlib.crc32(self.p.domain.encode())}-{zlib.crc32(self.p.org.encode()) % 10**9}-" \
              f"{self.seed * 7919 % 10**9}-{1100 + 3 * self.n_people + r.randint(0, 2)}"
        crm = "0054R" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(10))
        private = f"{first}.{last}{r.randint(1, 99)}@{r.choice(self.p.private_domains)}"
        zones = self.p.zones
        tz = ZoneInfo(r.choices([z for z, _ in zones], [w for _, w in zones])[0])
        p = Person(self._id(), first, last, role, tz, upn, sam, sid, crm, private)
        self._habits(p)
        return p

    def _habits(self, p: Person) -> None:
        r, role = self.rng, p.role
        p.level = min(6.0, r.lognormvariate(0, .6))
        p.burst = r.choice((.7, 1.2, 2.0, 4.0))
        pat = role.pattern
        if pat == "early":
            p.start_h = r.gauss(6.8, .5)
        elif pat == "flex":
            p.start_h = r.gauss(9.8, 1.3)
        elif pat == "night":
            p.start_h = r.gauss(22.0, .4)
        elif pat == "field":
            p.start_h = r.gauss(7.2, .8)
        else:
            p.start_h = r.gauss(8.3, .7)
        p.hours = max(4.0, r.gauss(8.6, 1.0) if r.random() > .1 else r.gauss(5.5, .8))  # part-timers
        if pat == "shift":
            p.shift_phase = r.randrange(3)
            p.workdays = tuple(sorted(r.sample(range(7), 5)))  # rotas include weekends
        elif r.random() < .07:  # four-day weeks
            p.workdays = tuple(sorted(r.sample(range(5), 4)))
        p.weekend = r.uniform(.05, .3) if r.random() < self.p.weekend_share else 0.0
        pre = self.pre
        p.host = f"{pre}-LT-{r.randint(1000, 99999):05d}" if self.p.name != "outside_c" else \
            f"kestrel-mbp-{p.upn.split('@')[0].replace('.', '-')}"
        self.hosts_of[p.host] = p.eid
        if r.random() < self.p.second_machine:
            p.second = f"{pre}-WS-{r.randint(1000, 99999):05d}" if self.p.name != "outside_c" else \
                f"kestrel-linux-{r.randint(100, 999)}"
        if "usb" in role.flags or r.random() < .08:
            p.usb_serials = tuple(f"USB\\VID_{r.choice(('0781', '0951', '058F', '090C'))}&PID_{r.randint(1000, 9999)}"
                                  f"\\{r.randint(10**9, 10**10 - 1)}" for _ in range(r.randint(1, 2)))
        p.crm_sporadic = r.random() < .35
        p.export_rows = r.lognormvariate(math.log(120), .9)
        p.servers = tuple(r.sample(self.servers, r.randint(3, 9)))  # used when the person is (or becomes) an admin
        p.job_browser = r.uniform(.02, .15) if r.random() < .06 else 0.0
        p.mails_self = r.uniform(.01, .06) if r.random() < .15 else 0.0
        stems = _dept_stems(role.dept)
        p.folders = tuple(f"{role.dept}/{r.choice(('2024', '2025', '2026', 'archive', 'projects', 'team'))}/"
                          f"{r.choice(stems).replace(' ', '_')}s" for _ in range(r.randint(2, 5)))
        if r.random() < .5:
            v0 = r.randrange(5, max(6, self.days - 10))
            p.vacation = (v0, v0 + r.choice((5, 7, 9, 12, 14)))

    # -- planning -----------------------------------------------------------------------------------------------
    def build(self) -> None:
        r, P = self.rng, self.p
        roles = P.roles
        weights = [ro.share for ro in roles]
        for _ in range(self.n):
            self.people.append(self._person(r.choices(roles, weights)[0]))
        for _ in range(round(self.n * P.hire_rate)):
            np_ = self._person(r.choices(roles, weights)[0])
            np_.hired = r.randrange(7, max(8, self.days - 20))
            self.people.append(np_)
        # shared machines: pools per department of roles that share them
        for p in self.people:
            if "shared_hosts" in p.role.flags:
                dept = p.role.dept
                if dept not in self.shared:
                    pre = "HHS-WOW" if P.name == "outside_b" else f"{P.org}-TERM"
                    self.shared[dept] = [f"{pre}-{dept[:4].upper()}-{i:03d}" for i in range(1, max(6, self.n // 25))]
        # managers: the first of each department, and a head
        by_dept: dict[str, list[Person]] = defaultdict(list)
        for p in self.people:
            by_dept[p.role.dept].append(p)
        head = self.people[0]
        for dept in sorted(by_dept):
            ms = by_dept[dept][: max(1, len(by_dept[dept]) // 12)]
            for i, p in enumerate(by_dept[dept]):
                p.manager = head.eid if p in ms else ms[i % len(ms)].eid
        head.manager = None
        self._plan_moves()
        self._plan_leavers()
        for p in self.people:
            self._hr_start(p)

    def _plan_moves(self) -> None:
        r = self.rng
        staff = [p for p in self.people if p.hired < 0]
        for p in r.sample(staff, min(len(staff), round(self.n * self.p.move_rate))):
            new = r.choice([ro for ro in self.p.roles if ro.name != p.role.name])
            p.moved = (r.randrange(20, max(21, self.days - 10)), new)

    def _eligible(self, scenario: str, p: Person) -> bool:
        f, role = p.role.flags, p.role
        if scenario == "research_mailed_home":
            return "research" in f or "engineer" in f
        if scenario == "crm_export_before_leaving":
            return "crm" in f and (role.rates.get("crm_export", 0) > 0 or role.rates.get("crm_view", 0) >= 4)
        if scenario == "sabotaging_admin":
            return "admin" in f or "helpdesk" in f
        if scenario == "competitor_contact_then_usb":
            return role.rates.get("mail", 0) >= 3
        return True

    def _plan_leavers(self) -> None:
        r, P = self.rng, self.p
        span = self.days
        n_leave = max(1, round(self.n * P.leave_rate * span / 30))
        n_ins = max(len(SCENARIOS) // 3, round(self.n * P.insiders / 100))
        n_leave = max(n_leave, n_ins + 3)
        pool = [p for p in self.people if p.hired < 0 and p.moved is None and p is not self.people[0]]
        r.shuffle(pool)
        order = list(SCENARIOS) * (n_ins // len(SCENARIOS) + 1)
        r.shuffle(order)
        taken: set[str] = set()
        for sc in order[:n_ins]:
            cand = next((p for p in pool if p.eid not in taken and self._eligible(sc, p)), None)
            if cand is None:
                cand = next(p for p in pool if p.eid not in taken)
                sc = "personal_cloud_uploads"
            taken.add(cand.eid)
            self._leave(cand, sc)
        for p in pool:
            if len(taken) >= n_leave:
                break
            if p.eid not in taken:
                taken.add(p.eid)
                self._leave(p, BENIGN)

    def _leave(self, p: Person, scenario: str) -> None:
        r, P = self.rng, self.p
        malicious = scenario != BENIGN
        term = r.random() < P.termination_share and scenario not in ("research_mailed_home", "slow_drip_downloads")
        lo, hi = P.notice_days
        period = r.randint(0, 3) if term else r.randint(lo, hi)
        latest_last = self.days - 4
        if malicious:
            n0 = r.randint(25, max(26, latest_last - period))
        else:
            n0 = r.randint(20, max(21, self.days - 6))  # an honest leaver may still be in notice at the end
        last = n0 + period
        if malicious and last > latest_last:
            last = latest_last
            period = last - n0
        while last >= 0 and not self.working_day(p, last, ignore_leave=True):
            last -= 1  # the last working day is a day the person works
        last = max(last, n0)
        p.notice, p.last, p.leaver = n0, last, scenario
        p.subtle = malicious and r.random() < P.subtle
        p.plan = self._scenario_plan(p, scenario, term)
        lab = {"employee_id": p.eid, "scenario": scenario, "start": self.date(p.plan["start"]).isoformat(),
               "end": self.date(p.plan["end"]).isoformat(), "last_day": self.date(last).isoformat()}
        self.labels.append(lab)

    def _scenario_plan(self, p: Person, sc: str, term: bool) -> dict[str, Any]:
        r, n0, last, s = self.rng, p.notice or 0, p.last or 0, p.subtle
        plan: dict[str, Any] = {"term": term}
        if sc == BENIGN:
            plan.update(start=n0, end=last, handover=r.random() < .75, crm_handover=r.random() < .6,
                        cleanup=r.random() < .5, usb_personal=r.random() < .3, mail_home=r.random() < .35,
                        job_search=r.random() < .6, cloud_personal=r.random() < .15, farewell=r.random() < .7)
            plan["hunt_from"] = max(0, n0 - r.randint(10, 40))
            return plan
        if sc == "research_mailed_home":
            start = max(3, n0 - r.randint(3, 25))
            k = r.randint(2, 3) if s else r.randint(5, 12)
            plan["mails"] = sorted(r.randint(start, last) for _ in range(k))
            plan["files_per"] = (1, 2) if s else (1, 5)
        elif sc == "crm_export_before_leaving":
            start = max(n0 - r.randint(0, 10), last - r.randint(5, 18))
            k = r.randint(1, 2) if s else r.randint(2, 5)
            plan["exports"] = sorted(r.randint(start, last) for _ in range(k))
            plan["rows"] = (2.0, 4.0) if s else (10.0, 80.0)
            plan["mail_home"] = r.random() < .45
        elif sc == "thumb_drive_last_evening":
            day = last if r.random() < .75 else max(n0, last - 1)
            start = day
            plan["day"] = day
            plan["files"] = r.randint(15, 45) if s else r.randint(120, 2500)
            plan["evening"] = r.random() < .8
        elif sc == "slow_drip_downloads":
            start = max(3, n0 - r.randint(10, 35))
            plan["extra"] = (1, 3) if s else (3, 9)
        elif sc == "job_hunt_then_exfiltration":
            start = max(3, n0 - r.randint(14, 42))
            plan["hunt_from"] = start
            plan["how"] = r.choice(("cloud", "usb", "mail"))
            plan["exfil_days"] = sorted(r.randint(max(start + 7, last - 12), last) for _ in range(1 if s else 3))
            plan["size"] = .2 if s else 1.0
        elif sc == "sabotaging_admin":
            start = n0 if not term else max(3, n0 - r.randint(0, 5))
            plan["day"] = r.randint(start, last)
            plan["deletes"] = r.randint(60, 150) if s else r.randint(400, 4000)
            plan["new_hosts"] = r.randint(1, 2) if s else r.randint(3, 8)
            plan["after"] = r.random() < .4 and last + 3 < self.days
        elif sc == "personal_cloud_uploads":
            start = max(3, min(n0, last - r.randint(5, 25)))
            k = r.randint(1, 2) if s else r.randint(3, 8)
            plan["uploads"] = sorted(r.randint(start, last) for _ in range(k))
            plan["mb"] = (5, 40) if s else (60, 900)
            plan["evening"] = r.random() < .5
        elif sc == "competitor_contact_then_usb":
            start = max(3, n0 - r.randint(10, 30))
            plan["mails"] = sorted(r.randint(start, max(start, last - 3)) for _ in range(r.randint(2, 5)))
            plan["usb_days"] = sorted(r.randint(max(start + 5, last - 10), last) for _ in range(r.randint(1, 3)))
            plan["files"] = (6, 20) if s else (40, 400)
        elif sc == "access_after_leaving":
            start = last + 1
            after = [d for d in range(last + 2, min(self.days, last + 15)) if self.rng.random() < .35]
            if not after:
                after = [min(self.days - 1, last + 2)]
            plan["after"] = after
            plan["downloads"] = (1, 4) if s else (10, 60)
            return plan | {"start": start, "end": max(after)}
        else:
            raise ValueError(f"unknown scenario {sc!r}")
        ends = [last]
        for key in ("mails", "exports", "uploads", "usb_days", "exfil_days"):
            if plan.get(key):
                ends.append(max(plan[key]))
        if sc == "sabotaging_admin" and plan["after"]:
            ends.append(last + 2)
        plan.update(start=start, end=max(ends))
        return plan

    # -- HR ---------------------------------------------------------------------------------------------------
    def _record(self, p: Person, ts: float, status: str, role: Role | None = None, **kw: Any) -> None:
        ro = role or p.role
        rec = {"employee_id": p.eid, "ts": _iso(ts), "status": status, "accounts": p.accounts,
               "department": ro.dept, "role": ro.name, "manager_id": p.manager,
               "resignation_date": kw.get("resignation_date"), "last_day": kw.get("last_day"),
               "watchlist": False}
        self.hr.append((ts, rec))

    def _hr_start(self, p: Person) -> None:
        r = self.rng
        if p.hired >= 0:
            t0 = self.at(p, p.hired, 7.0) - 3 * DAY  # the record exists before the first day
        else:
            t0 = self.midnight(p.tz, 0) - r.randint(60, 4000) * DAY + 8 * 3600
        self._record(p, t0, "active")
        if p.moved:
            day, new = p.moved
            self._record(p, self.at(p, day, 6.0), "active", role=new)
        if p.notice is not None and p.last is not None:
            lag = self.rng.randint(0, self.p.hr_lag_days) if not p.plan.get("term") else 0
            t = self.at(p, min(self.days - 1, p.notice + lag), 10.5)
            t = min(t, self.at(p, p.last, 9.0))
            self._record(p, t, "notice", resignation_date=self.date(p.notice).isoformat(),
                         last_day=self.date(p.last).isoformat())
            self._record(p, self.at(p, p.last + 1, 6.0), "departed", resignation_date=self.date(p.notice).isoformat(),
                         last_day=self.date(p.last).isoformat())

    def signal(self, p: Person, ts: float, name: str, value: Any) -> None:
        self.signals.append((ts, {"employee_id": p.eid, "ts": _iso(ts), "signal": name, "value": value}))

    # -- the days ---------------------------------------------------------------------------------------------
    def working_day(self, p: Person, d: int, ignore_leave: bool = False) -> bool:
        wd = self.date(d).weekday()
        if d < p.hired:
            return False
        if not ignore_leave and p.last is not None and d > p.last:
            return False
        if d in self.holidays and p.role.pattern not in ("shift", "night"):
            return False
        if p.vacation[0] <= d < p.vacation[1]:
            return False
        return wd in p.workdays

    def role_on(self, p: Person, d: int) -> Role:
        if p.moved and d >= p.moved[0]:
            return p.moved[1]
        return p.role

    def days_of_events(self) -> Iterator[tuple[int, int]]:
        """Plan the company, then produce every day; yields ``(day, events so far)`` after each day, with the
        finished UTC days moved to :attr:`ready`."""
        self.build()
        for d in range(self.days):
            for p in self.people:
                self.day(p, d)
            yield d, self.n_events

    def day(self, p: Person, d: int) -> None:
        r = self.rng
        role = self.role_on(p, d)
        sc = p.leaver
        works = self.working_day(p, d)
        if not works and d >= p.hired and (p.last is None or d <= p.last) and r.random() < p.weekend \
                and self.date(d).weekday() >= 5:
            works = True  # an occasional weekend shift or a Saturday catch-up
        if p.vacation[0] == d + 10 and d >= 0:
            self.signal(p, self.at(p, d, 11.0), "leave_request", p.vacation[1] - p.vacation[0])
        if works and r.random() < .02:
            self.signal(p, self.at(p, d, 8.0), "absence", 1)
            works = False
        if d % 30 == 17 and r.random() < .3:
            self.signal(p, self.at(p, d, 15.0), "survey", max(0, min(10, round(r.gauss(6.5 if not sc else 4.5, 2)))))
        if works:
            self.work(p, d, role)
        if sc is not None and sc != BENIGN:
            self.insider(p, d, role)
        if p.last is not None and d == p.last:
            self.signal(p, self.at(p, d, 16.0), "asset_returned", f"{p.host}")

    def _window(self, p: Person, d: int, role: Role) -> tuple[float, float]:
        r = self.rng
        s = p.start_h
        if role.pattern == "shift":
            s = (6.0, 14.0, 22.0)[(p.shift_phase + (d // 7)) % 3] + r.gauss(0, .2)
        elif role.pattern == "night":
            s = p.start_h + r.gauss(0, .3)
        else:
            s = s + r.gauss(0, .45)
        h = p.hours + r.gauss(0, .6)
        if self.p.crunch and role.dept == self.p.crunch[0] and \
                self.p.crunch[1] <= self.date(d).isoformat() <= self.p.crunch[2]:
            h += r.uniform(1.5, 4.0)  # a crunch: late evenings for the whole team
        if "travel" in role.flags and r.random() < .04:
            s += r.choice((-6.0, 6.0, 9.0))  # a trip to another continent: the same work at other hours
        return s, max(2.0, h)

    def work(self, p: Person, d: int, role: Role) -> None:
        r, P = self.rng, self.p
        s, h = self._window(p, d, role)
        rate = role.rates
        f = VOLUME * p.level * r.gammavariate(p.burst, 1 / p.burst)
        if P.quarter_end and P.quarter_end[0] <= self.date(d).isoformat() <= P.quarter_end[1] and \
                role.dept in ("sales", "finance", "revenue", "revenue_cycle"):
            f *= r.uniform(1.5, 2.5)
        leaving = p.last is not None and p.notice is not None and p.notice <= d <= p.last
        late = p.last is not None and p.last - 10 <= d <= p.last

        def t() -> float:
            return self.at(p, d, s + r.random() * h)

        # logons
        hosts = [p.host]
        if "shared_hosts" in role.flags and role.dept in self.shared:
            pool = self.shared[role.dept]
            hosts = [pool[(zlib.crc32(p.eid.encode()) + r.randint(0, 6)) % len(pool)] for _ in range(r.randint(1, 5))]
        elif p.second and r.random() < .35:
            hosts.append(p.second)
        for i, hst in enumerate(hosts):
            t0 = self.at(p, d, s + h * i / len(hosts)) + r.randint(0, 600)
            self.logon(p, t0, hst, "logon")
            self.logon(p, t0 + h * 3600 / len(hosts) - r.randint(0, 900), hst, "logoff")
        if "admin" in role.flags:
            for _ in range(poisson(r, rate.get("servers", 0) * f)):
                srv = r.choice(p.servers) if r.random() > .06 else r.choice(self.servers)
                self.logon(p, t(), srv, "logon")
        if "helpdesk" in role.flags:
            others = self.people
            for _ in range(poisson(r, rate.get("deskside", 0))):
                o = others[r.randrange(len(others))]
                self.logon(p, t(), o.host, "logon")  # desk-side support on a colleague's laptop
        # files
        k_open = poisson(r, rate.get("open", 0) * f)
        k_down = poisson(r, rate.get("download", 0) * f * (r.uniform(2.5, 5) if leaving and p.plan.get("handover") else 1))
        for _ in range(k_open):
            self.file(p, t(), "open", role)
        for _ in range(k_down):
            self.file(p, t(), "download", role)
        for _ in range(poisson(r, rate.get("upload", 0) * f)):
            self.file(p, t(), "upload", role)
        for _ in range(poisson(r, rate.get("share_ext", 0) * f)):
            self.file(p, t(), "share_external", role, dest=r.choice(P.partners))
        for _ in range(poisson(r, rate.get("print", 0) * f)):
            self.file(p, t(), "print", role)
        if r.random() < .01:  # a sync client pulls a whole library
            self.file(p, t(), "sync_download", role, count=r.randint(50, 900))
        if r.random() < .002 or (late and p.plan.get("cleanup") and d >= p.last - 1):  # type: ignore[operator]
            for _ in range(r.randint(20, 250)):
                self.file(p, t(), "delete", role)
        # mail
        for _ in range(poisson(r, rate.get("mail", 0) * f)):
            self.mail(p, t(), role)
        if rate.get("mass") and r.random() < rate["mass"]:
            self.mass_mail(p, t(), external=False)
        if rate.get("mass_ext") and r.random() < rate["mass_ext"]:
            self.mass_mail(p, t(), external=True)
        if rate.get("comp_mail") and r.random() < rate["comp_mail"]:
            self.mail(p, t(), role, to=[f"{r.choice(FIRST)}@{r.choice(P.competitors)}"])  # trade fairs, partnerships
        if p.mails_self and r.random() < p.mails_self:
            self.mail(p, t(), role, to=[p.private], attach=r.randint(0, 1), subject="fwd: " +
                      r.choice(("boarding pass", "tax form", "invoice", "photos", "tickets")))
        # CRM
        cv = rate.get("crm_view", 0)
        if cv:
            if p.crm_sporadic:
                if r.random() < .25:
                    for _ in range(poisson(r, cv * 2 * f)):
                        self.crm(p, t(), "view", dur=r.lognormvariate(math.log(240), 1.1))
            else:
                for _ in range(poisson(r, cv * f)):
                    self.crm(p, t(), "view", dur=r.lognormvariate(math.log(90), .8))
        for _ in range(poisson(r, rate.get("crm_export", 0) * f)):
            self.crm(p, t(), r.choice(("report_export", "export")), rows=int(r.lognormvariate(math.log(p.export_rows), .7)))
        for _ in range(poisson(r, rate.get("crm_api", 0) * f)):
            self.crm(p, t(), "api_query", rows=int(r.lognormvariate(math.log(2000), 1.2)))
        # web
        for _ in range(poisson(r, rate.get("web", 0) * f)):
            self.web(p, t(), "visit", r.choice(P.news))
        for _ in range(poisson(r, rate.get("github", 0) * f)):
            self.web(p, t(), "upload", "github.com", bytes_=int(r.lognormvariate(math.log(40_000), 1.5)),
                     path=f"/{P.domain.split('.')[0]}/{r.choice(('api', 'web', 'infra', 'ml', 'etl'))}.git/git-receive-pack")
        for _ in range(poisson(r, rate.get("cloud_up", 0) * f)):  # sharing with agencies and customers
            self.web(p, t(), "upload", r.choice(PERSONAL_CLOUD), bytes_=int(r.lognormvariate(math.log(8e6), 1.2)))
        if rate.get("comp_web") and r.random() < rate["comp_web"]:
            self.web(p, t(), "visit", r.choice(P.competitors), path="/products")
        if rate.get("hack_web") and r.random() < rate["hack_web"]:
            self.web(p, t(), r.choice(("visit", "download")), r.choice(LEAK_OR_TOOL))
        hunting = p.job_browser or (p.leaver == BENIGN and p.plan.get("job_search") and
                                    p.plan["hunt_from"] <= d < (p.notice or 0))
        if hunting and r.random() < (p.job_browser or .35):
            for _ in range(r.randint(1, 4)):
                self.web(p, t(), "visit", r.choice(P.job_sites))
        # removable media
        if p.usb_serials and r.random() < rate.get("usb", .02):
            self.usb(p, t(), r.choice(p.usb_serials), r.randint(1, 40), role)
        # an honest leaver's last days
        if p.leaver == BENIGN and late:
            self.handover(p, d, role, t)

    def handover(self, p: Person, d: int, role: Role, t: Any) -> None:
        r, plan = self.rng, p.plan
        successor = f"{r.choice(FIRST)}.{r.choice(LAST)}@{self.p.domain}"
        if plan.get("handover") and r.random() < .5:
            for _ in range(r.randint(2, 10)):
                self.file(p, t(), "share_external" if r.random() < .05 else "upload", role)
            self.mail(p, t(), role, to=[successor], attach=r.randint(1, 6), subject="handover notes")
        # only people who own accounts and export from the CRM as part of their job hand a list over
        if plan.get("crm_handover") and role.rates.get("crm_export", 0) >= .1 and r.random() < .3:
            self.crm(p, t(), "report_export", rows=int(p.export_rows * r.uniform(3, 15)), obj="My accounts - handover")
            self.mail(p, t(), role, to=[successor], attach=1, subject="account list for handover")
        if d == p.last:
            if plan.get("usb_personal"):
                serial = p.usb_serials[0] if p.usb_serials else f"USB\\VID_0781&PID_5567\\{r.randint(10**9, 10**10 - 1)}"
                self.usb(p, t(), serial, r.randint(20, 300), role, personal=True)
            if plan.get("mail_home"):
                self.mail(p, t(), role, to=[p.private], attach=r.randint(1, 3), subject="contacts and references")
            if plan.get("cloud_personal"):
                self.web(p, t(), "upload", r.choice(PERSONAL_CLOUD), bytes_=int(r.uniform(5e6, 2e8)))
            if plan.get("farewell"):
                self.mass_mail(p, self.at(p, d, 15 + 3 * r.random()), external=False, subject="farewell", small=True)
            self.signal(p, self.at(p, d, 12.0), "handover_item_done", "handover notes")

    # -- insiders -----------------------------------------------------------------------------------------------
    def insider(self, p: Person, d: int, role: Role) -> None:
        r, plan, sc = self.rng, p.plan, p.leaver
        day_t = lambda lo=9.0, hi=17.0: self.at(p, d, r.uniform(lo, hi))  # noqa: E731
        if sc == "research_mailed_home":
            for _ in range(plan["mails"].count(d)):
                k = r.randint(*plan["files_per"])
                docs = [self.doc(p, role) for _ in range(k)]
                self.mail(p, day_t(8, 20), role, to=[p.private], attach=k, docs=docs,
                          subject=r.choice(("notes", "for home", "read later", docs[0][0].rsplit("/", 1)[-1])))
        elif sc == "crm_export_before_leaving":
            for _ in range(plan["exports"].count(d)):
                rows = int(p.export_rows * r.uniform(*plan["rows"]))
                obj = r.choice(("All accounts with contacts", "Customer master export", "Opportunities - all regions",
                                "Key accounts and price lists"))
                tt = day_t()
                self.crm(p, tt, "report_export", rows=rows, obj=obj)
                if plan["mail_home"]:
                    self.mail(p, tt + r.randint(300, 7200), role, to=[p.private], attach=1, subject=obj,
                              docs=[(f"{obj}.xlsx", None)])
        elif sc == "thumb_drive_last_evening" and d == plan["day"]:
            serial = f"USB\\VID_{r.choice(('0781', '1307', '13FE'))}&PID_{r.randint(1000, 9999)}\\{r.randint(10**9, 10**10 - 1)}"
            tt = self.at(p, d, r.uniform(18.5, 21.5) if plan["evening"] else r.uniform(12, 13.5))
            self.usb(p, tt, serial, plan["files"], role)
        elif sc == "slow_drip_downloads" and plan["start"] <= d <= (p.last or 0) and self.working_day(p, d):
            for _ in range(r.randint(*plan["extra"])):
                self.file(p, day_t(), "download", role)
        elif sc == "job_hunt_then_exfiltration":
            if plan["hunt_from"] <= d <= (p.last or 0) and r.random() < .6:
                for _ in range(r.randint(1, 5)):
                    self.web(p, day_t(8, 22), "visit", r.choice(self.p.job_sites))
            for _ in range(plan["exfil_days"].count(d)):
                tt = day_t(10, 21)
                size = plan["size"]
                if plan["how"] == "cloud":
                    self.web(p, tt, "upload", r.choice(PERSONAL_CLOUD), bytes_=int(r.uniform(2e7, 6e8) * size))
                elif plan["how"] == "usb":
                    serial = p.usb_serials[0] if p.usb_serials else f"USB\\VID_0951&PID_1666\\{r.randint(10**9, 10**10 - 1)}"
                    self.usb(p, tt, serial, max(5, int(r.randint(30, 600) * size)), role)
                else:
                    k = max(1, int(r.randint(2, 8) * size))
                    self.mail(p, tt, role, to=[p.private], attach=k, docs=[self.doc(p, role) for _ in range(k)],
                              subject="cv and portfolio")
        elif sc == "sabotaging_admin":
            days = [plan["day"]] + ([(p.last or 0) + 2] if plan["after"] else [])
            if d in days:
                hour = r.uniform(19.5, 23.0) if r.random() < .6 else r.uniform(10, 16)
                tt = self.at(p, d, hour)
                fresh = [h for h in self.servers if h not in p.servers] or self.servers
                manager_host = next((q.host for q in self.people if q.eid == p.manager), None)
                targets = r.sample(fresh, min(len(fresh), plan["new_hosts"])) + ([manager_host] if manager_host else [])
                for i, hst in enumerate(targets):
                    self.logon(p, tt + i * 120, hst, "logon")
                n = plan["deletes"] // len(days)
                for i in range(n):
                    self.file(p, tt + 300 + i * r.uniform(.5, 4), "delete", role, server=r.choice(targets[:max(1, len(targets) - 1)]))
        elif sc == "personal_cloud_uploads":
            for _ in range(plan["uploads"].count(d)):
                tt = self.at(p, d, r.uniform(19, 23.5)) if plan["evening"] else day_t()
                host = f"{self.pre}-VPN-{r.randint(1, 4)}" if plan["evening"] else p.host
                self.web(p, tt, "upload", r.choice(PERSONAL_CLOUD), bytes_=int(r.uniform(*plan["mb"]) * 1e6), host=host)
        elif sc == "competitor_contact_then_usb":
            for _ in range(plan["mails"].count(d)):
                comp = r.choice(self.p.competitors)
                self.mail(p, day_t(), role, to=[f"{r.choice(FIRST)}.{r.choice(LAST)}@{comp}"], attach=r.randint(0, 1),
                          subject=r.choice(("re: our conversation", "intro", "cv", "next steps")))
                if r.random() < .6:
                    self.web(p, day_t(), "visit", f"careers.{comp}", path="/open-positions")
            for _ in range(plan["usb_days"].count(d)):
                serial = p.usb_serials[0] if p.usb_serials else f"USB\\VID_058F&PID_6387\\{r.randint(10**9, 10**10 - 1)}"
                self.usb(p, day_t(), serial, r.randint(*plan["files"]), role)
        elif sc == "access_after_leaving" and d in plan["after"]:
            tt = self.at(p, d, r.uniform(19, 23))
            host = f"{self.pre}-VPN-{r.randint(1, 4)}"
            self.logon(p, tt, host, "logon")
            for i in range(r.randint(*plan["downloads"])):
                self.file(p, tt + 60 + i * 45, "download", role, host=host)

    # -- events -----------------------------------------------------------------------------------------------
    def emit(self, ts: float, **fields: Any) -> None:
        self.seq += 1
        eid = f"{self.p.name[-1]}{self.seed}-" + hashlib.blake2b(self.seq.to_bytes(6, "big"), key=self.key,
                                                                  digest_size=8).hexdigest()
        label = fields.pop("label", None)
        ev, dead = self.ctx.event(raw=b"", event_id=eid, ts=round(ts, 3), label=label, **fields)
        if ev is None:
            raise ValueError(f"generate_outside: an event failed the contract: {dead}")
        data = ev.model_dump_json(exclude_none=True, exclude_defaults=True).encode()
        self.buckets[int(ts // DAY)].append((ts, self.seq, data))
        self.n_events += 1

    def logon(self, p: Person, ts: float, host: str, action: str) -> None:
        actor = {"sam": p.sam, "sid": p.sid, "upn": p.upn}[self.p.logon_actor]
        self.emit(ts, source=self.p.sources["logon"], kind="logon", action=action, actor=actor, host=host,
                  attrs={"logon_type": 10 if "VPN" in host or "srv" in host else 2})

    def doc(self, p: Person, role: Role) -> tuple[str, str | None]:
        """A document of the person's folders (most work stays in a few of them, with a long tail), and its
        source label when it has one."""
        r = self.rng
        folder = r.choice(p.folders) if role is p.role or r.random() < .3 else \
            f"{role.dept}/team/{r.choice(_dept_stems(role.dept)).replace(' ', '_')}s"
        n = int(r.paretovariate(1.1)) % 400
        stem = r.choice(_dept_stems(role.dept))
        ext = r.choice(("docx", "xlsx", "pdf", "pptx", "dwg" if "engineer" in role.flags else "csv"))
        path = f"{folder}/{stem} {n:03d}.{ext}"
        h = zlib.crc32(path.encode())
        label = None
        if (h % 10_000) < self.p.label_rate * 10_000:
            label = ("General", "Confidential", "Highly Confidential", "Confidential\\Internal only",
                     "Public")[(h >> 16) % 5]
        return path, label

    def _url(self, path: str, role: Role) -> str:
        P = self.p
        if P.file_share == "drive":
            return f"https://drive.google.com/drive/{P.domain}/{path}"
        site = role.dept.replace("_", "-")
        return f"https://{P.domain.split('.')[0]}.sharepoint.com/sites/{site}/Shared Documents/{path.split('/', 1)[1]}"

    def file(self, p: Person, ts: float, action: str, role: Role, dest: str | None = None, count: int | None = None,
             host: str | None = None, server: str | None = None) -> None:
        r, P = self.rng, self.p
        path, label = self.doc(p, role)
        if server or (P.name == "outside_a" and "engineer" in role.flags and r.random() < .4):
            obj = f"\\\\{server or 'nwt-fs01'}\\{role.dept}\\{path.replace('/', chr(92))}"
            src = P.sources["fileserver"]
        else:
            obj, src = self._url(path, role), P.sources["file"]
        kind = "print" if action == "print" else "file"
        size = int(r.lognormvariate(math.log(350_000), 1.4))
        f: dict[str, Any] = dict(source=src if kind == "file" else P.sources["print"], kind=kind, action=action,
                                 actor=p.upn, host=host or p.host, object=obj, bytes=size, label=label)
        if count:
            f["count"] = count
        if dest:
            f["destination"] = dest
            f["recipients"] = [f"{r.choice(FIRST)}@{dest}"]
        self.emit(ts, **f)

    def mail(self, p: Person, ts: float, role: Role, to: list[str] | None = None, attach: int | None = None,
             subject: str | None = None, docs: list[tuple[str, str | None]] | None = None) -> None:
        r, P = self.rng, self.p
        if to is None:
            k = 1 if r.random() < .6 else r.randint(2, 6)
            to = [(f"{r.choice(FIRST)}@{r.choice(P.partners)}" if r.random() < role.rates.get("ext", .1)
                   else f"{r.choice(FIRST)}.{r.choice(LAST)}@{P.domain}") for _ in range(k)]
        if attach is None:
            attach = 0 if r.random() < .65 else r.randint(1, 3)
        if docs is None and attach:
            docs = [self.doc(p, role) for _ in range(attach)]
        label = next((lab for _, lab in (docs or []) if lab), None)
        obj = subject or (docs[0][0].rsplit("/", 1)[-1] if docs else r.choice(("re: status", "meeting", "question",
                                                                                "fyi", "update", "re: offer")))
        size = 20_000 + sum(int(r.lognormvariate(math.log(400_000), 1.2)) for _ in range(attach or 0))
        self.emit(ts, source=P.sources["email"], kind="email", action="forward" if r.random() < .08 else "send",
                  actor=p.upn, host=p.host, object=obj, bytes=size, count=attach or 0, recipients=to, label=label,
                  attrs={"attachments": [d.rsplit("/", 1)[-1] for d, _ in (docs or [])][:5]} if docs else {})

    def mass_mail(self, p: Person, ts: float, external: bool, subject: str | None = None, small: bool = False) -> None:
        r, P = self.rng, self.p
        if small:
            to = [f"{r.choice(FIRST)}.{r.choice(LAST)}@{P.domain}" for _ in range(r.randint(8, 40))]
        elif external:
            to = [f"{r.choice(FIRST)}.{r.choice(LAST)}{r.randint(1, 99)}@{r.choice(P.partners)}" for _ in range(r.randint(40, 250))]
        elif r.random() < .5:
            to = [f"all-staff@{P.domain}"]
        else:
            to = sorted({f"{q.upn}" for q in r.sample(self.people, min(len(self.people), r.randint(30, 300)))})
        self.emit(ts, source=P.sources["email"], kind="email", action="send", actor=p.upn, host=p.host,
                  object=subject or r.choice(("newsletter", "all hands", "policy update", "event invitation")),
                  bytes=r.randint(30_000, 3_000_000), count=1, recipients=to)

    def crm(self, p: Person, ts: float, action: str, dur: float | None = None, rows: int | None = None,
            obj: str | None = None) -> None:
        r, P = self.rng, self.p
        actor = p.crm_id if P.crm_actor == "crmid" else p.upn
        if obj is None:
            obj = r.choice(("Account", "Contact", "Opportunity", "Case", "Quote")) if action == "view" else \
                r.choice(("My open opportunities", "Pipeline by region", "Cases this week", "Accounts by owner",
                          "Renewals next quarter"))
        f: dict[str, Any] = dict(source=P.sources["crm"], kind="crm", action=action, actor=actor, object=obj,
                                 host=p.host)
        if dur is not None:
            f["duration_s"] = round(dur, 1)
        if rows is not None:
            f["count"] = max(1, rows)
            f["bytes"] = max(1, rows) * r.randint(200, 900)
        self.emit(ts, **f)

    def web(self, p: Person, ts: float, action: str, site: str, bytes_: int | None = None, path: str | None = None,
            host: str | None = None) -> None:
        r = self.rng
        url = f"https://{site}{path or r.choice(('/', '/index', '/search?q=x', '/article/' + str(r.randint(1, 9999))))}"
        f: dict[str, Any] = dict(source=self.p.sources["web"], kind="web", action=action, actor=p.upn,
                                 host=host or p.host, object=url, destination=site.split("/", 1)[0])
        if bytes_ is not None:
            f["bytes"] = bytes_
        self.emit(ts, **f)

    def usb(self, p: Person, ts: float, serial: str, files: int, role: Role, personal: bool = False) -> None:
        r, P = self.rng, self.p
        src = P.sources["device"]
        self.emit(ts, source=src, kind="device", action="connect", actor=p.upn, host=p.host, destination=serial,
                  object=r.choice(("SanDisk Ultra", "Kingston DataTraveler", "Generic Mass Storage", "WD My Passport")))
        t = ts + r.randint(20, 120)
        batches = max(1, min(40, files // 25))
        for i in range(batches):
            k = files // batches + (1 if i < files % batches else 0)
            path, label = (f"Pictures/{r.randint(2015, 2026)}", None) if personal else self.doc(p, role)
            self.emit(t, source=src, kind="file", action="copy_to_removable", actor=p.upn, host=p.host,
                      object=f"E:\\{path.replace('/', chr(92))}", destination=serial, count=k, label=label,
                      bytes=k * int(r.lognormvariate(math.log(900_000), 1.0)))
            t += r.uniform(5, 90)
        self.emit(t + 30, source=src, kind="device", action="disconnect", actor=p.upn, host=p.host, destination=serial)

    # -- output ---------------------------------------------------------------------------------------------
    def ready(self, upto_day: int) -> Iterator[bytes]:
        """Serialised events of the UTC days before ``upto_day``, in ts order."""
        for k in sorted(b for b in self.buckets if b < upto_day):
            rows = self.buckets.pop(k)
            rows.sort()
            for _, _, data in rows:
                yield data

    def write(self, out: Path, progress: bool = False) -> dict[str, Any]:
        t0 = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)
        size = 0
        first_utc = int(self.midnight(ZoneInfo("UTC"), 0) // DAY)
        with open(out / "events.jsonl", "wb") as fh:
            for d, n in self.days_of_events():
                data = b"\n".join(self.ready(first_utc + d - 1))
                if data:
                    fh.write(data + b"\n")
                    size += len(data) + 1
                if progress and (d % 5 == 4 or d == self.days - 1):
                    sys.stderr.write(f"\rgenerate {self.p.name}: day {d + 1}/{self.days}, {n:,} events, "
                                     f"{time.perf_counter() - t0:.0f} s")
                    sys.stderr.flush()
            data = b"\n".join(self.ready(10**9))
            if data:
                fh.write(data + b"\n")
                size += len(data) + 1
        if progress:
            sys.stderr.write("\n")
        self.hr.sort(key=lambda x: x[0])
        self.signals.sort(key=lambda x: x[0])
        (out / "hr.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for _, r in self.hr))
        (out / "signals.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for _, r in self.signals))
        (out / "labels.jsonl").write_bytes(b"".join(orjson.dumps(lab) + b"\n" for lab in self.labels))
        working = sum(1 for d in range(self.days) if self.date(d).weekday() < 5 and d not in self.holidays)
        meta = {
            "employees": self.n, "new_hires": len(self.people) - self.n, "days": self.days, "seed": self.seed,
            "profile": self.p.name, "generator": "exitwatch.generate_outside",
            "start": self.start.isoformat(), "end": self.date(self.days - 1).isoformat(), "working_days": working,
            "holidays": sorted(self.date(d).isoformat() for d in self.holidays if 0 <= d < self.days),
            "events": self.n_events, "events_bytes": size, "hr_records": len(self.hr), "signals": len(self.signals),
            "leavers": len(self.labels), "malicious": sum(1 for lab in self.labels if lab["scenario"] != BENIGN),
            "scenarios": {sc: sum(1 for lab in self.labels if lab["scenario"] == sc) for sc in SCENARIOS},
            "subtle": sum(1 for p in self.people if p.subtle),
            "events_per_employee_working_day": round(self.n_events / max(1, len(self.people) * working), 1),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        return meta


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_of(name: str) -> Outside:
    if name not in PROFILES:
        raise ValueError(f"unknown outside profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


def generate(out: str | Path, employees: int = 400, days: int = 100, seed: int = 1, profile: str = "outside_a",
             start: str | dt.date | None = None, progress: bool = False) -> dict[str, Any]:
    """Write one outside company to ``out``; returns its meta (also ``out/meta.json``)."""
    d0 = dt.date.fromisoformat(start) if isinstance(start, str) else start
    return Company(profile_of(profile), employees, days, seed, d0).write(Path(out), progress=progress)


def company(profile: str = "outside_a", employees: int = 40, days: int = 40, seed: int = 1,
            start: str | dt.date | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The same company in memory: ``(hr_records, events, labels)`` as contract dicts, each in ``ts`` order."""
    d0 = dt.date.fromisoformat(start) if isinstance(start, str) else start
    c = Company(profile_of(profile), employees, days, seed, d0)
    events: list[dict[str, Any]] = []
    first_utc = int(c.midnight(ZoneInfo("UTC"), 0) // DAY)
    for d, _ in c.days_of_events():
        events.extend(orjson.loads(x) for x in c.ready(first_utc + d - 1))
    events.extend(orjson.loads(x) for x in c.ready(10**9))
    c.hr.sort(key=lambda x: x[0])
    return [r for _, r in c.hr], events, list(c.labels)
