"""One contract test for every learned model (River's check_estimator idea): metadata, hooks, persistence."""

from __future__ import annotations

import inspect

import pytest

from detectors.engine import Engine, EngineConfig
from detectors.models import default_models
from detectors.routing import for_secops, security_finding
from detectors.rule import SEVERITIES
from detectors.state import EmployeeState
from tests.models.conftest import Stream

MODELS = default_models()
#: models that score security behaviour (ids ``model.*``); the HR-side ones (departure propensity) score HR
#: signals, never reach alerts.secops and have their own alert tests in tests/propensity/.
SECURITY_MODELS = [m for m in MODELS if security_finding({"rule_id": m.id})]


@pytest.mark.parametrize("model", MODELS, ids=[m.id for m in MODELS])
def test_model_contract(model) -> None:
    if security_finding({"rule_id": model.id}):
        assert model.id.startswith("model.") and model.id.split(".")[1].isidentifier()
    else:  # HR-side: CONTRACT.md 7, a rule id containing "propensity", alerts.hr only
        assert model.id.startswith("hr.") and "propensity" in model.id and not for_secops({"rule_id": model.id})
    for hook in ("observe", "on_hr", "state_dict", "load_state_dict"):
        assert callable(getattr(model, hook)), hook
    assert inspect.signature(model.observe).parameters.keys() >= {"emp", "st", "hr", "event", "day", "t"}
    blob = model.state_dict()
    fresh = type(model)()
    fresh.load_state_dict(blob)
    assert fresh.state_dict() == blob


@pytest.mark.parametrize("factory", [type(m) for m in SECURITY_MODELS], ids=[m.id for m in SECURITY_MODELS])
def test_model_alerts_are_well_formed(factory) -> None:
    from tests.models.conftest import SMALL

    s = Stream()
    s.add("E03", 35, {"kind": "file", "action": "copy_to_removable", "bytes": 1_000_000, "sensitivity": "restricted",
                      "object": "/sites/eng/x/y.pdf"}, 50)
    model = factory(SMALL) if "config" in inspect.signature(factory).parameters else factory()
    eng = Engine(rules=[], models=[model], config=EngineConfig(risk=False))
    alerts = []
    for kind, obj in s.items():
        alerts += eng.on_event(obj) if kind == 2 else eng.on_hr(obj)
    assert alerts
    for a in alerts:
        assert a.rule_id == model.id and a.severity in SEVERITIES and 0 <= a.score <= 100
        assert a.evidence and "{" not in a.title and a.explanation["observed"] is not None
        assert a.explanation["top_features"]
    st = eng.store.get("E03")
    assert EmployeeState.from_bytes(st.to_bytes()).extra == st.extra  # JSON-serialisable per-employee state
