"""How much the employee's peers do of a thing, per member: the fallback of a volume rule when the employee has
no own history to compare with (a drip that began in the first days the system saw them).

Every member of a peer group (the role within the department, and the department) has a *rate*: their amount
since they were first seen, per 30 days (``30 * total / days``), kept as a bucket of an eighth of an octave
(:func:`bucket`; a bucket stands for its upper end, :func:`rate_of`, so a peer is never read lower than they
are). A member counts once they have been seen for :data:`MIN_DAYS` days: a few days' rate says little. The
memory keeps, per group and rule series, how many members are in each bucket; :meth:`PeerRates.busiest` reads
the rate of the ``rank``-th busiest *other* member. A member's rate is refreshed at each of their events the
rule sees, so a member who has stopped is read at their last rate (higher than now: cautious).

Like :mod:`detectors.peerload` it is an engine-wide memory (:mod:`detectors.shared`): each partition's
employees add their own contribution ``{bucket: members}`` per group; no employee id is kept. The employee's own
record (total, groups, bucket) is in their state, so a move to another group or bucket is one decrement and
one increment.

>>> pr = PeerRates()
>>> from detectors.state import EmployeeState
>>> team = [EmployeeState() for _ in range(6)]
>>> for i, st in enumerate(team):  # i downloads a day for 20 days: 0, 30, 60 ... 150 a month
...     for d in range(20):
...         pr.member(st, "dv", ("dv:eng/dev",), d, 0, float(i))
>>> n, second = pr.busiest("dv:eng/dev", own=None, rank=2)
>>> n, round(second), round(rate_of(bucket(120.0)))
(6, 127, 127)
>>> pr.busiest("dv:eng/dev", own=team[5].extra["prdv"][3], rank=2)[0]  # the employee themself left out
5
"""

from __future__ import annotations

import math
from typing import Any

from detectors.shared import SharedMemory

#: Days a member must have been seen before their rate counts.
MIN_DAYS = 14
#: Buckets per doubling of the rate.
STEPS = 8


def bucket(rate: float) -> int:
    """The bucket of a rate per 30 days (0 for none).

    >>> bucket(0.0), bucket(1.0), bucket(3.0), bucket(100.0)
    (0, 8, 16, 53)
    """
    return int(STEPS * math.log2(1.0 + max(0.0, rate)))


def rate_of(b: int) -> float:
    """The upper end of bucket ``b`` (a rate per 30 days).

    >>> round(rate_of(0), 2), round(rate_of(8), 2), 50.0 <= rate_of(bucket(50.0)) <= 50.0 * 2 ** (1 / 8)
    (0.09, 1.18, True)
    """
    return 2.0 ** ((b + 1) / STEPS) - 1.0


class PeerRates(SharedMemory):
    """``parts``: ``<series>:<group>`` -> partition -> ``{bucket: members}``."""

    kind = "r"

    def empty(self) -> Any:
        return {}

    def member(self, st: Any, series: str, groups: tuple[str, ...], day: int, first_seen: int, amount: float,
               part: int = 0) -> None:
        """An event of the employee (``amount`` of the series, 0 for an event that is not one) on ``day``:
        their total, rate and groups are brought up to date in their state (``st.extra["pr" + series]``:
        ``[total, last day, groups, bucket]``) and their bucket moved in this memory if it changed."""
        key = "pr" + series
        rec = st.extra.get(key)
        if rec is None:
            rec = st.extra[key] = [0.0, day, [], None]
        rec[0] = round(rec[0] + amount, 3)
        rec[1] = max(rec[1], day)
        seen = rec[1] - first_seen + 1
        b = bucket(30.0 * rec[0] / seen) if seen >= MIN_DAYS else None
        names = [g for g in groups if g]
        if names == rec[2] and b == rec[3]:
            return
        for name in rec[2]:
            self._move(name, rec[3], None, part)
        for name in names:
            self._move(name, None, b, part)
        rec[2], rec[3] = names, b

    def _move(self, name: str, old: int | None, new: int | None, part: int) -> None:
        if old is None and new is None:
            return
        c = self.touch(part, name)
        if old is not None:
            k = str(old)
            c[k] = c.get(k, 0) - 1
            if c[k] <= 0:
                del c[k]
        if new is not None:
            k = str(new)
            c[k] = c.get(k, 0) + 1

    def _others(self, name: str, own: int | None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for c in self.parts.get(name, {}).values():
            for k, v in c.items():
                counts[int(k)] = counts.get(int(k), 0) + v
        if own is not None and counts.get(own, 0) > 0:
            counts[own] -= 1
        return counts

    def typical(self, name: str, own: int | None) -> tuple[int, float]:
        """(other members counted, the median member's rate; 0 without members) in ``name``.

        >>> pr = PeerRates()
        >>> for b, k in ((0, 3), (16, 1), (40, 3)):
        ...     pr.touch(0, "x")[str(b)] = k
        >>> n, r = pr.typical("x", own=None)
        >>> n, round(r, 2), round(rate_of(16), 2), pr.typical("x", own=40)[0], pr.typical("y", own=None)
        (7, 3.36, 3.36, 6, (0, 0.0))
        """
        counts = self._others(name, own)
        n = sum(counts.values())
        seen = 0
        for b in sorted(counts):
            seen += counts[b]
            if 2 * seen >= n + 1:
                return n, rate_of(b)
        return n, 0.0

    def doing(self, name: str, own: int | None) -> tuple[int, int]:
        """(other members counted, how many of them do the thing at all: a rate above the lowest bucket's) in
        ``name``; ``own``: the employee's own bucket, left out.

        >>> pr = PeerRates()
        >>> for b, k in ((0, 3), (16, 1), (40, 3)):
        ...     pr.touch(0, "x")[str(b)] = k
        >>> pr.doing("x", own=None), pr.doing("x", own=40), pr.doing("y", own=None)
        ((7, 4), (6, 3), (0, 0))
        """
        counts = self._others(name, own)
        return sum(counts.values()), sum(v for b, v in counts.items() if b > 0)

    def busiest(self, name: str, own: int | None, rank: int = 2) -> tuple[int, float]:
        """(other members counted, the rate of the ``rank``-th busiest of them; 0 when fewer) in ``name``;
        ``own``: the employee's own bucket, left out."""
        counts = self._others(name, own)
        n = sum(counts.values())
        left = rank
        for b in sorted(counts, reverse=True):
            left -= counts[b]
            if left <= 0:
                return n, rate_of(b)
        return n, 0.0


def peer_groups(series: str, hr: dict[str, Any] | None) -> tuple[str, ...]:
    """The employee's peer groups for ``series``, finest first: the role within the department, then the
    department (none without a department).

    >>> peer_groups("dv", {"department": "sales", "role": "assistant"}), peer_groups("dv", {"role": "x"})
    (('dv:sales/assistant', 'dv:sales'), ())
    """
    dept = str((hr or {}).get("department") or "")
    if not dept:
        return ()
    role = str((hr or {}).get("role") or "")
    return (f"{series}:{dept}/{role}", f"{series}:{dept}") if role else (f"{series}:{dept}",)
