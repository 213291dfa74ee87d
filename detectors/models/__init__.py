"""Learned models: per-employee and peer baselines with a shared online anomaly model (issue 4).

The engine calls ``model.observe(emp, st, hr, event, day, t)`` for every resolved event (and ``on_hr`` when the
departure picture changes); each returns ``(meta, Finding)`` pairs that the engine turns into alerts.
:func:`default_models` gives fresh instances for :func:`detectors.factory.build_engine`.

>>> [m.id for m in default_models()]
['model.behaviour_anomaly', 'hr.departure_propensity']
"""

from __future__ import annotations

from typing import Any

from detectors.models.behaviour import BehaviourConfig, BehaviourModel, DayScore, ModelMeta

__all__ = ["BehaviourConfig", "BehaviourModel", "DayScore", "ModelMeta", "default_models"]


def default_models() -> list[Any]:
    """Fresh model instances (one set per engine, i.e. per worker partition)."""
    from detectors.models.propensity import PropensityModel
    from schemas.settings import Settings

    cfg = Settings()
    return [BehaviourModel(), PropensityModel(level=cfg.propensity_level, stayer_rate=cfg.propensity_stayer_rate)]
