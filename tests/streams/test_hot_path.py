"""The worker's hot-path shortcuts give exactly what the slower forms they replace give (issue 15's speed work):
the enriched record's JSON, the stored form of a state with its kept evidence, and the store's changes."""

from __future__ import annotations

import random
from typing import Any

import orjson

from detectors.state import EmployeeState, Series
from evidence.recorder import _events, as_record, note_event, settle, stored_bytes
from schemas import ActivityEvent, EnrichedEvent
from schemas.guard import check_record
from streams.tx.process import event_json
from streams.tx.store import StateStore

TIMES = ["2026-03-02T09:15:00Z", "2026-03-02T09:15:00.123Z", "2026-03-02T09:15:00.000001+00:00",
         "2026-03-02T23:59:59.999999+02:00", "2026-03-02T09:15:00-05:30", "2026-02-28T00:00:00+14:00"]
OPTIONAL: dict[str, list[Any]] = {
    "employee_id": [None, "E1", "Ünïcode-é"],
    "host": [None, "PC-1", "host\u200bwith\u2028odd"],
    "object": [None, "/a/b.docx", 'quote " and \\ backslash', "a\x1b[2Jb.doc"],
    "bytes": [None, 0, 2**63 - 1, 123456789],
    "count": [None, 0, 7],
    "sensitivity": [None, "public", "restricted"],
    "recipients": [[], ["a@x.com"], ["a@x.com", "b@gmail.com", "ç@ü.de"]],
    "destination": [None, "gmail.com"],
    "external": [None, True, False],
    "personal": [None, True, False],
    "duration_s": [None, 0, 1.5, 3, 1e-7, 12345.678901],
    "attrs": [{}, {"category": "job_search"}, {"n": [1, 2.5, None, {"x": "y"}], "t": True, "big": 10**18},
              {"sanitized": ["object"], "f": -0.0}],
}


def events(n: int, seed: int = 7) -> list[ActivityEvent]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        d: dict[str, Any] = {"event_id": f"src:{i}", "ts": rnd.choice(TIMES), "kind": "file", "action": "download",
                             "actor": "ann@corp.example", "source": "m365"}
        for k, vals in OPTIONAL.items():
            v = rnd.choice(vals)
            if v is not None or rnd.random() < 0.5:  # absent and explicitly null both
                d[k] = v
        ev = ActivityEvent.model_validate_json(orjson.dumps(d))
        out.append(check_record(ev))  # the guard may clean text and add attrs, as in the worker
    return out


def test_event_json_is_the_model_dump_in_json_form() -> None:
    for ev in events(400):
        fast = orjson.dumps(event_json(ev), option=orjson.OPT_UTC_Z)
        assert fast == orjson.dumps(ev.model_dump(mode="json")), ev


def test_event_json_keeps_the_enriched_fields_where_the_worker_puts_them() -> None:
    ev = events(1)[0]
    d = event_json(ev)
    d["employee_id"], d["employee"] = "E9", {"status": "notice"}
    ref = ev.model_dump(mode="json")
    ref["employee_id"], ref["employee"] = "E9", {"status": "notice"}
    assert orjson.dumps(d, option=orjson.OPT_UTC_Z) == orjson.dumps(ref)


def test_event_json_and_as_record_fast_paths_give_the_field_by_field_forms() -> None:
    """A plain event's dict is copied whole (pydantic keeps the fields in declaration order): the same keys, in
    the same order, with the same values as the field-by-field forms, for events decoded from JSON with fields
    absent, null, in any order, and after the guard and a model_copy; an enriched event keeps its snapshot out
    of the evidence record."""
    fields = tuple(ActivityEvent.model_fields)
    evs = events(300, seed=5)
    rnd = random.Random(5)
    shuffled = []
    for ev in evs[:100]:  # the same records with their JSON keys in another order
        d = orjson.loads(orjson.dumps(ev.model_dump(mode="json")))
        keys = list(d)
        rnd.shuffle(keys)
        shuffled.append(ActivityEvent.model_validate_json(orjson.dumps({k: d[k] for k in keys})))
    copies = [ev.model_copy(update={"personal": True, "attrs": {**ev.attrs, "personal_by": "detector"}})
              for ev in evs[:50]]
    for ev in evs + shuffled + copies:
        src = ev.__dict__
        slow = {k: src[k] for k in fields}
        fast = event_json(ev)
        assert list(fast.items()) == list(slow.items()), ev
        slow_rec = {k: src[k] for k in fields if src.get(k) is not None}
        slow_rec["ts"] = ev.ts.isoformat().replace("+00:00", "Z")
        assert orjson.dumps(as_record(ev)) == orjson.dumps(slow_rec), ev
        st = EmployeeState()
        note_event(st, ev)  # the kept bytes: as_record's JSON, written without the string step
        assert st.extra["_ev"]["e"][ev.event_id] == orjson.dumps(slow_rec), ev
    enriched = EnrichedEvent.model_validate_json(orjson.dumps({**evs[0].model_dump(mode="json"),
                                                               "employee": {"status": "notice"}}))
    assert "employee" not in as_record(enriched) and "employee" not in event_json(enriched)
    assert as_record(enriched) == as_record(evs[0])


def state_with_evidence(n: int) -> EmployeeState:
    st = EmployeeState()
    s = st.series["r:x"] = Series()
    for i, ev in enumerate(events(n, seed=3)):
        s.add(20514 + i // 5, 1, ev.event_id, cap=8)
        note_event(st, ev)
    return st


def test_stored_bytes_is_what_settle_then_to_bytes_gives_and_leaves_the_events_packed() -> None:
    a, b = state_with_evidence(40), state_with_evidence(40)
    settle(a)
    want = a.to_bytes()
    assert stored_bytes(b) == want
    assert "e" not in b.extra["_ev"] and b.extra["_ev"]["z"]  # packed in memory too (a third of the size)
    assert b.extra["_ev"]["k"] == 8  # pruned to the cited
    assert stored_bytes(b) == want  # and again, unchanged
    # read back, the kept events are the same records either way
    restored = EmployeeState.from_bytes(want)
    assert _events(restored.extra["_ev"]) == _events(b.extra["_ev"])  # read back as the same JSON bytes
    assert len(_events(b.extra["_ev"])) == 8
    assert stored_bytes(restored) == want  # and written again, the same state bytes


def test_events_kept_beside_packed_ones_give_the_bytes_of_unpacking_first() -> None:
    """A settled state's next events are kept beside its packed ones (not unpacking them); what it writes, when
    it prunes and what an alert reads are those of a state that unpacked them first (the former way)."""
    from evidence.recorder import _pending, prune

    more = events(60, seed=11)
    lazy, eager = state_with_evidence(30), state_with_evidence(30)
    stored_bytes(lazy), stored_bytes(eager)
    pruned_at = []
    for i, ev in enumerate(more):
        for st in (lazy, eager):
            st.series["r:x"].add(20530 + i // 7, 1, ev.event_id, cap=8)
        _events(eager.extra["_ev"])  # the former way: unpack, then keep
        note_event(eager, ev)
        note_event(lazy, ev)
        if "z" not in lazy.extra["_ev"]:  # a prune read them (it counts packed ones as k)
            pruned_at.append(i)
            assert _events(lazy.extra["_ev"]) == _events(eager.extra["_ev"])
            assert stored_bytes(lazy) == stored_bytes(eager)
    assert pruned_at and len(pruned_at) < len(more)  # kept beside the packed ones in between
    assert "z" in lazy.extra["_ev"] and _pending(lazy.extra["_ev"])  # some kept since the last write
    assert stored_bytes(lazy) == stored_bytes(eager)
    prune(lazy, force=True), prune(eager, force=True)
    assert _events(lazy.extra["_ev"]) == _events(eager.extra["_ev"])


def test_stored_bytes_of_a_state_read_back_and_extended() -> None:
    a = state_with_evidence(20)
    st = EmployeeState.from_bytes(stored_bytes(a))  # events come back as JSON bytes, as new ones are kept
    st2 = EmployeeState.from_bytes(stored_bytes(a))
    more = events(6, seed=11)
    for ev in more:
        st.series["r:x"].add(20530, 1, ev.event_id, cap=8)
        st2.series["r:x"].add(20530, 1, ev.event_id, cap=8)
        note_event(st, ev)
        note_event(st2, ev)
    settle(st2)
    assert stored_bytes(st) == st2.to_bytes()


def test_store_changes_leave_live_states_usable() -> None:
    store = StateStore(lambda emp: 0)
    st = state_with_evidence(30)
    store.put("E1", st)
    (emp, part, raw), = store.changes()
    store.committed_changes([(emp, part, raw)])
    assert store.get("E1") is st and "z" in st.extra["_ev"]  # its kept events packed while it waits
    assert EmployeeState.from_bytes(raw).to_bytes() == raw


def test_store_changes_hold_no_more_than_their_bytes() -> None:
    """A batch's state changes wait for its commit: each is its bytes, not orjson's larger output buffer."""
    import tracemalloc

    store = StateStore(lambda emp: 0)
    for i in range(20):
        store.put(f"E{i}", state_with_evidence(30))
    store.committed_changes(store.changes())  # settled: their evidence packed
    for i in range(20):
        store.put(f"E{i}", store.get(f"E{i}"))  # written again
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        changes = store.changes()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    size = sum(len(raw) for _, _, raw in changes)
    assert held < 1.2 * size + 4096, (held, size)


# ------------------------------------------------------------------ committed states in a local file
def test_store_with_a_local_file_commits_rolls_back_and_evicts_like_the_dict(tmp_path: Any) -> None:
    path = str(tmp_path / "w" / "tx-states.db")
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "tx-states.db").write_bytes(b"left by a previous run")  # a cache: emptied when opened
    s = StateStore(lambda emp: int(emp[1:]) % 2, cache_size=2, path=path)
    states = {}
    for i in range(5):
        st = EmployeeState()
        st.extra["x"] = i
        s.put(f"E{i}", st)
        states[f"E{i}"] = st.to_bytes()
    s.committed_changes(s.changes())
    assert len(s) == 5 and s.committed["E3"] == states["E3"] and len(s._live) <= 5
    for i in range(5):  # evicted ones come back from the file
        got = s.get(f"E{i}")
        assert got is not None and got.extra["x"] == i
    st = s.get("E1")
    st.extra["x"] = 99
    s.put("E1", st)
    s.rollback()
    assert s.get("E1").extra["x"] == 1  # back to the committed bytes in the file
    s.load("E2", 0, None)
    assert s.get("E2") is None and "E2" not in s.committed and len(s) == 4
    assert s.drop_partitions({1}) == 2 and s.get("E3") is None and s.get("E0") is not None and len(s) == 2
    s.drop_all()
    assert len(s) == 0 and len(s.committed) == 0
    s.close()
    assert not (tmp_path / "w" / "tx-states.db").exists()

