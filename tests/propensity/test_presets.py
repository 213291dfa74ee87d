"""Industry presets (EXITWATCH_PRESET): every preset's own examples, and that the preset changes something."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connectors.classification import Classifier
from detectors.catalogue import effective_config, load_rules
from detectors.examples import ev, hr, run_example
from detectors.rule import Example
from schemas.presets import PRESETS, load_preset

LEAVER = [hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]
STAYER = [hr("2026-01-01T09:00:00Z")]


def _events(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in spec:
        e = dict(e)
        start = dt.date.fromisoformat(e.pop("start", "2026-02-01"))
        days, per_day = e.pop("days", 1), e.pop("per_day", 1)
        for d in range(days):
            day = start + dt.timedelta(days=d)
            for i in range(per_day):
                out.append(ev(f"{day.isoformat()}T10:{i % 60:02d}:00Z", **e))
    return out


def _rule_examples(name: str) -> list[dict[str, Any]]:
    return [x for x in load_preset(name)["examples"] if "rule" in x]


def _class_examples(name: str) -> list[dict[str, Any]]:
    return [x for x in load_preset(name)["examples"] if "text" in x]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_file_is_small_and_complete(name: str) -> None:
    p = load_preset(name)
    assert p["description"] and p["rules"] and p["classification"].get("first_patterns")
    assert len(_rule_examples(name)) >= 2 and len(_class_examples(name)) >= 3
    assert {x["fires"] for x in _rule_examples(name)} == {True, False}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_rule_settings_apply(name: str) -> None:
    preset = effective_config(preset=name)
    default = effective_config(preset=None)
    for rid, settings in load_preset(name)["rules"].items():
        for k, v in settings.items():
            assert preset[rid][k] == v, (rid, k)
            assert default[rid][k] != v, f"{rid}.{k} equals the default: the preset would change nothing"


@pytest.mark.parametrize("name,i", [(n, i) for n in PRESETS for i in range(len(_rule_examples(n)))])
def test_preset_rule_examples(name: str, i: int) -> None:
    x = _rule_examples(name)[i]
    rule = {r.id: r for r in load_rules(preset=name)}[x["rule"]]
    example = Example(f"{name} {i}", x["fires"], _events(x["events"]), LEAVER if x["who"] == "leaver" else STAYER)
    alerts = run_example(rule, example)
    assert bool(alerts) == x["fires"], [a.title for a in alerts]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_changes_an_outcome(name: str) -> None:
    """At least one of the preset's rule examples comes out differently with the default settings."""
    default = {r.id: r for r in load_rules(preset=None)}
    changed = 0
    for x in _rule_examples(name):
        example = Example("x", x["fires"], _events(x["events"]), LEAVER if x["who"] == "leaver" else STAYER)
        changed += bool(run_example(default[x["rule"]], example)) != x["fires"]
    assert changed >= 1


@pytest.mark.parametrize("name", PRESETS)
def test_preset_classification_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXITWATCH_PRESET", name)
    with_preset = Classifier.load()
    monkeypatch.delenv("EXITWATCH_PRESET")
    without = Classifier.load()
    differs = 0
    for x in _class_examples(name):
        want = None if x["sensitivity"] == "none" else x["sensitivity"]
        assert with_preset.sensitivity(text=x["text"]) == want, x
        differs += without.sensitivity(text=x["text"]) != want
    assert differs >= 1, "the preset classifies nothing the defaults do not"


def test_one_setting_selects_the_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXITWATCH_PRESET", "sales")
    rules = {r.id: r for r in load_rules()}
    assert rules["crm.bulk_export_before_departure"].window.min_value == 40
    monkeypatch.setenv("EXITWATCH_PRESET", "retail")
    with pytest.raises(ValueError, match="unknown preset 'retail'.*manufacturing, sales, tech, finance"):
        load_rules()


def test_rules_config_wins_over_the_preset(tmp_path: Any) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text('[rules."crm.bulk_export_before_departure"]\nmin_value = 75\n')
    rules = {r.id: r for r in load_rules(cfg, preset="sales")}
    assert rules["crm.bulk_export_before_departure"].window.min_value == 75
