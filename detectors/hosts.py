"""Who usually works on a machine, learned from logon history: the context for "a logon on someone else's
machine".

For each host the engine keeps the few employees who logged on there most, counted in days (one count per
employee and day, however many logons), at most ``KEEP`` per host. A host has a *usual user* when one
employee holds at least ``MIN_DAYS`` logon days there and at least ``MIN_SHARE`` of the host's counted days: a
dedicated machine. Shared machines (labs, kiosks, terminal servers) have no usual user and never count. The
first logon of someone else on a machine that has a usual user gets ``attrs.host_usual_user`` (the usual
user's employee id) for the rules to read; their later logons there do not (a visit that recurs is known).

The index is shared by the employees one engine sees: all of them in ``exitwatch replay``; in the streaming
worker, those of the worker's partitions (events are keyed by employee), so with several workers a machine's
usual user may be on another worker and the logon goes unannotated (a miss, never a false alert). It is not
checkpointed: after a restart it learns again.

>>> h = HostUsers()
>>> for d in range(10):
...     _ = h.observe("PC-1", "ann", d)
>>> h.observe("PC-1", "bob", 11), h.observe("PC-1", "bob", 12), h.observe("PC-1", "ann", 12)
('ann', None, None)
"""

from __future__ import annotations

KEEP = 8
MIN_DAYS = 5
MIN_SHARE = 0.6


class HostUsers:
    def __init__(self) -> None:
        #: host -> {employee: [logon days, last day counted]}
        self.hosts: dict[str, dict[str, list[int]]] = {}

    def observe(self, host: str, emp: str, day: int) -> str | None:
        """Count this logon; the host's usual user when it is someone else and ``emp`` never logged on here."""
        users = self.hosts.setdefault(host.lower(), {})
        usual = self.usual_user(users)
        mine = users.get(emp)
        other = usual if usual is not None and usual != emp and mine is None else None
        if mine is None:
            if len(users) >= KEEP:  # forget the least frequent
                del users[min(users, key=lambda u: users[u][0])]
            users[emp] = [1, day]
        elif mine[1] != day:
            mine[0] += 1
            mine[1] = day
        return other

    @staticmethod
    def usual_user(users: dict[str, list[int]]) -> str | None:
        if not users:
            return None
        top = max(users, key=lambda u: users[u][0])
        n = users[top][0]
        total = sum(v[0] for v in users.values())
        return top if n >= MIN_DAYS and n >= MIN_SHARE * total else None

    def __len__(self) -> int:
        return len(self.hosts)
