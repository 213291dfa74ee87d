"""``Rule.kinds``: the engine runs a rule only on the event kinds it declares (detectors/engine.py), so a rule
must do nothing with any other kind: its predicate and first step are falsy and its ``observe`` leaves the
state as it was. Checked on every rule's own examples and on events of every kind and action with the fields
the rules read varied; and the whole catalogue with the index gives the same alerts as without it."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from typing import Any

import pytest

from detectors.catalogue import discover
from detectors.engine import Engine, EngineConfig
from detectors.examples import ev
from detectors.state import EmployeeState
from schemas import ActivityEvent, HRRecord, HRSignal
from schemas.models import ACTIONS_BY_KIND

RULES = discover()
_ATTRS: list[dict[str, Any]] = [
    {},
    {"off_hours": True},
    {"category": "job_search"}, {"category": "leak_site"}, {"category": "hacking_tools"},
    {"recipient_categories": ["competitor"], "off_hours": True},
    {"host_usual_user": "bob", "routine": False},
    {"routine": "team", "machine_of": "bob"},
]


def _probes() -> list[ActivityEvent]:
    """Events of every kind and action, with the fields rules read set in turn, plus every example's events."""
    out = []
    n = itertools.count()
    for kind, actions in sorted(ACTIONS_BY_KIND.items()):
        for action, attrs, personal, sens in itertools.product(sorted(actions), _ATTRS, (True, False, None),
                                                              ("public", "confidential", "restricted")):
            out.append(ActivityEvent.model_validate(ev(
                "2026-03-02T23:15:00Z", event_id=f"p{next(n)}", kind=kind, action=action, attrs=dict(attrs),
                personal=personal, external=personal is False, sensitivity=sens, count=300, bytes=50_000_000,
                duration_s=4000.0, host="PC-BOB", object="https://jobs.example/sites/hr/payroll/list.xlsx",
                destination="jobs.example", recipients=["x@mail.example", "y@competitor.example"])))
    for rule in RULES:
        for ex in rule.examples:
            out += [ActivityEvent.model_validate(e) for e in ex.events]
    return out


PROBES = _probes()


def _state() -> EmployeeState:
    st = EmployeeState()
    st.hr = {"status": "notice", "last_day": "2026-03-31", "notice_from": "2026-03-01", "_t": 0}
    st.extra["fs"] = 20_000
    return st


@pytest.mark.parametrize("rule", [r for r in RULES if r.kinds is not None], ids=lambda r: r.id)
def test_a_rule_does_nothing_with_kinds_it_does_not_declare(rule: Any) -> None:
    from detectors.context import HRView

    other = [e for e in PROBES if e.kind not in rule.kinds]
    assert other, "every kind is declared: leave kinds None"
    warm = _state()
    if rule.observe is not None:
        from detectors.context import HRView

        # three matching events, or as many as it takes for one the rule keeps context from (an engine's mark)
        for i, e in enumerate(e for e in PROBES if e.kind in rule.kinds and rule.predicate(e)):
            rule.observe(e, warm, HRView.of(warm.hr), int(e.ts.timestamp() // 86400), e.ts.timestamp() - 60)
            if i >= 2 and warm != _state():
                break
        assert warm != _state(), f"{rule.id}: observe keeps nothing from a matching event"
    for e in other:
        assert not rule.predicate(e), f"{rule.id}: predicate matches a {e.kind} event; add it to kinds"
        if rule.first is not None:
            assert not rule.first(e), f"{rule.id}: first step matches a {e.kind} event; add it to kinds"
        if rule.observe is not None:  # on a state that follows a matching event of its own kinds
            st = copy.deepcopy(warm)
            before = copy.deepcopy(st)
            day = int(e.ts.timestamp() // 86400)
            rule.observe(e, st, HRView.of(st.hr), day, e.ts.timestamp())
            assert st == before, f"{rule.id}: observe changed the state on a {e.kind} event; add it to kinds"
    # and the declared kinds are read: some probe of them reaches the rule (else kinds is wrong the other way)
    if rule.kinds:
        own = [e for e in PROBES if e.kind in rule.kinds]
        assert any(rule.predicate(e) or (rule.first and rule.first(e)) for e in own), rule.id


def _run(rules: list[Any]) -> list[tuple[str, str, float]]:
    """Every rule's examples one after the other (employees renamed per example) through one engine."""
    eng = Engine(rules=rules, config=EngineConfig())
    items: list[tuple[str, int, int, Any]] = []
    for i, (rule, ex) in enumerate((r, x) for r in RULES for x in r.examples):
        emp, acct = f"E{i}", f"u{i}@corp.example"
        for h in ex.hr:
            items.append((h["ts"], 0, i, HRRecord.model_validate({**h, "employee_id": emp, "accounts": [acct]})))
        for s in ex.signals:
            items.append((s["ts"], 1, i, HRSignal.model_validate({**s, "employee_id": emp})))
        for e in ex.events:
            items.append((e["ts"], 2, i, ActivityEvent.model_validate({**e, "actor": acct, "employee_id": None,
                                                                        "event_id": f"{i}-{e['event_id']}"})))
    items.sort(key=lambda x: (x[0], x[1], x[2]))
    alerts = []
    for _, kind, _, obj in items:
        alerts += eng.on_hr(obj) if kind == 0 else eng.on_signal(obj) if kind == 1 else eng.on_event(obj)
    alerts += eng.finish(max(obj.ts for *_, obj in items))
    return [(a.alert_id, a.severity, a.score) for a in alerts]


def test_the_index_by_kind_changes_no_alert() -> None:
    indexed = _run(RULES)
    every = _run([dataclasses.replace(r, kinds=None) for r in RULES])
    assert len(indexed) > 50  # the examples fire
    assert indexed == every


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not event kinds"):
        dataclasses.replace(RULES[0], kinds=("fax",))

