"""Build and run a rule's examples: short contract dicts are completed and merged in ``ts`` order.

>>> ev("2026-03-02T10:00:00Z", action="download", sensitivity="restricted")["kind"]
'file'
"""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()

KIND_OF_ACTION = {
    "send": "email", "forward": "email", "auto_forward": "email",
    "export": "crm", "report_export": "crm", "api_query": "crm", "bulk_query": "crm", "view": "crm",
    "connect": "device", "disconnect": "device", "logon": "logon", "logoff": "logon", "visit": "web",
}


def ev(ts: str, actor: str = "ann@corp.example", **fields: Any) -> dict[str, Any]:
    """A contract event dict with sensible defaults (a file open by ann)."""
    action = fields.pop("action", "open")
    kind = fields.pop("kind", KIND_OF_ACTION.get(action, "file"))
    return {"event_id": fields.pop("event_id", f"x{next(_ids)}"), "ts": ts, "kind": kind, "action": action,
            "actor": actor, "source": "synthetic", **fields}


def hr(ts: str, employee_id: str = "E1", status: str = "active", **fields: Any) -> dict[str, Any]:
    """An HR record dict for ``employee_id`` (whose account is ann@corp.example by default)."""
    return {"employee_id": employee_id, "ts": ts, "status": status,
            "accounts": fields.pop("accounts", ["ann@corp.example"]), **fields}


def daily(start: str, days: int, per_day: int = 1, hour: int = 10, **fields: Any) -> list[dict[str, Any]]:
    """``per_day`` events a day for ``days`` days from ``start`` (YYYY-MM-DD)."""
    import datetime as dt

    d0 = dt.date.fromisoformat(start)
    out = []
    for i in range(days):
        d = d0 + dt.timedelta(days=i)
        for j in range(per_day):
            out.append(ev(f"{d.isoformat()}T{hour:02d}:{j % 60:02d}:00Z", **fields))
    return out


def run_example(rule: Any, example: Any, engine_factory: Any = None) -> list[Any]:
    """Alerts of ``rule`` (only) on the example, through a fresh engine holding just that rule, with the
    inputs merged as ``exitwatch replay`` merges them (HR records, then signals, then events at equal times)
    and the end of the inputs told to the engine (:meth:`detectors.engine.Engine.finish`)."""
    from detectors.engine import Engine, EngineConfig
    from schemas import ActivityEvent, HRRecord, HRSignal

    sources = getattr(rule.window, "sources", ())  # rules whose series this one reads (offboarding)
    if sources:
        from detectors.catalogue import discover

        helpers = [r for r in discover() if r.id in sources]
    else:
        helpers = []
    engine = engine_factory() if engine_factory else Engine(rules=[rule, *helpers], config=EngineConfig(risk=False))
    items: list[tuple[str, int, Any]] = []
    for h in example.hr:
        items.append((h["ts"], 0, HRRecord.model_validate(h)))
    for sg in getattr(example, "signals", ()):
        items.append((sg["ts"], 1, HRSignal.model_validate(sg)))
    for e in example.events:
        items.append((e["ts"], 2, ActivityEvent.model_validate(e)))
    from detectors.replay import sort_key

    items.sort(key=lambda x: sort_key(x[0], x[1]))
    alerts: list[Any] = []
    for _, kind, obj in items:
        alerts += engine.on_hr(obj) if kind == 0 else engine.on_signal(obj) if kind == 1 else engine.on_event(obj)
    if items and hasattr(engine, "finish"):
        alerts += engine.finish(max(obj.ts for _, _, obj in items))
    return [a for a in alerts if a.rule_id == rule.id]


def run_in_time_order(rule: Any, hrs: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[Any]:
    """Alerts of ``rule`` (only) through a fresh engine holding just that rule (no risk score), HR records and
    events taken in time order, an HR record first at equal times, and no end of input told: what a live worker
    has said by the last event (unlike :func:`run_example`, which also tells the engine the inputs ended)."""
    from detectors.engine import Engine, EngineConfig
    from schemas import ActivityEvent, HRRecord

    engine = Engine(rules=[rule], config=EngineConfig(risk=False))
    items = [(h["ts"], 0, HRRecord.model_validate(h)) for h in hrs]
    items += [(e["ts"], 1, ActivityEvent.model_validate(e)) for e in events]
    items.sort(key=lambda x: (x[0], x[1]))
    alerts: list[Any] = []
    for _, kind, obj in items:
        alerts += engine.on_hr(obj) if kind == 0 else engine.on_event(obj)
    return [a for a in alerts if a.rule_id == rule.id]


def run_hr_first(engine: Any, hrs: list[dict[str, Any]], events: list[dict[str, Any]],
                 hr_alerts: bool = False) -> list[Any]:
    """Every HR record told to ``engine`` first (in time order), then the events in time order: the alerts the
    events raise under an HR picture known from the start (and the HR records' own alerts first if
    ``hr_alerts``). Unlike :func:`run_in_time_order`, HR news is never late here."""
    from schemas import ActivityEvent, HRRecord

    alerts: list[Any] = []
    for h in sorted(hrs, key=lambda x: x["ts"]):
        out = engine.on_hr(HRRecord.model_validate(h))
        if hr_alerts:
            alerts += out
    for e in sorted(events, key=lambda x: x["ts"]):
        alerts += engine.on_event(ActivityEvent.model_validate(e))
    return alerts


def sig(ts: str, signal: str, value: Any = None, employee_id: str = "E1") -> dict[str, Any]:
    """An HR signal dict (CONTRACT.md 4) for ``employee_id``."""
    return {"employee_id": employee_id, "ts": ts, "signal": signal, "value": value}
