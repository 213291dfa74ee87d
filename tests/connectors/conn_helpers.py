"""Shared helpers of the connector tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "connectors"


@pytest.fixture
def fix() -> Path:
    return FIX


def collect(source: str, paths: list[Any], **opts: Any) -> tuple[list[Any], list[Any]]:
    """(values, dead letters) of a run of ``iter_source``."""
    from connectors.runner import iter_source

    values, dls = [], []
    for v, dl in iter_source(source, [str(p) for p in paths], **opts):
        assert (v is None) != (dl is None)
        (values if v is not None else dls).append(v if v is not None else dl)
    return values, dls


@pytest.fixture
def run_collect():
    return collect
