"""Keeps what an alert's evidence entry needs, in the employee's detection state, and makes the entries.

The engine keeps only the ids of the events an alert may cite. The recorder keeps the events themselves in
``EmployeeState.extra["_ev"]`` (so the worker commits them with the rest of the state, through its changelog):

- ``e``: event id -> the Activity event, for every event the detection state still refers to (evidence ids
  of the rule series, sequence marks, the model's cited events), pruned as the engine forgets ids;
- ``r``: the employee's last :data:`HR_KEEP` HR records as received (with accounts and ``ts``);
- ``s``: the last :data:`SIGNALS_KEEP` handover and asset signals;
- ``c``: the head of the employee's ledger chain, ``[n, hash]``.

The same calls run in ``exitwatch replay`` and in the worker, so both write the same ledger.

>>> from detectors.state import EmployeeState, Series
>>> from schemas import ActivityEvent
>>> st = EmployeeState()
>>> ev = ActivityEvent(event_id="e1", ts="2026-03-02T09:00:00Z", kind="file", action="download", actor="a@x", source="synthetic")
>>> note_event(st, ev); sorted(st.extra["_ev"]["e"])
['e1']
>>> prune(st, force=True); st.extra["_ev"]["e"]  # nothing in the state cites e1
{}
>>> st.series["r:x"] = Series(); st.series["r:x"].add(20514, 1, "e1"); note_event(st, ev)
>>> settle(st); "e" in st.extra["_ev"], len(st.extra["_ev"]["z"]) > 0  # packed for the state's bytes
(False, True)
>>> st2 = EmployeeState.from_bytes(st.to_bytes()); as_record(_events(st2.extra["_ev"])["e1"])["action"]
'download'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import base64

import cramjam
import orjson

from detectors.models.propensity import signal_ref
from detectors.state import EmployeeState
from evidence.keys import SigningKey
from evidence.ledger import GENESIS, seal
from schemas import ActivityEvent, Alert, HRRecord, HRSignal

KEY = "_ev"
HR_KEEP = 4
SIGNALS_KEEP = 16
#: Signals that belong in a case file (handover and returned assets).
CASE_SIGNALS = frozenset({"handover_item_open", "handover_item_done", "asset_returned"})
#: Keys of ``EmployeeState.extra`` that hold no event ids.
_NO_IDS = frozenset({KEY, "d", "hh", "fs", "flagged", "pd", "rc"})
#: Events kept beyond the last prune before the next one.
SLACK = 16
_EVENT_FIELDS = tuple(ActivityEvent.model_fields)
_N_FIELDS = len(_EVENT_FIELDS)


def _box(st: EmployeeState) -> dict[str, Any]:
    box = st.extra.get(KEY)
    if box is None:
        box = st.extra[KEY] = {"e": {}, "r": [], "s": [], "c": [0, GENESIS], "k": 0}
    return box


def _events(box: dict[str, Any]) -> dict[str, Any]:
    """The kept events, unpacked if the state was written (and read back) since (:func:`settle`): each as its
    JSON bytes of exact size, as :func:`note_event` keeps them (as dicts a decoded state took 47 KB on average
    in a generated company, as bytes 26 KB: the worker keeps thousands of decoded states)."""
    z = box.pop("z", None)
    if z is not None:
        packed = orjson.loads(bytes(cramjam.lz4.decompress_block(base64.b64decode(z))))
        e = {k: bytes(bytearray(orjson.dumps(v))) for k, v in packed.items()}
        e.update(box.get("e") or ())  # events kept since (:func:`_pending`), after the packed ones, as if added then
        box["e"] = e
    return box.setdefault("e", {})  # type: ignore[no-any-return]


def _pending(box: dict[str, Any]) -> dict[str, Any]:
    """Where a new event is kept: with the others if they are unpacked, else (the state as read back or as
    committed, its kept events packed) beside the packed ones, left packed until something reads them
    (:func:`_events`; the next prune or write): a state between writes holds its kept events at a third of
    their size."""
    if "z" not in box:
        return _events(box)
    return box.setdefault("e", {})  # type: ignore[no-any-return]


def _kept_count(box: dict[str, Any]) -> int:
    """How many events are kept (packed ones counted as :func:`prune` left them: ``k``; an id kept again since
    counted twice, which can only prune sooner, and prune counts exactly)."""
    return len(box.get("e") or ()) + (box.get("k", 0) if "z" in box else 0)


def as_record(event: ActivityEvent | dict[str, Any] | bytes) -> dict[str, Any]:
    """The contract fields of ``event`` as JSON values (an enriched event's HR snapshot left out): what
    ``model_dump(mode="json", exclude_none=True)`` gives, at a fifth of the cost."""
    if isinstance(event, dict):
        return event
    if isinstance(event, bytes):
        return orjson.loads(event)  # type: ignore[no-any-return]
    src = event.__dict__
    if type(event) is ActivityEvent and len(src) == _N_FIELDS:  # the fields in declaration order (pydantic)
        d = {k: v for k, v in src.items() if v is not None}
    else:
        d = {k: src[k] for k in _EVENT_FIELDS if src.get(k) is not None}
    d["ts"] = event.ts.isoformat().replace("+00:00", "Z")
    return d


def note_event(st: EmployeeState, event: ActivityEvent) -> None:
    """Keep ``event``. Nearly every event is cited by some series for a while, so it is kept compact, as JSON
    bytes (which the garbage collector does not track: keeping the objects cost replay twice as much), and made
    a plain record only if it is still cited when the state is written (:func:`settle`) or an alert cites it."""
    box = _box(st)
    src = event.__dict__
    if type(event) is ActivityEvent and len(src) == _N_FIELDS:
        # as_record's JSON without making ``ts`` a string first: orjson writes the datetime as isoformat() with
        # "Z" for UTC (tests/streams/test_hot_path.py holds the two to the same bytes)
        raw = orjson.dumps({k: v for k, v in src.items() if v is not None}, option=orjson.OPT_UTC_Z)
    else:
        raw = orjson.dumps(as_record(event))
    # copied to its exact size: orjson's output keeps a buffer of about 4 KB behind a short record
    _pending(box)[event.event_id] = bytes(bytearray(raw))
    if _kept_count(box) > 2 * box.get("k", 0) + SLACK:
        prune(st)


def _pack(e: dict[str, Any]) -> str:
    """The kept events as stored: LZ4 of ``{id: record}`` as JSON, base64. The JSON is put together from each
    event's JSON bytes as :func:`note_event` keeps them (the same bytes ``orjson.dumps`` of the records gives,
    without decoding and encoding every event again)."""
    parts = [orjson.dumps(k) + b":" + (v if isinstance(v, bytes) else orjson.dumps(v)) for k, v in e.items()]
    return base64.b64encode(bytes(cramjam.lz4.compress_block(b"{" + b",".join(parts) + b"}"))).decode("ascii")


def settle(st: EmployeeState) -> None:
    """Before the state is serialised: drop what is no longer cited and pack the rest (LZ4 of the records as
    JSON, base64: a third of their size; the kept events would otherwise make a state four times larger, and
    LZ4 packs and unpacks them in a few microseconds). The next use unpacks them (:func:`_events`)."""
    box = st.extra.get(KEY)
    if box is None:
        return
    if "z" in box and not box.get("e"):  # settled, nothing kept since
        box.pop("e", None)
        return
    prune(st, force=True)
    e = _events(box)
    if e:
        box["z"] = _pack(e)
    del box["e"]


def stored_bytes(st: EmployeeState) -> bytes:
    """``st.to_bytes()`` as after :func:`settle`, which leaves ``st`` settled: a state kept in memory between
    writes (the worker keeps thousands) holds its kept events packed; its next events are kept beside them
    without unpacking them (:func:`note_event`)."""
    box = st.extra.get(KEY)
    if box is not None and ("z" not in box or box.get("e")):
        settle(st)
    return st.to_bytes()


def note_hr(st: EmployeeState, record: HRRecord) -> None:
    box = _box(st)
    d = record.model_dump(mode="json", exclude_none=True)
    if d not in box["r"]:
        box["r"].append(d)
        box["r"].sort(key=lambda r: r["ts"])
        del box["r"][:-HR_KEEP]


def note_signal(st: EmployeeState, signal: HRSignal) -> None:
    """Keep ``signal`` as possible evidence (the propensity model cites signals as ``signal:<name>:<ts>``;
    pruned like events once nothing cites it) and, if it is a handover or asset signal, for the case file."""
    box = _box(st)
    ref = signal_ref(signal)
    _pending(box)[ref] = bytes(bytearray(orjson.dumps({"ref": ref, **signal.model_dump(mode="json", exclude_none=True)})))
    if signal.signal not in CASE_SIGNALS:
        return
    box["s"].append(signal.model_dump(mode="json", exclude_none=True))
    del box["s"][:-SIGNALS_KEEP]


def _strings(obj: Any, out: set[str]) -> None:
    if isinstance(obj, str):
        out.add(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _strings(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _strings(v, out)


def referenced(st: EmployeeState, among: Any = None) -> set[str]:
    """Every event id the detection state may still cite in an alert (with ``among``: those of ``among`` that it
    may cite, found in the models' state by a substring search of its JSON, much faster than walking it)."""
    ids: set[str] = set()
    for s in st.series.values():
        ids.update(s.ev[1::2])
    for marks in st.marks.values():
        ids.update(m[1] for m in marks if len(m) > 1 and isinstance(m[1], str))
    rest = {k: v for k, v in st.extra.items() if k not in _NO_IDS}
    if among is None:
        _strings(rest, ids)
    elif rest:
        blob = orjson.dumps(rest).decode()
        ids.update(i for i in among if i not in ids and f'"{i}"' in blob)
    return ids


def prune(st: EmployeeState, force: bool = False) -> None:
    """Drop kept events the detection state no longer refers to."""
    box = st.extra.get(KEY)
    if box is None or (not force and len(_events(box)) <= 2 * box.get("k", 0) + SLACK):
        return
    kept = _events(box)
    ref = referenced(st, kept)
    box["e"] = {k: v for k, v in kept.items() if k in ref}
    box["k"] = len(box["e"])


def _hr_now(st: EmployeeState) -> dict[str, Any] | None:
    if st.hr is None:
        return None
    return {k: v for k, v in st.hr.items() if not k.startswith("_")}


def entries(st: EmployeeState, alerts: Iterable[Alert], key: SigningKey) -> list[dict[str, Any]]:
    """The signed ledger entries of ``alerts`` (all of this state's employee), advancing the chain head."""
    out = []
    box = _box(st)
    for a in alerts:
        kept = _events(box)
        cited = [as_record(kept[i]) for i in a.evidence if i in kept]
        missing = [i for i in a.evidence if i not in kept]
        alert = a.model_dump(mode="json")
        body: dict[str, Any] = {
            "type": "alert",
            "employee_id": a.employee_id,
            "ts": alert["ts"],
            "rule": {"id": a.rule_id, "version": a.rule_version},
            "alert": alert,
            "hr": _hr_now(st),
            "hr_records": list(box["r"]),
            "evidence": cited,
            "missing_evidence": missing,
            "signals": list(box["s"]),
        }
        n, prev = box["c"]
        e = seal(body, n + 1, prev, key)
        box["c"] = [n + 1, e["hash"]]
        out.append(e)
    return out


class Recorder:
    """Drives the recorder beside an :class:`~detectors.engine.Engine`: call :meth:`after` with each input record
    right after the engine has processed it and with the alerts it returned; get the ledger entries back."""

    def __init__(self, engine: Any, key: SigningKey) -> None:
        self.engine = engine
        self.key = key

    def state_of(self, emp: str) -> EmployeeState | None:
        return self.engine.store.get(emp)

    def after(self, record: Any, alerts: list[Alert], emp: str | None = None) -> list[dict[str, Any]]:
        if emp is not None or record is None:  # None: alerts no input record made (the end of a replay)
            pass
        elif isinstance(record, ActivityEvent):
            emp = record.employee_id or self.engine.resolve(record)
        else:
            emp = record.employee_id
        st = self.state_of(emp) if emp else None
        out: list[dict[str, Any]] = []
        if st is not None:
            if isinstance(record, ActivityEvent):
                note_event(st, record)
            elif isinstance(record, HRRecord):
                note_hr(st, record)
            elif isinstance(record, HRSignal):
                note_signal(st, record)
        by_emp: dict[str, list[Alert]] = {}
        for a in alerts:
            by_emp.setdefault(a.employee_id, []).append(a)
        for e, group in by_emp.items():
            s = st if e == emp and st is not None else self.state_of(e)
            if s is None:
                continue
            out += entries(s, group, self.key)
        if st is not None and isinstance(record, ActivityEvent) and KEY in st.extra:
            prune(st)
        return out
