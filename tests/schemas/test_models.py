"""The contract models: strict where the contract is, with messages that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import ActivityEvent, Alert, HRRecord, HRSignal
from schemas.jsonschema import OUT, render

GOOD = {"event_id": "a1", "ts": "2026-03-02T09:15:00Z", "kind": "file", "action": "download",
        "actor": "ann@corp.example", "source": "m365"}


def errors_of(exc: ValidationError) -> str:
    return str(exc)


def test_valid_event_round_trips() -> None:
    e = ActivityEvent.model_validate(GOOD | {"bytes": 10, "recipients": ["x@y.z"], "sensitivity": "restricted"})
    again = ActivityEvent.model_validate_json(e.model_dump_json())
    assert again == e and again.sensitive


@pytest.mark.parametrize(
    "change,field",
    [
        ({"kind": "fax"}, "kind"),
        ({"action": "teleport"}, "teleport"),
        ({"kind": "email", "action": "download"}, "download"),
        ({"ts": "2026-03-02T09:15:00"}, "ts"),
        ({"ts": "yesterday"}, "ts"),
        ({"bytes": -1}, "bytes"),
        ({"count": -5}, "count"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"external": "yes"}, "external"),
        ({"bogus": 1}, "bogus"),
        ({"event_id": ""}, "event_id"),
    ],
)
def test_bad_event_names_the_field(change, field) -> None:
    with pytest.raises(ValidationError) as info:
        ActivityEvent.model_validate(GOOD | change)
    assert field in errors_of(info.value)


@pytest.mark.parametrize("missing", ["event_id", "ts", "kind", "action", "actor", "source"])
def test_required_fields(missing) -> None:
    data = dict(GOOD)
    del data[missing]
    with pytest.raises(ValidationError, match=missing):
        ActivityEvent.model_validate(data)


def test_hr_record_and_signal() -> None:
    r = HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00+01:00", "status": "notice",
                                 "last_day": "2026-03-31", "accounts": ["a@b.c"], "name": "extra is ignored"})
    assert r.last_day.isoformat() == "2026-03-31"
    with pytest.raises(ValidationError, match="status"):
        HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00Z", "status": "gone"})
    with pytest.raises(ValidationError, match="last_day"):
        HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00Z", "status": "notice",
                                 "last_day": "31/03/2026"})
    s = HRSignal.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00Z", "signal": "survey", "value": 3})
    assert s.value == 3
    with pytest.raises(ValidationError, match="signal"):
        HRSignal.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00Z", "signal": "mood"})


def test_alert_score_range() -> None:
    base = {"alert_id": "x", "ts": "2026-03-01T00:00:00Z", "employee_id": "E1", "rule_id": "r", "rule_version": "1",
            "severity": "high", "score": 50, "title": "t", "explanation": {}, "evidence": [], "employee": {}}
    Alert.model_validate(base)
    with pytest.raises(ValidationError, match="score"):
        Alert.model_validate(base | {"score": 101})
    with pytest.raises(ValidationError, match="severity"):
        Alert.model_validate(base | {"severity": "urgent"})


def test_json_schema_files_are_current() -> None:
    for fname, text in render().items():
        path = OUT / fname
        assert path.exists(), f"{path} missing: run python -m schemas.jsonschema"
        assert path.read_text() == text, f"{path} is stale: run python -m schemas.jsonschema"
