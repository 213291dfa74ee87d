"""Who usually works on a machine, learned from logon history: the context for "a logon on someone else's
machine".

For each host the engine keeps the few employees who logged on there most, counted in days (one count per
employee and day, however many logons), at most ``KEEP`` per host. A host has a *usual user* when one
employee holds at least ``MIN_DAYS`` logon days there and at least ``MIN_SHARE`` of the host's counted days: a
dedicated machine. Shared machines (labs, kiosks, terminal servers) have no usual user and never count. The
first logon of someone else on a machine that has a usual user gets ``attrs.host_usual_user`` (the usual
user's employee id) for the rules to read; their later logons there do not (a visit that recurs is known).

The index is shared by every employee (:mod:`detectors.shared`): each partition's employees add their own
contribution per host, which the worker writes to a compacted topic with the transaction of the logons that
changed it and reads back on start, so a restart forgets nothing and workers see each other's logons (the
other workers' contributions arrive as they commit them: until then a logon may go unannotated, a miss,
never a false alert). ``KEEP`` users are kept per host and partition; the usual user is judged over all.

>>> h = HostUsers()
>>> for d in range(10):
...     _ = h.observe("PC-1", "ann", d)
>>> h.observe("PC-1", "bob", 11), h.observe("PC-1", "bob", 12), h.observe("PC-1", "ann", 12)
('ann', None, None)
"""

from __future__ import annotations

from detectors.shared import SharedMemory

KEEP = 8
MIN_DAYS = 5
MIN_SHARE = 0.6


class HostUsers(SharedMemory):
    """``parts``: host -> partition -> {employee: [logon days, last day counted]}."""

    kind = "h"

    def observe(self, host: str, emp: str, day: int, part: int = 0) -> str | None:
        """Count this logon; the host's usual user when it is someone else and ``emp`` never logged on here."""
        h = host.lower()
        by_part = self.parts.get(h)
        usual = None
        mine = None
        if by_part:
            usual = self.usual_user(by_part)
            own = by_part.get(part)
            mine = None if own is None else own.get(emp)
        other = usual if usual is not None and usual != emp and mine is None else None
        if mine is None:
            users = self.touch(part, h)
            if len(users) >= KEEP:  # forget the least frequent
                del users[min(users, key=lambda u: users[u][0])]
            users[emp] = [1, day]
        elif mine[1] != day:
            mine = self.touch(part, h)[emp]
            mine[0] += 1
            mine[1] = day
        return other

    def usual_of(self, host: str) -> str | None:
        """The host's usual user, without counting anything (a machine other events come from, such as mail).

        >>> h = HostUsers()
        >>> for d in range(10):
        ...     _ = h.observe("PC-1", "ann", d)
        >>> h.usual_of("pc-1"), h.usual_of("PC-2")
        ('ann', None)
        """
        by_part = self.parts.get(host.lower())
        return self.usual_user(by_part) if by_part else None

    @staticmethod
    def usual_user(by_part: dict[int, dict[str, list[int]]]) -> str | None:
        top, n, total = None, 0, 0
        for users in by_part.values():
            for u, v in users.items():
                total += v[0]
                if v[0] > n or (v[0] == n and top is not None and u < top):
                    top, n = u, v[0]
        return top if n >= MIN_DAYS and n >= MIN_SHARE * total else None

    @property
    def hosts(self) -> dict[str, dict[int, dict[str, list[int]]]]:
        return self.parts

    def __len__(self) -> int:
        return len(self.parts)
