"""Per-employee detection state: small daily buckets and running summaries, nothing per event.

Layout of one employee's state (serialised with orjson; see ``EmployeeState.to_bytes``):

- ``hr``: the latest HR record as a dict, plus ``notice_from`` (the day notice started);
- ``series``: one :class:`Series` per rule (and per model feature): a sparse map ``day -> value`` kept for
  at most ``horizon`` days, a bounded list of recent evidence event ids, and an exponentially weighted
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
from collections.abc import Callable
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


@dataclass(slots=True)  # no instance dict: replay holds every employee's series live
class Series:
    """A daily series of one quantity for one employee, with its learned baseline."""

    days: dict[int, float] = field(default_factory=dict)
    ev: list[tuple[int, str]] = field(default_factory=list)  # (day, event_id)
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

    def add(self, day: int, value: float, event_id: str | None, *, learn: bool | Callable[[int], bool] = True,
            agg: str = "sum", cap: int = EVIDENCE_CAP) -> None:
        """Add ``value`` to ``day``; closed days before ``day`` are folded into the baseline where ``learn``
        (a flag, or a function judging each closed day on its own)."""
        self.close_until(day, learn=learn)
        old = self.days.get(day)
        if old is None:
            old, day = 0, intern_day(day)  # a new key: the shared day object
        v = max(old, value) if agg == "max" else old + value
        self.days[day] = _num(v)  # whole numbers kept as ints: smaller and faster to serialise
        if self.folded is not None and day <= self.folded and self.days[day] != old:
            self._late(day, learn)
        if event_id is not None:
            self.ev.append((day, event_id))
            if len(self.ev) > cap:
                self._trim_evidence(cap)

    def _trim_evidence(self, cap: int) -> None:
        """Keep ``cap`` evidence ids: the most recent, except that the latest id of each of the ``cap // 3``
        largest earlier days stays. HR news can make a window look back at an earlier day (a departure
        recorded on the last day re-reads the days before it) and that day's alert needs its own evidence:
        keeping only the most recent ids let a busy morning push out the big day before it (an alert with
        none). The largest days are the ones a look-back can fire on."""
        ev = self.ev
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
        out = []
        for i, x in enumerate(ev):
            if drop > 0 and i not in keep:
                drop -= 1
            else:
                out.append(x)
        ev[:] = out

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
        return sum(v for d, v in self.days.items() if first_day <= d <= last_day)

    def peak(self, first_day: int, last_day: int) -> tuple[int | None, float]:
        best: tuple[int | None, float] = (None, 0.0)
        for d, v in self.days.items():
            if first_day <= d <= last_day and v > best[1]:
                best = (d, v)
        return best

    def evidence(self, first_day: int, last_day: int) -> list[str]:
        return [eid for d, eid in self.ev if first_day <= d <= last_day]

    def prune(self, oldest_day: int) -> None:
        if self.folded is not None:
            oldest_day = min(oldest_day, self.folded + 1)  # a day not folded yet still teaches the baseline
        # A day after the base that taught the baseline may be folded again (a late event): its value stays,
        # its evidence need not.
        for d in [d for d in self.days if d < oldest_day]:
            if not self.refoldable(d):
                del self.days[d]
        if self.ev and self.ev[0][0] < oldest_day:
            self.ev = [x for x in self.ev if x[0] >= oldest_day]

    def to_obj(self, ids: dict[str, int]) -> list[Any]:
        """Compact form: days as a dense run from the first day or as sparse pairs (whichever is shorter),
        whole numbers as ints, evidence ids as indexes into the employee's id table ``ids``."""
        days: list[Any] = []
        if self.days:
            lo, hi = min(self.days), max(self.days)
            if hi - lo + 1 <= 5 * len(self.days):  # a dense run costs ~2 bytes a day, a pair ~11
                get = self.days.get
                run = [get(d, 0) for d in range(lo, hi + 1)]
                if all(type(v) is int and 0 <= v < 64 for v in run):  # small whole numbers: a character a day
                    days = [lo, "".join([RUN_DIGITS[int(v)] for v in run])]
                else:
                    days = [lo, run]
            else:
                days = [[d, v] for d, v in sorted(self.days.items())]
        ev = [[d, ids.setdefault(eid, len(ids))] for d, eid in self.ev]
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
        g = _DAYS.get  # the shared day objects (intern_day), inline: a state has dozens of days to decode
        if len(raw) == 2 and isinstance(raw[1], str):
            days: dict[int, float] = {g(d) or intern_day(d): _RUN_VALUE[c]
                                      for d, c in enumerate(raw[1], raw[0]) if c != "0"}
        elif len(raw) == 2 and isinstance(raw[1], list) and not isinstance(raw[0], list):
            days = {g(d) or intern_day(d): v for d, v in enumerate(raw[1], raw[0]) if v}
        else:
            days = {g(d) or intern_day(int(d)): v for d, v in raw}
        rest = o[7:]
        last = rest.pop(0) if rest and not isinstance(rest[0], int) else None
        ep = None
        if isinstance(last, list):
            ep, last = last, last[0]
        s = cls(days, [(g(d) or intern_day(d), ids[i]) for d, i in o[1]], o[2], o[3], o[4], o[5], o[6] if len(o) > 6 else 0.0, last,
                None, ep)
        if rest and s.folded is not None:
            meta = rest[0]
            s.base = [s.folded - (meta & 15), s.n, s.mean, s.var, s.top, meta >> 4]
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
