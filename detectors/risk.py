"""Risk per employee: different behaviours add up into a 0..100 score that decays, boosted by the departure.

Each alert contributes its score scaled by severity; a contribution halves every ``risk_half_life_days``.
Being in notice, near the last day or on the watchlist multiplies what an alert contributes. Alerts of one
behaviour (the rule's kind: ``file``, ``crm``, ``device``, ``sequence``...) are correlated (the same downloads
make ``file.sensitive_downloads_before_departure`` and ``file.restricted_downloads_consecutive_days`` fire,
a rule raises an episode again as it grows), so a behaviour counts once: with its largest (decayed)
contribution. The score crosses ``risk_level`` only with at least :data:`MIN_BEHAVIOURS` behaviours behind it,
each with at least a medium alert's contribution (one behaviour already has its own alert; low alerts are
context and never make a crossing); crossing emits one ``risk.employee`` alert per departure (or per
week for someone not leaving), listing the rules behind it.

Version 2 (one contribution per behaviour, two behaviours to cross): version 1 summed every alert, so three
medium alerts of one rule about one honest leaver's job search, or one high download alert, made a high risk
alert on their own.

Version 3: the model's alert counts as the behaviour of the feature it is about (:data:`MODEL_FEATURE_BEHAVIOUR`):
one CRM export seen by ``crm.bulk_export_before_departure`` and by the model's ``crm_records_exported`` is one
act, not two behaviours (an honest account executive's handover export made a high risk alert on its own,
outside_b seed 2).

>>> from detectors.state import EmployeeState
>>> from detectors.context import HRView
>>> class C: risk_level = 80.0; risk_half_life_days = 14.0
>>> st = EmployeeState()
>>> _ = update_risk(st, HRView(), _FakeAlert("file.a", 60, "high", 0.0), 0, C())
>>> round(st.risk[0], 1)
45.0
>>> update_risk(st, HRView(), _FakeAlert("file.b", 80, "high", 0.0), 0, C()) is None  # one behaviour: no
True
>>> update_risk(st, HRView(), _FakeAlert("crm.c", 70, "high", 0.0), 0, C()).extra["behaviours"]
2
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.rule import Finding
from detectors.state import RISK_DIGITS, EmployeeState

SEVERITY_WEIGHT = {"low": 0.1, "medium": 0.5, "high": 0.75, "critical": 1.0}
#: Behaviours remembered (one contribution each: ``st.extra["rc"]`` holds ``[rule code, alert score,
#: contribution, day]``, and for a model alert counted as another behaviour its top feature).
CONTRIBUTORS_CAP = 5
#: Behaviours needed behind a crossing ...
MIN_BEHAVIOURS = 2
#: ... each contributing at least this much now (what a medium alert contributes at least; a low one never
#: does: 0.1 x score x boost stays under 18).
BEHAVIOUR_MIN = 20.0


#: The behaviour a feature of ``model.behaviour_anomaly`` measures (:mod:`detectors.models.features`): the model's
#: alert about a day far from normal in one of them is about the same act as that behaviour's rule (a CRM export
#: that ``crm.bulk_export_before_departure`` and the model's ``crm_records_exported`` both see). Features that
#: mix channels (sensitive items out, MB moved, destinations, hours) stay the model's own.
MODEL_FEATURE_BEHAVIOUR = {
    "file_downloads": "file", "sensitive_downloads": "file", "unfamiliar_folder_downloads": "file",
    "deletions": "file", "sensitive_deletions": "file", "prints": "file", "removable_copies": "device",
    "uploads": "web", "mails_out_with_attachments": "email", "crm_records_exported": "crm", "crm_minutes": "crm",
}


def behaviour(rule_id: str, top_feature: str | None = None) -> str:
    """The behaviour a rule watches, for counting it once: the rule's kind; for the model, the behaviour of the
    feature its alert is about (:data:`MODEL_FEATURE_BEHAVIOUR`), if it has one.

    >>> behaviour("file.sensitive_downloads_before_departure"), behaviour("model.behaviour_anomaly")
    ('file', 'model')
    >>> behaviour("model.behaviour_anomaly", "crm_records_exported"), behaviour("model.behaviour_anomaly", "mb_moved")
    ('crm', 'model')
    """
    kind = rule_id.split(".", 1)[0]
    if kind == "model" and top_feature:
        return MODEL_FEATURE_BEHAVIOUR.get(top_feature, kind)
    return kind
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
    version: str = "3"
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


def _score(contrib: list[list[Any]], day: int, half_life: float) -> tuple[float, int]:
    """The score of the remembered contributions on ``day`` and how many behaviours contribute at least
    :data:`BEHAVIOUR_MIN` (entries of version 1, ``[code, score]``, carry no contribution and count nothing)."""
    value, n = 0.0, 0
    for c in contrib:
        if len(c) > 3:
            v = c[2] * 0.5 ** (max(0, day - c[3]) / half_life)
            value += v
            n += v >= BEHAVIOUR_MIN
    return min(100.0, value), n


def update_risk(st: EmployeeState, hr: HRView, alert: Any, day: int, config: Any) -> Finding | None:
    """Add ``alert`` to the employee's risk; a Finding when the risk crosses the level."""
    t = alert.ts.timestamp()
    boost = 1.0
    possibly = getattr(hr, "possibly_leaving", 0.0)
    if possibly:
        boost += 0.25  # possibly leaving (departure propensity): half the boost of a notice on record
    elif hr.departing(day, 30):
        boost += 0.5
    if hr.watchlist:
        boost += 0.25
    half = config.risk_half_life_days
    contrib: list[list[Any]] = st.extra.setdefault("rc", [])
    now = max([day] + [c[3] for c in contrib if len(c) > 3])
    before, n_before = _score(contrib, now, half)
    add = alert.score * SEVERITY_WEIGHT[alert.severity] * boost
    top = (getattr(alert, "explanation", None) or {}).get("top_feature")
    b = behaviour(alert.rule_id, top)
    same = [c for c in contrib if behaviour(rule_name(c[0]), c[4] if len(c) > 4 else None) == b]
    if not same or _score(same, now, half)[0] < add * 0.5 ** (max(0, now - day) / half):
        for c in same:
            contrib.remove(c)
        contrib.append([rule_code(alert.rule_id), round(alert.score), round(add, 1), day]
                       + ([top] if b != behaviour(alert.rule_id) else []))
        while len(contrib) > CONTRIBUTORS_CAP:  # the one that contributes least now goes
            contrib.remove(min(contrib, key=lambda c: _score([c], now, half)[0]))
    value, n = _score(contrib, now, half)
    st.risk = [round(value, RISK_DIGITS), max(t, st.risk[1])]  # the stored precision (detectors.state)
    level = config.risk_level
    if value < level or n < MIN_BEHAVIOURS or (before >= level and n_before >= MIN_BEHAVIOURS):
        return None
    rules = sorted({rule_name(c[0]) for c in contrib})
    key = f"L{hr.last_day}" if hr.leaving and hr.last_day is not None else f"W{day // 7}"
    return Finding(
        key=key,
        observed=round(value, 1),
        threshold=level,
        evidence=list(alert.evidence),
        day=day,
        extra={"rules_behind": ", ".join(rules), "behaviours": n,
               "contributions": [[rule_name(c[0]), c[1]] for c in contrib],
               **({"possibly_leaving": {"propensity": possibly}} if possibly else {})},
    )
