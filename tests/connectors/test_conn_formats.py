"""Formats read as their vendors document them (issue 16). Each fixture under ``fixtures/connectors/own/`` was
written by us from the vendor's documentation, one record per case named in the test; every record either
becomes an event with the right actor, time and direction, or is counted under a named reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.runner import SYNC, Driver, make_context

from conn_helpers import FIX

OWN = FIX / "own"


def utc(ts: dt.datetime) -> str:
    return ts.astimezone(dt.timezone.utc).isoformat()


def run(source: str, *paths: Any, **options: Any) -> tuple[list, list, dict[str, int]]:
    """(events, dead letters, skipped by reason) of one run; every input line is accounted for."""
    ctx = make_context(options=options)
    values, dls = [], []
    for item in Driver(source, [str(p) for p in paths], ctx=ctx):
        if item is SYNC:
            continue
        v, dl = item
        (values if v is not None else dls).append(v if v is not None else dl)
    return values, dls, dict(ctx.stats.skipped_by)


def test_m365_mail_forwarding_rules_and_lower_case_admin_records() -> None:
    values, dls, skipped = run("m365", OWN / "m365_forwarding_documented.jsonl")
    got = [(v.action, v.actor, v.recipients, v.object, v.ts.isoformat()) for v in values]
    assert got == [
        # Outlook's UpdateInboxRules: the forward action's recipients come from the ServerRule
        ("auto_forward", "ann.lee@corp.example", ["ann.private@gmail.com"], "Invoices", "2026-03-03T08:00:00+00:00"),
        ("auto_forward", "ann.lee@corp.example", ["ann.home@outlook.com"], "Copy", "2026-03-03T08:03:00+00:00"),
        ("auto_forward", "ann.lee@corp.example", ["ann.private@gmail.com"], "ann.lee\\Copy",
         "2026-03-03T08:04:00+00:00"),
        # lower-case keys (operation, parameters[].name): Set-Mailbox ForwardingSmtpAddress
        ("auto_forward", "ann.lee@corp.example", ["ann.private@gmail.com"], "ann.lee", "2026-03-03T08:05:00+00:00"),
        ("send", "ann.lee@corp.example", ["ann.private@gmail.com"], "Price list", "2026-03-03T08:08:00+00:00"),
    ]
    assert all(v.external and v.personal for v in values)
    assert not dls
    assert skipped == {"mailbox or rule change without forwarding": 2, "forwarding inside the company": 1,
                       "inbound mail": 1}


def test_google_forwarding_external_access_one_row_form_and_inbound_mail() -> None:
    values, dls, skipped = run("gworkspace", OWN / "gworkspace_forwarding_documented.jsonl")
    got = [(v.kind, v.action, v.actor, v.recipients, v.destination, v.ts.isoformat()) for v in values]
    assert got == [
        ("email", "auto_forward", "ann.lee@corp.example", ["ann.private@gmail.com"], "gmail.com",
         "2026-03-04T10:00:00+00:00"),
        ("email", "auto_forward", "ann.lee@corp.example", ["ann@rival.example"], "rival.example",
         "2026-03-04T10:01:00+00:00"),
        ("file", "share_external", "ann.lee@corp.example", ["cfo@rival.example"], "rival.example",
         "2026-03-04T10:02:00+00:00"),
        ("file", "share_external", "ann.lee@corp.example", [], "outside the company", "2026-03-04T10:03:00+00:00"),
        ("email", "send", "ann.lee@corp.example", ["ann.private@gmail.com"], None, "2026-03-04T10:07:00+00:00"),
    ]
    assert all(v.external for v in values)
    assert not dls
    assert skipped == {"sharing inside the company": 1, "application not monitored": 1, "inbound mail": 1}


def test_salesforce_bulk_api_result_event_store_in_every_export_form() -> None:
    d = OWN / "salesforce_bulkapiresult"
    values, dls, skipped = run("salesforce", d / "soql_result.json", d / "logfile_form.csv",
                               d / "BulkApiResultEventStore.csv")
    got = [(v.action, v.actor, v.object, v.count, v.ts.isoformat()) for v in values]
    assert got == [
        ("bulk_query", "0054J000004rPTUQA2", "Contact", None, "2026-03-05T11:00:01+00:00"),   # SOQL result
        ("bulk_query", "0054J000004rPTUQA2", "Account", None, "2026-03-05T11:05:01+00:00"),
        ("bulk_query", "0054J000004rPTUQA2", "Contact", 150000, "2026-03-05T12:00:00+00:00"),  # log-file form
        ("bulk_query", "0054J000004rPTUQA2", "Lead", None, "2026-03-05T13:00:01+00:00"),      # named export
    ]
    assert not dls and not skipped


def test_windows_local_times_device_attribution_virtual_disks_and_azure_records() -> None:
    path = OWN / "windows_time_device_azure_documented.jsonl"
    values, dls, skipped = run("windows", path, host_timezones={"nyc-*": "America/New_York"})
    got = [(v.kind, v.action, v.actor, v.host, v.object, utc(v.ts), v.attrs.get("time_source")) for v in values]
    assert got == [
        # NXLog EventTime is New York time: 05:00 EST = 10:00 UTC (the host_timezones mapping)
        ("file", "open", "CORP\\alee", "NYC-WS01.corp.example", "C:\\Finance\\budget.xlsx",
         "2026-03-02T10:00:00+00:00", "EventTime (host time zone)"),
        # the record's own UTC time wins over the collector's local EventTime
        ("logon", "logon", "CORP\\alee", "LT-ANN-01.corp.example", None, "2026-03-02T10:01:00+00:00", None),
        # 6416 comes from SYSTEM: credited to the person logged on at that host
        ("device", "connect", "CORP\\alee", "LT-ANN-01.corp.example", "SanDisk Ultra USB Device",
         "2026-03-02T10:02:00+00:00", None),
        # Azure-collected records: properties.EventId, EventData XML or flat fields, records[] batches
        ("file", "delete", "CORP\\alee", "LT-ANN-01.corp.example", "C:\\Finance\\plan.docx",
         "2026-03-02T10:06:00+00:00", None),
        ("file", "open", "CORP\\alee", "LT-ANN-01.corp.example", "C:\\Finance\\forecast.xlsx",
         "2026-03-02T10:07:00+00:00", None),
        ("logon", "logoff", "CORP\\alee", "LT-ANN-01.corp.example", None, "2026-03-02T10:08:00+00:00", None),
        # NXLog shipped by Logstash, no mapping for the host: its offset (+01:00) measured on the record itself,
        # local EventReceivedTime against the shipper's UTC @timestamp of the same receipt
        ("file", "open", "CORP\\alee", "BER-WS07.corp.example", "C:\\Finance\\q3.xlsx", "2026-03-02T10:10:00+00:00",
         "EventTime (offset of EventReceivedTime)"),
    ]
    assert values[2].attrs["device_id"].startswith("USBSTOR\\DISK&VEN_SANDISK")
    assert not dls
    assert skipped == {"virtual device": 1, "device connected with no user logged on": 2,
                       "network or service logon": 1}
    # without the mapping the local time cannot be known: it is read in --tz (UTC) and says so
    values, _, _ = run("windows", path)
    assert utc(values[0].ts) == "2026-03-02T05:00:00+00:00" and values[0].attrs["time_source"] == "EventTime"


def test_dropbox_events_without_tag() -> None:
    values, dls, skipped = run("dropbox", OWN / "dropbox_no_tag_documented.jsonl")
    assert [(v.action, v.actor, v.object, utc(v.ts)) for v in values] == [
        ("download", "ann.lee@corp.example", "/Sales/pricing.xlsx", "2026-03-06T09:00:00+00:00"),
        ("copy", "ann.lee@corp.example", "/Sales/pricing.xlsx", "2026-03-06T09:01:00+00:00"),
    ]
    assert skipped == {"event type not monitored": 1}
    assert len(dls) == 1 and "event_type" in dls[0].reason


def test_defender_tables_without_action_type_have_the_right_reason() -> None:
    values, dls, skipped = run("mde", OWN / "mde_tables_documented.jsonl")
    assert [(v.kind, v.action, v.actor, v.object) for v in values] == [
        ("device", "connect", "corp\\alee", "Ultra"),
        ("file", "copy_to_removable", "corp\\alee", "E:\\customers.xlsx"),
    ]
    assert skipped == {"table not monitored": 2}
    assert sorted(d.reason for d in dls) == [
        "Defender DeviceFileEvents record without ActionType",
        "not a Defender record (no ActionType, table or device fields)",
    ]


def test_postfix_inbound_outbound_and_content_filter_hops() -> None:
    values, dls, skipped = run("postfix", OWN / "postfix_direction_documented.log", year=2026)
    got = [(v.actor, v.recipients, v.attrs["queue_id"], utc(v.ts)) for v in values]
    assert got == [
        # authenticated submission, through a content filter: one send, at the copy that left
        ("ann.lee@corp.example", ["ann.private@gmail.com"], "4D4D4D4D4D", "2026-03-09T09:02:01+00:00"),
        # picked up from the local queue
        ("ann.lee@corp.example", ["ann@rival.example"], "7A7A7A7A7A", "2026-03-09T09:04:00+00:00"),
    ]
    assert not dls
    assert skipped["inbound mail"] == 2  # one direct, one re-queued by the content filter
    assert skipped["inbound mail relayed outside (alias, forward or rule)"] == 1
    assert skipped["handed to a content filter (counted at its re-queued copy)"] == 2


def test_exchange_inbound_mail_bcc_outside_by_a_transport_rule_is_no_send() -> None:
    values, dls, skipped = run("exchange", OWN / "exchange_transport_rule_documented.log")
    assert [(v.action, v.actor, v.recipients, utc(v.ts)) for v in values] == [
        ("send", "ann.lee@corp.example", ["ann.private@gmail.com"], "2026-03-10T08:30:00+00:00"),
    ]
    assert not dls
    assert skipped == {"inbound mail relayed outside (alias, forward or rule)": 1}
