"""The AsyncAPI 3 document of exitwatch's topics, generated from ``schemas/``: every topic (the contract's and
the internal ones), its key and its record, for HR systems, SIEMs and anyone else who subscribes.

``python -m schemas.asyncapi`` rewrites ``schemas/asyncapi.json``; a test fails when it is stale. Payload
schemas are the pydantic models' JSON Schemas (as in ``schemas/json/``), with their definitions moved to
``components.schemas``.

>>> doc = render_document()
>>> doc["asyncapi"], doc["channels"]["alertsHr"]["address"]
('3.0.0', 'alerts.hr')
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.models import ActivityEvent, Alert, DeadLetter, EnrichedEvent, HRRecord, HRSignal
from schemas.topics import ACTIVITY_KINDS, BASE_NAMES, CHECKPOINT_TOPIC

OUT = Path(__file__).parent / "asyncapi.json"
REF = "#/components/schemas/{model}"

#: message name -> (model, title, what it is)
MESSAGES: dict[str, tuple[type[BaseModel] | None, str]] = {
    "ActivityEvent": (ActivityEvent, "An activity event from an audit log (CONTRACT.md 2)"),
    "EnrichedEvent": (EnrichedEvent, "An activity event with the employee's HR snapshot at event time"),
    "HRRecord": (HRRecord, "The HR state of one employee from ts on; the latest ts wins (CONTRACT.md 3)"),
    "HRSignal": (HRSignal, "An HR signal for the departure-propensity models (CONTRACT.md 4)"),
    "AlertHr": (Alert, "An alert, identified (CONTRACT.md 5)"),
    "AlertSecops": (Alert, "An alert with employee_id replaced by its keyed pseudonym and identity fields "
                           "(employee_id, manager_id, accounts, name, email) removed from employee"),
    "DeadLetter": (DeadLetter, "A record a stage could not read or process, with the reason"),
    "LedgerEntry": (None, "A signed, hash-chained evidence ledger entry of one alert: the alert, the evidence "
                          "records it cites, the previous entry's hash, an Ed25519 signature (evidence/)"),
    "AuditRecord": (None, "One audit trail record: re-identification, case export, rule change (evidence/audit.py)"),
    "EmployeeState": (None, "Internal: one employee's detection state, sealed (AES-256-GCM bound to the "
                            "employee id); a tombstone removes it"),
    "ConnectorCheckpoint": (None, "Internal: a follow-mode connector's read positions, committed in the same "
                                  "transaction as its records"),
    "ModelState": (None, "Internal: the learned models' shared state of one worker instance (a snapshot, a "
                         "journal record of what one transaction taught them, or a small model's whole state), "
                         "sealed; committed with the worker's transactions (streams/tx/models.py)"),
    "SharedMemory": (None, "Internal: one partition's contribution to an engine-wide memory (a machine's usual "
                           "users, what a department did first: detectors/shared.py), sealed; committed with the "
                           "worker's transactions, read by every worker (streams/tx/shared.py); a tombstone removes it"),
}
BINARY = {"EmployeeState", "ModelState", "SharedMemory"}

#: channel id -> (address after the prefix, message, key, compacted, written by, read by)
def _channels() -> dict[str, tuple[str, str, str, bool, str, str]]:
    out = {}
    for k in ACTIVITY_KINDS:
        out[f"activity{k.capitalize()}"] = (BASE_NAMES[f"activity_{k}"], "ActivityEvent",
                                            "employee_id if known, else the actor", False, "connectors", "worker")
    out.update({
        "activityEnriched": (BASE_NAMES["activity_enriched"], "EnrichedEvent", "employee_id (the actor when "
                             "unresolved)", False, "worker", "subscribers"),
        "hrStatus": (BASE_NAMES["hr_status"], "HRRecord", "employee_id", True, "HR connector, HR systems", "worker"),
        "hrSignals": (BASE_NAMES["hr_signals"], "HRSignal", "employee_id", False, "HR connector", "worker"),
        "alertsSecops": (BASE_NAMES["alerts_secops"], "AlertSecops", "pseudonym of the employee", False, "worker",
                         "security operations, SIEM"),
        "alertsHr": (BASE_NAMES["alerts_hr"], "AlertHr", "employee_id", False, "worker", "HR systems"),
        "deadletter": (BASE_NAMES["deadletter"], "DeadLetter", "stage or source name", False, "every stage",
                       "operators"),
        "evidenceLedger": (BASE_NAMES["evidence_ledger"], "LedgerEntry", "employee_id", False, "worker",
                           "HR, legal (exitwatch evidence export)"),
        "audit": (BASE_NAMES["audit"], "AuditRecord", "the action audited", False, "CLI commands (audit_kafka on)",
                  "auditors"),
        "rekeyed": ("exitwatch.activity.rekeyed", "EnrichedEvent", "employee_id (header x-exitwatch-kind: event, "
                    "hr or signal; hr and signal carry an HRRecord or HRSignal)", False, "worker", "worker"),
        "stateChangelog": ("{app_id}.tx.state-changelog", "EmployeeState", "employee_id", True, "worker", "worker"),
        "modelsLog": ("{app_id}.tx.models", "ModelState", "<worker instance>|snapshot, |journal|<n> or "
                      "|state|<model id>", True, "worker", "worker"),
        "sharedChangelog": ("{app_id}.tx.shared-changelog", "SharedMemory", "<memory><partition>|<name>, e.g. "
                            "h3|pc-17 (a host) or g0|Sales (a department); the topic partition is the one named",
                            True, "worker", "worker"),
        "connectCheckpoints": (CHECKPOINT_TOPIC, "ConnectorCheckpoint", "transactional id", True, "connectors",
                               "connectors"),
    })
    return out


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """(components.schemas, message name -> payload schema)."""
    comps: dict[str, Any] = {}
    payloads: dict[str, Any] = {}
    for name, (model, _) in MESSAGES.items():
        if model is None:
            payloads[name] = {"type": "string", "format": "binary"} if name in BINARY else {"type": "object"}
            continue
        sch = model.model_json_schema(ref_template=REF)
        comps.update(sch.pop("$defs", {}))
        comps[model.__name__] = sch
        payloads[name] = {"$ref": REF.format(model=model.__name__)}
    return comps, payloads


def render_document() -> dict[str, Any]:
    comps, payloads = _schemas()
    messages = {name: {"name": name, "title": name, "summary": summary, "contentType":
                       "application/octet-stream" if name in BINARY else "application/json",
                       "payload": payloads[name]}
                for name, (_, summary) in MESSAGES.items()}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for cid, (address, msg, key, compacted, writer, reader) in _channels().items():
        channels[cid] = {
            "address": address,
            "description": f"Key: {key}. Written by {writer}; read by {reader}.",
            "messages": {msg: {"$ref": f"#/components/messages/{msg}"}},
            "bindings": {"kafka": {"topicConfiguration": {"cleanup.policy": ["compact" if compacted else "delete"]},
                                   "bindingVersion": "0.5.0"}},
        }
        for action in ("send", "receive"):
            operations[f"{action}{cid[0].upper()}{cid[1:]}"] = {
                "action": action, "channel": {"$ref": f"#/channels/{cid}"},
                "summary": f"{writer if action == 'send' else reader} {'write' if action == 'send' else 'read'} "
                           f"{address}",
                "messages": [{"$ref": f"#/channels/{cid}/messages/{msg}"}]}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "exitwatch topics", "version": "1.0.0", "description":
                 "Every topic exitwatch reads and writes. One prefix (EXITWATCH_TOPIC_PREFIX, --topic-prefix) may "
                 "go in front of every address. Values are UTF-8 JSON unless said otherwise; times RFC 3339 with "
                 "an offset. Producers partition with murmur2 on the key, so an employee's records share a "
                 "partition number on every topic. Generated by python -m schemas.asyncapi from schemas/."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "127.0.0.1:9092", "protocol": "kafka",
                              "description": "EXITWATCH_KAFKA_BOOTSTRAP; TLS/SASL per schemas/transport.py"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(comps.items()))},
    }


def render() -> str:
    return json.dumps(render_document(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
