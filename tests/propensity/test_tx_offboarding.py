"""The transactional worker's processor (streams/tx, the default engine) on the same inputs: a last-day summary
for every leaver, and the departure propensity on alerts.hr only (fakes for Kafka and Redis; the broker path is
tests/propensity/test_worker_offboarding.py)."""

from __future__ import annotations

from typing import Any

import orjson

from detectors.factory import build_engine
from streams.tx.process import Processor

from test_worker_offboarding import HR, LEAVERS, events, signals


class FakeHR:
    def put(self, record: Any, token: Any = None) -> bool:
        return True

    def resolve_many(self, accounts: set[str]) -> dict[str, str | None]:
        return {a: None for a in accounts}

    def snapshots(self, emps: set[str]) -> dict[str, tuple[dict[str, Any] | None, bool]]:
        return {e: ({"employee_id": e, "status": "active"}, False) for e in emps}


class Msg:
    def __init__(self, topic: str, value: dict[str, Any], offset: int) -> None:
        self._t, self._v, self._o = topic, orjson.dumps(value), offset

    def topic(self) -> str:
        return self._t

    def value(self) -> bytes:
        return self._v

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._o

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


def test_tx_processor_writes_summaries_and_keeps_propensity_with_hr() -> None:
    p = Processor(build_engine(), FakeHR(), "t.", b"k", lambda emp: 0, {0})
    sent: list[tuple[str, Any]] = []
    p.send = lambda topic, value, key=None, **kw: sent.append((topic, orjson.loads(value)))
    rows = ([(r["ts"], 0, "t.hr.status", r) for r in HR] + [(s["ts"], 1, "t.hr.signals", s) for s in signals()]
            + [(e["ts"], 2, "t.activity.file", e) for e in events()])
    rows.sort(key=lambda x: (x[0], x[1]))
    recs = [p.decode(Msg(t, v, i)) for i, (_, _, t, v) in enumerate(rows)]
    assert all(r.reason is None for r in recs), [r.reason for r in recs if r.reason]
    p.process(recs)
    hr_alerts = [v for t, v in sent if t == "t.alerts.hr"]
    sec = [v for t, v in sent if t == "t.alerts.secops"]
    assert {a["employee_id"] for a in hr_alerts if a["rule_id"] == "offboarding.last_day_summary"} == LEAVERS
    assert any(a["rule_id"] == "hr.departure_propensity" and a["employee_id"] == "E2" for a in hr_alerts)
    assert sum(a["rule_id"] == "offboarding.last_day_summary" for a in sec) == 3
    assert not any("propensity" in a["rule_id"] for a in sec)
