"""Contract models of exitwatch (see CONTRACT.md): Activity event, HR record, HR signal, Alert, dead letter.

``schemas`` imports nothing else of the project; everyone else imports it.
"""
from schemas.models import (
    ACTIONS_BY_KIND,
    ActivityEvent,
    Alert,
    DeadLetter,
    EnrichedEvent,
    EmployeeSnapshot,
    HRRecord,
    HRSignal,
    Kind,
    Sensitivity,
    Severity,
    Status,
)

__all__ = [
    "ACTIONS_BY_KIND",
    "ActivityEvent",
    "Alert",
    "DeadLetter",
    "EnrichedEvent",
    "EmployeeSnapshot",
    "HRRecord",
    "HRSignal",
    "Kind",
    "Sensitivity",
    "Severity",
    "Status",
]
