"""A small controlled workforce for the model tests: steady employees, one heavy-but-steady USB user."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from detectors.engine import Engine, EngineConfig
from detectors.models import BehaviourConfig, BehaviourModel
from schemas import ActivityEvent, HRRecord

START = dt.date(2026, 1, 5)  # a Monday
#: Small enough to warm up in a few weeks of 12 employees.
SMALL = BehaviourConfig(window_size=40, warmup_days=80, peer_min_days=20)


def day_str(d: int) -> str:
    return (START + dt.timedelta(days=d)).isoformat()


def hr(emp: str, d: int = 0, status: str = "active", **kw: Any) -> dict[str, Any]:
    return {"employee_id": emp, "ts": f"{day_str(d)}T00:00:00Z", "status": status, "accounts": [f"{emp.lower()}@corp"],
            "department": "eng", "role": "dev", **kw}


class Stream:
    """Seeded daily activity; ``extra[(emp, day)]`` adds a list of (action fields, count)."""

    def __init__(self, employees: int = 12, days: int = 42, seed: int = 1, heavy: str | None = "E11") -> None:
        self.employees = [f"E{i:02d}" for i in range(employees)]
        self.days = days
        self.seed = seed
        self.heavy = heavy
        self.extra: dict[tuple[str, int], list[tuple[dict[str, Any], int]]] = {}
        self.hr: list[dict[str, Any]] = [hr(e) for e in self.employees]

    def add(self, emp: str, day: int, fields: dict[str, Any], n: int) -> None:
        self.extra.setdefault((emp, day), []).append((fields, n))

    def events(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed)
        out = []
        k = 0
        for d in range(self.days):
            if (START + dt.timedelta(days=d)).weekday() >= 5:
                continue
            for emp in self.employees:
                acts: list[tuple[dict[str, Any], int]] = [
                    ({"kind": "logon", "action": "logon"}, 1),
                    ({"kind": "file", "action": "open", "object": "/sites/eng/docs/a.pdf"}, rng.randint(5, 12)),
                    ({"kind": "file", "action": "download", "object": "/sites/eng/specs/b.pdf", "bytes": 300_000,
                      "sensitivity": "internal"}, rng.randint(2, 6)),
                    ({"kind": "email", "action": "send", "recipients": ["x@corp"], "external": False,
                      "count": 0, "bytes": 20_000}, rng.randint(3, 8)),
                ]
                if emp == self.heavy:
                    acts.append(({"kind": "file", "action": "copy_to_removable", "object": "/sites/eng/b/c.bin",
                                  "bytes": 2_000_000, "destination": "usb1"}, rng.randint(35, 45)))
                acts += self.extra.get((emp, d), [])
                for fields, n in acts:
                    for _ in range(n):
                        k += 1
                        ts = f"{day_str(d)}T{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
                        out.append({"event_id": f"ev{k}", "ts": ts, "actor": f"{emp.lower()}@corp",
                                    "source": "synthetic", **fields})
        out.sort(key=lambda e: e["ts"])
        return out

    def items(self) -> list[tuple[int, Any]]:
        recs = [(h["ts"], 0, HRRecord.model_validate(h)) for h in self.hr]
        recs += [(e["ts"], 2, ActivityEvent.model_validate(e)) for e in self.events()]
        recs.sort(key=lambda r: (r[0], r[1]))
        return [(k, o) for _, k, o in recs]


def run(items: Iterable[tuple[int, Any]], model: BehaviourModel | None = None,
        config: BehaviourConfig = SMALL) -> tuple[Engine, BehaviourModel, list[Any]]:
    model = model or BehaviourModel(config)
    eng = Engine(rules=[], models=[model], config=EngineConfig(risk=False))
    alerts = []
    for kind, obj in items:
        alerts += eng.on_event(obj) if kind == 2 else eng.on_hr(obj)
    return eng, model, alerts


@pytest.fixture
def small() -> BehaviourConfig:
    return SMALL


__all__ = ["SMALL", "START", "Stream", "day_str", "hr", "replace", "run"]
