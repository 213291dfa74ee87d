"""exitwatch whatif: a replay of unchanged rules reproduces the base exactly; dropping or disabling a rule
removes its alerts; the value report agrees with dropping; the rules that read another rule's state are listed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from detectors.catalogue import load_rules
from detectors.routing import security_finding
from exitwatch.evaluate import score_detector
from exitwatch.whatif import (READS_SERIES_OF, RISK_ID, hits_of, read_alerts, replay, replay_set, rule_value,
                              truth_of, whatif)

# The base: the product (every rule and the models in one engine) of exitwatch evaluate --data, whose "both"
# detector is the product.
BASE = "alerts-both.jsonl"


@pytest.fixture(scope="module")
def base(small_company: Path, small_report: tuple[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    return read_alerts(small_company / BASE)


def _fired(base: list[dict[str, Any]]) -> Counter[str]:
    return Counter(a["rule_id"] for a in base if security_finding(a) and a["rule_id"] != RISK_ID
                   and not a["rule_id"].startswith("model."))


def _key(a: dict[str, Any]) -> tuple[Any, ...]:
    return a["alert_id"], a["ts"], a["severity"], a["score"]


def _same_alerts(base: list[dict[str, Any]], new: list[dict[str, Any]], ids: list[str]) -> None:
    want = sorted(_key(a) for a in base if a["rule_id"] in {*ids, RISK_ID})
    assert sorted(_key(a) for a in new) == want


def test_one_unchanged_rule_reproduces_the_base_exactly(small_company: Path, base: list[dict[str, Any]],
                                                         tmp_path: Path) -> None:
    rule = _fired(base).most_common(1)[0][0]
    rep = whatif([small_company], small_company / BASE, rules=[rule], out=tmp_path, progress=False)
    c = rep["companies"][small_company.name]
    assert c["base"] == c["whatif"]
    assert not (c["thieves_caught"] or c["thieves_lost"] or c["honest_added"] or c["honest_removed"]
                or c["lead_changed"])
    assert c["rules"][rule]["alerts"] == c["rules"][rule]["base_alerts"] > 0
    # alert for alert, the risk score's included (recomputed from the other rules' base alerts and the replay's)
    _same_alerts(base, read_alerts(tmp_path / small_company.name / "alerts-whatif.jsonl"), replay_set([rule]))
    assert (tmp_path / "whatif.md").read_text().startswith("# What if")


def test_every_rule_replayed_with_the_models_fed_back_reproduces_the_base(small_company: Path,
                                                                         base: list[dict[str, Any]]) -> None:
    ids = [r.id for r in load_rules()]
    new, span, _ = replay(small_company, ids, base)
    _same_alerts(base, new, ids)
    truth = truth_of(small_company)  # the period read from the events' times alone (--without, --value)
    assert (truth.day0, truth.day0 + truth.days - 1) == span
    merged = [a for a in base if a["rule_id"] not in {*ids, RISK_ID}] + new
    assert score_detector(hits_of(merged), truth) == score_detector(hits_of(base), truth)


def test_dropping_a_rule_removes_its_alerts_and_agrees_with_its_value(small_company: Path,
                                                                      base: list[dict[str, Any]]) -> None:
    truth = truth_of(small_company)
    value = rule_value(hits_of(base), truth)
    # the rule that matters most: catches thieves alone, else flags honest people alone, else fires most
    rule = max(value, key=lambda r: (len(value[r]["thieves_alone"]), len(value[r]["honest_alone"]),
                                     value[r]["alerts"]))
    rep = whatif([small_company], small_company / BASE, without=[rule], progress=False)
    c = rep["companies"][small_company.name]
    assert c["rules"][rule]["base_alerts"] > 0 and c["rules"][rule]["alerts"] == 0
    assert c["thieves_lost"] == value[rule]["thieves_alone"] and not c["thieves_caught"]
    assert c["honest_removed"] == value[rule]["honest_alone"] and not c["honest_added"]
    assert c["whatif"]["caught"] == c["base"]["caught"] - len(value[rule]["thieves_alone"])


def test_a_rule_disabled_by_configuration_replays_to_nothing(small_company: Path, base: list[dict[str, Any]],
                                                            tmp_path: Path) -> None:
    rule = _fired(base).most_common(1)[0][0]
    cfg = tmp_path / "off.json"
    cfg.write_text(json.dumps({"rules": {rule: {"enabled": False}}}))
    rep = whatif([small_company], small_company / BASE, rules=[rule], rules_config=str(cfg), progress=False)
    c = rep["companies"][small_company.name]
    assert c["rules"][rule]["base_alerts"] > 0 and c["rules"][rule]["alerts"] == 0


def test_value_from_the_cli(small_company: Path, base: list[dict[str, Any]], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from exitwatch.cli import main

    rc = main(["whatif", str(small_company), "--base", str(small_company / BASE), "--value", "--out", str(tmp_path),
               "--no-progress"])
    assert rc == 0
    assert "| rule |" in capsys.readouterr().out
    rep = json.loads((tmp_path / "value.json").read_text())
    assert set(rep["total"]) == {h.rule_id for h in hits_of(base)}
    assert main(["whatif", str(small_company), "--rules", "no.such_rule", "--no-progress"]) == 2


def test_the_rules_that_read_another_rules_series_are_replayed_with_it() -> None:
    """A rule module that reads another rule's series (``series_key(other.RULE.id)``) must be listed in
    READS_SERIES_OF, or a what-if of it alone would run it without that rule's state."""
    root = Path(__file__).resolve().parents[2] / "detectors" / "rules"
    by_module = {f"detectors.rules.{p.parent.name}.{p.stem}": p for p in root.glob("*/*.py")}
    found: dict[str, set[str]] = {}
    for mod, path in by_module.items():
        src = path.read_text()
        alias = {m.group(3) or m.group(2): f"{m.group(1)}.{m.group(2)}"
                 for m in re.finditer(r"from (detectors\.rules\.\w+) import (\w+)(?: as (\w+))?", src)}
        rule = re.search(r"^RULE = Rule\(\s*id=\"([^\"]+)\"", src, re.M)
        for m in re.finditer(r"series_key\((\w+)\.RULE\.id\)", src):
            other = by_module.get(alias.get(m.group(1), ""))
            if other is not None and rule is not None:
                oid = re.search(r"^RULE = Rule\(\s*id=\"([^\"]+)\"", other.read_text(), re.M)
                assert oid is not None
                found.setdefault(rule.group(1), set()).add(oid.group(1))
    assert found == {k: set(v) for k, v in READS_SERIES_OF.items()}
