"""The worker's state path gives replay's alerts however often its cache lets states go.

The transactional worker keeps each employee's state as bytes with a bounded cache of decoded states
(streams/tx/store.py, ``EXITWATCH_TX_STATE_CACHE``); a state that left the cache is decoded again from its
bytes. Replay keeps every state decoded. Both give the same alerts only if a state held in memory is exactly
what decoding its bytes gives (the baselines and the risk score are rounded to the stored precision at every
fold, not only when written: detectors/state.py ``MEAN_DIGITS``). Checked here on a generated company, rules
and models: after every record, every state the record touched against its bytes decoded; and replay against
the engine on the worker's store with a cache of 3 states (far fewer than the active employees), committing
after every record and in batches, whole alerts compared.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from detectors.engine import DictStore
from detectors.factory import build_engine
from detectors.replay import run
from detectors.state import DayMap, EmployeeState, Series
from exitwatch.generate import generate
from streams.tx.store import StateStore


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str], list[str]]:
    d = tmp_path_factory.mktemp("company")
    generate(d, employees=20, days=45, seed=5)
    return [str(d / "hr.jsonl")], [str(d / "signals.jsonl")], [str(d / "events.jsonl")]


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ, dict order and sequence types included (an engine iterating a dict in
    another order can pick another day on a tie)."""
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return [x for f in dataclasses.fields(a) for x in differences(getattr(a, f.name), getattr(b, f.name),
                                                                       f"{path}.{f.name}")]
    if isinstance(a, DayMap) and isinstance(b, DayMap):  # (always in day order: compared as its pairs)
        return differences(list(a.items()), list(b.items()), path)
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)[:6]} != {list(b)[:6]}"]
        return [x for k in a for x in differences(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return [f"{path}: {a!r:.80} != {b!r:.80}"]
        return [x for i, (p, q) in enumerate(zip(a, b)) for x in differences(p, q, f"{path}[{i}]")]
    if a != b or (type(a) is not type(b) and not {type(a), type(b)} <= {int, float}):
        return [f"{path}: {a!r:.80} != {b!r:.80}"]
    return []


def test_differences_sees_a_baseline_off_in_its_fifth_decimal_and_a_dict_in_another_order() -> None:
    s = Series({1: 2, 2: 3}, mean=0.5)
    assert differences(s, Series({1: 2, 2: 3}, mean=0.50001))
    assert differences({1: 2, 2: 3}, {2: 3, 1: 2})
    assert not differences(s, Series({1: 2, 2: 3}, mean=0.5))
    # a series' days are a DayMap since s12-mem: in day order whatever the order they were given in
    assert not differences(s, Series({2: 3, 1: 2}, mean=0.5))


class _Watched(DictStore):
    def __init__(self) -> None:
        super().__init__()
        self.touched: set[str] = set()

    def put(self, employee_id: str, state: EmployeeState) -> None:
        super().put(employee_id, state)
        self.touched.add(employee_id)


def test_every_state_held_in_memory_is_what_its_bytes_decode_to(company: Any) -> None:
    store = _Watched()
    engine = build_engine(store=store)
    found: list[str] = []
    checked = [0]

    def after(_: Any, __: Any) -> None:
        for emp in store.touched:
            st = store.data[emp]
            checked[0] += 1
            if len(found) < 5:
                found.extend(f"{emp}{d}" for d in differences(st, EmployeeState.from_bytes(st.to_bytes()))[:2])
        store.touched.clear()

    run(engine, *company, on_alert=lambda a: None, on_bad=lambda d: None, after=after)
    assert checked[0] > 5_000
    assert not found, found


def _alerts(company: Any, store: Any = None, commit_every: int = 0) -> list[dict[str, Any]]:
    engine = build_engine(store=store)
    engine.finish = lambda ts: []  # type: ignore[method-assign]  # (the end of the files: replay's alone)
    out: list[dict[str, Any]] = []
    n = [0]

    def after(_: Any, __: Any) -> None:
        n[0] += 1
        if commit_every and n[0] % commit_every == 0:
            store.committed_changes(store.changes())  # as the worker's transaction does

    run(engine, *company, on_alert=lambda a: out.append(a.model_dump(mode="json")), on_bad=lambda d: None,
        after=after)
    return out


@pytest.mark.parametrize("commit_every", [1, 37])
def test_the_worker_state_path_with_a_cache_of_three_states_raises_replays_alerts(company: Any,
                                                                                    commit_every: int) -> None:
    replay = _alerts(company)
    store = StateStore(lambda emp: 0, cache_size=3)
    worker = _alerts(company, store, commit_every)
    assert len(store) > 15 and len(store._live) <= 3 + commit_every  # the cache held a few of them at a time
    assert len(replay) > 10
    key = ("alert_id", "severity", "score")
    assert [[a[k] for k in key] for a in worker] == [[a[k] for k in key] for a in replay]
    assert [a for a in worker if a not in replay] == []  # whole alerts: explanation and evidence too
    assert worker == replay
