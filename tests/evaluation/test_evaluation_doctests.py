"""The runnable examples in the evaluation modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["exitwatch.generate", "exitwatch.evaluate", "exitwatch.naive",
                                  "exitwatch.whatif"])
def test_doctests(name: str) -> None:
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
