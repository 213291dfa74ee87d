"""The AsyncAPI document (schemas/asyncapi.json) is generated from schemas/ and must not go stale; every contract
topic is in it with its key and record, and every reference in it resolves."""

from __future__ import annotations

import json
from typing import Any

from schemas.asyncapi import OUT, render
from schemas.topics import topic_names


def test_committed_document_is_current() -> None:
    assert OUT.exists(), f"{OUT} missing: run python -m schemas.asyncapi"
    assert OUT.read_text() == render(), f"{OUT} is stale: run python -m schemas.asyncapi"


def refs(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [v for k, v in obj.items() if k == "$ref"] + [r for v in obj.values() for r in refs(v)]
    if isinstance(obj, list):
        return [r for v in obj for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert part in node, f"unresolved {ref}"
        node = node[part]
    return node


def test_every_contract_topic_with_key_and_record_and_every_reference_resolves() -> None:
    doc = json.loads(render())
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"]: c for c in doc["channels"].values()}
    for topic in topic_names().values():
        ch = addresses.get(topic)
        assert ch is not None, f"{topic} missing"
        assert ch["description"].startswith("Key: ") and ch["messages"]
    for r in refs(doc):
        resolve(doc, r)
    alert = doc["components"]["schemas"]["Alert"]
    assert {"alert_id", "rule_id", "severity", "score", "evidence"} <= set(alert["properties"])
    assert addresses["hr.status"]["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
