"""Pydantic models of the external contract (CONTRACT.md sections 2 to 5).

Validation happens once, at the edge (connectors, the enrich agent, ``exitwatch replay``); code inside the
pipeline trusts these objects and reads attributes.

>>> e = ActivityEvent.model_validate_json(
...     b'{"event_id":"a1","ts":"2026-03-02T09:15:00Z","kind":"file","action":"download",'
...     b'"actor":"ann@example.com","source":"m365","sensitivity":"confidential"}')
>>> e.kind, e.action, e.ts.isoformat()
('file', 'download', '2026-03-02T09:15:00+00:00')
>>> ActivityEvent.model_validate({"event_id": "a", "ts": "2026-03-02T09:15:00", "kind": "file",
...     "action": "download", "actor": "x", "source": "s"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for ActivityEvent
ts
  Input should have timezone info...
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    StrictBool,
    field_validator,
    model_validator,
)

Kind = Literal["file", "email", "crm", "device", "logon", "web", "print"]
Sensitivity = Literal["public", "internal", "confidential", "restricted"]
Status = Literal["active", "notice", "departed"]
Severity = Literal["low", "medium", "high", "critical"]
SignalName = Literal[
    "late_arrival",
    "early_leave",
    "absence",
    "leave_request",
    "performance_review",
    "survey",
    "handover_item_open",
    "handover_item_done",
    "asset_returned",
]

FILE_ACTIONS = frozenset(
    {"open", "download", "sync_download", "upload", "copy", "copy_to_removable", "share_external", "delete", "print"}
)
#: The actions the contract allows for each kind. ``print`` events use the file action ``print``.
ACTIONS_BY_KIND: dict[str, frozenset[str]] = {
    "file": FILE_ACTIONS,
    "email": frozenset({"send", "forward", "auto_forward"}),
    "crm": frozenset({"export", "report_export", "api_query", "bulk_query", "view"}),
    "device": frozenset({"connect", "disconnect"}),
    "logon": frozenset({"logon", "logoff"}),
    "web": frozenset({"visit", "upload", "download"}),
    "print": frozenset({"print"}),
}

SENSITIVE = frozenset({"confidential", "restricted"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, validate_default=False)


class ActivityEvent(_Model):
    """One thing an account did, in contract form (CONTRACT.md 2)."""

    event_id: str = Field(min_length=1, max_length=512)
    ts: AwareDatetime
    kind: Kind
    action: str
    actor: str = Field(min_length=1, max_length=512)
    employee_id: str | None = None
    source: str = Field(min_length=1, max_length=64)
    host: str | None = None
    object: str | None = None
    bytes: NonNegativeInt | None = None
    count: NonNegativeInt | None = None
    sensitivity: Sensitivity | None = None
    recipients: list[str] = Field(default_factory=list)
    destination: str | None = None
    external: StrictBool | None = None
    personal: StrictBool | None = None
    duration_s: NonNegativeFloat | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _action_fits_kind(self) -> "ActivityEvent":
        allowed = ACTIONS_BY_KIND[self.kind]
        if self.action not in allowed:
            raise ValueError(
                f"action {self.action!r} is not an action of kind {self.kind!r}; "
                f"expected one of {sorted(allowed)}"
            )
        return self

    @property
    def sensitive(self) -> bool:
        """True for ``confidential`` and ``restricted`` objects."""
        return self.sensitivity in SENSITIVE


class EmployeeSnapshot(_Model):
    """HR snapshot attached to an enriched event and to alerts (identity fields only in ``alerts.hr``)."""

    employee_id: str | None = None
    status: Status | None = None
    department: str | None = None
    role: str | None = None
    manager_id: str | None = None
    resignation_date: dt.date | None = None
    last_day: dt.date | None = None
    watchlist: bool = False
    resolved: bool = True
    stale: bool = False  # the enrich stage could not refresh this snapshot (HR store unreachable)


class EnrichedEvent(ActivityEvent):
    """An Activity event on ``activity.enriched``: the event plus the HR snapshot at event time."""

    employee: EmployeeSnapshot = Field(default_factory=EmployeeSnapshot)


class HRRecord(_Model):
    """The HR state of one employee from ``ts`` on (CONTRACT.md 3); the latest ``ts`` wins."""

    model_config = ConfigDict(extra="ignore")

    employee_id: str = Field(min_length=1, max_length=256)
    ts: AwareDatetime
    status: Status
    accounts: list[str] = Field(default_factory=list)
    department: str | None = None
    role: str | None = None
    manager_id: str | None = None
    resignation_date: dt.date | None = None
    last_day: dt.date | None = None
    watchlist: StrictBool = False

    @field_validator("accounts")
    @classmethod
    def _no_empty_accounts(cls, v: list[str]) -> list[str]:
        if any(not a.strip() for a in v):
            raise ValueError("accounts may not contain empty strings")
        return v

    def snapshot(self) -> EmployeeSnapshot:
        return EmployeeSnapshot(
            employee_id=self.employee_id,
            status=self.status,
            department=self.department,
            role=self.role,
            manager_id=self.manager_id,
            resignation_date=self.resignation_date,
            last_day=self.last_day,
            watchlist=self.watchlist,
        )


class HRSignal(_Model):
    """A signal from HR about one employee (CONTRACT.md 4)."""

    model_config = ConfigDict(extra="ignore")

    employee_id: str = Field(min_length=1, max_length=256)
    ts: AwareDatetime
    signal: SignalName
    value: float | int | str | None = None


class Alert(_Model):
    """An alert (CONTRACT.md 5). In ``alerts.secops`` ``employee_id`` holds the keyed pseudonym."""

    alert_id: str
    ts: AwareDatetime
    employee_id: str
    rule_id: str
    rule_version: str
    severity: Severity
    score: float = Field(ge=0, le=100)
    title: str
    explanation: dict[str, Any]
    evidence: list[str]
    employee: dict[str, Any]


class DeadLetter(_Model):
    """A record some stage could not use, with the reason (the ``deadletter`` topic and ``.deadletter`` files)."""

    source: str
    reason: str
    raw: str
    ts: AwareDatetime


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.timezone.utc)
