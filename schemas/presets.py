"""Industry presets: a rule and classification pack chosen by one setting, ``EXITWATCH_PRESET``.

Each preset is one small TOML file in ``schemas/presets/`` (``manufacturing``, ``sales``, ``tech``,
``finance``) with:

- ``[rules."<rule id>"]`` tables: rule settings, applied before the security team's own rules configuration
  (``EXITWATCH_RULES_CONFIG`` still wins);
- ``[classification]``: keys as in ``connectors/classification.toml`` (``first_patterns`` put object
  patterns in front of the defaults, ``extra_personal_domains`` add...), applied before ``--classification``;
- ``[[examples]]``: objects with the sensitivity they must get (``text``, ``sensitivity``; ``none``: the
  preset does not classify it), and rule examples (``rule``, ``who`` = ``leaver`` or ``stayer``, ``events``,
  ``fires``) that ``tests/propensity/test_presets.py`` runs.

>>> sorted(PRESETS)
['finance', 'manufacturing', 'sales', 'tech']
>>> load_preset("sales")["rules"]["crm.bulk_export_before_departure"]["min_value"]
40
>>> active_preset(None) is None
True
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from typing import Any

PRESETS = ("manufacturing", "sales", "tech", "finance")


def load_preset(name: str) -> dict[str, Any]:
    """The preset's file as a dict; an unknown name is an error naming the known ones."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (EXITWATCH_PRESET); known: {', '.join(PRESETS)}")
    text = resources.files("schemas").joinpath("presets", f"{key}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.setdefault("rules", {})
    data.setdefault("classification", {})
    data.setdefault("examples", [])
    return data


def active_preset(name: str | None = "") -> str | None:
    """The preset in force: ``name`` if given (``None``: none), else ``EXITWATCH_PRESET`` (empty: none)."""
    if name is None:
        return None
    value = name or os.environ.get("EXITWATCH_PRESET", "")
    return value.strip().lower() or None


def preset_rules(name: str | None = "") -> dict[str, dict[str, Any]]:
    """Rule settings of the preset in force (empty without one)."""
    p = active_preset(name)
    return dict(load_preset(p)["rules"]) if p else {}


def preset_classification(name: str | None = "") -> dict[str, Any]:
    """Classification settings of the preset in force (empty without one)."""
    p = active_preset(name)
    return dict(load_preset(p)["classification"]) if p else {}
