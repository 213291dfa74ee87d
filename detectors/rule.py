"""What a rule is: a pure predicate over one validated event plus declared metadata and a window.

A rule lives in one file, ``detectors/rules/<kind>/<behaviour>.py``, that defines a function named
``<behaviour>`` (the predicate: the event's value for the rule, 0 or ``False`` when it does not match) and
``RULE = Rule(...)`` with id ``<kind>.<behaviour>``. Counting, windows, baselines and duplicate suppression
are declared through ``window`` and run by :mod:`detectors.windows`; no rule re-implements them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas import ActivityEvent
from schemas.models import ACTIONS_BY_KIND

Predicate = Callable[[ActivityEvent], float | bool | int | None]

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Example:
    """A sequence of HR records and events (contract dicts, missing fields filled in) and whether it fires.

    ``hr``, ``signals`` and ``events`` are merged in ``ts`` order as in ``exitwatch replay`` (which also asks the
    clocked rules once more at the end, :meth:`detectors.engine.Engine.finish`).
    """

    name: str
    fires: bool
    events: list[dict[str, Any]]
    hr: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)  # HR signals (CONTRACT.md 4)


@dataclass(frozen=True)
class Finding:
    """A window that crossed its condition: everything the alert needs except identity and grading."""

    key: str  # what makes the alert id: the window (last day, day, run start...)
    observed: float
    evidence: list[str]
    window_start: int | None = None  # day numbers
    window_end: int | None = None
    threshold: float | None = None
    baseline: dict[str, float] | None = None  # own (and peers') normal: mean, sd, days
    ratio: float | None = None  # observed / expected: how unusual for this person (None = unknown)
    day: int | None = None  # the day the behaviour happened
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A rule: declared metadata, a predicate and a window (see :mod:`detectors.windows`)."""

    id: str
    version: str
    title: str  # str.format template over the explanation's keys
    description: str
    severity: str
    score: float
    predicate: Predicate
    window: Any  # a detectors.windows.Window
    examples: tuple[Example, ...]
    runbook: str = ""
    false_positives: tuple[str, ...] = ()
    enabled: bool = True
    agg: str = "sum"  # how a day's values combine: sum or max
    first: Predicate | None = None  # a Sequence's first step
    #: Highest severity for someone neither leaving nor on the watchlist (None: no cap). Departure-anchored
    #: windows never fire for them anyway; "always" rules default to low, repeated lows add up in the risk.
    staying_cap: str | None = "low"
    #: A security finding (adds to the risk score, flags its day for the baselines); offboarding rules: False.
    security: bool = True
    #: What is new (a key such as a device, a site category, "after_hours"): with a ``FirstTime`` window the
    #: rule counts only events whose key the employee has never produced before (see detectors.windows).
    novelty: Callable[[ActivityEvent], str | None] | None = None
    #: What the event touches (a place, a kind of export): the rule counts only events whose key the employee
    #: first used within the window's ``fresh_days`` (and not in their first ``warmup_days``; see
    #: detectors.windows.fresh_since). Unlike ``novelty``, every event of a recently new thing counts.
    fresh: Callable[[ActivityEvent], str | None] | None = None
    #: Context the rule keeps from every event, matching or not (``observe(event, state, hr, day, t)``, ``hr``
    #: the picture at the event's time), for its window to grade by: which of the employee's downloads were
    #: passed on internally, which came from places new to them (``detectors/rules/file/_handover.py``). It
    #: never changes what fires (the window's count does), so alert ids stay independent of arrival order.
    observe: Callable[..., None] | None = None
    #: The event kinds the rule can use (in its predicate, ``first``, ``novelty``, ``fresh`` and ``observe``): the
    #: engine runs it only on events of these kinds, so an event costs only the rules that read it. ``None``:
    #: every kind; ``()``: none (a rule judged on the clock). tests/detectors/test_rule_kinds.py checks that
    #: the rule does nothing with events of any other kind.
    kinds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kinds is not None and not set(self.kinds) <= set(ACTIONS_BY_KIND):
            raise ValueError(f"rule {self.id}: kinds {sorted(set(self.kinds) - set(ACTIONS_BY_KIND))} are not "
                             f"event kinds ({sorted(ACTIONS_BY_KIND)})")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} is not one of {SEVERITIES}")
        if not 0 <= self.score <= 100:
            raise ValueError(f"rule {self.id}: score {self.score} is outside 0..100")

    def params(self) -> dict[str, Any]:
        """The tunable settings: the window's parameters plus severity, score and enabled."""
        p = {"enabled": self.enabled, "severity": self.severity, "score": self.score,
             "staying_cap": self.staying_cap}
        p.update({k: v for k, v in dataclasses.asdict(self.window).items() if not k.startswith("_")})
        return p

    def configured(self, overrides: dict[str, Any]) -> "Rule":
        """A copy with ``overrides`` applied; an unknown key is an error naming the rule and the key."""
        own = {k: overrides[k] for k in ("enabled", "severity", "score", "staying_cap") if k in overrides}
        win_fields = {f.name for f in dataclasses.fields(self.window) if not f.name.startswith("_")}
        unknown = set(overrides) - set(own) - win_fields
        if unknown:
            raise ValueError(
                f"rule {self.id}: unknown setting(s) {sorted(unknown)}; settable: "
                f"{sorted(win_fields | {'enabled', 'severity', 'score', 'staying_cap'})}"
            )
        win = dataclasses.replace(self.window, **{k: v for k, v in overrides.items() if k in win_fields})
        return dataclasses.replace(self, window=win, **own)
