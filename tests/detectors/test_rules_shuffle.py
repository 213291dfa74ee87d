"""Every rule over a generated company, with the records of nearby times applied in shuffled orders: the alerts
(ids, severities, scores) must be those of time order.

The transactional worker merges its input topics by event time, best-effort as Kafka Streams does: a partition
whose records reach the client a little after another's has its records applied after later ones (in the quick
fault run thousands of records a run, up to hours of event time behind: its producer sends 2,000 records
spanning days at a time, and with ``EXITWATCH_TX_IDLE_MS=0`` nothing waits for the slower partitions; see the
run's "records applied after records of a later event time"). Replay applies them in time order. A rule whose
alerts depend on that order makes the worker's answer differ from replay's.

Each shuffled order moves every record later by a random amount of up to :data:`WINDOW_S` and sorts again, keeping
the order of each topic's records of one employee (a Kafka partition keeps its order): records of different
topics and employees within a few hours of each other change places, as in the worker. The engine is the fault
run's (rules, no models), fed as replay feeds it (the watermark before each record, ``finish`` at the end).

:data:`KNOWN` lists the rules still found order-dependent, with what is known of why; the test fails on any other
difference. Found and fixed: ``device.removable_copy_spike`` v4 (tests/detectors/test_removable_first_order.py),
``crm.bulk_export_before_departure`` (tests/detectors/test_crm_export_late_order.py).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from detectors.factory import build_engine
from schemas import ActivityEvent, HRRecord, HRSignal

WINDOW_S = 4 * 3600.0
ORDERS = 2  # shuffled orders compared with time order (each one replay of the company)

#: Rules whose alerts are still known to depend on the order (rule id: what differs, and why as far as known).
#: ``risk.employee`` follows the alerts that feed it.
KNOWN = {
    "email.attachments_to_personal": "score 60 or 65 for one leaver's alert made by the HR record of the notice "
                                     "(looking back), not with the leaver's records alone: it depends on other "
                                     "employees' records applied around it (found with records moved up to 6 h)",
    "web.personal_cloud_upload": "which day names an episode's alert (its id): uploads at 23:53 and 00:04 the "
                                 "next day applied the other way round alert on the second day, and the first, "
                                 "now inside the episode, raises nothing (found with records moved up to 6 h)",
    "file.sensitive_downloads_before_departure": "one leaver's alert low (38) in time order, high (80) in a "
                                                 "shuffled one (E00021, alone too): a download's handover judgement "
                                                 "(an internal mail with attachments within 2 h after it) is final "
                                                 "once a record of the employee's 2 h later is applied; the mail "
                                                 "moved past that left one of 11 downloads unexplained (share 1.0, "
                                                 "not 0.91), and 11 > 10 is graded at the rule's own severity",
    "risk.employee": "follows the alerts above",
}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, Any]]:
    """A generated company (25 employees, 45 days: the fault run's kind, smaller) as (stream, rank, record)."""
    from exitwatch.generate import generate

    d: Path = tmp_path_factory.mktemp("shuffle")
    generate(d, employees=25, days=45, seed=23)

    def load(name: str, model: Any) -> list[Any]:
        return [model.model_validate_json(x) for x in (d / name).read_bytes().splitlines() if x.strip()]

    return ([("hr", 0, h) for h in load("hr.jsonl", HRRecord)] + [("signal", 1, s) for s in load("signals.jsonl", HRSignal)]
            + [("activity." + ("file" if e.kind == "print" else e.kind), 2, e)
               for e in load("events.jsonl", ActivityEvent)])


def in_order(records: list[tuple[str, int, Any]], rng: random.Random | None) -> list[tuple[str, int, Any]]:
    """Time order (replay's: ties HR, signals, events), or a shuffled one (see the module docstring)."""
    keyed, last = [], {}
    for stream, rank, obj in sorted(records, key=lambda r: (r[2].ts, r[1])):
        k = obj.ts.timestamp() + (rng.uniform(0, WINDOW_S) if rng else 0.0)
        lane = (stream, getattr(obj, "employee_id", None) or getattr(obj, "actor", ""))
        k = last[lane] = max(k, last.get(lane, k))  # one topic's records of one employee keep their order
        keyed.append((k, rank, stream, obj))
    keyed.sort(key=lambda x: (x[0], x[1]))
    return [(s, r, o) for _, r, s, o in keyed]


def alerts(order: list[tuple[str, int, Any]]) -> dict[str, tuple[str, str, float]]:
    """The last message of every alert id: (rule, severity, score)."""
    eng = build_engine(models=False)
    out: dict[str, tuple[str, str, float]] = {}

    def take(new: list[Any]) -> None:
        for a in new:
            out[a.alert_id] = (a.rule_id, a.severity, a.score)

    for _, rank, obj in order:
        take(eng.advance(obj.ts))
        take(eng.on_event(obj) if rank == 2 else eng.on_hr(obj) if rank == 0 else eng.on_signal(obj))
    take(eng.finish(max(o.ts for _, _, o in order)))
    return out


def test_alerts_do_not_depend_on_the_order_of_records_within_hours(records: list[tuple[str, int, Any]]) -> None:
    base = alerts(in_order(records, None))
    assert len(base) >= 30 and len({r for r, _, _ in base.values()}) >= 10  # many rules take part
    found: dict[str, list[str]] = {}
    for i in range(ORDERS):
        got = alerts(in_order(records, random.Random(i)))
        for aid in sorted(set(base) | set(got)):
            if base.get(aid) != got.get(aid):
                rule = (base.get(aid) or got.get(aid))[0]  # type: ignore[index]
                found.setdefault(rule, []).append(f"order {i}: {base.get(aid)} -> {got.get(aid)}")
    unknown = {r: d for r, d in found.items() if r not in KNOWN}
    assert not unknown, unknown
