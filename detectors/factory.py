"""Build the engine the same way everywhere (replay, worker, evaluation, benchmarks)."""

from __future__ import annotations

from typing import Any

from detectors.catalogue import load_rules
from detectors.engine import Engine, EngineConfig, StateStore


def default_models() -> list[Any]:
    """The learned models, if their module is present."""
    try:
        from detectors.models import default_models as dm
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("detectors.models"):
            return []
        raise
    return list(dm())


def build_engine(rules_config: str | None = None, models: bool = True, store: StateStore | None = None,
                 config: EngineConfig | None = None, rules: bool = True) -> Engine:
    return Engine(
        rules=load_rules(rules_config) if rules else [],
        models=default_models() if models else [],
        store=store,
        config=config,
    )
