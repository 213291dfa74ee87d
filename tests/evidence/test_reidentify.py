"""Re-identification only with the key, and never without an audit record; the audit trail's own chain."""

from __future__ import annotations

import os
from unittest import mock

import orjson

from evidence import audit


def test_reidentify_needs_the_key_and_is_audited(company_run, capsys) -> None:
    from exitwatch.cli import main

    sec = [orjson.loads(x) for x in company_run.secops.read_bytes().splitlines()]
    hr_alerts = [orjson.loads(x) for x in company_run.alerts.read_bytes().splitlines()]
    s = sec[0]
    args = ["reidentify", "--hr", str(company_run.company / "hr.jsonl"), "--pseudonym", s["employee_id"],
            "--alert-id", s["alert_id"], "--alerts", str(company_run.alerts), "--reason", "case 17"]
    log = company_run.env["EXITWATCH_AUDIT_LOG"]
    before = len(audit.read(log)) if os.path.exists(log) else 0
    with mock.patch.dict(os.environ, company_run.env):
        assert main(args) == 0
    out = capsys.readouterr().out
    assert s["employee_id"] + "\t" in out and "not found" not in out
    named = out.split("\n")[0].split("\t")[1]
    assert named in {x["employee_id"] for x in hr_alerts}
    assert out.split("\n")[1].split("\t")[1] == named  # the alert id maps to the same person
    recs = audit.read(log)
    assert len(recs) == before + 1
    r = recs[-1]
    assert r["action"] == "reidentify" and r["who"] == "test-operator" and r["reason"] == "case 17"
    assert r["what"]["pseudonyms"] == [s["employee_id"]]
    # with another key nobody is found (and the attempt is still audited)
    with mock.patch.dict(os.environ, {**company_run.env, "EXITWATCH_PSEUDONYM_KEY": "another-key-of-43-characters-xxxxxxxxxxxxx"}):
        assert main(args) == 1
    assert "not found" in capsys.readouterr().out
    assert len(audit.read(log)) == before + 2


def test_audit_trail_chain_catches_a_deleted_or_edited_line(tmp_path) -> None:
    from schemas.settings import Settings

    s = Settings(audit_log=str(tmp_path / "a.jsonl"), operator="x")
    for i in range(4):
        audit.write("case_export", {"employee_id": f"E{i}"}, s)
    assert audit.check(s.audit_log) is None
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "b.jsonl").write_bytes(b"".join(lines[:1] + lines[2:]))
    assert "line 2" in audit.check(str(tmp_path / "b.jsonl"))
    (tmp_path / "c.jsonl").write_bytes(b"".join(lines[:2] + [lines[2].replace(b"E2", b"E9")] + lines[3:]))
    assert "line 4" in audit.check(str(tmp_path / "c.jsonl"))


def test_worker_refuses_the_development_signing_key() -> None:
    import pytest

    from evidence.keys import SigningKey, require_signing_key
    from schemas.secrets import InsecureKeyError
    from schemas.settings import Settings

    with pytest.raises(InsecureKeyError, match="EXITWATCH_EVIDENCE_SIGNING_KEY"):
        require_signing_key(Settings(dev_mode=False), "w")
    with pytest.raises(ValueError, match="64 hex digits"):
        require_signing_key(Settings(dev_mode=False, evidence_signing_key="abc"), "w")
    k = SigningKey.generate()
    require_signing_key(Settings(dev_mode=False, evidence_signing_key=k._key.private_bytes_raw().hex()), "w")
