"""The rule catalogue: every ``detectors/rules/<kind>/<behaviour>.py`` that defines ``RULE``, with the
security team's overrides from a configuration file applied.

The configuration file is TOML or JSON, one table per rule id:

.. code-block:: toml

    [rules."file.sensitive_downloads_before_departure"]
    threshold = 15
    days = 30

    [rules."web.personal_cloud_upload"]
    enabled = false

>>> ids = [r.id for r in load_rules()]
>>> "file.sensitive_downloads_before_departure" in ids
True
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import detectors.rules as rules_pkg
from detectors.rule import Rule


def discover() -> list[Rule]:
    """Every rule module's ``RULE``, sorted by id."""
    found: list[Rule] = []
    for kind in sorted(p.name for p in Path(rules_pkg.__file__).parent.iterdir() if p.is_dir() and not p.name.startswith("_")):
        pkg = importlib.import_module(f"detectors.rules.{kind}")
        for mod in pkgutil.iter_modules(pkg.__path__):
            m = importlib.import_module(f"detectors.rules.{kind}.{mod.name}")
            if hasattr(m, "RULE"):
                found.append(m.RULE)
    return sorted(found, key=lambda r: r.id)


def read_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """The ``rules`` table of a TOML or JSON file (empty without a path)."""
    if path is None:
        return {}
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read rules configuration {p}: {exc}") from exc
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise ValueError(f"{p}: 'rules' must be a table of rule ids")
    return rules


def load_rules(config: str | Path | None = None, include_disabled: bool = False, preset: str | None = "") -> list[Rule]:
    """The catalogue with the industry preset's settings (``preset``, default ``EXITWATCH_PRESET``;
    :mod:`schemas.presets`) and then the overrides from ``config`` applied; unknown rule ids are an error."""
    from schemas.presets import preset_rules

    overrides = {k: dict(v) for k, v in preset_rules(preset).items()}
    for rid, settings in read_config(config).items():
        overrides[rid] = {**overrides.get(rid, {}), **settings}
    rules = discover()
    known = {r.id for r in rules}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"rules configuration names unknown rule(s) {sorted(unknown)}; known: {sorted(known)}")
    out = [r.configured(overrides[r.id]) if r.id in overrides else r for r in rules]
    return out if include_disabled else [r for r in out if r.enabled]


def effective_config(config: str | Path | None = None, preset: str | None = "") -> dict[str, dict[str, Any]]:
    """What ``exitwatch rules`` prints: every rule's id, version, window kind and settings in force."""
    return {
        r.id: {"version": r.version, "window": type(r.window).__name__, **r.params()}
        for r in load_rules(config, include_disabled=True, preset=preset)
    }
