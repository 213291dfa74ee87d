"""Property tests: malformed and truncated input to every parser gives dead letters, never an exception."""

from __future__ import annotations

import importlib
import json
import re

import orjson

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import sources
from connectors.base import Context, Skip
from schemas.guard import GuardError, check_record
from connectors.framing import Stream

from conn_helpers import FIX


def _available() -> list[str]:
    out = []
    for n in sources.names():
        mod = sources.REGISTRY[n][0]
        try:
            importlib.import_module(f"connectors.sources.{mod}")
        except ModuleNotFoundError:
            continue
        out.append(n)
    return out


NAMES = _available()

# one real-looking line per format family, to truncate and mutate
SEEDS = [
    (FIX / "own" / "m365_documented.jsonl").read_text().splitlines()[0],
    (FIX / "own" / "hr.csv").read_text().splitlines()[1],
    "Feb 25 13:58:26 server1 postfix/qmgr[18556]: AE11A4011B7B: from=<root@server1.alsoft.org>, size=299, nrcpt=1",
    'type=SYSCALL msg=audit(1492037291.036:59): arch=c000003e syscall=59 success=yes exit=0 items=2 auid=1000 '
    'uid=1000 comm="grep" exe="/usr/bin/grep"',
    'type=PATH msg=audit(1492037291.036:59): item=0 name="/usr/bin/grep" inode=2512 nametype=NORMAL',
    "#Fields: date-time,client-ip,event-id,message-id,recipient-address,total-bytes,sender-address",
    "2026-03-02T09:15:00.000Z,10.0.0.1,SEND,<a@b>,x@gmail.com,1000,ann@corp.example",
    '"EVENT_TYPE","TIMESTAMP","USER_ID","ROWS_PROCESSED"',
    '"ReportExport","20230317180424.293","005000000000123","10"',
    "{Q4D5-W4HH44UC-5188LWZK},01/02/2010 07:11:45,DTAA/AAM9901,PC-1234,Logon",
    '{"id":{"time":"2023-10-15T23:35:01.493Z","applicationName":"drive"},"actor":{"email":"a@b.c"},'
    '"events":[{"name":"download","parameters":[{"name":"doc_title","value":"x"}]}]}',
]

hostile_text = st.sampled_from(["\x1b[2J", "\x1b]0;x\x07", "\x00", "\u009b31m", "\ufffd", "\ud800"]).flatmap(
    lambda bad: st.text(max_size=8).map(lambda t: t + bad + t))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([2**64, 10**30, -(2**64)])
    | st.floats(allow_nan=True) | st.text(max_size=20) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


def _mutations() -> st.SearchStrategy[bytes]:
    seed = st.sampled_from(SEEDS)
    truncated = st.builds(lambda s, n: s[: n % (len(s) + 1)], seed, st.integers(0, 400))
    spliced = st.builds(lambda s, i, junk: s[:i] + junk + s[i:], seed, st.integers(0, 300),
                        st.text(max_size=8))
    random_json = json_values.map(json.dumps)
    keyed = st.dictionaries(
        st.sampled_from(["Operation", "CreationTime", "Id", "UserId", "Item", "Parameters", "EventID", "ActionType",
                         "Timestamp", "event_type", "created_by", "events", "id", "actor", "EVENT_TYPE",
                         "AdditionalFields", "record", "kind", "ts", "status", "signal", "employee_id",
                         "Workload", "ObjectId", "FileSizeBytes", "Receivers", "timestamp", "details"]),
        json_values, max_size=8,
    ).map(json.dumps)
    huge = st.builds(lambda s, n: re.sub(r"\d+", n, s, count=3), seed,
                     st.sampled_from([str(2**64), "1" + "0" * 30, "9" * 5000]))
    text = st.one_of(truncated, spliced, random_json, keyed, huge, st.text(max_size=200))
    lines = st.lists(text, min_size=1, max_size=6).map(lambda ls: ("\n".join(ls) + "\n").encode("utf-8", "replace"))
    # bytes that are not UTF-8 spliced into the lines
    return st.builds(lambda b, i, junk: b[:i] + junk + b[i:], lines, st.integers(0, 200),
                     st.sampled_from([b"", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x1b[31m"]))


def _feed_all(name: str, data: bytes) -> list:
    ctx = Context(options={"year": 2026})
    src = sources.get(name, ctx)
    stream: Stream = src.open_stream("fuzz.input")
    out = []
    off = 0
    for line in data.splitlines(keepends=True):
        out.extend(stream.feed(line, off))
        off += len(line)
    out.extend(stream.finish())
    return out


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mutations())
def test_parsers_never_raise(name, data):
    for value, dl, start in _feed_all(name, data):
        assert value is None or dl is None
        assert isinstance(start, int)
        if dl is not None:
            assert dl.reason and dl.source == name
            orjson.dumps(dl.model_dump(mode="json"))
        elif value is not None and not isinstance(value, Skip):
            # what the runner does before any sink: the guard, then JSON that every sink can write
            try:
                check_record(value)
            except GuardError:
                continue
            orjson.dumps(value.model_dump(mode="json"))


@pytest.mark.parametrize("name", NAMES)
def test_truncated_real_lines(name):
    for seed in SEEDS:
        for n in range(0, len(seed), 7):
            _feed_all(name, (seed[:n] + "\n").encode())
