"""Topic names of the contract (CONTRACT.md 1), in one place. A prefix may go in front of all of them.

>>> topic_names("acme.")["alerts_hr"]
'acme.alerts.hr'
"""

from __future__ import annotations

ACTIVITY_KINDS = ("file", "email", "crm", "device", "logon", "web")

BASE_NAMES: dict[str, str] = {
    **{f"activity_{k}": f"activity.{k}" for k in ACTIVITY_KINDS},
    "activity_enriched": "activity.enriched",
    "hr_status": "hr.status",
    "hr_signals": "hr.signals",
    "alerts_secops": "alerts.secops",
    "alerts_hr": "alerts.hr",
    "deadletter": "deadletter",
    # evidence and audit (issue 17): identified, for HR, legal and auditors; never for security operations
    "evidence_ledger": "evidence.ledger",
    "audit": "audit",
}
CHECKPOINT_TOPIC = "connect.checkpoints"  # compacted; `connect --follow` read positions, not a contract topic


def topic_names(prefix: str = "") -> dict[str, str]:
    """Every contract topic, keyed by a Python-friendly name, with ``prefix`` in front."""
    return {key: prefix + name for key, name in BASE_NAMES.items()}


def activity_topic(kind: str, prefix: str = "") -> str:
    """The ``activity.*`` topic an event of ``kind`` goes to (``print`` events travel with ``file``)."""
    if kind == "print":
        kind = "file"
    if kind not in ACTIVITY_KINDS:
        raise ValueError(f"no activity topic for kind {kind!r}")
    return f"{prefix}activity.{kind}"
