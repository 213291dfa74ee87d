"""The runnable examples in the connectors' docstrings."""

import doctest
import importlib
import pkgutil

import pytest

import connectors

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(connectors.__path__, "connectors.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
