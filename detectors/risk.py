"""Risk per employee: alerts add up into a 0..100 score that decays, boosted by the departure.

Each alert adds its score scaled by severity; the total halves every ``risk_half_life_days`` of event time.
Being in notice, near the last day or on the watchlist multiplies what an alert adds. Crossing
``risk_level`` emits one ``risk.employee`` alert per departure (or per week for someone not leaving),
listing the rules behind it.

>>> from detectors.state import EmployeeState
>>> from detectors.context import HRView
>>> class C: risk_level = 80.0; risk_half_life_days = 14.0
>>> st = EmployeeState()
>>> _ = update_risk(st, HRView(), _FakeAlert("r1", 60, "high", 0.0), 0, C())
>>> round(st.risk[0], 1)
45.0
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.rule import Finding
from detectors.state import EmployeeState

SEVERITY_WEIGHT = {"low": 0.1, "medium": 0.5, "high": 0.75, "critical": 1.0}
CONTRIBUTORS_CAP = 4
#: Rule ids by their short code (the state stores the code: a rule id is 20-45 characters).
_NAMES: dict[str, str] = {}


def rule_code(rule_id: str) -> str:
    """The short code under which the employee's state remembers a contributing rule.

    >>> rule_code("file.mass_deletion"), rule_name(rule_code("file.mass_deletion"))
    ('...', 'file.mass_deletion')
    """
    code = "~" + hashlib.blake2s(rule_id.encode(), digest_size=3).hexdigest()
    _NAMES.setdefault(code, rule_id)
    return code


def rule_name(code: str) -> str:
    """The rule id behind a code (states written before codes hold the id itself)."""
    return _NAMES.get(code, code)


@dataclass(frozen=True)
class _Meta:
    id: str = "risk.employee"
    version: str = "1"
    severity: str = "high"
    score: float = 80.0
    title: str = (
        "Risk score {observed:.0f}/100 crossed {threshold:.0f}: {rules_behind} in the employee's recent activity"
    )


RISK_RULE = _Meta()


@dataclass
class _FakeAlert:  # for the doctest
    rule_id: str
    score: float
    severity: str
    t: float

    @property
    def ts(self) -> Any:
        import datetime as dt

        return dt.datetime.fromtimestamp(self.t, dt.timezone.utc)

    evidence: tuple[str, ...] = ("e1",)


def update_risk(st: EmployeeState, hr: HRView, alert: Any, day: int, config: Any) -> Finding | None:
    """Add ``alert`` to the employee's risk; a Finding when the risk crosses the level."""
    t = alert.ts.timestamp()
    value, last_t = st.risk
    if last_t and t > last_t:
        value *= 0.5 ** ((t - last_t) / (config.risk_half_life_days * 86400))
    boost = 1.0
    possibly = getattr(hr, "possibly_leaving", 0.0)
    if possibly:
        boost += 0.25  # possibly leaving (departure propensity): half the boost of a notice on record
    elif hr.departing(day, 30):
        boost += 0.5
    if hr.watchlist:
        boost += 0.25
    before = value
    value = min(100.0, value + alert.score * SEVERITY_WEIGHT[alert.severity] * boost)
    st.risk = [value, max(t, last_t)]
    contrib = st.extra.setdefault("rc", [])
    contrib.append([rule_code(alert.rule_id), round(alert.score)])
    del contrib[:-CONTRIBUTORS_CAP]
    if before >= config.risk_level or value < config.risk_level:
        return None
    rules = sorted({rule_name(c[0]) for c in contrib})
    key = f"L{hr.last_day}" if hr.leaving and hr.last_day is not None else f"W{day // 7}"
    return Finding(
        key=key,
        observed=round(value, 1),
        threshold=config.risk_level,
        evidence=list(alert.evidence),
        day=day,
        extra={"rules_behind": ", ".join(rules), "contributions": [[rule_name(c[0]), c[1]] for c in contrib],
               **({"possibly_leaving": {"propensity": possibly}} if possibly else {})},
    )
