"""One generator and one evaluator: the in-memory company is the written one; the model measurement runs from
the evaluate command."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from exitwatch.generate import generate, workforce


def test_workforce_is_the_generated_company(tmp_path: Path) -> None:
    generate(tmp_path, employees=25, days=45, seed=4)
    hr, events, labels = workforce(employees=25, days=45, seed=4)

    def lines(name: str) -> list[dict]:
        return [orjson.loads(x) for x in (tmp_path / name).read_bytes().splitlines() if x.strip()]

    assert events == lines("events.jsonl")
    assert hr == lines("hr.jsonl")
    assert labels == lines("labels.jsonl")


def test_model_only_measurement_from_the_cli(small_company: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from exitwatch.cli import main

    assert main(["evaluate", "--data", str(small_company), "--model-only", "--no-progress"]) == 0
    r = orjson.loads(capsys.readouterr().out)
    labels = [orjson.loads(x) for x in (small_company / "labels.jsonl").read_bytes().splitlines() if x.strip()]
    assert r["malicious_employees"] == sum(1 for lab in labels if lab["scenario"] != "benign_leaver")
    assert r["employee_days"] > r["positive_days"] > 0
    assert 0.0 <= r["auc"] <= 1.0 and r["state_bytes"]["max"] > 0
