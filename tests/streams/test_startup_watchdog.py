"""The startup watchdog starts the worker over (exec of the same command) when no partition came in time,
and leaves a started worker alone."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

import streams.cli as cli


def fake_worker(assigned: set[Any]) -> Any:
    return SimpleNamespace(app=SimpleNamespace(consumer=SimpleNamespace(assignment=lambda: assigned)))


@pytest.mark.parametrize("assigned,restarts,expect_exec", [(set(), 0, True), ({"t/0"}, 0, False), (set(), 3, False)])
def test_startup_watchdog(monkeypatch: pytest.MonkeyPatch, assigned: set[Any], restarts: int,
                          expect_exec: bool) -> None:
    calls: list[list[str]] = []
    done = threading.Event()

    def fake_execv(path: str, argv: list[str]) -> None:
        calls.append(argv)
        done.set()

    monkeypatch.setattr(cli, "STARTUP_WATCHDOG_S", 0.05)
    monkeypatch.setattr(cli.os, "execv", fake_execv)
    monkeypatch.setenv("EXITWATCH_STARTUP_RESTARTS", str(restarts))
    cli.start_startup_watchdog(fake_worker(assigned))
    done.wait(1.0)
    assert bool(calls) == expect_exec
    if expect_exec:
        assert cli.os.environ["EXITWATCH_STARTUP_RESTARTS"] == str(restarts + 1)
