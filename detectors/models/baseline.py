"""Running mean and variance with forgetting, over plain lists, and the shared peer-group baselines.

Per employee the statistics live in ``EmployeeState.extra`` (a list of means and a list of variances, rounded so
the state stays small); per peer group they live in the model object (:class:`PeerBaselines`).

The update is the exponentially weighted one of :class:`river.stats.EWMean`/``EWVar`` with a warm start: the
weight of a new day is ``1 / min(n, memory)``, so the first ``memory`` days are an exact running mean and later
days forget the past geometrically (half-life about ``0.69 * memory`` days).

>>> m, v = [0.0], [0.0]
>>> for n, x in enumerate([1.0, 3.0, 2.0], 1):
...     ew_update(m, v, [x], n, memory=30)
>>> round(m[0], 3), round(v[0], 3)
(2.0, 0.667)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Digits kept of a stored mean or variance: enough for z-scores, small in JSON.
DIGITS = 5


def ew_update(mean: list[float], var: list[float], x: Sequence[float], n: int, memory: int,
              clip: Sequence[float] | None = None) -> None:
    """Fold vector ``x`` as the ``n``-th observation (1-based) into ``mean``/``var`` in place.

    ``clip`` (optional, per feature) winsorises the observation first, so one extreme day moves the baseline by
    a bounded amount."""
    a = 1.0 / min(n, memory)
    for i, xi in enumerate(x):
        if clip is not None and xi > clip[i]:
            xi = clip[i]
        d = xi - mean[i]
        mean[i] = round(mean[i] + a * d, DIGITS)
        var[i] = round((1 - a) * (var[i] + a * d * d), DIGITS)


class PeerBaselines:
    """Daily feature statistics of peer groups, shared by every employee of a model instance.

    Groups are ``department|role``, ``department|*`` and ``*`` (everyone); :meth:`lookup` returns the most
    specific group with at least ``min_days`` employee-days learned. In the streaming worker a model instance
    (and so these baselines) is per partition: peers are the employees whose events that partition carries,
    rebuilt from traffic after a rebalance unless restored from a checkpoint (see ``state_dict``).

    >>> p = PeerBaselines(n_features=1, memory=100, min_days=2)
    >>> for x in (1.0, 2.0, 3.0):
    ...     p.learn("sales", "rep", [x])
    >>> g = p.lookup("sales", "rep"); g[0], g[1], round(g[2][0], 2)
    ('sales|rep', 3, 2.0)
    >>> p.lookup("it", "dev")[0]
    '*'
    """

    def __init__(self, n_features: int, memory: int = 500, min_days: int = 30) -> None:
        self.n_features = n_features
        self.memory = memory
        self.min_days = min_days
        # key -> [n, means, vars]
        self.groups: dict[str, list[Any]] = {}

    @staticmethod
    def keys(department: str | None, role: str | None) -> tuple[str, str, str]:
        d = department or "?"
        return f"{d}|{role or '?'}", f"{d}|*", "*"

    def learn(self, department: str | None, role: str | None, x: Sequence[float]) -> None:
        for k in self.keys(department, role):
            g = self.groups.get(k)
            if g is None:
                g = self.groups[k] = [0, [0.0] * self.n_features, [0.0] * self.n_features]
            g[0] += 1
            ew_update(g[1], g[2], x, g[0], self.memory)

    def lookup(self, department: str | None, role: str | None) -> tuple[str, int, list[float], list[float]] | None:
        """``(group, days, means, vars)`` of the most specific group with enough days, or ``None``."""
        for k in self.keys(department, role):
            g = self.groups.get(k)
            if g is not None and g[0] >= self.min_days:
                return k, g[0], g[1], g[2]
        return None

    def to_obj(self) -> dict[str, Any]:
        return {"memory": self.memory, "min_days": self.min_days, "groups": self.groups}

    def load_obj(self, o: dict[str, Any]) -> None:
        self.memory = o["memory"]
        self.min_days = o["min_days"]
        self.groups = {k: [g[0], list(g[1]), list(g[2])] for k, g in o["groups"].items()}
