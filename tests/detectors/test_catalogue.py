"""One contract test for every rule: ids, names, metadata, and each rule's own examples.

A new rule file needs no new test: it is discovered here.
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from detectors.catalogue import discover, effective_config, load_rules
from detectors.examples import run_example
from detectors.rule import SEVERITIES

RULES = discover()
CASES = [(r, ex) for r in RULES for ex in r.examples]


def test_catalogue_is_not_empty() -> None:
    assert len(RULES) >= 1


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_metadata(rule) -> None:
    kind, behaviour = rule.id.split(".")
    assert re.fullmatch(r"[a-z_]+", kind) and re.fullmatch(r"[a-z_]+", behaviour)
    module = importlib.import_module(f"detectors.rules.{kind}.{behaviour}")  # file = id
    assert module.RULE is rule
    assert rule.predicate.__name__ == behaviour  # function = id suffix
    assert inspect.getmodule(rule.predicate) is module
    assert rule.severity in SEVERITIES and 0 <= rule.score <= 100
    assert rule.version and rule.title and rule.description and rule.runbook
    assert rule.false_positives, "name at least one known false positive"
    assert any(e.fires for e in rule.examples), "at least one example that fires"
    assert any(not e.fires for e in rule.examples), "at least one example that does not"


@pytest.mark.parametrize("rule,example", CASES, ids=[f"{r.id}:{e.name}" for r, e in CASES])
def test_rule_example(rule, example) -> None:
    alerts = run_example(rule, example)
    assert bool(alerts) == example.fires, [a.title for a in alerts]
    for a in alerts:
        assert a.evidence, "an alert lists the events that made it fire"
        # events by id; HR signals (offboarding, propensity) as ``signal:<name>:<ts>``; a last day as ``hr:``
        refs = {e["event_id"] for e in example.events}
        refs |= {f"signal:{s['signal']}:{s['ts']}" for s in getattr(example, "signals", ())}
        assert {x for x in a.evidence if not x.startswith("hr:last_day:")} <= refs
        assert a.explanation["observed"] is not None
        assert "{" not in a.title


def test_ids_are_unique() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))


def test_overrides_from_a_config_file(tmp_path) -> None:
    cfg = tmp_path / "rules.toml"
    cfg.write_text('[rules."file.sensitive_downloads_before_departure"]\nthreshold = 20\n')
    rule = {r.id: r for r in load_rules(cfg)}["file.sensitive_downloads_before_departure"]
    assert rule.window.threshold == 20
    assert effective_config(cfg)["file.sensitive_downloads_before_departure"]["threshold"] == 20


def test_unknown_setting_is_an_error(tmp_path) -> None:
    cfg = tmp_path / "rules.toml"
    cfg.write_text('[rules."file.sensitive_downloads_before_departure"]\nthreshhold = 20\n')
    with pytest.raises(ValueError, match="threshhold"):
        load_rules(cfg)
    cfg.write_text('[rules."no.such_rule"]\nthreshold = 20\n')
    with pytest.raises(ValueError, match="no.such_rule"):
        load_rules(cfg)


def test_disabled_rule_is_left_out(tmp_path) -> None:
    cfg = tmp_path / "rules.toml"
    cfg.write_text('[rules."file.sensitive_downloads_before_departure"]\nenabled = false\n')
    assert "file.sensitive_downloads_before_departure" not in {r.id for r in load_rules(cfg)}
