"""Cloud and endpoint connectors: salesforce, gworkspace, box, dropbox, mde, exchange, cert."""

from __future__ import annotations

from schemas.models import HRRecord

from conn_helpers import FIX, collect

OWN = FIX / "own"
HR = str(OWN / "hr.jsonl")
APPOMNI = FIX / "appomni-event-maturity-matrix" / "products"


def rows(values):
    return [(v.kind, v.action, v.object, v.destination, v.external, v.personal, v.bytes, v.count) for v in values]


def test_salesforce_real_samples():
    values, dls = collect("salesforce", [APPOMNI / "salesforce"], hr=HR)
    assert not dls
    exp = [v for v in values if v.action == "report_export"]
    assert len(exp) == 1 and exp[0].count == 20680 and exp[0].object == "Identify cases assigned to inactive user"
    api = sorted(v.count for v in values if v.action == "api_query")
    assert api == [0, 27, 100000, 1000364]
    assert any(v.action == "bulk_query" and v.object == "Account" for v in values)
    # the user id is nobody's alias, the Username john@example.com is E1002's
    assert {v.employee_id for v in values if v.attrs["event_type"] == "ReportEvent"} == {"E1002"}


def test_salesforce_elf_csv_documented():
    values, dls = collect("salesforce", sorted(OWN.glob("salesforce_elf*.csv")), hr=HR)
    assert not dls
    assert [(v.action, v.object, v.count) for v in values] == [
        ("report_export", 'All Opportunities "Q1" by owner', None),
        ("report_export", "Customer contacts\nwith phone numbers", None),
        ("api_query", "Account", 48210),
        ("bulk_query", "Contact", 250000),
    ]
    assert all(v.employee_id == "E1001" for v in values)


def test_gworkspace_real_and_documented():
    real, dls = collect("gworkspace", [APPOMNI / "google_workspace"])
    assert not dls and [(v.action, v.object, v.actor) for v in real] == [("download", "cooldoc.txt", "test@test.com")]
    values, dls = collect("gworkspace", [OWN / "gworkspace_reports.jsonl"], hr=HR)
    assert not dls and all(v.employee_id == "E1001" for v in values)
    assert rows(values) == [
        ("file", "download", "Pricing 2026", None, None, None, None, None),
        ("file", "open", "Pricing 2026", None, None, None, None, None),
        ("file", "share_external", "Customer list", "gmail.com", True, True, None, None),
        ("file", "share_external", "Roadmap", "anyone with link", True, None, None, None),
        ("email", "send", "docs", None, True, True, 2048000, 3),
        ("email", "send", "cv", None, True, False, 50000, 1),
    ]
    assert values[4].recipients == ["ann.private@gmail.com", "bob@corp.example"]


def test_box_real_and_documented():
    real, dls = collect("box", [APPOMNI / "box"])
    assert not dls
    dl = [v for v in real if v.action == "download"]
    assert dl[0].bytes == 360705 and dl[0].actor == "bob@example.com" and dl[0].object == "Test Folder/a_sample_report.pdf"
    values, _ = collect("box", [OWN / "box_events.json"], hr=HR)
    assert [(v.action, v.destination, v.personal) for v in values] == [
        ("share_external", "gmail.com", True), ("sync_download", None, None), ("share_external", "shared link", None)]


def test_dropbox_documented():
    values, dls = collect("dropbox", [OWN / "dropbox_team_events.jsonl"], hr=HR)
    assert not dls
    assert [(v.action, v.object, v.destination) for v in values] == [
        ("download", "/Sales/pricing.xlsx", None), ("share_external", "/Sales", "gmail.com"),
        ("share_external", "/Sales/plan.docx", "public link"), ("delete", "/old.txt", None)]


def test_mde_usb_tracking_and_additional_fields():
    values, dls = collect("mde", [OWN / "mde_streaming.json",
                                  FIX / "otrf-security-datasets" / "GoldenSAMLADFSMailAccess" /
                                  "Microsoft365DefenderEvents.json"], hr=HR)
    assert not dls
    assert rows(values) == [
        ("device", "connect", "Ultra", "SanDisk Ultra", None, None, None, None),
        ("file", "copy_to_removable", "E:\\export\\customers.xlsx", "Ultra", None, None, 524288, None),
        ("web", "download", "https://download.example.net/setup.exe", "download.example.net", True, False, 1000,
         None),
        ("file", "delete", "C:\\Users\\ann\\Documents\\plan.docx", None, None, None, None, None),
        ("device", "disconnect", "Ultra", None, None, None, None, None),
    ]
    assert values[1].sensitivity == "restricted" and values[0].attrs["serial_number"] == "4C530001"
    assert all(v.employee_id == "E1001" for v in values)


def test_exchange_message_tracking_groups_by_message_id():
    values, dls = collect("exchange", [OWN / "exchange_msgtrk.log"], hr=HR)
    assert [(v.object, v.recipients, v.external, v.personal, v.bytes) for v in values] == [
        ("Pricing 2026", ["ann@gmail.com", "bob@corp.example"], True, True, 2457600),
        ("Lunch", ["team@corp.example"], False, False, 1200),
    ]  # the inbound message from partner.example is not a send
    assert values[0].employee_id == "E1001" and "SENDEXTERNAL" in values[0].attrs["events"]
    assert len(dls) == 1 and "fields" in dls[0].reason


def test_cert_activity_and_ldap_departures():
    values, dls = collect("cert", [OWN / "cert_r42", OWN / "cert_r62"])
    hr = [v for v in values if isinstance(v, HRRecord)]
    ev = [v for v in values if not isinstance(v, HRRecord)]
    assert len(ev) == 19 and all(e.employee_id for e in ev)
    assert {(e.kind, e.action) for e in ev} >= {("logon", "logon"), ("device", "connect"), ("email", "send"),
                                                 ("file", "copy_to_removable"), ("web", "upload"), ("file", "open")}
    out = [e for e in ev if e.kind == "email" and e.personal]
    assert {e.count for e in out} == {2} and all(e.external for e in out)
    # r6 attachments "name(size);...": their sizes add to the message's bytes
    assert [e.bytes for e in out if e.source == "cert" and e.event_id == "cert:E1"] == [45000 + 40000 + 3000]
    departed = {r.employee_id: r for r in hr if r.status == "departed"}
    # listed in January and February, missing from March: left during March; the last activity (26 Feb) is
    # the last day
    assert str(departed["BCC0001"].last_day) == "2010-02-26"
    assert departed["BCC0001"].ts.isoformat() == "2010-02-27T00:00:00+00:00"
    # listed in January, missing from February, no activity: the end of February, the latest possible day
    assert str(departed["CDE0002"].last_day) == "2010-02-28"
    # listed until March, missing from April, active on 13 April: left during April, on the 13th
    assert str(departed["DEF0003"].last_day) == "2010-04-13"
    assert "DTAA/AAM9901" in [r for r in hr if r.employee_id == "AAM9901"][0].accounts
    # manager_id is the supervisor's user id, not their name; the head of the team has none
    assert {r.manager_id for r in hr if r.employee_id == "AAM9901"} == {"BAH0001"}
    assert [r.manager_id for r in hr if r.employee_id == "BAH0001"] == [None]
    # a change of role is a new active record from that month
    roles = [(str(r.ts.date()), r.role) for r in hr if r.employee_id == "AAM9901"]
    assert roles == [("2010-01-01", "ComputerProgrammer"), ("2010-04-01", "Salesman")]
    assert len(dls) == 1 and "Dance" in dls[0].reason


def test_cert_older_layouts_and_categories():
    """r2: Insert/Remove device rows, times without leading zeros, http without content; r3: mail rows with only
    a sender address; psychometric and decoy files carry no activity."""
    values, dls = collect("cert", [OWN / "cert_r2", OWN / "cert_r3", OWN / "cert_r62" / "decoy_file.csv"])
    assert not dls
    ev = {v.event_id: v for v in values}
    assert (ev["cert:R2D1-0001"].kind, ev["cert:R2D1-0001"].action) == ("device", "connect")
    assert ev["cert:R2D1-0002"].action == "disconnect" and ev["cert:R2D1-0002"].destination == "removable"
    assert ev["cert:R2L1-0001"].ts.isoformat() == "2010-03-06T01:41:56+00:00"
    assert ev["cert:R2H1-0001"].attrs["category"] == "leak_site"
    mail = ev["cert:R3E1-0001"]
    assert mail.actor == "Aaron.Alexander.Meyer@dtaa.com" and mail.employee_id is None
    assert mail.external is True and mail.personal is False and mail.recipients == ["ivor.k@competitor.example"]
    assert ev["cert:R3E1-0002"].personal is True and ev["cert:R3E1-0002"].count == 2
    assert ev["cert:R3H1-0001"].attrs["category"] == "job_search"
    assert ev["cert:R3H1-0002"].attrs["category"] == "hacking_tools"
    assert len(values) == 8  # 4 from r2, 4 from r3, none from the psychometric and decoy files


def test_cert_competitors_from_configuration(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[categories.competitor]\ndomains = ["competitor.example"]\n')

    values, _ = collect("cert", [OWN / "cert_r3" / "email.csv"], classification=str(cfg))
    cats = {v.event_id: v.attrs.get("recipient_categories") for v in values}
    assert cats == {"cert:R3E1-0001": ["competitor"], "cert:R3E1-0002": None}
