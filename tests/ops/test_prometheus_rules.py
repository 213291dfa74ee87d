"""ops/prometheus: the configuration and the alert rules pass promtool (check config, check rules, and the
rule unit tests in rules.test.yml), and every rule names only metrics the code exports."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "ops/prometheus"


def run(promtool: str, *args: str) -> str:
    p = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120, cwd=PROM)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def test_promtool_check_config(promtool: str) -> None:
    out = run(promtool, "check", "config", "prometheus.yml")
    assert "SUCCESS" in out and "1 rule files found" in out


def test_promtool_check_rules(promtool: str) -> None:
    assert "SUCCESS" in run(promtool, "check", "rules", "rules.yml")


def test_promtool_rule_unit_tests(promtool: str) -> None:
    assert "SUCCESS" in run(promtool, "test", "rules", "rules.test.yml")


def rule_exprs() -> dict[str, str]:
    """Alert name -> expression, read from rules.yml (``expr: x`` or an indented ``expr: |`` block)."""
    lines = (PROM / "rules.yml").read_text().splitlines()
    out: dict[str, str] = {}
    name = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := re.match(r"\s*- alert: (\S+)", line):
            name = m.group(1)
        elif m := re.match(r"(\s*)expr: (.*)$", line):
            if m.group(2).strip() == "|":
                block, indent = [], len(m.group(1))
                while i + 1 < len(lines) and (not lines[i + 1].strip() or
                                              len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent):
                    i += 1
                    block.append(lines[i].strip())
                out[name] = " ".join(block)
            else:
                out[name] = m.group(2)
        i += 1
    return out


def test_rules_cover_the_pipeline_and_name_exported_metrics(unknown_metrics: Callable[[str], set[str]]) -> None:
    exprs = rule_exprs()
    assert {"ExitwatchWorkerDown", "ExitwatchConsumerLagGrowing", "ExitwatchDeadLettersHigh",
            "ExitwatchNoEvents"} <= set(exprs)
    assert {n: sorted(bad) for n, e in exprs.items() if (bad := unknown_metrics(e))} == {}


def test_every_rule_has_a_unit_test() -> None:
    tested = set(re.findall(r"alertname: (\S+)", (PROM / "rules.test.yml").read_text()))
    untested = set(rule_exprs()) - tested
    # Absent/HR-store/connector-delivery/not-ready rules are one-line thresholds; the rest must be tested.
    assert untested <= {"ExitwatchWorkerMissing", "ExitwatchWorkerNotReady", "ExitwatchHRStoreErrors",
                        "ExitwatchConnectorDeadLettersHigh", "ExitwatchConnectorDeliveryFailures"}, untested
