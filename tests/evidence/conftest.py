"""One generated company replayed through the real CLI with the ledger and the secops form, with keys only
the test knows (a random pseudonym key and a random Ed25519 signing key)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest


@dataclass
class Run:
    company: Path
    alerts: Path
    secops: Path
    ledger: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def company_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from exitwatch.cli import main
    from exitwatch.generate import generate

    d = tmp_path_factory.mktemp("evidence")
    generate(d / "co", employees=60, days=60, seed=3)
    from evidence.keys import SigningKey

    sk = SigningKey.generate()
    env = {
        "EXITWATCH_PSEUDONYM_KEY": secrets.token_hex(32),
        "EXITWATCH_EVIDENCE_SIGNING_KEY": sk._key.private_bytes_raw().hex(),
        "EXITWATCH_EVIDENCE_PUBLIC_KEY": sk.public.hex,
        "EXITWATCH_AUDIT_LOG": str(d / "audit.jsonl"),
        "EXITWATCH_OPERATOR": "test-operator",
    }
    run = Run(d / "co", d / "alerts.jsonl", d / "secops.jsonl", d / "ledger.jsonl", env)
    with mock.patch.dict(os.environ, env):
        rc = main(["replay", "--hr", str(run.company / "hr.jsonl"), "--signals", str(run.company / "signals.jsonl"),
                   "--events", str(run.company / "events.jsonl"), "--alerts", str(run.alerts),
                   "--alerts-secops", str(run.secops), "--ledger", str(run.ledger), "--progress"][:-1])
    assert rc == 0
    return run
