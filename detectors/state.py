"""Per-employee detection state: small daily buckets and running summaries, nothing per event.

Layout of one employee's state (serialised with orjson; see ``EmployeeState.to_bytes``):

- ``hr``: the latest HR record as a dict, plus ``notice_from`` (the day notice started);
- ``series``: one :class:`Series` per rule (and per model feature): a sparse map ``day -> value`` kept for
  at most ``horizon`` days, a bounded list of recent evidence event ids, and an exponentially weighted
  baseline of the daily value (mean and variance, with forgetting) that learns only from normal days;
- ``marks``: the last time a sequence's first step was seen;
- ``fired``: the last alert ids emitted (duplicate suppression; alert ids are deterministic anyway);
- ``risk``: the decayed risk score and when it was last updated.

Days are UTC day numbers (``epoch // 86400``).

>>> s = Series()
>>> s.add(100, 2.0, "e1", learn=True); s.add(101, 1.0, "e2", learn=True)
>>> s.total(100, 101), s.n
(3.0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

DAY_S = 86400
#: Most recent evidence ids kept per series; an alert lists at most this many.
EVIDENCE_CAP = 25
#: Alert ids remembered per employee for duplicate suppression.
FIRED_CAP = 32
#: Days after which the baseline moves from a running mean to an exponentially weighted one.
BASELINE_MEMORY_DAYS = 30


def day_of(epoch: float) -> int:
    return int(epoch // DAY_S)


@dataclass
class Series:
    """A daily series of one quantity for one employee, with its learned baseline."""

    days: dict[int, float] = field(default_factory=dict)
    ev: list[list[Any]] = field(default_factory=list)  # [day, event_id]
    n: int = 0  # days folded into the baseline
    mean: float = 0.0
    var: float = 0.0
    folded: int | None = None  # last day folded into the baseline

    def add(self, day: int, value: float, event_id: str | None, *, learn: bool = True, agg: str = "sum") -> None:
        """Add ``value`` to ``day``; closed days before ``day`` are folded into the baseline if ``learn``."""
        self.close_until(day, learn=learn)
        if agg == "max":
            self.days[day] = max(self.days.get(day, 0.0), value)
        else:
            self.days[day] = self.days.get(day, 0.0) + value
        if event_id is not None:
            self.ev.append([day, event_id])
            if len(self.ev) > EVIDENCE_CAP:
                del self.ev[0 : len(self.ev) - EVIDENCE_CAP]

    def close_until(self, day: int, *, learn: bool) -> None:
        """Fold every day before ``day`` not yet folded into the baseline (zero where nothing happened)."""
        if self.folded is None:
            # Baseline starts at the first day we see anything for this employee and series.
            self.folded = day - 1
            return
        if day - 1 <= self.folded:
            return
        start = self.folded + 1
        if learn:
            # Cap the zero-run we fold: after ~3 memories the weight of older history is negligible.
            start = max(start, day - 3 * BASELINE_MEMORY_DAYS)
            for d in range(start, day):
                self._fold(self.days.get(d, 0.0))
        self.folded = day - 1

    def _fold(self, x: float) -> None:
        self.n += 1
        alpha = 1.0 / min(self.n, BASELINE_MEMORY_DAYS)
        delta = x - self.mean
        self.mean += alpha * delta
        self.var = (1 - alpha) * (self.var + alpha * delta * delta)

    @property
    def sd(self) -> float:
        return self.var**0.5

    def total(self, first_day: int, last_day: int) -> float:
        return sum(v for d, v in self.days.items() if first_day <= d <= last_day)

    def peak(self, first_day: int, last_day: int) -> tuple[int | None, float]:
        best: tuple[int | None, float] = (None, 0.0)
        for d, v in self.days.items():
            if first_day <= d <= last_day and v > best[1]:
                best = (d, v)
        return best

    def evidence(self, first_day: int, last_day: int) -> list[str]:
        return [eid for d, eid in self.ev if first_day <= d <= last_day]

    def prune(self, oldest_day: int) -> None:
        for d in [d for d in self.days if d < oldest_day]:
            del self.days[d]
        if self.ev and self.ev[0][0] < oldest_day:
            self.ev = [x for x in self.ev if x[0] >= oldest_day]

    def to_obj(self) -> list[Any]:
        return [{str(d): v for d, v in self.days.items()}, self.ev, self.n, self.mean, self.var, self.folded]

    @classmethod
    def from_obj(cls, o: list[Any]) -> "Series":
        return cls({int(d): v for d, v in o[0].items()}, o[1], o[2], o[3], o[4], o[5])


@dataclass
class EmployeeState:
    """Everything the detectors remember about one employee."""

    hr: dict[str, Any] | None = None
    series: dict[str, Series] = field(default_factory=dict)
    marks: dict[str, list[Any]] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)
    risk: list[float] = field(default_factory=lambda: [0.0, 0.0])
    extra: dict[str, Any] = field(default_factory=dict)  # model state per employee

    def get_series(self, name: str) -> Series:
        s = self.series.get(name)
        if s is None:
            s = self.series[name] = Series()
        return s

    def has_fired(self, alert_id: str) -> bool:
        return alert_id in self.fired

    def remember(self, alert_id: str) -> None:
        self.fired.append(alert_id)
        if len(self.fired) > FIRED_CAP:
            del self.fired[0 : len(self.fired) - FIRED_CAP]

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "hr": self.hr,
                "s": {k: v.to_obj() for k, v in self.series.items()},
                "m": self.marks,
                "f": self.fired,
                "r": self.risk,
                "x": self.extra,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "EmployeeState":
        o = orjson.loads(data)
        return cls(
            hr=o["hr"],
            series={k: Series.from_obj(v) for k, v in o["s"].items()},
            marks=o["m"],
            fired=o["f"],
            risk=o["r"],
            extra=o.get("x", {}),
        )
