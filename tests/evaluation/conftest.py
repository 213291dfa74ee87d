"""A small company, generated and evaluated once per session for the evaluation tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SMALL = dict(employees=60, days=60, seed=5)


@pytest.fixture(scope="session")
def small_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from exitwatch.cli import main

    out = tmp_path_factory.mktemp("company")
    rc = main(["generate", "--employees", str(SMALL["employees"]), "--days", str(SMALL["days"]),
               "--seed", str(SMALL["seed"]), "--out", str(out), "--no-progress"])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def small_report(small_company: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    import orjson

    from exitwatch.cli import main

    out = tmp_path_factory.mktemp("report")
    rc = main(["evaluate", "--data", str(small_company), "--out", str(out), "--no-progress"])
    assert rc == 0
    return out, orjson.loads((out / "report.json").read_bytes())
