"""The peer side of first-time behaviour: how many people of the employee's peer group (department) did a
thing before. A first that most of one's team has done (a team where everyone uses thumb drives) is new for
the person but not unusual; the first-time rules count it only while fewer than ``COMMON`` of the group
(with at least ``MIN_GROUP`` members seen) did it.

Like :mod:`detectors.hosts` the counts are shared by the employees one engine sees (a worker's partitions
when streaming) and learned again after a restart.

>>> p = PeerFirsts()
>>> for e in range(6):
...     p.joined("Sales")
>>> for e in range(4):
...     p.did("Sales", "removable")
>>> p.share("Sales", "removable"), p.common("Sales", "removable"), p.common("Sales", "after_hours")
((4, 6), True, False)
"""

from __future__ import annotations

from collections import Counter

COMMON = 0.5
MIN_GROUP = 5


class PeerFirsts:
    def __init__(self) -> None:
        self.members: Counter[str] = Counter()
        self.done: dict[str, Counter[str]] = {}

    def joined(self, group: str) -> None:
        self.members[group] += 1

    def did(self, group: str, key: str) -> None:
        """An employee of ``group`` did ``key`` for the first time."""
        self.done.setdefault(group, Counter())[key] += 1

    def share(self, group: str, key: str) -> tuple[int, int]:
        """(members who did ``key``, members seen)."""
        return self.done.get(group, Counter()).get(key, 0), self.members.get(group, 0)

    def common(self, group: str, key: str) -> bool:
        did, n = self.share(group, key)
        return n >= MIN_GROUP and did >= COMMON * n
