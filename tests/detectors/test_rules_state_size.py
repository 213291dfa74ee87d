"""A busy employee's state through the whole catalogue stays small: one Faust table value under 4.5 KiB.

120 days of 50 mixed events a day (file, mail, CRM, web, USB, deletions, some after hours), the last month in
notice and two days after the last day, through ``Engine()`` with every rule and the risk score on.
``python tests/detectors/test_rules_state_size.py`` prints the size and the biggest parts of the state.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import orjson
import pytest

from detectors.engine import Engine
from schemas import ActivityEvent, HRRecord

#: 4 KiB until the sixth session; 4.5 KiB since the download rules' valuation became independent of arrival order
#: (a late event re-valued in time order needs the marks of the last LATE_DAYS days: ~300 bytes for this person).
LIMIT = 4608
#: Growth without bound (lists per event) would blow far past this; LIMIT is the goal the state meets.
RUNAWAY = 48 * 1024
START = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
DAYS = 120
PER_DAY = 50
ACCOUNT = "ann.lee@corp.example"

# (weight, kind, action, extra fields) of a realistic working day.
MIX = [
    (14, "file", "open", {}),
    (6, "file", "download", {"sensitivity": "internal"}),
    (3, "file", "download", {"sensitivity": "confidential"}),
    (1, "file", "download", {"sensitivity": "restricted"}),
    (3, "file", "sync_download", {}),
    (2, "file", "delete", {}),
    (1, "file", "copy_to_removable", {}),
    (1, "file", "upload", {"personal": False}),
    (6, "email", "send", {"personal": False, "external": False}),
    (1, "email", "send", {"personal": True, "sensitivity": "internal"}),
    (5, "crm", "view", {"duration_s": 90.0}),
    (1, "crm", "report_export", {"count": 40}),
    (4, "web", "visit", {"destination": "news.example"}),
    (1, "web", "upload", {"personal": True, "sensitivity": "internal"}),
    (1, "logon", "logon", {}),
]


def busy_employee(seed: int = 7) -> tuple[list[HRRecord], list[ActivityEvent]]:
    rnd = random.Random(seed)
    last_day = (START + dt.timedelta(days=DAYS - 3)).date()
    hr = [
        HRRecord.model_validate({"employee_id": "E1", "ts": START.isoformat(), "status": "active",
                                 "accounts": [ACCOUNT], "department": "Sales", "role": "Account executive"}),
        HRRecord.model_validate({"employee_id": "E1", "ts": (START + dt.timedelta(days=DAYS - 30)).isoformat(),
                                 "status": "notice", "accounts": [ACCOUNT], "department": "Sales",
                                 "role": "Account executive", "last_day": last_day.isoformat(),
                                 "resignation_date": (START + dt.timedelta(days=DAYS - 30)).date().isoformat()}),
    ]
    weights = [m[0] for m in MIX]
    events = []
    for d in range(DAYS):
        day = START + dt.timedelta(days=d)
        n = PER_DAY if day.weekday() < 5 else 5
        for i in range(n):
            _, kind, action, extra = rnd.choices(MIX, weights)[0]
            # Mostly office hours; a few in the evening; more of everything in the last weeks.
            hour = rnd.choice([6, 20, 21]) if rnd.random() < 0.08 else rnd.randint(8, 17)
            ts = day + dt.timedelta(hours=hour, minutes=rnd.randint(0, 59), seconds=i)
            fields = dict(extra)
            if kind == "web" and rnd.random() < 0.02:
                fields["object"] = "https://www.indeed.com/viewjob?jk=" + str(rnd.randint(1, 10**6))
            events.append(ActivityEvent.model_validate({
                "event_id": f"{kind}:{uuid.UUID(int=rnd.getrandbits(128))}",  # GUIDs, as M365 and MDE give
                "ts": ts.isoformat(), "kind": kind, "action": action, "actor": ACCOUNT,
                "source": "synthetic", "object": f"/sites/sales/doc{rnd.randint(1, 500)}.xlsx", **fields,
            }))
    events.sort(key=lambda e: e.ts)
    return hr, events


def run() -> tuple[Engine, bytes]:
    eng = Engine()
    hr, events = busy_employee()
    pending = sorted(hr, key=lambda r: r.ts)
    for e in events:
        while pending and pending[0].ts <= e.ts:
            eng.on_hr(pending.pop(0))
        eng.on_event(e)
    st = eng.store.get("E1")
    assert st is not None
    return eng, st.to_bytes()


def breakdown(data: bytes) -> list[tuple[int, str]]:
    """Bytes per part of the serialised state, biggest first."""
    o = orjson.loads(data)
    parts = [(len(orjson.dumps(v)), f"series {k}") for k, v in o["s"].items()]
    parts += [(len(orjson.dumps(o[k])), name) for k, name in (("hr", "hr"), ("m", "marks"), ("f", "fired"),
                                                              ("r", "risk"))]
    parts += [(len(orjson.dumps(v)), f"extra {k}") for k, v in o["x"].items()]
    return sorted(parts, reverse=True)


def _report() -> tuple[Engine, bytes]:
    eng, data = run()
    print(f"\nstate of a busy employee after {DAYS} days through {len(eng.rules)} rules: {len(data)} bytes")
    for size, name in breakdown(data)[:8]:
        print(f"  {size:6d}  {name}")
    assert not eng.stats.errors, eng.stats.errors
    return eng, data


def test_busy_employee_state_is_bounded() -> None:
    _, data = _report()
    assert len(data) < RUNAWAY, breakdown(data)


def test_busy_employee_state_stays_under_4_5_kib() -> None:
    _, data = _report()
    assert len(data) < LIMIT, breakdown(data)


if __name__ == "__main__":
    eng, data = run()
    print(len(data), "bytes;", sum(eng.stats.alerts.values()), "alerts", dict(eng.stats.alerts))
    for size, name in breakdown(data):
        print(f"{size:6d}  {name}")
