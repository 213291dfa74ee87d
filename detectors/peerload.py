"""What a department does on the same day: the context a volume rule needs before calling a day unusual.

Month end, a campaign, a release or a season makes a whole department work more at once; a spike that the
person's department shows the same day is not the person's anomaly. :class:`PeerLoad` keeps, per department
and rule series, for the current day only, how many members are active in the series and the sum of their
ratios of today's amount *so far* to their own usual (:func:`detectors.windows.usual`; each ratio counted up
to :data:`RATIO_CAP`, so one extreme person does not make a department's day). :meth:`PeerLoad.factor` is the
mean ratio of the *other* active members (at least :data:`MIN_PEERS`), never below 1. The person and their
peers are both measured so far today, so the comparison holds at any hour.

A window that declares ``peers=True`` (``AboveBaseline``) has its finding's ratio divided by that factor
(:meth:`PeerLoad.regrade`): graded against what the department does that day. What fires is unchanged, so
alert ids do not depend on the order in which employees' events arrive.

Like :mod:`detectors.peers` it is an engine-wide memory (:mod:`detectors.shared`): each partition's
employees add their own contribution ``[day, members active, sum of their ratios]`` per department and
series, persisted by the worker and merged on reading; no employee id is kept.

>>> pl = PeerLoad()
>>> for i in range(6):  # six people at 3x their usual by now
...     pl.observe("sales", "r:x", 100, 0.0, 3000.0, 1000.0)
>>> pl.factor("sales", "r:x", 100, 3.0), pl.factor("sales", "r:x", 101, 3.0), pl.factor("hr", "r:x", 100, 3.0)
(3.0, 1.0, 1.0)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from detectors.rule import Finding
from detectors.shared import SharedMemory

#: Other members active in the series today needed before their day says anything.
MIN_PEERS = 5
#: The most one member's ratio counts in the department's day.
RATIO_CAP = 5.0


def _capped(value: float, usual: float) -> float:
    return min(RATIO_CAP, value / usual) if usual > 0 else 0.0


class PeerLoad(SharedMemory):
    """``parts``: ``<series>:<department>`` -> partition -> ``[day, members active, sum of their ratios]``."""

    kind = "l"

    def empty(self) -> Any:
        return [0, 0, 0.0]

    def observe(self, group: str, series: str, day: int, before: float, after: float, usual: float,
                part: int = 0) -> None:
        """A member's amount on ``day`` in ``series`` went from ``before`` to ``after`` (their usual:
        ``usual``). Nothing without a group or a usual amount; an earlier day than the one held is ignored."""
        if not group or usual <= 0 or after == before:
            return
        name = f"{series}:{group}"
        cur = self.parts.get(name, {}).get(part)
        if cur is not None and cur[0] > day:
            return
        c = self.touch(part, name)
        if c[0] < day:
            c[:] = [day, 0, 0.0]
        if before <= 0 < after:
            c[1] += 1
        c[2] = round(c[2] + _capped(after, usual) - _capped(before, usual), 4)

    def factor(self, group: str, series: str, day: int, own: float) -> float:
        """The other active members' mean ratio today (``own``: the person's capped ratio, left out); 1 when
        unknown or below 1."""
        n, total = 0, 0.0
        for c in self.parts.get(f"{series}:{group}", {}).values():
            if c[0] == day:
                n += c[1]
                total += c[2]
        n -= 1
        if not group or n < MIN_PEERS:
            return 1.0
        return max(1.0, (total - min(RATIO_CAP, own)) / n)

    def regrade(self, f: Finding, group: str, series: str, day: int, value: float, usual: float) -> Finding:
        """``f`` graded against the department's day: its ratio divided by :meth:`factor`."""
        k = self.factor(group, series, day, _capped(value, usual))
        if k <= 1.0 or f.ratio is None:
            return f
        return dataclasses.replace(f, ratio=f.ratio / k, extra={**f.extra, "department_ratio_today": round(k, 2),
                                                               "ratio_before_department": round(f.ratio, 2)})
