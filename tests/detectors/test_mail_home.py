"""Mail to a private address that the source did not mark personal (issue 14): regional consumer providers, the
sender's own address on any domain, and the detectors deciding again for mail that arrives undecided or false."""

from __future__ import annotations

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
    ("jsmith77@isp.example", "jsmith@corp.example", True),
    ("yuki.miller@corp.example", "y.miller@corp.example", False),     # a colleague of the same name
    ("y.miller@eu.corp.example", "y.miller@corp.example", False),     # the company's own subdomain
    ("samuel@kpmg.example", "a.kowalski@corp.example", False),
    ("ann@partner.example", "ann.lee@corp.example", False),           # a first name alone is no evidence
    ("a.lee@partner.example", "ann.lee@corp.example", False),         # nor an initial and a short name
    ("amil@partner.example", "a.miller@corp.example", False),
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
