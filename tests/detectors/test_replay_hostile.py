"""Replay under hostile input (issue 16): oversized and deep lines, numbers past 64 bits and past 4,300
digits, escapes in ids, bytes that are not UTF-8, dates in 2099 and 9999, unknown employee ids. No crash,
no good record lost, and the alerts of the clean data unchanged (the learned model included)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from detectors.factory import build_engine
from detectors.replay import replay_files
from exitwatch.generate import generate


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("company")
    generate(d, employees=30, days=45, seed=11)
    return d


def _alert_ids(path: Path) -> set[str]:
    return {json.loads(x)["alert_id"] for x in path.read_bytes().splitlines()}


def _replay(d: Path, hr: Path, events: Path, out: Path, models: bool = True):
    engine = build_engine(models=models)
    return replay_files([str(hr)], [str(d / "signals.jsonl")], [str(events)], str(out), engine=engine,
                        show_progress=False)


def test_hostile_lines_change_nothing_but_the_dead_letters(company: Path, tmp_path: Path) -> None:
    clean = _replay(company, company / "hr.jsonl", company / "events.jsonl", tmp_path / "clean.jsonl")
    assert clean.alerts > 0 and clean.bad == 0

    hr_lines = (company / "hr.jsonl").read_bytes().splitlines()
    ev_lines = (company / "events.jsonl").read_bytes().splitlines()
    leaver = json.loads(next(x for x in hr_lines if b'"notice"' in x))
    emp = leaver["employee_id"]
    base = json.loads(next(x for x in ev_lines if json.loads(x).get("employee_id") == emp))

    def ev(i: int, **kw: object) -> bytes:
        return orjson.dumps({**base, "event_id": f"hostile-{i}", **kw})

    crm = {"kind": "crm", "action": "export", "object": "Contact"}
    hostile = [
        ev(1, ts="2099-01-01T09:00:00Z"),                                   # far future: would move the model
        ev(2, ts="9999-12-31T23:59:59Z"),
        ev(3, ts="1970-01-01T00:00:00Z"),
        ev(4, **crm, count=7).replace(b'"count":7', b'"count":' + b"1" + b"0" * 30),  # 10**30
        ev(5, **crm, count=7).replace(b'"count":7', b'"count":18446744073709551616'),
        ev(6, **crm, count=7).replace(b'"count":7', b'"count":' + b"9" * 5000),       # past int()'s limit
        ev(7, attrs={"x": 7}).replace(b'"x":7', b'"x":' + b"[" * 100 + b"]" * 100),     # deep
        ev(8, actor="ann\x1b]0;owned\x07@corp.example"),                   # terminal escape in an id
        ev(9, object="x" * (3 << 20)),                                     # a 3 MiB line
        ev(10, actor="ann@corp.example").replace(b"ann@corp", b"ann\xff@corp"),  # not UTF-8, in an id
    ]
    # spread through the file: the first ones in front, where a 9999 line would hold its stream back
    mixed = hostile[:3] + ev_lines[:1000] + hostile[3:] + ev_lines[1000:]
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(mixed) + b"\n")
    # one HR line dated 9999 at the head of the HR file (it stalled the HR stream and cost alerts)
    hr9999 = orjson.dumps({**leaver, "ts": "9999-12-31T00:00:00Z", "status": "active", "last_day": None})
    hr = tmp_path / "hr.jsonl"
    hr.write_bytes(b"\n".join([hr9999, *hr_lines]) + b"\n")

    out = tmp_path / "hostile.jsonl"
    stats = _replay(company, hr, events, out)
    dead = [json.loads(x) for x in (tmp_path / "hostile.jsonl.deadletter").read_bytes().splitlines()]
    assert stats.bad == len(dead) == len(hostile) + 1
    assert _alert_ids(out) == _alert_ids(tmp_path / "clean.jsonl")
    assert stats.read["events"] == len(ev_lines) + len(hostile)  # every good line read
    reasons = " | ".join(d["reason"] for d in dead)
    for code in ("ts_out_of_window", "number_out_of_range", "too_deep", "bad_string", "too_large", "bad_bytes"):
        assert code in reasons, code
    assert stats.reasons["ts_out_of_window"] == 4 and stats.reasons["number_out_of_range"] == 3
    # the dead letters themselves are writable and readable JSON (no crash on writing 10**30)
    assert all(len(d["raw"]) <= 65536 for d in dead)


def test_free_text_with_bad_bytes_or_escapes_is_kept_and_marked(tmp_path: Path) -> None:
    hr = tmp_path / "hr.jsonl"
    hr.write_text(json.dumps({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "active"}) + "\n")
    line = orjson.dumps({"event_id": "e1", "ts": "2026-03-02T09:00:00Z", "kind": "file", "action": "open",
                         "actor": "ann", "employee_id": "E1", "source": "m365", "object": "a\x1b[2Jb OBJ"})
    events = tmp_path / "ev.jsonl"
    events.write_bytes(line + b"\n" + line.replace(b"e1", b"e2").replace(b"OBJ", b"\xff\xfe.doc") + b"\n")
    seen = []
    from detectors import replay

    stats = replay.run(build_engine(models=False), [hr], [], [events], on_alert=lambda a: None,
                       on_bad=seen.append)
    assert stats.bad == 0 and stats.read["events"] == 2 and not seen


def test_unknown_employee_ids_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXITWATCH_REPLAY_MAX_UNKNOWN_EMPLOYEES", "5")
    hr = tmp_path / "hr.jsonl"
    hr.write_text(json.dumps({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "active"}) + "\n")
    lines = [orjson.dumps({"event_id": f"e{i}", "ts": f"2026-03-02T09:{i % 60:02d}:00Z", "kind": "file",
                           "action": "open", "actor": f"x{i}", "employee_id": f"ghost-{i}", "source": "m365"})
             for i in range(50)]
    lines.append(orjson.dumps({"event_id": "k", "ts": "2026-03-02T10:00:00Z", "kind": "file", "action": "open",
                               "actor": "ann", "employee_id": "E1", "source": "m365"}))
    events = tmp_path / "ev.jsonl"
    events.write_bytes(b"\n".join(lines) + b"\n")
    engine = build_engine(models=False)
    stats = replay_files([str(hr)], [], [str(events)], str(tmp_path / "a.jsonl"), engine=engine,
                         show_progress=False)
    assert stats.bad == 45 and stats.reasons == {"unsupported": 45}
    assert engine.stats.events == 6  # five unknown ids and the known employee
