"""The hostile-input set through every connector (issue 16): oversized and deep records, numbers past 64 bits
and past 4,300 digits, bytes that are not UTF-8, terminal escapes, odd dates and broken CSV quotes. No run
raises, every output can be written as JSON, and the good records around the hostile ones all come out."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import orjson
import pytest

from connectors.runner import iter_source
from schemas.reasons import reason_category

from conn_helpers import FIX

OWN = FIX / "own"
#: source -> (fixture, lines kept in front of the hostile block: the header of a CSV)
FIXTURES = {
    "m365": (OWN / "m365_documented.jsonl", 0),
    "gworkspace": (OWN / "gworkspace_reports.jsonl", 0),
    "box": (OWN / "box_events.json", 0),
    "dropbox": (OWN / "dropbox_team_events.jsonl", 0),
    "salesforce": (OWN / "salesforce_elf_api.csv", 1),
    "exchange": (OWN / "exchange_msgtrk.log", 0),
    "postfix": (FIX / "postfix-maillog-dump" / "mailog2", 0),
    "mde": (OWN / "mde_streaming.json", 0),
    "windows": (OWN / "windows_documented.jsonl", 0),
    "auditd": (OWN / "auditd_documented.log", 0),
    "cert": (OWN / "cert_r42" / "email.csv", 1),
    "hr": (OWN / "hr.csv", 1),
    "synthetic": (OWN / "synthetic.jsonl", 0),
}

BIG = "18446744073709551616"  # 2**64
HOSTILE = [
    b"x" * (2 << 20),                                                          # a 2 MiB line
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",                               # deep
    b'{"size":' + b"9" * 5000 + b', "count": 1e999}',                          # past int()'s and float's limits
    b'{"Operation":"FileDownloaded","CreationTime":"9999-12-31T00:00:00","UserId":"a\x1b[2J@corp.example"}',
    b'\xff\xfe\x00garbage \x1b]0;title\x07 line',
    b'"unterminated, "quote',
    b'{"ts": "2099-01-01T00:00:00Z", "size": ' + BIG.encode() + b"}",
]


def _run(source: str, path: Path) -> tuple[list, list]:
    values, dls = [], []
    for v, dl in iter_source(source, [str(path)], year=2026):
        assert (v is None) != (dl is None)
        if v is not None:
            orjson.dumps(v.model_dump(mode="json"))  # what every sink does: must never raise
            values.append(v)
        else:
            orjson.dumps(dl.model_dump(mode="json"))
            assert dl.reason
            dls.append(dl)
    return values, dls


def _key(v) -> str:
    return getattr(v, "event_id", None) or f"{v.employee_id}:{v.ts}"


@pytest.mark.parametrize("source", sorted(FIXTURES))
def test_hostile_lines_lose_no_good_record(source: str, tmp_path: Path) -> None:
    path, head = FIXTURES[source]
    clean, _ = _run(source, path)
    assert clean, f"{source}: the fixture gives no output"
    lines = path.read_bytes().splitlines()
    mixed = lines[:head] + HOSTILE + lines[head:] + HOSTILE
    p = tmp_path / path.name
    p.write_bytes(b"\n".join(mixed) + b"\n")
    values, dls = _run(source, p)
    assert sorted(map(_key, values)) == sorted(map(_key, clean))
    assert dls  # the hostile lines are dead letters with a reason, not silently gone


@pytest.mark.parametrize("number", [BIG, "1" + "0" * 30, "9" * 5000])
@pytest.mark.parametrize("source", sorted(FIXTURES))
def test_every_number_made_huge_never_crashes(source: str, number: str, tmp_path: Path) -> None:
    path, _ = FIXTURES[source]
    text = path.read_text(encoding="utf-8")
    # every number of two or more digits that stands alone (sizes, counts, ids, event ids, years...)
    hostile = re.sub(r'(?<=[:=,"( ])\d{2,}(?=[,"\s})b-]|$)', number, text, flags=re.M)
    assert hostile != text
    p = tmp_path / path.name
    p.write_text(hostile, encoding="utf-8")
    values, dls = _run(source, p)
    for v in values:
        for f in ("bytes", "count"):
            n = getattr(v, f, None)
            assert n is None or 0 <= n < 2**63
    assert all(dl.reason for dl in dls)


def test_number_reason_is_named(tmp_path: Path) -> None:
    line = (b'{"CreationTime":"2026-03-02T09:15:00","Id":"x1","Operation":"FileDownloaded","UserId":"ann@corp.example",'
            b'"Workload":"OneDrive","ObjectId":"https://corp-my.sharepoint.com/a.docx","FileSizeBytes":' + BIG.encode()
            + b"}")
    p = tmp_path / "m.jsonl"
    p.write_bytes(line + b"\n")
    values, dls = _run("m365", p)
    assert not values and len(dls) == 1
    assert reason_category(dls[0].reason) == "number_out_of_range", dls[0].reason


def test_future_and_escaped_records_are_named(tmp_path: Path) -> None:
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=20)).isoformat()
    base = {"event_id": "a", "ts": "2026-03-02T09:15:00Z", "kind": "file", "action": "open", "actor": "ann",
            "source": "synthetic"}
    rows = [base, {**base, "event_id": "b", "ts": soon}, {**base, "event_id": "c", "actor": "ann\x1b[31m"},
            {**base, "event_id": "d", "object": "report\x1b[2J.pdf"}]
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    values, dls = _run("synthetic", p)
    assert [v.event_id for v in values] == ["a", "d"]
    assert values[1].object == "report.pdf" and values[1].attrs["sanitized"] == ["object"]
    assert sorted(reason_category(d.reason) for d in dls) == ["bad_string", "ts_out_of_window"]


def test_one_stray_quote_costs_one_csv_row(tmp_path: Path) -> None:
    header, row = (OWN / "salesforce_elf_api.csv").read_text().splitlines()[:2]
    rows = [row] * 3000
    broken = rows[:100] + [row.replace(",", ',"', 1)] + rows[100:]  # one stray quote, then 2,900 rows
    p = tmp_path / "ApiEvent.csv"
    p.write_text("\n".join([header, *broken]) + "\n")
    clean, _ = _run("salesforce", OWN / "salesforce_elf_api.csv")
    values, dls = _run("salesforce", p)
    assert len(dls) == 1 and "quote" in dls[0].reason
    assert len(values) == 3000 * (1 if clean else 0)


def test_unclosed_quote_at_the_end_keeps_the_rows_after_it(tmp_path: Path) -> None:
    header, row = (OWN / "salesforce_elf_api.csv").read_text().splitlines()[:2]
    p = tmp_path / "ApiEvent.csv"
    p.write_text("\n".join([header, '"ApiEvent","2026', *[row] * 20]) + "\n")
    values, dls = _run("salesforce", p)
    assert len(values) == 20 and len(dls) == 1


def test_conflicting_and_odd_hr_rows_are_each_accounted_for(tmp_path: Path) -> None:
    header, row = (OWN / "hr.csv").read_text().splitlines()[:2]
    cols = header.split(",")
    vals = next(__import__("csv").reader([row]))
    rec = dict(zip(cols, vals))

    def line(**kw: str) -> str:
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf).writerow([{**rec, **kw}.get(c, "") for c in cols])
        return buf.getvalue().strip()

    rows = [
        line(),
        line(status="active"),                    # the same employee and time, the other status: conflicting
        line(ts="9999-12-31T00:00:00Z"),           # a date no clock reaches
        line(ts="0001-01-01T00:00:00Z"),
        line(employee_id="E\x1b[2J9"),             # an escape in an id
        line(ts="not a date"),
    ]
    p = tmp_path / "hr.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    values, dls = _run("hr", p)
    assert len(values) + len(dls) == len(rows)  # nothing silently gone
    assert len(values) == 2 and {v.status for v in values} >= {"active"}
    cats = sorted(reason_category(d.reason) for d in dls)
    assert cats == ["bad_string", "bad_timestamp", "ts_out_of_window", "ts_out_of_window"], [d.reason for d in dls]
