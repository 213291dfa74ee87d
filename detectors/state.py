"""Per-employee detection state: small daily buckets and running summaries, nothing per event.

Layout of one employee's state (serialised with orjson; see ``EmployeeState.to_bytes``):

- ``hr``: the latest HR record as a dict, plus ``notice_from`` (the day notice started);
- ``series``: one :class:`Series` per rule (and per model feature): a map ``day -> value`` kept for
  at most ``horizon`` days (in memory a :class:`DayMap`, a byte a day), a bounded list of recent evidence
  event ids (flat: day, id, day, id), and an exponentially weighted
  baseline of the daily value (mean and variance, with forgetting) that learns only from normal days;
- ``marks``: the last time a sequence's first step was seen;
- ``fired``: the last alert ids emitted (duplicate suppression; alert ids are deterministic anyway);
- ``risk``: the decayed risk score and when it was last updated.

Days are UTC day numbers (``epoch // 86400``).

>>> s = Series()
>>> s.add(100, 2.0, "e1", learn=True); s.add(101, 1.0, "e2", learn=True)
>>> s.total(100, 101), s.n
(3, 1)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

DAY_S = 86400
#: Most recent evidence ids kept per series unless its window says otherwise; an alert lists at most this many.
EVIDENCE_CAP = 12
#: Alert ids remembered per employee for duplicate suppression (as 8-hex-digit prefixes). Episodes and each
#: series' last key do most of that work now (detectors.engine), so a few suffice.
FIRED_CAP = 6
FIRED_PREFIX = 8  # 32 bits: among an employee's latest alerts a collision is ~1e-8 (was 10: states written
#: then hold 10-digit entries, still recognised by has_fired)
#: Days after which the baseline moves from a running mean to an exponentially weighted one.
BASELINE_MEMORY_DAYS = 30
#: Daily fade of a series' learned peak (0.98: half-life about 35 days).
PEAK_FADE = 0.98
#: Days an event may arrive late and still count in the baseline exactly as if it had arrived in time order.
#: Streams read topics in no fixed order, a partition can be read again after a restart, and audit sources
#: deliver hours late (the Microsoft 365 audit log up to a day): a day is folded into the baseline when a
#: later day's first event arrives, so a late event would otherwise be missing from the folded value. The
#: series keeps the baseline as it stood LATE_DAYS days ago (``base``) and the values of the days since,
#: and folds those days again when one of them changes.
LATE_DAYS = 3  # (at most 15: stored in 4 bits)
#: Decimals a baseline keeps (mean and variance; the peak: PEAK_DIGITS) and the risk score (RISK_DIGITS). They
#: are the stored precision, and every fold rounds to it (:func:`_fold`), so a state held in memory is exactly
#: what decoding its bytes gives: the worker, which decodes a state again whenever its bounded cache let it go,
#: then raises exactly replay's alerts, which keeps every state decoded (tests/streams/test_state_canonical.py).
MEAN_DIGITS = 4
PEAK_DIGITS = 3
RISK_DIGITS = 3


#: Digits of a dense run of small whole daily values, one character a day (64 values, all JSON-safe).
RUN_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_RUN_VALUE = {c: i for i, c in enumerate(RUN_DIGITS)}

#: Evidence ids are mostly a source prefix and a GUID or a long hex string (M365, MDE, the generator): in the
#: state they are kept as the prefix and the bytes in base64 (22 characters instead of 36 for a GUID), marked
#: by a leading PACKED (an id that itself starts with it gets one more in front).
PACKED = "~"
_ID_RE = re.compile(r"^(.{0,40}?[:_-])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:[0-9a-f]{2}){8,32})$")
_PACK_CACHE: dict[str, str] = {}
_UNPACK_CACHE: dict[str, str] = {}


def pack_id(eid: str) -> str:
    """The stored form of an evidence id (:data:`PACKED`).

    >>> pack_id("file:31c33857-d804-8250-e921-200c84001663"), pack_id("syn-76cdaf1ba147f9fd")
    ('~file:|uMcM4V9gEglDpISAMhAAWYw', '~syn-|hds2vG6FH+f0')
    >>> all(unpack_id(pack_id(x)) == x for x in ("a:1", "~b", "~~c", "x|y-00112233445566778899", "E-ABCDEF0123456789"))
    True
    """
    got = _PACK_CACHE.get(eid)
    if got is not None:
        return got
    m = _ID_RE.match(eid)
    if m is None:
        out = PACKED + eid if eid.startswith(PACKED) else eid
    else:
        head, tail = m.groups()
        kind = "u" if len(tail) == 36 and tail[8] == "-" else "h"
        b64 = base64.b64encode(bytes.fromhex(tail.replace("-", ""))).decode().rstrip("=")
        out = f"{PACKED}{head}|{kind}{b64}"
    if len(_PACK_CACHE) > 200000:
        _PACK_CACHE.clear()
    _PACK_CACHE[eid] = out
    return out


def unpack_id(stored: str) -> str:
    """The evidence id of a stored form (:func:`pack_id`)."""
    if not stored.startswith(PACKED):
        return stored
    got = _UNPACK_CACHE.get(stored)
    if got is not None:
        return got
    body = stored[1:]
    if body.startswith(PACKED):
        out = body
    else:
        head, _, rest = body.rpartition("|")
        raw = base64.b64decode(rest[1:] + "=" * (-len(rest[1:]) % 4)).hex()
        if rest[0] == "u":
            raw = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        out = head + raw
    if len(_UNPACK_CACHE) > 200000:
        _UNPACK_CACHE.clear()
    _UNPACK_CACHE[stored] = out
    return out


#: One int object per day number: a state holds the same day in many places (every series' days and
#: evidence, the folded day), and a day number is above the interpreter's small-int cache, so each would
#: otherwise be an object of its own (28 bytes; replay holds every employee's state live).
_DAYS: dict[int, int] = {}


def intern_day(day: int) -> int:
    """The shared int object for ``day`` (:data:`_DAYS`); the value is ``day`` itself."""
    got = _DAYS.get(day)
    if got is None:
        if len(_DAYS) > 100000:  # far more days than any horizon: odd inputs cannot grow it without bound
            _DAYS.clear()
        got = _DAYS[day] = day
    return got


def day_of(epoch: float) -> int:
    return intern_day(int(epoch // DAY_S))


def _fold(n: int, mean: float, var: float, top: float, x: float) -> tuple[int, float, float, float]:
    """One day ``x`` folded into a baseline ``(n, mean, var, top)``: a running mean for the first
    BASELINE_MEMORY_DAYS days, then exponentially weighted; the peak fades by PEAK_FADE a day. Rounded to the
    stored precision (MEAN_DIGITS, PEAK_DIGITS): what is held is what the state's bytes give back."""
    top = max(x, top * PEAK_FADE)
    n += 1
    alpha = 1.0 / min(n, BASELINE_MEMORY_DAYS)
    delta = x - mean
    mean += alpha * delta
    var = (1 - alpha) * (var + alpha * delta * delta)
    return n, round(mean, MEAN_DIGITS), round(var, MEAN_DIGITS), round(top, PEAK_DIGITS)


def _num(v: float) -> float:
    return int(v) if v == int(v) else round(v, 3)


#: :class:`DayMap`'s byte for a day with no value, and for a day whose value is kept beside the bytes (in ``x``).
_ABSENT = 255
_OTHER = 254
#: Widest run of days a :class:`DayMap` holds as bytes; a wider one (odd inputs: a day in year 9999 beside
#: this year's) keeps every value in its ``x`` dict instead (iterated in day order all the same).
MAX_SPAN = 4096
#: A run string's characters as DayMap bytes ('0' is a day with no value: decoding drops zero days) and back.
_RUN_TO_BYTE = bytes(_ABSENT if c == "0" else _RUN_VALUE[c] if c in _RUN_VALUE else _ABSENT for c in map(chr, range(256)))
_BYTE_TO_RUN = bytes(ord(RUN_DIGITS[b]) if b < 64 else ord("0") if b == _ABSENT else ord("?") for b in range(256))


class DayMap:
    """A series' daily values, ``day -> value``, as compact as the values allow: one byte a day from the first
    day to the last (a whole number from 0 to 253, or :data:`_ABSENT`), and any other value (a fraction, a larger
    or negative number) in a small dict beside it. Replay holds every employee's series live: a dict of 45 days
    is about 2.3 KB, this about 150 bytes.

    It reads like the dict it replaces (``get``, ``items``, ``in``, ``len``, ``del``, ``d[k] = v``; a value comes
    back as the very object stored when it is not a small whole number), except that it iterates in day order,
    as a decoded state's dict did (a state is decoded in day order).

    >>> m = DayMap({20502: 3, 20500: 1.5})
    >>> m[20501] = 0; m[20499] = 700
    >>> list(m.items()), len(m), 20501 in m, 20503 in m, m.get(20503, 0.0)
    ([(20499, 700), (20500, 1.5), (20501, 0), (20502, 3)], 4, True, False, 0.0)
    >>> del m[20499]; del m[20502]; (m.lo, bytes(m.b), m.x, m == {20500: 1.5, 20501: 0})
    (20500, b'\\xfe\\x00', {20500: 1.5}, True)
    >>> m[20500 + MAX_SPAN] = 1; list(m.items()), m.b
    ([(20500, 1.5), (20501, 0), (24596, 1)], None)
    """

    __slots__ = ("lo", "b", "x")

    def __init__(self, items: Any = None) -> None:
        self.lo = 0
        self.b: bytearray | None = bytearray()  # None: every value in x (a span wider than MAX_SPAN)
        self.x: dict[int, Any] | None = None
        if items:
            for d, v in sorted(items.items()):
                self[d] = v

    @classmethod
    def run(cls, lo: int, codes: bytes) -> "DayMap":
        """The map of a dense run of byte codes from day ``lo`` (none of them :data:`_OTHER`)."""
        m = cls.__new__(cls)
        m.x = None
        b = bytearray(codes)
        end = len(b.rstrip(b"\xff"))
        start = len(b) - len(b.lstrip(b"\xff"))
        if start >= end:
            m.lo, m.b = 0, bytearray()
        else:
            if start or end < len(b):
                b = b[start:end]
            m.lo, m.b = lo + start, b
        return m

    def get(self, day: int, default: Any = None) -> Any:
        b = self.b
        if b is None:
            return self.x.get(day, default)  # type: ignore[union-attr]
        i = day - self.lo
        if type(i) is not int:  # a day as a float (a window's arithmetic): the dict's answer
            i = _whole(i)
            if i is None:
                return default
        if 0 <= i < len(b):
            c = b[i]
            if c < _OTHER:
                return c
            if c == _OTHER:
                return self.x[day]  # type: ignore[index]
        return default

    def __getitem__(self, day: int) -> Any:
        v = self.get(day, _MISSING)
        if v is _MISSING:
            raise KeyError(day)
        return v

    def __contains__(self, day: object) -> bool:
        try:
            return self.get(day, _MISSING) is not _MISSING  # type: ignore[arg-type]
        except TypeError:
            return False

    def __setitem__(self, day: int, value: Any) -> None:
        b = self.b
        small = type(value) is int and 0 <= value < _OTHER
        if type(day) is not int and b is not None:
            whole = _whole(day)
            if whole is None:  # not a day number: kept as a dict would keep it
                self._sparse()
                b = None
            else:
                day = whole
        if b is None:
            self.x[day] = value  # type: ignore[index]
            return
        if not b:
            self.lo = day
            b.append(_ABSENT)
        i = day - self.lo
        if i < 0 or i >= len(b):
            span = (len(b) - i) if i < 0 else i + 1
            if span > MAX_SPAN:
                self._sparse()
                self.x[day] = value  # type: ignore[index]
                return
            if i < 0:
                b[0:0] = bytes([_ABSENT]) * -i
                self.lo = day
                i = 0
            else:
                b.extend(bytes([_ABSENT]) * (i + 1 - len(b)))
        if small:
            if b[i] == _OTHER:
                del self.x[day]  # type: ignore[union-attr]
                if not self.x:
                    self.x = None
            b[i] = value
        else:
            if self.x is None:
                self.x = {}
            self.x[day] = value
            b[i] = _OTHER

    def __delitem__(self, day: int) -> None:
        b = self.b
        if b is None:
            del self.x[day]  # type: ignore[union-attr]
            return
        if type(day) is not int:
            whole = _whole(day)
            if whole is None:
                raise KeyError(day)
            day = whole
        i = day - self.lo
        if not 0 <= i < len(b) or b[i] == _ABSENT:
            raise KeyError(day)
        if b[i] == _OTHER:
            del self.x[day]  # type: ignore[union-attr]
            if not self.x:
                self.x = None
        b[i] = _ABSENT
        if i == len(b) - 1:
            del b[len(b.rstrip(b"\xff")):]
        if i == 0:
            k = len(b) - len(b.lstrip(b"\xff"))
            del b[:k]
            self.lo += k

    def _sparse(self) -> None:
        x = dict(self.items())
        self.b, self.x, self.lo = None, x, 0

    def __len__(self) -> int:
        b = self.b
        return len(self.x) if b is None else len(b) - b.count(_ABSENT)  # type: ignore[arg-type]

    def items(self) -> Iterator[tuple[int, Any]]:
        b = self.b
        if b is None:
            yield from sorted(self.x.items())  # type: ignore[union-attr]
            return
        d = self.lo
        x = self.x
        for c in b:
            if c < _OTHER:
                yield d, c
            elif c == _OTHER:
                yield d, x[d]  # type: ignore[index]
            d += 1

    def __iter__(self) -> Iterator[int]:
        b = self.b
        if b is None:
            yield from sorted(self.x)  # type: ignore[arg-type]
            return
        d = self.lo
        for c in b:
            if c != _ABSENT:
                yield d
            d += 1

    def keys(self) -> list[int]:
        return list(self)

    def values(self) -> list[Any]:
        return [v for _, v in self.items()]

    def first(self) -> int:
        """The earliest day with a value (the map is not empty)."""
        return self.lo if self.b is not None else min(self.x)  # type: ignore[arg-type]

    def last(self) -> int:
        """The latest day with a value (the map is not empty)."""
        return self.lo + len(self.b) - 1 if self.b is not None else max(self.x)  # type: ignore[arg-type]

    def total(self, first_day: int, last_day: int) -> Any:
        """The sum of the values from ``first_day`` to ``last_day``, in day order."""
        b = self.b
        if b is not None and self.x is None and type(first_day) is int and type(last_day) is int:
            i0 = max(first_day - self.lo, 0)
            i1 = min(last_day - self.lo + 1, len(b))
            if i1 <= i0:
                return 0
            seg = b[i0:i1]
            return sum(seg) - _ABSENT * seg.count(_ABSENT)
        return sum(v for d, v in self.items() if first_day <= d <= last_day)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DayMap):
            return list(self.items()) == list(other.items())
        if isinstance(other, dict):
            return dict(self.items()) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DayMap({dict(self.items())!r})"


_MISSING = object()


def _whole(x: Any) -> int | None:
    """``x`` as an int if it is a whole number (``20500.0``), else None: a dict finds the key 20500 under either."""
    try:
        i = int(x)
    except (TypeError, ValueError, OverflowError):
        return None
    return i if i == x else None


@dataclass(slots=True)  # no instance dict: replay holds every employee's series live
class Series:
    """A daily series of one quantity for one employee, with its learned baseline."""

    days: DayMap = field(default_factory=DayMap)  # (a dict given is made a DayMap)
    #: Evidence, flat: ``[day, event_id, day, event_id, ...]`` (a pair as a tuple cost 56 bytes more);
    #: :meth:`evidence_pairs` gives the pairs.
    ev: list[Any] = field(default_factory=list)
    n: int = 0  # days folded into the baseline
    mean: float = 0.0
    var: float = 0.0
    folded: int | None = None  # last day folded into the baseline
    top: float = 0.0  # the largest learned day, fading by PEAK_FADE a day (for "the usual big day")
    last: str | None = None  # key of the last window of this rule that fired
    #: The baseline as it stood LATE_DAYS days ago: ``[day folded last, n, mean, var, top, mask]``; bit ``i``
    #: of ``mask`` says whether day ``base[0] + 1 + i`` taught the baseline. The days after ``base[0]`` are
    #: kept in ``days``, so a late value for one of them is folded again exactly (:meth:`add`).
    base: list[Any] | None = None
    #: The rule's ongoing episode, ``[key of its last alert, first day, last day, observed at the last alert,
    #: HR codes alerted]`` (see ``detectors.engine``); serialised in the place of ``last`` (its key is ``last``).
    ep: list[Any] | None = None

    def __post_init__(self) -> None:
        if type(self.days) is not DayMap:
            self.days = DayMap(self.days)

    def add(self, day: int, value: float, event_id: str | None, *, learn: bool | Callable[[int], bool] = True,
            agg: str = "sum", cap: int = EVIDENCE_CAP) -> None:
        """Add ``value`` to ``day``; closed days before ``day`` are folded into the baseline where ``learn``
        (a flag, or a function judging each closed day on its own)."""
        self.close_until(day, learn=learn)
        old = self.days.get(day)
        if old is None:
            old, day = 0, intern_day(day)  # a new key: the shared day object
        v = max(old, value) if agg == "max" else old + value
        new = self.days[day] = _num(v)  # whole numbers kept as ints: smaller and faster to serialise
        if self.folded is not None and day <= self.folded and new != old:
            self._late(day, learn)
        if event_id is not None:
            ev = self.ev
            ev.append(day)
            ev.append(event_id)
            if len(ev) > 2 * cap:
                self._trim_evidence(cap)

    def evidence_pairs(self) -> list[tuple[int, str]]:
        """The kept evidence as ``(day, event_id)`` pairs, oldest first."""
        ev = self.ev
        return list(zip(ev[::2], ev[1::2]))

    def drop_evidence(self, keep: Callable[[int], bool]) -> None:
        """Keep only the evidence of the days ``keep`` accepts."""
        ev = self.ev
        self.ev = [x for i in range(0, len(ev), 2) if keep(ev[i]) for x in (ev[i], ev[i + 1])]

    def _trim_evidence(self, cap: int) -> None:
        """Keep ``cap`` evidence ids: the most recent, except that the latest id of each of the ``cap // 3``
        largest earlier days stays. HR news can make a window look back at an earlier day (a departure
        recorded on the last day re-reads the days before it) and that day's alert needs its own evidence:
        keeping only the most recent ids let a busy morning push out the big day before it (an alert with
        none). The largest days are the ones a look-back can fire on."""
        ev = self.evidence_pairs()
        keep: set[int] = set()
        k = cap // 3
        if k:
            cur = ev[-1][0]
            latest: dict[int, int] = {}
            for i, (d, _) in enumerate(ev):
                if d != cur:
                    latest[d] = i
            if latest:
                get = self.days.get
                for d in sorted(latest, key=lambda d: (-get(d, 0), -d))[:k]:
                    keep.add(latest[d])
        drop = len(ev) - cap
        out: list[Any] = []
        for i, x in enumerate(ev):
            if drop > 0 and i not in keep:
                drop -= 1
            else:
                out += x
        self.ev[:] = out

    def close_until(self, day: int, *, learn: bool | Callable[[int], bool]) -> None:
        """Fold every day before ``day`` not yet folded into the baseline (zero where nothing happened)."""
        if self.folded is None:
            # Baseline starts at the first day we see anything for this employee and series.
            self.folded = intern_day(day - 1)
            return
        if day - 1 <= self.folded:
            return
        ok = learn if callable(learn) else (lambda d: bool(learn))
        # Cap the zero-run we fold: after ~3 memories the weight of older history is negligible.
        start = max(self.folded + 1, day - 3 * BASELINE_MEMORY_DAYS)
        base = self.base
        if base is None or start > self.folded + 1:  # (a skipped run: no late correction across it)
            base = self.base = [start - 1, self.n, self.mean, self.var, self.top, 0]
        mask = base[5]
        for d in range(start, day):
            if ok(d):
                self._fold(self.days.get(d, 0.0))
                mask |= 1 << (d - base[0] - 1)
        self.folded = intern_day(day - 1)
        # The base moves up to LATE_DAYS days behind, folding the days it passes as they were taught.
        b0, n, mean, var, top = base[0], base[1], base[2], base[3], base[4]
        while b0 < self.folded - LATE_DAYS:
            b0 += 1
            if mask & 1:
                n, mean, var, top = _fold(n, mean, var, top, self.days.get(b0, 0.0))
            mask >>= 1
        base[:] = [intern_day(b0), n, mean, var, top, mask]

    def _fold(self, x: float) -> None:
        self.n, self.mean, self.var, self.top = _fold(self.n, self.mean, self.var, self.top, x)

    def _late(self, day: int, learn: bool | Callable[[int], bool]) -> None:
        """A value for ``day``, which is folded already, changed: fold the days since the base again (exactly
        as in time order), unless the day is older than the base (then the baseline keeps what it had)."""
        base = self.base
        if base is None or day <= base[0]:
            return
        ok = learn(day) if callable(learn) else bool(learn)
        bit = 1 << (day - base[0] - 1)
        base[5] = base[5] | bit if ok else base[5] & ~bit
        self.n, self.mean, self.var, self.top = self._refold(self.folded)

    def _refold(self, upto: int | None) -> tuple[int, float, float, float]:
        """The baseline as it was once the days up to ``upto`` were folded (``upto`` at or after the base)."""
        assert self.base is not None
        b0, n, mean, var, top, mask = self.base
        for d in range(b0 + 1, (upto or b0) + 1):
            if mask & 1:
                n, mean, var, top = _fold(n, mean, var, top, self.days.get(d, 0.0))
            mask >>= 1
        return n, mean, var, top

    def unlearn(self, day: int) -> None:
        """``day`` turned out not to be normal (an alert flagged it after it was folded, because the event
        that made the alert arrived late): take it out of the baseline if it is still after the base."""
        if self.refoldable(day):
            assert self.base is not None
            self.base[5] &= ~(1 << (day - self.base[0] - 1))
            self.n, self.mean, self.var, self.top = self._refold(self.folded)

    def refoldable(self, day: int) -> bool:
        """Whether ``day`` is folded, after the base, and taught the baseline (a late event would fold it
        again, so its value must stay)."""
        b = self.base
        return b is not None and self.folded is not None and b[0] < day <= self.folded and bool(
            (b[5] >> (day - b[0] - 1)) & 1)

    def as_of(self, day: int) -> "Series":
        """The series with the baseline as it stood when ``day`` was the current day: itself for a day not
        folded yet (events in time order), else a view with the baseline re-folded up to the day before (a
        late event is judged against the baseline its day had). A day older than the base gets the current
        baseline."""
        if self.folded is None or day > self.folded or self.base is None or day - 1 < self.base[0]:
            return self
        n, mean, var, top = self._refold(day - 1)
        return Series(self.days, self.ev, n, mean, var, day - 1, top, self.last, None, self.ep)

    @property
    def sd(self) -> float:
        return self.var**0.5

    def total(self, first_day: int, last_day: int) -> float:
        return self.days.total(first_day, last_day)

    def peak(self, first_day: int, last_day: int) -> tuple[int | None, float]:
        best: tuple[int | None, float] = (None, 0.0)
        for d, v in self.days.items():
            if first_day <= d <= last_day and v > best[1]:
                best = (d, v)
        return best

    def evidence(self, first_day: int, last_day: int) -> list[str]:
        ev = self.ev
        return [ev[i + 1] for i in range(0, len(ev), 2) if first_day <= ev[i] <= last_day]

    def prune(self, oldest_day: int) -> None:
        if self.folded is not None:
            oldest_day = min(oldest_day, self.folded + 1)  # a day not folded yet still teaches the baseline
        # A day after the base that taught the baseline may be folded again (a late event): its value stays,
        # its evidence need not.
        for d in [d for d in self.days if d < oldest_day]:
            if not self.refoldable(d):
                del self.days[d]
        if self.ev and self.ev[0] < oldest_day:
            self.drop_evidence(lambda d: d >= oldest_day)

    def to_obj(self, ids: dict[str, int]) -> list[Any]:
        """Compact form: days as a dense run from the first day or as sparse pairs (whichever is shorter),
        whole numbers as ints, evidence ids as indexes into the employee's id table ``ids``."""
        days: list[Any] = []
        m = self.days
        if m:
            lo, hi = m.first(), m.last()
            if hi - lo + 1 <= 5 * len(m):  # a dense run costs ~2 bytes a day, a pair ~11
                b = m.b
                if b is not None and m.x is None and max(b.translate(None, b"\xff")) < 64:
                    days = [lo, b.translate(_BYTE_TO_RUN).decode()]  # small whole numbers: a character a day
                else:
                    get = m.get
                    run = [get(d, 0) for d in range(lo, hi + 1)]
                    if all(type(v) is int and 0 <= v < 64 for v in run):
                        days = [lo, "".join([RUN_DIGITS[int(v)] for v in run])]
                    else:
                        days = [lo, run]
            else:
                days = [[d, v] for d, v in m.items()]
        ev = self.ev
        ev = [[ev[i], ids.setdefault(ev[i + 1], len(ids))] for i in range(0, len(ev), 2)]
        b = self.base
        if b is None or self.folded is None:
            o = [days, ev, self.n, round(self.mean, MEAN_DIGITS), round(self.var, MEAN_DIGITS), self.folded,
                 round(self.top, PEAK_DIGITS)]
        else:  # the base's baseline and how far behind it is; the current one is folded again on loading
            o = [days, ev, b[1], round(b[2], MEAN_DIGITS), round(b[3], MEAN_DIGITS), self.folded,
                 round(b[4], PEAK_DIGITS)]
        if self.ep is not None:
            o.append(self.ep)
        elif self.last is not None:
            o.append(self.last)
        if b is not None and self.folded is not None:
            o.append((self.folded - b[0]) | (b[5] << 4))  # days behind (at most LATE_DAYS) and mask, one int
        return o

    @classmethod
    def from_obj(cls, o: list[Any], ids: list[str]) -> "Series":
        raw = o[0]
        g = _DAYS.get  # the shared day objects (intern_day), inline: a state has dozens of evidence days to decode
        if len(raw) == 2 and isinstance(raw[1], str):
            days = DayMap.run(raw[0], raw[1].encode().translate(_RUN_TO_BYTE))  # '0': no value that day
        else:
            days = DayMap()
            if len(raw) == 2 and isinstance(raw[1], list) and not isinstance(raw[0], list):
                for d, v in enumerate(raw[1], raw[0]):
                    if v:
                        days[d] = v
            else:
                for d, v in raw:
                    days[int(d)] = v
        rest = o[7:]
        last = rest.pop(0) if rest and not isinstance(rest[0], int) else None
        ep = None
        if isinstance(last, list):
            ep, last = last, last[0]
        folded = o[5] if o[5] is None else g(o[5]) or intern_day(o[5])
        s = cls(days, [x for d, i in o[1] for x in (g(d) or intern_day(d), ids[i])], o[2], o[3], o[4], folded,
                o[6] if len(o) > 6 else 0.0, last, None, ep)
        if rest and folded is not None:
            meta = rest[0]
            s.base = [intern_day(folded - (meta & 15)), s.n, s.mean, s.var, s.top, meta >> 4]
            s.n, s.mean, s.var, s.top = s._refold(s.folded)
        return s


@dataclass
class EmployeeState:
    """Everything the detectors remember about one employee."""

    hr: dict[str, Any] | None = None
    series: dict[str, Series] = field(default_factory=dict)
    marks: dict[str, list[Any]] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)
    risk: list[float] = field(default_factory=lambda: [0.0, 0.0])
    extra: dict[str, Any] = field(default_factory=dict)  # model state per employee

    def get_series(self, name: str) -> Series:
        s = self.series.get(name)
        if s is None:
            s = self.series[name] = Series()
        return s

    def has_fired(self, alert_id: str) -> bool:
        return alert_id[:FIRED_PREFIX] in self.fired or alert_id[:10] in self.fired

    def remember(self, alert_id: str) -> None:
        self.fired.append(alert_id[:FIRED_PREFIX])
        if len(self.fired) > FIRED_CAP:
            del self.fired[0 : len(self.fired) - FIRED_CAP]

    def to_bytes(self) -> bytes:
        ids: dict[str, int] = {}  # each evidence id once, however many series and marks point at it
        series = {k: v.to_obj(ids) for k, v in self.series.items()}
        marks = {k: [[m[0], ids.setdefault(m[1], len(ids))] for m in v] for k, v in self.marks.items()}
        return orjson.dumps(
            {
                "hr": self.hr,
                "s": series,
                "i": [pack_id(x) for x in ids],
                "m": marks,
                "f": self.fired,
                "r": [round(self.risk[0], RISK_DIGITS), self.risk[1]],
                "x": self.extra,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "EmployeeState":
        o = orjson.loads(data)
        ids = [unpack_id(x) for x in o.get("i", ())]
        return cls(
            hr=o["hr"],
            series={k: Series.from_obj(v, ids) for k, v in o["s"].items()},
            marks={k: [[m[0], ids[m[1]] if isinstance(m[1], int) else m[1]] for m in v] for k, v in o["m"].items()},
            fired=o["f"],
            risk=o["r"],
            extra=o.get("x", {}),
        )
