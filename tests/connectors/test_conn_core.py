"""Core connector behaviour: m365, hr, synthetic, identity, classification, CLI, file sink."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import cli, sources
from connectors.classification import Classifier
from schemas.models import ActivityEvent, HRRecord, HRSignal

from conn_helpers import FIX, collect

APPOMNI = FIX / "appomni-event-maturity-matrix"
OTRF = FIX / "otrf-security-datasets"
OWN = FIX / "own"
ROOT = Path(__file__).resolve().parents[2]


def test_fixture_licences_beside_copies():
    for d in ("appomni-event-maturity-matrix", "otrf-security-datasets", "elastic-go-libaudit",
              "postfix-maillog-dump"):
        names = {p.name for p in (FIX / d).iterdir()}
        assert "COMMIT" in names and any(n.startswith("LICENSE") for n in names), d
    assert "written by us" in (FIX / "README.md").read_text()


def test_m365_real_samples():
    values, dls = collect("m365", [APPOMNI / "products" / "microsoft_365",
                                   OTRF / "GoldenSAMLADFSMailAccess" / "OfficeActivityEvents.json"])
    assert not dls
    by_id = {v.event_id: v for v in values}
    dl = by_id["m365:24052721-2860-4804-fe81-08dc6ae37d61"]
    assert (dl.kind, dl.action, dl.bytes, dl.actor) == ("file", "download", 18632, "example@test.onmicrosoft.com")
    assert dl.object.endswith("Open File 6.docx") and dl.ts.isoformat() == "2024-05-02T20:07:27+00:00"
    send = by_id["m365:b879cd77-f6df-4dd0-526a-08dc68b7f338"]
    assert (send.kind, send.action, send.count, send.bytes) == ("email", "send", 14, 268282)
    assert send.attrs["attachments"][0] == "LogoM365.png"
    assert len(values) == 2  # page views, admin changes, MailItemsAccessed are skipped


def test_m365_documented_operations_and_identity():
    values, dls = collect("m365", [OWN / "m365_documented.jsonl"], hr=str(OWN / "hr.jsonl"))
    assert not dls
    acts = [(v.kind, v.action) for v in values]
    assert acts == [
        ("file", "sync_download"), ("file", "sync_download"), ("file", "upload"), ("file", "copy"),
        ("file", "open"), ("file", "delete"), ("file", "share_external"), ("file", "share_external"),
        ("email", "auto_forward"), ("email", "auto_forward"), ("email", "send"), ("file", "copy_to_removable"),
        ("print", "print"), ("file", "upload"),
    ]
    assert all(v.employee_id == "E1001" for v in values)
    v = {v.event_id[-2:]: v for v in values}
    assert v["01"].bytes == 481223 and v["01"].sensitivity == "confidential"  # "Pricing" pattern
    assert v["04"].sensitivity == "restricted"  # the label wins
    assert v["07"].external is True and v["07"].destination == "anonymous link"
    assert v["08"].personal is True and v["08"].recipients == ["ann.private@gmail.com"]
    fwd = v["0a"]
    assert fwd.recipients == ["ann.private@gmail.com"] and fwd.external and fwd.personal
    assert v["0b"].recipients == ["ann@proton.me"] and v["0b"].personal
    mip = v["0d"]
    assert mip.sensitivity == "confidential" and mip.external and mip.personal and len(mip.recipients) == 2
    assert v["0e"].host == "LT-ANN-01" and v["0e"].destination == "Ultra"
    assert v["0f"].destination == "HP LaserJet 4th floor"
    assert v["10"].personal is True and v["10"].destination == "wetransfer.com"


def test_unresolved_actors_are_kept_and_counted():
    from connectors.runner import make_context, run
    from connectors.producer import NullSink

    ctx = make_context(hr=str(OWN / "hr.jsonl"))
    stats = run("m365", [APPOMNI / "products" / "microsoft_365"], NullSink(), ctx=ctx)
    assert stats.events == 2 and stats.unresolved == 1  # example@test.onmicrosoft.com is E1002, test4 is not


def test_unresolved_actors_are_counted_by_reason_and_account():
    """The summary says what the unresolved actors are: with HR aliases, the accounts no HR record names; without
    (the demo's connector step), every event is left to the worker, which resolves it from hr.status."""
    from connectors.base import UNRESOLVED_NO_HR, UNRESOLVED_UNKNOWN
    from connectors.producer import NullSink
    from connectors.runner import make_context, run, summary_line

    stats = run("m365", [APPOMNI / "products" / "microsoft_365"], NullSink(), ctx=make_context(hr=str(OWN / "hr.jsonl")))
    assert stats.unresolved_by == {UNRESOLVED_UNKNOWN: 1}
    (account, n), = stats.unresolved_accounts.items()
    assert n == 1 and "test4" in account.lower()
    assert f"1 events with an unresolved actor: 1 {UNRESOLVED_UNKNOWN}, 1 accounts: {account} 1" in summary_line(
        "m365", stats, 1.0)
    bare = run("m365", [APPOMNI / "products" / "microsoft_365"], NullSink(), ctx=make_context())
    assert bare.unresolved == 2 and bare.unresolved_by == {UNRESOLVED_NO_HR: 2} and not bare.unresolved_accounts
    assert "resolves them from hr.status" in summary_line("m365", bare, 1.0)


def test_event_ids_are_deterministic():
    a, _ = collect("m365", [OWN / "m365_documented.jsonl"])
    b, _ = collect("m365", [OWN / "m365_documented.jsonl"])
    assert [e.event_id for e in a] == [e.event_id for e in b]
    assert len({e.event_id for e in a}) == len(a)


def test_hr_jsonl_and_csv():
    values, dls = collect("hr", [OWN / "hr.jsonl", OWN / "hr.csv", OWN / "hr_signals.csv"])
    recs = [v for v in values if isinstance(v, HRRecord)]
    sigs = [v for v in values if isinstance(v, HRSignal)]
    assert len(recs) == 6 and len(sigs) == 5
    carol = [r for r in recs if r.employee_id == "E2001"]
    assert carol[1].status == "notice" and carol[1].watchlist is True
    assert carol[1].accounts == ["carol@corp.example", "CORP\\carol"]
    assert str(carol[1].last_day) == "2026-03-31" and carol[0].ts.isoformat() == "2026-01-01T00:00:00+00:00"
    assert {s.signal for s in sigs} >= {"survey", "performance_review", "asset_returned", "late_arrival"}
    assert [s.value for s in sigs if s.signal == "survey"] == [3]
    reasons = sorted(d.reason for d in dls)
    assert len(dls) == 2 and any("status" in r for r in reasons) and any("signal" in r for r in reasons)


def test_synthetic_pass_through():
    values, dls = collect("synthetic", [OWN / "synthetic.jsonl"], hr=str(OWN / "hr.jsonl"))
    assert [v.event_id for v in values] == ["syn-1", "syn-2", "syn-5"]
    assert values[0].employee_id == "E1001" and values[2].employee_id is None
    assert len(dls) == 2
    assert "not an action of kind" in dls[0].reason and "timezone" in dls[1].reason
    assert json.loads(dls[0].raw)["event_id"] == "syn-3"


def test_classifier_domains_and_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('company_domains = ["corp.example"]\nextra_personal_domains = ["myspace.example"]\n')
    c = Classifier.load(cfg)
    assert c.classify("a@sub.corp.example") == (False, False)
    assert c.classify("a@myspace.example") == (True, True)
    assert c.classify("a@gmx.net") == (True, True) and c.classify("a@gmx.co.uk") == (True, True)
    assert c.classify("https://mega.nz/file/x") == (True, True)
    assert c.classify("a@partner.example") == (True, False)
    assert Classifier.load().classify("a@partner.example") == (None, False)
    assert Classifier.load().classify("a@partner.example", actor="me@corp.example") == (True, False)
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"labels": {"Top Secret": "restricted"}, "patterns": []}))
    c2 = Classifier.load(j)
    assert c2.sensitivity("top secret") == "restricted" and c2.sensitivity(None, "/sites/Finance") is None


def test_gzip_input(tmp_path):
    src = (OWN / "m365_documented.jsonl").read_bytes()
    gz = tmp_path / "m.jsonl.gz"
    gz.write_bytes(gzip.compress(src))
    values, dls = collect("m365", [gz])
    assert len(values) == 14 and not dls


def test_cli_to_file_and_list(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="exitwatch")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    assert cli.run(parser.parse_args(["connect", "--list"])) == 0
    listed = capsys.readouterr().out.split()
    assert set(sources.names()) <= set(listed)
    out = tmp_path / "out.jsonl"
    bad = tmp_path / "bad.jsonl"
    bad.write_text((OWN / "m365_documented.jsonl").read_text() + '{"Operation": "FileDownloaded"\n[1,2]\n')
    args = parser.parse_args(["connect", "m365", str(bad), "--to-file", str(out), "--hr", str(OWN / "hr.jsonl")])
    assert args.func(args) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 14
    ev = ActivityEvent.model_validate_json(lines[0])
    assert ev.employee_id == "E1001"
    dls = [json.loads(x) for x in (tmp_path / "out.jsonl.deadletter").read_text().splitlines()]
    assert len(dls) == 3 and all(set(d) == {"source", "reason", "raw", "ts"} for d in dls)
    assert "connect m365:" in capsys.readouterr().err


def test_cli_stdin_subprocess(tmp_path):
    out = tmp_path / "o.jsonl"
    data = (OWN / "synthetic.jsonl").read_bytes()
    r = subprocess.run([sys.executable, "-m", "connectors", "synthetic", "-", "--to-file", str(out)],
                       input=data, capture_output=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert len(out.read_text().splitlines()) == 3
    assert b"3 events" in r.stderr


def test_cli_usage_errors(capsys):
    import argparse

    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    assert cli.run(p.parse_args(["nosuch", "x"])) == 2
    assert cli.run(p.parse_args(["m365"])) == 2


def test_missing_file_is_a_deadletter(tmp_path):
    values, dls = collect("synthetic", [tmp_path / "nope.jsonl"])
    assert not values and "cannot read" in dls[0].reason


def test_oversized_record_rejected(tmp_path):
    p = tmp_path / "big.jsonl"
    good = (OWN / "synthetic.jsonl").read_text().splitlines()[0]
    p.write_text(good + "\n" + '{"x":"' + "a" * (1 << 21) + '"}\n' + good.replace("syn-1", "syn-9") + "\n")
    values, dls = collect("synthetic", [p])
    assert [v.event_id for v in values] == ["syn-1", "syn-9"]
    assert "larger than" in dls[0].reason and len(dls[0].raw) <= 64 * 1024


def test_truncated_json_line_loses_only_itself(tmp_path) -> None:
    """A record cut off mid-line in a JSON-lines file is dead-lettered alone; the lines after it still parse."""
    import json as _json

    from connectors.runner import iter_source

    good = {"event_id": "s1", "ts": "2026-03-02T09:15:00Z", "kind": "file", "action": "open",
            "actor": "ann@corp.example", "source": "synthetic"}
    lines = [_json.dumps(good | {"event_id": f"s{i}"}) for i in range(5)]
    lines.insert(2, '{"event_id": "cut", "ts": ')
    p = tmp_path / "ev.jsonl"
    p.write_text("\n".join(lines) + "\n")
    out = list(iter_source("synthetic", [str(p)]))
    values = [v for v, d in out if v is not None]
    dead = [d for v, d in out if d is not None]
    assert len(values) == 5 and len(dead) == 1
    assert '"cut"' in dead[0].raw and "truncated" in dead[0].reason


def test_the_checkpoint_reader_asks_again_on_retriable_errors_and_says_what_to_do_on_others() -> None:
    """The connectors read a partition's offsets with the worker's `watermarks` (one reader of the retry rules):
    a retriable error is asked again, anything else is a ConnectorError naming the partition."""
    import pytest
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    from connectors.producer import ConnectorError, KafkaSink

    class C:
        def __init__(self, errors: list[KafkaError]) -> None:
            self.errors, self.calls = errors, 0

        def get_watermark_offsets(self, tp, timeout):  # noqa: ANN001, ANN202
            self.calls += 1
            if self.errors:
                raise KafkaException(self.errors.pop(0))
            return (0, 5)

    retriable = KafkaError(KafkaError._TIMED_OUT_QUEUE, retriable=True)
    c = C([retriable, KafkaError(KafkaError.LEADER_NOT_AVAILABLE)])
    assert KafkaSink._watermarks(c, TopicPartition("cp", 2)) == (0, 5) and c.calls == 3
    c = C([KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)])
    with pytest.raises(ConnectorError, match=r"cp \[2\].*Start the connector again"):
        KafkaSink._watermarks(c, TopicPartition("cp", 2))
    assert c.calls == 1
