"""risk.employee v3: the model's alert counts as the behaviour of the feature it is about, so one act seen by its
rule and by the model is one behaviour, not the two a crossing needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from detectors.context import HRView
from detectors.risk import behaviour, update_risk
from detectors.state import EmployeeState

DAY = 20000  # a day number


class Config:
    risk_level = 80.0
    risk_half_life_days = 14.0


@dataclass
class Alert:
    rule_id: str
    score: float
    severity: str
    explanation: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ("ev1",)

    @property
    def ts(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(DAY * 86400 + 36000, dt.timezone.utc)


def leaver() -> HRView:
    return HRView.of({"status": "notice", "last_day": "2024-10-25", "notice_from": "2024-10-01"})


def crossing(first: Alert, second: Alert) -> Any:
    st = EmployeeState()
    hr = leaver()
    assert hr.departing(DAY, 30)
    assert update_risk(st, hr, first, DAY, Config()) is None
    return update_risk(st, hr, second, DAY, Config())


def model(top: str) -> Alert:
    return Alert("model.behaviour_anomaly", 70.0, "high", {"top_feature": top})


def test_an_export_seen_by_its_rule_and_by_the_model_is_one_behaviour() -> None:
    export = Alert("crm.bulk_export_before_departure", 75.0, "high")
    assert crossing(export, model("crm_records_exported")) is None
    assert crossing(model("crm_minutes"), Alert("crm.access_time_spike", 75.0, "high")) is None


def test_the_model_on_another_act_still_adds_a_behaviour() -> None:
    export = Alert("crm.bulk_export_before_departure", 75.0, "high")
    f = crossing(export, model("removable_copies"))
    assert f is not None and f.extra["behaviours"] == 2
    assert "crm.bulk_export_before_departure" in f.extra["rules_behind"]
    # a feature that mixes channels stays the model's own behaviour
    f = crossing(export, model("sensitive_out"))
    assert f is not None and f.extra["behaviours"] == 2


def test_behaviour_of_rules_and_model_features() -> None:
    assert behaviour("crm.access_time_spike") == "crm"
    assert behaviour("model.behaviour_anomaly") == "model"
    assert behaviour("model.behaviour_anomaly", "removable_copies") == "device"
    assert behaviour("model.behaviour_anomaly", "after_hours_share") == "model"
    assert behaviour("device.removable_copy_spike", "crm_minutes") == "device"  # only the model's is read
