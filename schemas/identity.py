"""Account aliases to employee ids, compared case-insensitively (CONTRACT.md 3, ``accounts``).

>>> idx = AliasIndex()
>>> idx.add("E1", ["Ann.Lee@corp.example", "CORP\\\\alee", "S-1-5-21-1"])
>>> idx.resolve("ann.lee@CORP.example"), idx.resolve("corp\\\\ALEE"), idx.resolve("nobody")
('E1', 'E1', None)
"""

from __future__ import annotations

from collections.abc import Iterable


def normalize_account(account: str) -> str:
    """The form accounts are compared in: stripped and case-folded."""
    return account.strip().casefold()


class AliasIndex:
    """An in-memory alias map; the employee id itself is always an alias of the employee."""

    def __init__(self) -> None:
        self._by_alias: dict[str, str] = {}

    def add(self, employee_id: str, accounts: Iterable[str]) -> None:
        self._by_alias[normalize_account(employee_id)] = employee_id
        for a in accounts:
            self._by_alias[normalize_account(a)] = employee_id

    def resolve(self, account: str | None) -> str | None:
        if not account:
            return None
        return self._by_alias.get(normalize_account(account))

    def __len__(self) -> int:
        return len(self._by_alias)
