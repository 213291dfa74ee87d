"""One input guard for the connectors, ``exitwatch replay`` and the worker: sizes, depth, numbers, strings and
times, with the same named reasons everywhere.

Every rejection is a :class:`GuardError` (a ``ValueError``) whose text starts with one of :data:`REASONS`
followed by ``": "`` and the detail, so a dead letter written by a connector, by replay or by the worker
names the same reason, and :func:`schemas.reasons.reason_category` turns it into the same metric label.

* size: a record over ``max_record_bytes`` is ``too_large`` (callers read lines with a limit, never whole);
* depth: containers nested deeper than ``max_json_depth`` are ``too_deep``;
* numbers: every integer must fit a signed 64-bit integer (what orjson, Kafka consumers and the JSON Schema
  consumers can hold), ``bytes``/``count`` must also be >= 0; anything else is ``number_out_of_range``;
  numbers written with thousands of digits are judged by their length, never converted (``int()`` refuses
  more than 4,300 digits);
* strings: an id (``event_id``, ``actor``, ``employee_id``, HR accounts) holding a control character or a
  terminal escape is ``bad_string``; one holding U+FFFD (a byte that was not UTF-8, replaced on decoding)
  is ``bad_bytes``. Free text (object, host, titles...) is cleaned instead: escapes and control characters
  are removed and the event says so in ``attrs["sanitized"]``; free text with U+FFFD is listed in
  ``attrs["bad_bytes"]`` (never silently);
* times: a record before ``min_ts`` or after the window's end is ``ts_out_of_window``. The worker's window
  ends at its clock plus ``max_future_skew_s``; replay's ends at the inputs' own span plus the same skew.

>>> to_int("18446744073709551616", "bytes")
Traceback (most recent call last):
...
schemas.guard.GuardError: number_out_of_range: bytes = 18446744073709551616 is outside 0..9223372036854775807
>>> to_int("1" * 5000, "size")
Traceback (most recent call last):
...
schemas.guard.GuardError: number_out_of_range: size has 5000 digits (at most 19 fit)
>>> to_int("12.0", "count"), to_int("", "count"), to_int("n/a", "count"), to_int(-1, "count")
(12, None, None, None)
>>> clean_text("report\\x1b[31m.pdf\\x07"), has_control("ann\\x1b]0;x\\x07@corp")
('report.pdf', True)
>>> json_depth({"a": [{"b": [1]}]})
4
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time

import orjson
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The named reasons of the guard (the first word of every reason it gives).
REASONS = ("too_large", "too_deep", "number_out_of_range", "bad_bytes", "bad_string", "ts_out_of_window")

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
#: Defaults (the settings ``max_record_bytes``, ``max_json_depth``, ``max_future_skew_s`` override them).
MAX_RECORD_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
MAX_FUTURE_SKEW_S = 3600.0
#: Records stamped before this are out of any window (hostile or broken clocks: 1970, year 1).
MIN_TS = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)

_UTC = dt.timezone.utc
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and two-byte ESC sequences; then any C0/C1 control or DEL.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # free text keeps tabs and newlines
_NUMBER = re.compile(r"[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?")


class GuardError(ValueError):
    """A record the guard refuses; ``code`` is one of :data:`REASONS`, ``str(self)`` the full reason."""

    def __init__(self, code: str, detail: str) -> None:
        assert code in REASONS, code
        super().__init__(f"{code}: {detail}")
        self.code = code


def reason_code(reason: str) -> str | None:
    """The guard reason a dead-letter reason starts with (after an optional ``where: `` prefix), or None.

    >>> reason_code("replay:events.jsonl:3: number_out_of_range: count = 10 ** 30"), reason_code("invalid JSON")
    ('number_out_of_range', None)
    """
    for code in REASONS:
        i = reason.find(code + ":")
        if i == 0 or (i > 0 and reason[i - 1] == " "):
            return code
    return None


# ------------------------------------------------------------------------------------------------ sizes
def check_size(n: int, limit: int = MAX_RECORD_BYTES) -> None:
    if n > limit:
        raise GuardError("too_large", f"record of {n} bytes (limit {limit}); split it or raise max_record_bytes")


def json_depth(obj: Any, limit: int | None = None) -> int:
    """Nesting depth of a JSON value (a scalar is 0); stops early once past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            o = o.values()
        elif not isinstance(o, list):
            continue
        d += 1
        if d > deepest:
            deepest = d
            if limit is not None and d > limit:
                return d
        stack.extend((c, d) for c in o if isinstance(c, (dict, list)))
    return deepest


# ---------------------------------------------------------------------------------------------- numbers
def to_int(value: Any, field: str, lo: int = 0, hi: int = INT64_MAX) -> int | None:
    """An int for ``field`` from ``12``, ``"12"``, ``"12.0"``, ``12.0``, ``"1e3"``; None when the value is
    empty, not a number or below ``lo`` (sources write -1 for "unknown"); :class:`GuardError` when it is a
    number above ``hi`` (or not finite), judged without converting numbers of thousands of digits."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value) or value > hi:
            if value < 0:
                return None
            raise GuardError("number_out_of_range", f"{field} = {value!r} is outside {lo}..{hi}")
        n = int(value)
    elif isinstance(value, (str, bytes)):
        s = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        s = s.strip().replace("_", "x")
        m = _NUMBER.fullmatch(s)
        if m is None or not (m.group(1) or m.group(2)):
            return None
        if s.startswith("-"):
            return None if lo >= 0 else _parse_small(s, field, lo, hi)
        whole = m.group(1).lstrip("0")
        exp = int(m.group(3) or 0)
        digits = len(whole) + exp if whole else exp
        if digits > 19:
            if m.group(3) is None and len(whole) > 40:
                raise GuardError("number_out_of_range", f"{field} has {len(whole)} digits (at most 19 fit)")
            raise GuardError("number_out_of_range", f"{field} = {s[:40]} is outside {lo}..{hi}")
        n = _parse_small(s, field, lo, hi)
    else:
        return None
    if n < lo:
        return None
    if n > hi:
        raise GuardError("number_out_of_range", f"{field} = {n} is outside {lo}..{hi}")
    return n


def _parse_small(s: str, field: str, lo: int, hi: int) -> int:
    try:
        return int(s)
    except ValueError:
        f = float(s)
        if math.isinf(f) or math.isnan(f):
            raise GuardError("number_out_of_range", f"{field} = {s[:40]} is outside {lo}..{hi}") from None
        return int(f)


def check_value(obj: Any, where: str = "record", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Every integer inside a JSON value fits int64, no float is infinite, no string holds an unpaired
    surrogate (which no UTF-8 writer can encode) and nothing is nested deeper than ``max_depth``.

    The common case costs one ``orjson.dumps`` in C; the walk in Python only runs when that output hints
    at a problem (an error, 19 digits in a row, "Infinity"-like nulls from floats, or many brackets)."""
    try:
        out = orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):
        out = None
    if out is not None and out.count(b"[") + out.count(b"{") <= max_depth and not _LONG_DIGITS.search(out) \
            and (b"null" not in out or not _has_float(obj)):
        return
    _check_value_slow(obj, where, max_depth)


_LONG_DIGITS = re.compile(rb"\d{19,}")


def _has_float(obj: Any) -> bool:
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, float):
            return True
        if isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return False


def _check_value_slow(obj: Any, where: str, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            if d >= max_depth:
                raise GuardError("too_deep", f"{where} is nested more than {max_depth} levels deep")
            if isinstance(o, dict):
                for k in o:
                    if isinstance(k, str) and _unencodable(k):
                        raise GuardError("bad_bytes", f"a key in {where} is not valid UTF-8")
                stack.extend((v, d + 1) for v in o.values())
            else:
                stack.extend((v, d + 1) for v in o)
        elif isinstance(o, bool) or o is None:
            continue
        elif isinstance(o, int):
            if o > INT64_MAX or o < INT64_MIN:
                raise GuardError("number_out_of_range", f"a number in {where} does not fit 64 bits "
                                 f"({len(str(abs(o))) if abs(o).bit_length() < 14000 else 'thousands of'} digits)")
        elif isinstance(o, float):
            if math.isinf(o):
                raise GuardError("number_out_of_range", f"a number in {where} is infinite")
        elif isinstance(o, str) and _unencodable(o):
            raise GuardError("bad_bytes", f"a string in {where} is not valid UTF-8")


def _has_replacement(v: Any) -> bool:
    if isinstance(v, str):
        return "\ufffd" in v
    return isinstance(v, list) and any(isinstance(x, str) and "\ufffd" in x for x in v)


def _unencodable(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# ---------------------------------------------------------------------------------------------- strings
def has_control(s: str) -> bool:
    """True when ``s`` holds a control character (C0, DEL, C1), which includes every terminal escape."""
    return _CONTROL.search(s) is not None


def clean_text(s: str) -> str:
    """``s`` without terminal escape sequences and control characters (tabs and line breaks are kept)."""
    if not _TEXT_CONTROL.search(s):
        return s
    s = _ESCAPES.sub("", s)
    return _TEXT_CONTROL.sub("", s)


_ID_SUSPECT = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")


def check_id(value: str | None, field: str) -> None:
    """An identifier must be printable text: ``bad_string`` for control characters and escapes, ``bad_bytes``
    for U+FFFD (a byte that was not UTF-8, replaced when the line was decoded)."""
    if not value or _ID_SUSPECT.search(value) is None:
        return
    if _CONTROL.search(value):
        raise GuardError("bad_string", f"{field} holds control characters or a terminal escape: "
                         f"{clean_text(value)[:80]!r}")
    if "\ufffd" in value or _unencodable(value):
        raise GuardError("bad_bytes", f"{field} holds bytes that are not UTF-8: {value[:80]!r}")


def clean_fields(obj: Any, fields: Iterable[str]) -> list[str]:
    """Clean the free-text ``fields`` of a model in place; the names of those that changed."""
    changed = []
    for f in fields:
        v = getattr(obj, f, None)
        if isinstance(v, str):
            c = clean_text(v)
            if c != v:
                setattr(obj, f, c)
                changed.append(f)
        elif isinstance(v, list) and any(isinstance(x, str) and _TEXT_CONTROL.search(x) for x in v):
            setattr(obj, f, [clean_text(x) if isinstance(x, str) else x for x in v])
            changed.append(f)
    return changed


# ----------------------------------------------------------------------------------------------- records
_EVENT_TEXT = ("host", "object", "destination", "recipients")
_HR_TEXT = ("department", "role", "manager_id")


def check_record(obj: Any, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Check one contract record (Activity event, enriched event, HR record or signal) in place and return
    it: ids, numbers and depth must pass (:class:`GuardError` otherwise); free text is cleaned and, for an
    event, the cleaned fields are listed in ``attrs["sanitized"]``.

    >>> from schemas.models import ActivityEvent
    >>> ev = ActivityEvent(event_id="e", ts="2026-03-02T09:15:00Z", kind="crm", action="export", actor="ann",
    ...                    source="s", count=10**30)
    >>> check_record(ev)
    Traceback (most recent call last):
    ...
    schemas.guard.GuardError: number_out_of_range: count = 1000000000000000000000000000000 is outside 0..9223372036854775807
    >>> ev = ActivityEvent(event_id="e", ts="2026-03-02T09:15:00Z", kind="file", action="open", actor="ann",
    ...                    source="s", object="a\\x1b[2Jb.doc")
    >>> check_record(ev).object, ev.attrs
    ('ab.doc', {'sanitized': ['object']})
    """
    kind = type(obj).__name__
    if kind in ("ActivityEvent", "EnrichedEvent"):
        ids = (obj.event_id, obj.actor, obj.employee_id, obj.source)
        text = " ".join(x for x in (*ids, obj.host, obj.object, obj.destination, *obj.recipients) if x)
        clean = _ID_SUSPECT.search(text) is None  # the common case: one search for ids and free text
        if not clean:
            for f, v in zip(("event_id", "actor", "employee_id", "source"), ids):
                check_id(v, f)
        for f in ("bytes", "count"):
            v = getattr(obj, f)
            if v is not None and v > INT64_MAX:
                raise GuardError("number_out_of_range", f"{f} = {v} is outside 0..{INT64_MAX}"
                                 if v.bit_length() < 14000 else f"{f} has thousands of digits")
        if obj.duration_s is not None and math.isinf(obj.duration_s):
            raise GuardError("number_out_of_range", "duration_s is infinite")
        if obj.attrs:
            check_value(obj.attrs, "attrs", max_depth)
        if clean:
            return obj
        changed = clean_fields(obj, _EVENT_TEXT)
        if changed:
            prev = obj.attrs.get("sanitized")
            obj.attrs["sanitized"] = sorted(set(changed) | set(prev if isinstance(prev, list) else []))
        replaced = [f for f in _EVENT_TEXT if _has_replacement(getattr(obj, f))]
        if replaced:  # bytes that were not UTF-8, replaced by U+FFFD when the line was decoded: said, not hidden
            obj.attrs["bad_bytes"] = replaced
    elif kind == "HRRecord":
        check_id(obj.employee_id, "employee_id")
        for a in obj.accounts:
            check_id(a, "accounts")
        clean_fields(obj, _HR_TEXT)
    elif kind == "HRSignal":
        check_id(obj.employee_id, "employee_id")
        v = obj.value
        if isinstance(v, int) and not isinstance(v, bool) and (v > INT64_MAX or v < INT64_MIN):
            raise GuardError("number_out_of_range", "value does not fit 64 bits")
        if isinstance(v, float) and math.isinf(v):
            raise GuardError("number_out_of_range", "value is infinite")
        if isinstance(v, str):
            obj.value = clean_text(v)
    return obj


# ------------------------------------------------------------------------------------------------- times
@dataclass(frozen=True)
class TsWindow:
    """Times a record may carry: from ``lo`` to ``hi``; ``basis`` says where the end comes from."""

    lo: dt.datetime
    hi: dt.datetime
    basis: str = "clock"

    def check(self, ts: dt.datetime) -> None:
        if ts < self.lo:
            raise GuardError("ts_out_of_window", f"ts {ts.isoformat()} is before {self.lo.isoformat()}")
        if ts > self.hi:
            raise GuardError("ts_out_of_window", f"ts {ts.isoformat()} is after {self.hi.isoformat()} "
                             f"({self.basis}); raise max_future_skew_s if your clocks differ this much")

    def reason(self, ts: dt.datetime) -> str | None:
        try:
            self.check(ts)
        except GuardError as e:
            return str(e)
        return None


def clock_window(now: float | None = None, skew_s: float = MAX_FUTURE_SKEW_S, lo: dt.datetime = MIN_TS) -> TsWindow:
    """The worker's (and a connector's) window: ``lo`` up to the processing clock plus ``skew_s``."""
    t = time.time() if now is None else now
    return TsWindow(lo, dt.datetime.fromtimestamp(t + skew_s, _UTC), f"clock + {skew_s:g} s")


def span_window(day_counts: Mapping[int, int], gap_days: int = 30, skew_s: float = MAX_FUTURE_SKEW_S,
                lo: dt.datetime = MIN_TS) -> TsWindow | None:
    """Replay's window from the inputs' own span: ``day_counts`` maps a day number (days since 1970) to
    how many records carry it. The span is the run of days around the busiest day in which no two
    neighbouring days with records lie more than ``gap_days`` apart; a lone record in 2099 or 9999 lies
    outside it. The window ends ``skew_s`` after the span's last day; None when there are no days.

    >>> w = span_window({20500: 10, 20501: 12, 20530: 3, 47482: 1})
    >>> w.hi.date().isoformat(), w.basis
    ('2026-03-19', 'the inputs end 2026-03-18 + 3600 s')
    """
    days = sorted(d for d, n in day_counts.items() if n > 0)
    if not days:
        return None
    busiest = max(days, key=lambda d: day_counts[d])
    i = days.index(busiest)
    j = i
    while j + 1 < len(days) and days[j + 1] - days[j] <= gap_days:
        j += 1
    end = dt.datetime.fromtimestamp((days[j] + 1) * 86400, _UTC)
    hi = end + dt.timedelta(seconds=skew_s)
    return TsWindow(lo, hi, f"the inputs end {(end - dt.timedelta(days=1)).date().isoformat()} + {skew_s:g} s")




# ------------------------------------------------------------------------------------------- decode path
def validation_reason(exc: Exception) -> str:
    """A one-line reason naming the fields at fault of a pydantic ``ValidationError`` (or any error)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for err in errors()[:5]:
            loc = ".".join(str(x) for x in err["loc"]) or "record"
            parts.append(f"{loc}: {err['msg']}")
        return "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


_UTC, _ZERO = dt.timezone.utc, dt.timedelta(0)


def decode_record(raw: bytes | str, model: Any, *, window: TsWindow | None = None,
                  max_bytes: int = MAX_RECORD_BYTES, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, str | None]:
    """The one decode path of a JSON record of ``model`` (a pydantic contract model) for replay and the
    worker's engines: ``(record, None)`` for a record that passes size, validation, :func:`check_record` and
    ``window`` (default: the clock window), else ``(None, reason)``. Call it from any consumer loop.

    >>> from schemas.models import ActivityEvent
    >>> raw = b'{"event_id":"e","ts":"2099-01-01T00:00:00Z","kind":"file","action":"open","actor":"a","source":"s"}'
    >>> decode_record(raw, ActivityEvent)[1][:60]
    'ActivityEvent record: ts_out_of_window: ts 2099-01-01T00:00:'
    """
    name = getattr(model, "__name__", "record")
    if len(raw) > max_bytes:
        return None, f"{name} record: too_large: record of {len(raw)} bytes (limit {max_bytes})"
    try:
        obj = model.model_validate_json(raw)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        why = validation_reason(exc)
        if "number out of range" in why:  # the JSON parser's own limit (thousands of digits): the same reason
            return None, f"{name} record: number_out_of_range: a number with too many digits ({why[:200]})"
        if "recursion limit" in why:
            return None, f"{name} record: too_deep: nested past the JSON parser's limit ({why[:200]})"
        return None, f"invalid {name} record: {why}"
    try:
        check_record(obj, max_depth)
        (window or clock_window()).check(obj.ts)
    except GuardError as e:
        return None, f"{name} record: {e}"
    ts = obj.ts
    if ts.tzinfo is not _UTC and ts.utcoffset() == _ZERO:
        # the same instant, with the standard library's UTC: every later timestamp(), astimezone() and
        # comparison of it is several times cheaper than with pydantic's own TzInfo(0); equal, same hash,
        # serialised alike (tests/schemas/test_guard.py)
        obj.__dict__["ts"] = ts.replace(tzinfo=_UTC)
    return obj, None


__all__ = [
    "GuardError", "INT64_MAX", "MAX_FUTURE_SKEW_S", "MAX_JSON_DEPTH", "MAX_RECORD_BYTES", "MIN_TS", "REASONS",
    "TsWindow", "check_id", "check_record", "check_size", "check_value", "clean_text", "clock_window",
    "decode_record", "has_control", "json_depth", "reason_code", "span_window", "to_int", "validation_reason",
]
