"""The guard's decode gives a UTC ``ts`` the standard library's ``timezone.utc`` (cheaper to use on every event
than pydantic's ``TzInfo(0)``): the same instant, equal, and serialised exactly as the plain decode's."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from schemas import ActivityEvent, EnrichedEvent, HRRecord, HRSignal
from schemas.guard import TsWindow, decode_record

WIDE = TsWindow(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))

EVENT = {"event_id": "e1", "kind": "file", "action": "download", "actor": "ann@corp.example", "source": "m365",
         "object": "https://corp.sharepoint.com/sites/x/a.docx", "count": 3}
RECORDS = [
    (ActivityEvent, EVENT),
    (EnrichedEvent, {**EVENT, "employee_id": "E1", "employee": {"employee_id": "E1", "status": "notice"}}),
    (HRRecord, {"employee_id": "E1", "status": "notice", "last_day": "2026-03-31", "accounts": ["ann"]}),
    (HRSignal, {"employee_id": "E1", "signal": "absence", "value": 1}),
]
STAMPS = ["2026-03-02T09:15:00Z", "2026-03-02T09:15:00.123456Z", "2026-03-02T09:15:00+00:00",
          "2026-03-02T11:15:00.5+02:00", "2026-03-01T23:59:59.999999-05:00"]


@pytest.mark.parametrize("model,fields", RECORDS)
@pytest.mark.parametrize("stamp", STAMPS)
def test_a_utc_ts_is_the_standard_librarys_and_serialises_as_before(model: type, fields: dict, stamp: str) -> None:
    raw = orjson.dumps({**fields, "ts": stamp})
    plain = model.model_validate_json(raw)
    got, reason = decode_record(raw, model, window=WIDE)
    assert reason is None and got is not None
    zero = plain.ts.utcoffset() == dt.timedelta(0)
    assert (got.ts.tzinfo is dt.timezone.utc) is zero  # other offsets are left as they came
    assert got.ts == plain.ts and hash(got.ts) == hash(plain.ts)
    assert got.ts.timestamp() == plain.ts.timestamp() and got.ts.isoformat() == plain.ts.isoformat()
    assert got.model_dump_json() == plain.model_dump_json()
    assert got.model_dump(mode="json") == plain.model_dump(mode="json")
    assert orjson.dumps(got.ts, option=orjson.OPT_UTC_Z) == orjson.dumps(plain.ts, option=orjson.OPT_UTC_Z)
    assert orjson.dumps(got.ts) == orjson.dumps(plain.ts)
    assert got.ts.astimezone(dt.timezone.utc).isoformat() == plain.ts.astimezone(dt.timezone.utc).isoformat()
