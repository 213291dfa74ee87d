"""Every exitwatch command sets the garbage collector's first threshold from EXITWATCH_GC_GEN0."""

from __future__ import annotations

import gc

import pytest

from exitwatch.cli import main


@pytest.fixture
def restore_gc():  # type: ignore[no-untyped-def]
    old = gc.get_threshold()
    yield
    gc.set_threshold(*old)


def test_a_command_applies_the_setting(monkeypatch: pytest.MonkeyPatch, restore_gc: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("EXITWATCH_GC_GEN0", "12345")
    assert main(["rules"]) == 0
    assert gc.get_threshold() == (12345, 10, 10)


def test_zero_leaves_the_interpreters_threshold(monkeypatch: pytest.MonkeyPatch, restore_gc: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("EXITWATCH_GC_GEN0", "0")
    assert main(["rules"]) == 0
    assert gc.get_threshold() == (700, 10, 10)


def test_the_default_raises_it(monkeypatch: pytest.MonkeyPatch, restore_gc: None,
                               capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    monkeypatch.delenv("EXITWATCH_GC_GEN0", raising=False)
    assert main(["rules"]) == 0
    assert gc.get_threshold()[0] == 50_000
