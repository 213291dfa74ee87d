"""Mail to a private address that the source did not mark personal (issue 14): regional consumer providers, the
sender's own address on any domain, and the detectors deciding again for mail that arrives undecided or false."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import Context
from connectors.classification import Classifier, own_address
from detectors import destinations
from detectors.examples import daily, ev, hr, run_example
from detectors.rule import Example
from detectors.rules.email.attachments_to_personal import RULE as ATTACH
from schemas import ActivityEvent

#: Consumer mail providers by region: each must be personal with the shipped configuration.
REGIONAL = [
    "t-online.de", "web.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "freenet.de", "arcor.de", "posteo.de",
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "libero.it", "virgilio.it", "tiscali.it",
    "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "telenet.be", "ziggo.nl", "bluewin.ch",
    "wp.pl", "o2.pl", "seznam.cz", "yandex.ru", "yandex.com", "mail.ru", "naver.com", "daum.net", "qq.com",
    "163.com", "126.com", "yahoo.co.jp", "yahoo.fr", "hotmail.de", "outlook.fr", "rediffmail.com",
    "bigpond.com", "uol.com.br", "bellsouth.net", "charter.net", "shaw.ca", "rogers.com",
]
#: Business domains that look alike: never personal.
BUSINESS = ["corp.example", "outlook.office365.com", "kpmg.de", "company.com.au",
            "telekom.de", "orange.com", "yahooinc.com"]


@pytest.mark.parametrize("domain", REGIONAL)
def test_regional_consumer_mail_is_personal(domain: str) -> None:
    assert Classifier.load().classify(f"ann.lee42@{domain}", "ann@corp.example") == (True, True)


@pytest.mark.parametrize("domain", BUSINESS)
def test_business_domains_are_not_personal(domain: str) -> None:
    assert Classifier.load().classify(f"info@{domain}", "ann@corp.example")[1] is False


@pytest.mark.parametrize("recipient,actor,own", [
    ("yuki.miller87@t-online.de", "y.miller@northwind.example", True),
    ("amara.adeyemi12@family.example", "a.adeyemi@northwind.example", True),
    ("marie.werner22@home.example", "marie.we@kestrel.example", True),
    ("karlmor80@home.example", "KARL.MOREAU@CORP.EXAMPLE", True),
    ("miller.yuki@home.example", "yuki.miller@corp.example", True),
    ("jsmith77@isp.example", "jsmith@corp.example", False),           # one word on both sides: like a first name
    ("yuki.miller@corp.example", "y.miller@corp.example", False),     # a colleague of the same name
    ("y.miller@eu.corp.example", "y.miller@corp.example", False),     # the company's own subdomain
    ("samuel@kpmg.example", "a.kowalski@corp.example", False),
    ("ann@partner.example", "ann.lee@corp.example", False),           # a first name alone is no evidence
    ("a.lee@partner.example", "ann.lee@corp.example", False),         # nor an initial and a short name
    ("amil@partner.example", "a.miller@corp.example", False),
    ("tomasz@partner.example", "tomasz.z@corp.example", False),       # a partner's first name (outside_c s1)
    ("freya@partner.example", "freya@corp.example", False),           # first names alone
    ("valentina@partner.example", "valentina.nair@corp.example", False),
    ("ann@home.example", "CORP\\ann", False),                          # no mail address to compare
])
def test_own_address(recipient: str, actor: str, own: bool) -> None:
    assert own_address(recipient, actor) is own


def test_connector_marks_the_senders_own_address_on_an_unlisted_domain_personal() -> None:
    ctx = Context(classifier=Classifier.load(overrides={"company_domains": ["corp.example"]}))
    e, _ = ctx.event(source="m365", raw="{}", event_id="o1", ts="2026-03-02T09:15:00Z", kind="email",
                     action="send", actor="y.miller@corp.example", recipients=["yuki.miller87@miller-home.example"])
    assert (e.external, e.personal) == (True, True)
    e, _ = ctx.event(source="m365", raw="{}", event_id="o2", ts="2026-03-02T09:15:00Z", kind="email",
                     action="send", actor="y.miller@corp.example", recipients=["jan.berg@partner.example"])
    assert (e.external, e.personal) == (True, False)


def test_detectors_decide_again_for_mail_that_arrives_not_personal() -> None:
    destinations.reset()
    e = ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z", action="send", actor="y.miller@corp.example",
                                        recipients=["yuki.miller87@t-online.de"], personal=False, count=2))
    a = destinations.annotate(e)
    assert a.personal is True and a.external is True and a.attrs["personal_by"] == "detector"
    undecided = e.model_copy(update={"personal": None, "recipients": ["ann.b@libero.it"]})
    assert destinations.annotate(undecided).personal is True
    work = e.model_copy(update={"recipients": ["bob@corp.example", "jan@partner.example"]})
    assert destinations.annotate(work) is work
    web = ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z", action="visit", kind="web",
                                          destination="t-online.de", personal=False))
    assert destinations.annotate(web) is web


def test_unlabelled_research_mailed_to_a_regional_provider_marked_false_fires() -> None:
    """NW-49095 of the outside company (issue 14): mails with 1-5 attachments to a t-online.de address the
    connector had marked ``personal: false``; nothing fired."""
    leaver = [hr("2026-01-01T09:00:00Z"),
              hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
    work = daily("2026-01-05", 40, per_day=2, action="send", recipients=["bob@corp.example"], personal=False)
    home = [ev(f"2026-03-{d:02d}T18:00:00Z", action="send", count=c, recipients=["ann.lee87@t-online.de"],
               personal=False, external=True) for d, c in ((3, 1), (9, 3), (16, 2), (23, 5))]
    alerts = run_example(ATTACH, Example("t-online", True, work + home, leaver))
    assert len(alerts) == 1 and alerts[0].severity != "low"


def _quiet(days_counts, history=(), recipient="yuki.miller87@t-online.de", notice="2026-03-01",
           since="2025-12-01"):
    leaver = [hr("2025-12-01T09:00:00Z", accounts=["y.miller@corp.example"]),
              hr(f"{notice}T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date=notice,
                 accounts=["y.miller@corp.example"])]
    work = daily(since, 40, per_day=2, actor="y.miller@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)
    mails = [ev(ts, actor="y.miller@corp.example", action="send", count=c, recipients=[recipient], personal=False)
             for ts, c in list(history) + list(days_counts)]
    return run_example(ATTACH, Example("quiet", True, work + mails, leaver))


def test_a_few_attachments_on_separate_days_to_a_new_private_address_reach_medium() -> None:
    """Subtle thieves send 2-3 mails of 1-2 attachments (issue 14): v1 needed more than 4 attachments."""
    alerts = _quiet([("2026-03-04T18:00:00Z", 2), ("2026-03-19T18:00:00Z", 1)])
    assert len(alerts) == 1
    a = alerts[0]
    assert a.severity in ("medium", "high", "critical"), a.title
    assert a.explanation["home_days"] == 2 and a.explanation["new_addresses"] == 1
    assert "on 2 day(s) to 1 address(es) new since" in a.title


def test_mails_home_early_in_a_long_notice_count() -> None:
    """The period reaches back to the notice (at most 90 days): mails 60 days before the last day count."""
    alerts = _quiet([("2026-01-30T18:00:00Z", 2), ("2026-02-06T18:00:00Z", 2)], notice="2026-01-26")
    assert len(alerts) == 1


def test_the_same_mails_to_an_address_used_for_months_or_on_one_day_do_not_fire() -> None:
    habit = [("2025-12-09T18:00:00Z", 0), ("2025-12-16T18:00:00Z", 0)]
    assert _quiet([("2026-03-04T18:00:00Z", 2), ("2026-03-19T18:00:00Z", 1)], history=habit) == []
    assert _quiet([("2026-03-30T10:00:00Z", 2), ("2026-03-30T16:00:00Z", 1)]) == []
    assert _quiet([("2026-03-04T18:00:00Z", 1), ("2026-03-19T18:00:00Z", 1)]) == []  # two attachments in all
    # an address first written to within 14 days of the employee's first day seen is not new (version 3)
    assert _quiet([("2026-03-04T18:00:00Z", 2), ("2026-03-19T18:00:00Z", 1)], since="2026-02-25") == []


def test_an_address_is_new_after_14_days_of_own_history_before_its_first_mail() -> None:
    """Version 3: history counted to the address's first message, not to the period's start (30 days before
    the notice), which lies before any history for someone leaving in a company's first weeks (outside_b s1)."""
    quiet = [("2026-03-04T18:00:00Z", 2), ("2026-03-19T18:00:00Z", 1)]
    alerts = _quiet(quiet, since="2026-01-26")  # 37 days of history, none of them before the period's start
    assert len(alerts) == 1 and alerts[0].severity != "low"
    assert _quiet(quiet, since="2026-02-18") != []   # 14 days before the first mail home
    assert _quiet(quiet, since="2026-02-19") == []   # 13 days


def test_the_address_memory_is_small_and_order_independent() -> None:
    from detectors.rules.email.attachments_to_personal import ADDRESSES, MEMORY, observe
    from detectors.state import EmployeeState

    st = EmployeeState()
    mails = [ActivityEvent.model_validate(ev(f"2026-03-0{1 + i % 9}T10:00:00Z", actor="y.miller@corp.example",
                                             action="send", count=1, personal=True,
                                             recipients=[f"friend{i}@gmail.com"])) for i in range(10)]
    for m in mails:
        observe(m, st, None, 100 + int(m.ts.day), 0.0)
    assert len(st.extra[MEMORY]) == ADDRESSES
    late = EmployeeState()
    a, b = mails[0], mails[0].model_copy(update={"event_id": "late"})
    observe(a, late, None, 110, 0.0)
    observe(b, late, None, 105, 0.0)  # an earlier message read later
    assert late.extra[MEMORY][0][1] == 105 and late.extra[MEMORY][0][2:] == [105, 110]


def test_mails_home_in_the_month_before_the_notice_count() -> None:
    """People collect before they resign: the period reaches back 30 days before the notice."""
    alerts = _quiet([("2026-02-05T18:00:00Z", 2), ("2026-03-10T18:00:00Z", 1)])
    assert len(alerts) == 1 and alerts[0].explanation["home_days"] == 2
    assert alerts[0].explanation["period_start"] == "2026-01-30"


def test_a_habit_of_mailing_oneself_begun_before_the_departure_is_low() -> None:
    """One file to one's own address every two or three weeks, first 27 days into the data: the address is new
    to the data (version 3), but the learned days before the departure period hold half of the period's
    attachments: graded low (subtle s1, an honest leaver). The same mails all inside the notice stay medium+."""
    habit = [("2026-02-01T12:00:00Z", 1), ("2026-02-18T12:00:00Z", 1), ("2026-03-10T12:00:00Z", 1),
             ("2026-03-25T12:00:00Z", 1)]
    alerts = _quiet(habit, since="2026-01-05")
    assert len(alerts) == 1 and alerts[0].severity == "low", [(a.severity, a.title) for a in alerts]
    assert "a habit (graded low)" in alerts[0].title
    fresh = [("2026-03-04T12:00:00Z", 1), ("2026-03-10T12:00:00Z", 1), ("2026-03-18T12:00:00Z", 1)]
    alerts = _quiet(fresh, since="2026-01-05")
    assert len(alerts) == 1 and alerts[0].severity != "low" and "habit" not in alerts[0].title


def test_mails_home_before_a_late_resignation_are_no_habit() -> None:
    """A resignation recorded after the mails home lets their days teach the learned baseline; the habit is read
    from the days before the departure period, so the thief's mails are not their normal (outside_b s2)."""
    leaver = [hr("2025-12-01T09:00:00Z", accounts=["y.miller@corp.example"]),
              hr("2026-03-12T14:30:00Z", status="notice", last_day="2026-03-24", resignation_date="2026-03-11",
                 accounts=["y.miller@corp.example"])]
    work = daily("2026-01-26", 60, per_day=2, actor="y.miller@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)
    mails = [ev(f"2026-03-{d:02d}T15:00:00Z", actor="y.miller@corp.example", action="send", count=1,
                recipients=["yuki.miller87@t-online.de"], personal=False) for d in (3, 6, 7)]
    alerts = run_example(ATTACH, Example("late", True, work + mails, leaver))
    assert len(alerts) == 1 and alerts[0].severity != "low", [(a.severity, a.title) for a in alerts]


def test_a_mail_home_that_alerted_is_no_habit() -> None:
    """The habit is read from the days before the departure period, leaving out days that alerted: a confidential
    file mailed home (``email.sensitive_to_personal``) weeks before the notice is no normal (outside_a s2)."""
    from detectors.engine import Engine, EngineConfig
    from detectors.rules.email.sensitive_to_personal import RULE as SENSITIVE

    leaver = [hr("2025-12-01T09:00:00Z", accounts=["y.miller@corp.example"]),
              hr("2026-02-15T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-02-15",
                 accounts=["y.miller@corp.example"])]
    work = daily("2026-01-05", 85, per_day=2, actor="y.miller@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)

    def home(ts: str, count: int, **kw: Any) -> dict[str, Any]:
        return ev(ts, actor="y.miller@corp.example", action="send", count=count,
                  recipients=["yuki.miller87@t-online.de"], personal=False, **kw)

    both = Example("x", True, work + [home("2026-02-01T15:00:00Z", 1, sensitivity="confidential"),
                                      home("2026-03-20T15:00:00Z", 2)], leaver)
    alerts = run_example(ATTACH, both, lambda: Engine(rules=[ATTACH, SENSITIVE], config=EngineConfig(risk=False)))
    assert len(alerts) == 1 and alerts[0].severity != "low", [(a.severity, a.title) for a in alerts]
    # the same first mail unlabelled did not alert: it is the habit the later one continues
    plain = Example("x", True, work + [home("2026-02-01T15:00:00Z", 1), home("2026-03-20T15:00:00Z", 2)], leaver)
    alerts = run_example(ATTACH, plain, lambda: Engine(rules=[ATTACH, SENSITIVE], config=EngineConfig(risk=False)))
    assert [a.severity for a in alerts] == ["low"] and "habit" in alerts[0].title


@pytest.mark.parametrize("company", [[], ["corp.example"]])
def test_the_cached_decision_is_the_classifiers(company: list[str]) -> None:
    """detectors.destinations caches a recipient's part of the decision apart from the sender's: every pair of
    recipient and sender must get ``Classifier.classify``'s ``personal``, with and without company domains."""
    c = Classifier.load(overrides={"company_domains": company})
    recipients = [f"ann.lee42@{d}" for d in REGIONAL[:8]] + [f"info@{d}" for d in BUSINESS] + [
        "yuki.miller87@t-online.de", "amara.adeyemi12@family.example", "karlmor80@home.example",
        "miller.yuki@home.example", "yuki.miller@corp.example", "y.miller@eu.corp.example", "ann@partner.example",
        "Yuki Miller <yuki.miller87@miller-family.example>", "corp.example", "https://drive.google.com/x",
        "CORP\\ann", "", "no-domain", "y.miller@corp", "miller@example.corp.example"]
    actors = ["y.miller@corp.example", "yuki.miller@corp.example", "a.adeyemi@northwind.example",
              "KARL.MOREAU@CORP.EXAMPLE", "ann.lee@corp.example", "CORP\\ann", "ann", "y.miller@eu.corp.example",
              "ann.lee@gmail.com", ""]
    destinations.reset()
    destinations._classifier = c
    try:
        got = {(r, a): destinations._personal(r, a) for r in recipients for a in actors}
        want = {(r, a): bool(c.classify(r, a)[1]) for r in recipients for a in actors}
        assert got == want
        assert any(got.values()) and not all(got.values())
        assert any(got[(r, a)] and not got[(r, "ann.lee@corp.example")] for r, a in got)  # the sender matters
    finally:
        destinations.reset()


def _steady(home_days: list[str], count: int = 1, notice: str = "2026-03-09", last_day: str = "2026-03-30",
            recipient: str = "wenfis72@gmx.de") -> list[Any]:
    """Someone seen from 1 January who mails one attachment home now and then, to the same private address."""
    leaver = [hr("2026-01-01T09:00:00Z", accounts=["y.miller@corp.example"]),
              hr(f"{notice}T09:00:00Z", status="notice", last_day=last_day, resignation_date=notice,
                 accounts=["y.miller@corp.example"])]
    work = daily("2026-01-01", 89, per_day=2, actor="y.miller@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)
    mails = [ev(f"{d}T12:00:00Z", actor="y.miller@corp.example", action="send", count=count,
                recipients=[recipient], personal=True, external=True) for d in home_days]
    return run_example(ATTACH, Example("steady", True, work + mails, leaver))


#: One attachment home about every ten days from January (an own profile's honest leaver: 5 in the 45 days up to
#: the last day against about 0.1 a day before: their pace).
_PACE = ["2026-01-07", "2026-01-16", "2026-01-24", "2026-02-03", "2026-02-12", "2026-02-20", "2026-02-27",
         "2026-03-06", "2026-03-12", "2026-03-19"]


def test_more_than_4_attachments_at_the_employees_own_pace_are_a_habit_graded_low() -> None:
    """Version 4: more than 4 attachments in the 45 days, but as many as the employee's own days before the
    departure period make likely (a chance of 1 in 1,000 or more under a Poisson of that pace): low, not medium
    (baseline s2, churn s1 and s2, rnd_lab s1, outside_c s1: honest leavers)."""
    alerts = _steady(_PACE)
    assert [a.severity for a in alerts] == ["low"], [(a.severity, a.title) for a in alerts]
    assert "a habit (graded low)" in alerts[0].title and "chance of" in alerts[0].title


def test_a_count_beyond_the_own_pace_is_raised_again_at_medium() -> None:
    """The habit is told under its own key: when the notice then holds far more than the pace explains (three
    mails of 5 research files), the rule raises it at medium or above."""
    leaver = [hr("2026-01-01T09:00:00Z", accounts=["y.miller@corp.example"]),
              hr("2026-03-09T09:00:00Z", status="notice", last_day="2026-03-30", resignation_date="2026-03-09",
                 accounts=["y.miller@corp.example"])]
    work = daily("2026-01-01", 89, per_day=2, actor="y.miller@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)
    mails = [ev(f"{d}T12:00:00Z", actor="y.miller@corp.example", action="send", count=1,
                recipients=["wenfis72@gmx.de"], personal=True, external=True) for d in _PACE]
    mails += [ev(f"2026-03-{d}T19:00:00Z", actor="y.miller@corp.example", action="send", count=5,
                 recipients=["wenfis72@gmx.de"], personal=True, external=True) for d in (23, 24, 25)]
    alerts = run_example(ATTACH, Example("burst", True, work + mails, leaver))
    assert [a.severity for a in alerts][0] == "low", [(a.severity, a.title) for a in alerts]
    assert len(alerts) == 2 and alerts[1].severity != "low" and "habit" not in alerts[1].title, \
        [(a.severity, a.title) for a in alerts]


def test_the_same_count_from_someone_who_never_mailed_home_stays_medium() -> None:
    """Nothing mailed home before the departure period (a pace of 0) is no habit: the same 5 attachments in the
    notice, from someone who had never mailed home, stay medium or above."""
    alerts = _steady(["2026-03-02", "2026-03-06", "2026-03-12", "2026-03-19", "2026-03-20"])
    assert alerts and alerts[0].severity != "low", [(a.severity, a.title) for a in alerts]


def _edge(days_counts: list[tuple[str, int]]) -> list[Any]:
    """A physician resigning on 28 March (recorded on the 30th), last day 15 April: the departure period begins
    on 17 March; work mail since 2 February (the data's first day)."""
    leaver = [hr("2026-02-02T09:00:00Z", accounts=["e.w@corp.example"]),
              hr("2026-03-30T17:30:00Z", status="notice", last_day="2026-04-15", resignation_date="2026-03-28",
                 accounts=["e.w@corp.example"])]
    work = daily("2026-02-02", 75, per_day=2, actor="e.w@corp.example", action="send",
                 recipients=["bob@corp.example"], personal=False, count=1)
    mails = [ev(ts, actor="e.w@corp.example", action="send", count=c, recipients=["emma.w75@icloud.com"],
                personal=True, external=True) for ts, c in days_counts]
    return run_example(ATTACH, Example("edge", True, work + mails, leaver))


def test_a_drip_begun_the_day_before_the_departure_period_teaches_no_habit() -> None:
    """Version 5 (outside_b s5 205459, research mailed home): 2 attachments to a new private address on 16 March,
    the day before the last 30 days, then 1 and 2 on 18 March and 4 April. Version 4 read the first mail as the
    person's pace before the departure and graded the 5 attachments "a habit" (a chance of 0.02 at that pace);
    one day to an address new days before the period is no pace for the count. The 3 attachments on two days
    known when the notice arrives stay the quiet path's habit, low (as an honest leaver's file every three
    weeks, subtle s1); the count of 5 is raised at medium on 4 April."""
    alerts = _edge([("2026-03-16T21:49:00Z", 2), ("2026-03-18T16:51:00Z", 1), ("2026-04-04T22:35:00Z", 2)])
    assert [a.severity for a in alerts] == ["low", "medium"], [(a.severity, a.title) for a in alerts]
    assert "habit" not in alerts[1].title and alerts[1].ts.date().isoformat() == "2026-04-04"


def test_mails_home_on_two_days_before_the_period_stay_a_habit() -> None:
    """The other side: the same address mailed on two days before the departure period (a pace, not an onset),
    then on two days in it: graded low as in version 4."""
    alerts = _edge([("2026-02-20T21:49:00Z", 2), ("2026-03-05T21:49:00Z", 2), ("2026-03-18T16:51:00Z", 1),
                    ("2026-04-04T22:35:00Z", 1)])
    assert alerts and all(a.severity == "low" for a in alerts), [(a.severity, a.title) for a in alerts]
