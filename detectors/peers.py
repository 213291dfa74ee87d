"""The peer side of first-time behaviour: how many people of the employee's peer group (department) did a
thing before. A first that most of one's team has done (a team where everyone uses thumb drives) is new for
the person but not unusual; the first-time rules count it only while fewer than ``COMMON`` of the group
(with at least ``MIN_GROUP`` members seen) did it.

Like :mod:`detectors.hosts` the counts are shared by every employee (:mod:`detectors.shared`): each
partition's employees add their own contribution per group, persisted by the worker and read back on start.

>>> p = PeerFirsts()
>>> for e in range(6):
...     p.joined("Sales")
>>> for e in range(4):
...     p.did("Sales", "removable")
>>> p.share("Sales", "removable"), p.common("Sales", "removable"), p.common("Sales", "after_hours")
((4, 6), True, False)
"""

from __future__ import annotations

from typing import Any

from detectors.shared import SharedMemory

COMMON = 0.5
MIN_GROUP = 5


class PeerFirsts(SharedMemory):
    """``parts``: group -> partition -> ``[members seen, {key: members who did it}]``."""

    kind = "g"
    #: The partition of the employee whose event is being judged (set by the engine): where ``did`` counts
    #: when it is not given one.
    part = 0

    def empty(self) -> Any:
        return [0, {}]

    def joined(self, group: str, part: int = 0) -> None:
        self.touch(part, group)[0] += 1

    def did(self, group: str, key: str, part: int | None = None) -> None:
        """An employee of ``group`` did ``key`` for the first time."""
        done = self.touch(self.part if part is None else part, group)[1]
        done[key] = done.get(key, 0) + 1

    def share(self, group: str, key: str) -> tuple[int, int]:
        """(members who did ``key``, members seen)."""
        did = n = 0
        for c in self.parts.get(group, {}).values():
            n += c[0]
            did += c[1].get(key, 0)
        return did, n

    def common(self, group: str, key: str) -> bool:
        did, n = self.share(group, key)
        return n >= MIN_GROUP and did >= COMMON * n
