"""Case bundles: an untouched bundle verifies; random tampering with any file of it is always caught, and the
first broken link is named (issue 17, "Done when" 1). Also the ledger's own chain, and replay's determinism."""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from pathlib import Path
from unittest import mock

import orjson
import pytest

from evidence.bundle import export, verify
from evidence.keys import PublicKey, SigningKey
from evidence.ledger import check_ledger, employee_entries, read_ledger, seal


def _busiest(ledger: Path) -> str:
    return Counter(e["employee_id"] for e in read_ledger(str(ledger))).most_common(1)[0][0]


@pytest.fixture(scope="module")
def bundle(company_run, tmp_path_factory) -> tuple[Path, PublicKey, str]:
    from exitwatch.cli import main

    emp = _busiest(company_run.ledger)
    out = tmp_path_factory.mktemp("bundle") / "case"
    with mock.patch.dict(os.environ, company_run.env):
        assert main(["evidence", "export", "--ledger", str(company_run.ledger), "--employee", emp,
                     "--out", str(out), "--reason", "test"]) == 0
    return out, PublicKey.from_hex(company_run.env["EXITWATCH_EVIDENCE_PUBLIC_KEY"]), emp


def test_untouched_bundle_verifies_and_has_everything(bundle, company_run, capsys) -> None:
    from exitwatch.cli import main

    out, key, emp = bundle
    bad, info = verify(out, key)
    assert bad is None and info["employee_id"] == emp and info["entries"] >= 3
    with mock.patch.dict(os.environ, company_run.env):
        assert main(["evidence", "verify", str(out)]) == 0
    assert "intact" in capsys.readouterr().out
    names = {p.name for p in out.iterdir()}
    assert names == {"ledger.jsonl", "alerts.jsonl", "evidence.jsonl", "hr.jsonl", "timeline.jsonl", "report.html",
                     "manifest.json", "manifest.sig"}
    alerts = [orjson.loads(x) for x in (out / "alerts.jsonl").read_bytes().splitlines()]
    evidence = {e.get("event_id") or e["ref"]: e
                for e in map(orjson.loads, (out / "evidence.jsonl").read_bytes().splitlines())}
    # every alert's evidence is there as the event itself, and it is the employee's own activity
    cited = [i for a in alerts for i in a["evidence"]]
    assert cited and all(i in evidence for i in cited) and not any(a["missing_evidence"] for a in alerts)
    assert [a["number"] for a in alerts] == list(range(1, len(alerts) + 1))
    assert all(a["explanation"]["observed"] is not None for a in alerts)
    hr = [orjson.loads(x) for x in (out / "hr.jsonl").read_bytes().splitlines()]
    assert any(r["record"] == "hr" and r["employee_id"] == emp for r in hr)
    assert b"<table>" in (out / "report.html").read_bytes()
    # the audit trail names the export and who ran it
    from evidence import audit

    recs = audit.read(company_run.env["EXITWATCH_AUDIT_LOG"])
    assert any(r["action"] == "case_export" and r["what"]["employee_id"] == emp and r["who"] == "test-operator"
               for r in recs)
    assert audit.check(company_run.env["EXITWATCH_AUDIT_LOG"]) is None


def _lines(b: bytes) -> list[bytes]:
    return b.split(b"\n")


def _tamper(data: bytes, how: str, rnd: random.Random) -> bytes | None:
    lines = _lines(data)
    body = [i for i, x in enumerate(lines) if x.strip()]
    if how == "byte":
        i = rnd.randrange(len(data))
        return data[:i] + bytes([(data[i] + rnd.randrange(1, 256)) % 256]) + data[i + 1:]
    if how == "delete":
        if not body:
            return None
        del lines[rnd.choice(body)]
        return b"\n".join(lines)
    if how == "swap":
        pairs = [(i, j) for i in body for j in body if i < j and lines[i] != lines[j]]
        if not pairs:
            return None
        i, j = rnd.choice(pairs)
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if how == "insert_copy":
        if not body:
            return None
        lines.insert(rnd.randrange(len(lines) + 1), lines[rnd.choice(body)])
        return b"\n".join(lines)
    if how == "insert_new":
        lines.insert(rnd.randrange(len(lines) + 1), orjson.dumps({"event_id": f"fake-{rnd.random()}", "n": 2}))
        return b"\n".join(lines)
    raise AssertionError(how)


HOW = ("byte", "delete", "swap", "insert_copy", "insert_new")


def test_random_tampering_is_always_caught(bundle, tmp_path) -> None:
    out, key, _ = bundle
    rnd = random.Random(int.from_bytes(os.urandom(4), "big"))
    tried: Counter[tuple[str, str]] = Counter()
    k = 0
    for name in sorted(p.name for p in out.iterdir()):
        for how in HOW:
            for _ in range(4 if how == "byte" else 2):
                k += 1
                case = tmp_path / f"case{k}"
                shutil.copytree(out, case)
                new = _tamper((case / name).read_bytes(), how, rnd)
                if new is None or new == (case / name).read_bytes():
                    shutil.rmtree(case)
                    continue
                (case / name).write_bytes(new)
                bad, _ = verify(case, key)
                assert bad, f"{how} in {name} was not caught"
                tried[(name, how)] += 1
                shutil.rmtree(case)
    # every file got every kind of tampering it can take (manifest.sig is one line: no swap)
    assert sum(tried.values()) >= 8 * 4 * 2
    assert all(tried[(n, "byte")] == 4 for n in {k[0] for k in tried})


def test_first_broken_link_is_named(bundle, tmp_path) -> None:
    out, key, _ = bundle
    case = tmp_path / "c"
    shutil.copytree(out, case)
    lines = (case / "ledger.jsonl").read_bytes().split(b"\n")
    lines[0], lines[1] = lines[1], lines[0]
    (case / "ledger.jsonl").write_bytes(b"\n".join(lines))
    bad, _ = verify(case, key)
    assert bad.startswith("ledger.jsonl line 1") and "n=1" in bad
    shutil.rmtree(case)
    shutil.copytree(out, case)
    (case / "extra.txt").write_text("x")
    assert "extra.txt" in verify(case, key)[0]
    shutil.rmtree(case)
    shutil.copytree(out, case)
    (case / "timeline.jsonl").write_bytes(b"\n".join((case / "timeline.jsonl").read_bytes().split(b"\n")[1:]))
    assert verify(case, key)[0].startswith("timeline.jsonl line 1")


def test_rehashing_and_resigning_with_another_key_is_caught(bundle, company_run, tmp_path) -> None:
    """The attacker without the private key edits an entry, re-hashes and re-signs the whole chain and the
    manifest with a key of their own: the pinned public key refuses it."""
    out, key, emp = bundle
    entries = employee_entries(read_ledger(str(company_run.ledger)), emp)
    mine = SigningKey.generate()
    forged, prev = [], "0" * 64
    for i, e in enumerate(entries, 1):
        body = {k: v for k, v in e.items() if k not in ("v", "n", "prev", "key_id", "hash", "sig")}
        if i == 1:
            body["alert"] = {**body["alert"], "score": 1.0}
        f = seal(body, i, prev, mine)
        forged.append(f)
        prev = f["hash"]
    export(forged, emp, tmp_path / "forged", mine)
    assert verify(tmp_path / "forged", mine.public)[0] is None  # consistent in itself...
    bad, _ = verify(tmp_path / "forged", key)  # ...but not signed by the pinned key
    assert bad and "pinned key" in bad


def test_ledger_chain_catches_edits_deletions_and_reordering(company_run, tmp_path) -> None:
    key = PublicKey.from_hex(company_run.env["EXITWATCH_EVIDENCE_PUBLIC_KEY"])
    lines = company_run.ledger.read_bytes().splitlines()
    n, bad = check_ledger((orjson.loads(x) for x in lines), key)
    assert bad is None and n == len(lines)
    emps = [orjson.loads(x)["employee_id"] for x in lines]
    # an entry in the middle of some employee's chain
    i = next(k for k in range(len(lines)) if emps[k] in emps[k + 1:] and emps[k] in emps[:k])
    deleted = lines[:i] + lines[i + 1:]
    assert check_ledger(map(orjson.loads, deleted), key)[1]
    edited = list(lines)
    edited[i] = edited[i].replace(b'"severity":"', b'"severity":"x', 1)
    assert "hash" in check_ledger(map(orjson.loads, edited), key)[1]
    j = next(k for k in range(i + 1, len(lines)) if emps[k] == emps[i])
    swapped = list(lines)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert check_ledger(map(orjson.loads, swapped), key)[1]
    # a retried write (the same entry twice) is not a break
    assert check_ledger(map(orjson.loads, lines[: i + 1] + [lines[i]] + lines[i + 1:]), key)[1] is None


def test_replay_writes_the_same_ledger_every_time(company_run, tmp_path) -> None:
    from exitwatch.cli import main

    c = company_run.company
    with mock.patch.dict(os.environ, company_run.env):
        assert main(["replay", "--hr", str(c / "hr.jsonl"), "--signals", str(c / "signals.jsonl"), "--events",
                     str(c / "events.jsonl"), "--alerts", str(tmp_path / "a.jsonl"), "--ledger",
                     str(tmp_path / "l.jsonl"), "--alerts-secops", str(tmp_path / "s.jsonl")]) == 0
    assert (tmp_path / "l.jsonl").read_bytes() == company_run.ledger.read_bytes()
    assert (tmp_path / "s.jsonl").read_bytes() == company_run.secops.read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() == company_run.alerts.read_bytes()
    # one ledger entry per alert, in the same order
    ids = [orjson.loads(x)["alert_id"] for x in company_run.alerts.read_bytes().splitlines()]
    assert [e["alert"]["alert_id"] for e in read_ledger(str(company_run.ledger))] == ids


@pytest.mark.parametrize("edit", [bytes.upper, lambda b: b" " + b, lambda b: b.rstrip(b"\n"), lambda b: b + b"\n"])
def test_signature_file_only_in_its_written_form(bundle, tmp_path, edit) -> None:
    """The same signature written differently (upper case hex, spaces, line ends) is an edit of the bundle too:
    the random tampering above caught it only by chance (a byte turned into the upper case of a hex letter)."""
    out, key, _ = bundle
    case = tmp_path / "c"
    shutil.copytree(out, case)
    sig = case / "manifest.sig"
    sig.write_bytes(edit(sig.read_bytes()))
    bad, _ = verify(case, key)
    assert bad and "manifest.sig" in bad
