"""Log-file connectors: postfix, windows, auditd (real samples and our documented fixtures)."""

from __future__ import annotations

import json

from connectors.producer import FileSink
from connectors.runner import run

from conn_helpers import FIX, collect

OWN = FIX / "own"
POSTFIX = FIX / "postfix-maillog-dump" / "mailog2"
OTRF = FIX / "otrf-security-datasets"


def test_postfix_real_log_groups_by_queue_id():
    values, dls = collect("postfix", [POSTFIX], year=2022)
    mails = [v for v in values if "queue_id" in v.attrs]
    # the dump repeats its messages: one send, counted once; AE11A4011B7B was an address verification
    # (status=deliverable, nothing sent) and the rest are bounces
    assert len(mails) == 1
    first = mails[0]
    assert (first.actor, first.bytes, first.count) == ("sender@tecadmin.net", 350, 1)
    assert first.recipients == ["myemail@ymail.com"] and first.personal is True and first.external is True
    assert first.ts.isoformat() == "2022-02-25T15:36:07+00:00" and first.host == "server1"
    assert first.attrs["message_id"] == "20220225143607.D4748404B37D@server1.alsoft.org"
    # Roundcube's sendmail log lines in the same dump are sends by the webmail user
    web = [v for v in values if v.attrs.get("via") == "webmail"]
    assert len(web) > 100 and all("@" in v.actor and v.recipients for v in web)
    assert all(d.reason == "not a syslog line" for d in dls)  # PHP and IMAP errors mixed into the dump


def test_postfix_documented_multi_recipient_and_year_wrap():
    log = (
        "Dec 31 23:59:58 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=ws-ann[10.0.0.5], sasl_method=PLAIN, "
        "sasl_username=alee\n"
        "Dec 31 23:59:58 mx1 postfix/cleanup[11]: 4F1A2B3C4D: message-id=<m1@corp.example>\n"
        "Dec 31 23:59:59 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<ann.lee@corp.example>, size=52311, nrcpt=2 "
        "(queue active)\n"
        "Jan  1 00:00:01 mx1 postfix/smtp[13]: 4F1A2B3C4D: to=<ann@gmail.com>, relay=gmail-smtp-in.l.google.com"
        "[1.2.3.4]:25, delay=2, status=sent (250 OK)\n"
        "Jan  1 00:00:01 mx1 postfix/lmtp[14]: 4F1A2B3C4D: to=<bob@corp.example>, relay=mail[private/dovecot-lmtp],"
        " status=sent (250 OK)\n"
        "Jan  1 00:00:02 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed\n"
        "Jan  1 00:00:03 mx1 sshd[99]: Accepted publickey for ann\n"
    )
    p = FIX.parent.parent.parent / "var_test_postfix.log"
    try:
        p.write_text(log)
        values, dls = collect("postfix", [p], year=2025, hr=str(OWN / "hr.jsonl"))
    finally:
        p.unlink()
    assert not dls and len(values) == 1
    v = values[0]
    assert v.ts.year == 2025 and v.employee_id == "E1001" and v.bytes == 52311
    assert v.recipients == ["ann@gmail.com", "bob@corp.example"] and v.personal and v.external
    assert v.attrs["sasl_username"] == "alee"


def test_postfix_follow_holds_open_queue_ids(tmp_path):
    """A message whose lines straddle a restart is emitted once, with all its recipients."""
    log, out, cp = tmp_path / "mail.log", tmp_path / "out.jsonl", tmp_path / "cp.json"
    a = ("Mar  2 10:00:00 mx postfix/qmgr[1]: AAAAAA0001: from=<ann@corp.example>, size=10, nrcpt=2\n"
         "Mar  2 10:00:01 mx postfix/qmgr[1]: BBBBBB0002: from=<bob@corp.example>, size=20, nrcpt=1\n"
         "Mar  2 10:00:02 mx postfix/smtp[2]: BBBBBB0002: to=<x@partner.example>, status=sent\n"
         "Mar  2 10:00:03 mx postfix/qmgr[1]: BBBBBB0002: removed\n"
         "Mar  2 10:00:04 mx postfix/smtp[2]: AAAAAA0001: to=<y@gmail.com>, status=sent\n")
    b = ("Mar  2 10:00:05 mx postfix/smtp[2]: AAAAAA0001: to=<z@gmail.com>, status=sent\n"
         "Mar  2 10:00:06 mx postfix/qmgr[1]: AAAAAA0001: removed\n")
    log.write_text(a)
    with FileSink(str(out), append=True) as s:
        run("postfix", [str(log)], s, checkpoint=str(cp), follow=True, idle_timeout=0.1, poll_interval=0.02,
            year=2026)
    assert [json.loads(x)["actor"] for x in out.read_text().splitlines()] == ["bob@corp.example"]
    cpd = json.loads(cp.read_text())["files"][str(log)]
    assert cpd["offset"] == 0 and len(cpd["skip"]) == 1  # ann's message still open; bob's already sent
    with open(log, "a") as f:
        f.write(b)
    with FileSink(str(out), append=True) as s:
        run("postfix", [str(log)], s, checkpoint=str(cp), year=2026)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["actor"] for r in rows] == ["bob@corp.example", "ann@corp.example"]
    assert rows[1]["recipients"] == ["y@gmail.com", "z@gmail.com"]


def test_windows_real_records_and_zips():
    values, dls = collect("windows", [OTRF / "_derived_windows_file_and_device_events.ndjson", OTRF / "atomic"],
                          hr=str(OWN / "hr.jsonl"))
    assert not dls
    kinds = {(v.kind, v.action) for v in values}
    assert {("file", "open"), ("file", "delete"), ("file", "copy")} <= kinds
    share = [v for v in values if v.attrs.get("event_code") == 5145 and v.actor == "THESHIRE\\pgustavo"]
    assert share and all(v.employee_id == "E1002" for v in share)
    assert all(not v.actor.endswith("$") for v in values if v.kind in ("file", "logon"))
    # the two 6416 records are a remote display adapter and a monitor: no device a person copies data to
    assert not [v for v in values if v.kind == "device"]
    derived, _ = collect("windows", [OTRF / "_derived_windows_file_and_device_events.ndjson"])
    assert len({v.event_id for v in derived}) == len(derived)
    files = {v.event_id for v in values if v.kind == "file"}
    assert files == {v.event_id for v in derived}  # the zips hold the same file records (and logons besides)


def test_windows_documented_4663_removable_and_print():
    values, dls = collect("windows", [OWN / "windows_documented.jsonl"])
    assert not dls
    got = [(v.kind, v.action, v.object, v.bytes, v.count, v.destination) for v in values]
    assert got == [
        ("file", "copy_to_removable", "\\Device\\HarddiskVolume7\\customers.xlsx", None, None, "removable"),
        ("file", "open", "C:\\Finance\\budget.xlsx", None, None, None),
        ("file", "delete", "C:\\Finance\\old.xlsx", None, None, None),
        ("print", "print", "Q3 forecast.pdf", 1048576, 12, "HP-4F-Color"),
        ("print", "print", "salaries.xlsx", 20480, 2, "Floor2"),
    ]
    assert values[3].actor == "CORP\\alee" and values[3].host == "LT-ANN-01"
    assert values[4].sensitivity == "restricted"


def test_auditd_real_and_documented():
    values, dls = collect("auditd", [OWN / "auditd_documented.log", FIX / "elastic-go-libaudit"])
    got = [(v.action, v.actor, v.object, v.destination) for v in values if v.kind == "file"]
    assert got == [
        ("copy_to_removable", "ann", "/media/ann/USB/customers.csv", "removable"),
        ("open", "1001", "/srv/finance/reports/q3-forecast.xlsx", None),
        ("delete", "1001", "/home/ann/old notes.txt", None),
        ("upload", "1001", "/home/ann/data.tar", "files.personal-box.example"),
        ("copy_to_removable", "1001", "/home/ann/work/src/design", "removable"),
        ("copy_to_removable", "1002", "/media/bob/KEY/plan.pdf", "removable"),
    ]
    assert values[0].host == "ws-ann" and values[1].sensitivity == "confidential"
    assert sum(v.kind == "logon" for v in values) == 2
    assert len(dls) == 1 and "UNKNOWN" in dls[0].raw
