"""Fixtures of the operations tests: the metric names the code exports, and the metric names a PromQL
expression refers to (so dashboards and alert rules can be checked against the code)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable

import pytest

#: Series Prometheus makes itself for every target (not exported by our code).
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                 "scrape_series_added"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
    "stateset": ("",),
    "gauge": ("",),
    "unknown": ("",),
}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
             "offset", "inf", "nan", "atan2"}


def exported_names() -> set[str]:
    """Every series name the worker and connectors can export (importing their metric modules)."""
    import connectors.metrics  # noqa: F401 - registers the connector metrics
    import streams.metrics  # noqa: F401 - registers the worker metrics
    from prometheus_client import REGISTRY

    names = set(SCRAPE_SERIES)
    for family in REGISTRY.collect():
        for suffix in _SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(s.name for s in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (functions, keywords, labels, Grafana variables left out).

    >>> sorted(metric_names('sum by (le) (rate(a_bucket{x="$v"}[$__rate_interval])) / ignoring (le) b_total'))
    ['a_bucket', 'b_total']
    """
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\$\{[^}]*\}|\$\w+", "1m", s)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    out: set[str] = set()
    for m in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        if s[m.end():].lstrip().startswith("(") or m.group(0).lower() in _KEYWORDS:
            continue
        out.add(m.group(0))
    return out


@pytest.fixture(scope="session")
def exported_metric_names() -> set[str]:
    return exported_names()


@pytest.fixture(scope="session")
def unknown_metrics(exported_metric_names: set[str]) -> Callable[[str], set[str]]:
    """``unknown_metrics(expr)``: the metric names in ``expr`` that the code does not export."""
    return lambda expr: metric_names(expr) - exported_metric_names


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool (Debian package ``prometheus``); skipped when missing, except in CI."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("promtool is not installed (Debian package `prometheus`); CI must have it")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return path
