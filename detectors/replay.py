"""``exitwatch replay``: the detection core over files, with no broker (CONTRACT.md 6).

HR records, signals and events from any number of JSON-lines files (``.gz`` too) are merged in ``ts`` order
(at equal times HR records first, then signals, then events), each file read as a stream. A bad line is
counted and written to ``OUT.jsonl.deadletter`` with its reason; the run goes on.

Every line passes the input guard (:mod:`schemas.guard`, the connectors' and the worker's too): lines are
read with a size limit (an oversized line is skipped in pieces, never held whole), numbers must fit 64 bits,
ids must be printable, and times must lie in the inputs' own span. That span comes from a first pass over the
event files (:func:`input_window`): the run of days around the busiest one, ended by a gap of more than
``replay_span_gap_days``. An event after it (plus ``max_future_skew_s``), or an HR record or signal more than
the gap after it, is dead-lettered as ``ts_out_of_window``: one line dated 2099 or 9999 can neither stall the
HR stream (whose merge would wait behind it) nor teach the learned model a day that has not come. Employee
ids that no HR file names get detection state up to ``replay_max_unknown_employees``; events of further
unknown ids are dead-lettered, so hostile ids cannot grow the state without bound.
"""

from __future__ import annotations

import datetime as dt
import gzip
import heapq
import io
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from detectors.engine import Engine
from schemas import ActivityEvent, Alert, DeadLetter, HRRecord, HRSignal, guard
from schemas.models import utcnow
from schemas.reasons import reason_category

HR, SIGNAL, EVENT = 0, 1, 2
_MODELS: dict[int, Any] = {HR: HRRecord, SIGNAL: HRSignal, EVENT: ActivityEvent}
_NAMES = {HR: "hr", SIGNAL: "signals", EVENT: "events"}
_FAR = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def sort_key(ts: str | dt.datetime, kind: int) -> tuple[dt.datetime, int]:
    t = dt.datetime.fromisoformat(ts.replace("Z", "+00:00")) if isinstance(ts, str) else ts
    return (t, kind)


def open_text(path: str | Path) -> IO[str]:
    p = str(path)
    if p == "-":
        return sys.stdin
    if p.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace")
    return open(p, encoding="utf-8", errors="replace")


def error_reason(exc: Exception) -> str:
    """A one-line reason naming the fields at fault."""
    return guard.validation_reason(exc)


@dataclass
class ReplayStats:
    read: dict[str, int] = field(default_factory=lambda: {"hr": 0, "signals": 0, "events": 0})
    bad: int = 0
    alerts: int = 0
    seconds: float = 0.0
    #: bad lines by reason category (:func:`schemas.reasons.reason_category`), for the run summary
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """The guard's limits for one replay run (defaults: the settings')."""

    max_line_bytes: int = guard.MAX_RECORD_BYTES
    max_depth: int = guard.MAX_JSON_DEPTH
    skew_s: float = guard.MAX_FUTURE_SKEW_S
    gap_days: int = 30
    max_unknown_employees: int = 10000

    @classmethod
    def from_settings(cls) -> "Limits":
        try:
            from schemas.settings import Settings

            s = Settings()
        except Exception:  # noqa: BLE001 - a bad environment must not stop a replay; the defaults hold
            return cls()
        return cls(s.max_record_bytes, s.max_json_depth, s.max_future_skew_s, s.replay_span_gap_days,
                   s.replay_max_unknown_employees)


def open_binary(path: str | Path) -> IO[bytes]:
    p = str(path)
    if p == "-":
        return sys.stdin.buffer
    return gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")  # type: ignore[return-value]


def read_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    """``(line, size)`` of every line; a line longer than ``limit`` comes back as its first ``limit`` bytes
    with its full size, the rest read in pieces and dropped (memory stays bounded by ``limit``)."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            size = len(line)
            while True:
                more = fh.readline(1 << 20)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield line[:limit], size
            continue
        yield line, len(line)


_TS_DAY = re.compile(rb'"ts"\s*:\s*"(\d{4})-(\d{2})-(\d{2})')
_EMP = re.compile(rb'"employee_id"\s*:\s*"([^"\\]{1,256})"')
_EPOCH = dt.date(1970, 1, 1).toordinal()


def input_window(events: Iterable[str | Path], limits: Limits) -> guard.TsWindow | None:
    """The window of the event files' own span (:func:`schemas.guard.span_window`), from a first pass that
    reads only each line's date; None when there is nothing to read (then the clock's window applies)."""
    days: dict[int, int] = {}
    for p in events:
        if str(p) == "-":
            return None
        with open_binary(p) as fh:
            for line, _ in read_lines(fh, limits.max_line_bytes):
                m = _TS_DAY.search(line)
                if m is None:
                    continue
                try:
                    d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).toordinal() - _EPOCH
                except ValueError:
                    continue
                if d in days:
                    days[d] += 1
                elif len(days) < 200_000:  # bounded: hostile dates cannot grow it past ~550 years of days
                    days[d] = 1
    return guard.span_window(days, limits.gap_days, limits.skew_s)


def known_employees(hr: Iterable[str | Path], limits: Limits) -> set[str] | None:
    """Employee ids the HR files name (a first pass); None when an HR input cannot be read twice (stdin)."""
    ids: set[str] = set()
    for p in hr:
        if str(p) == "-":
            return None
        with open_binary(p) as fh:
            for line, _ in read_lines(fh, limits.max_line_bytes):
                m = _EMP.search(line)
                if m is not None:
                    ids.add(m.group(1).decode("utf-8", "replace"))
    return ids


def _read(path: str | Path, kind: int, bad: Callable[[str, str, str], None], count: Callable[[], None],
          window: guard.TsWindow | None = None, limits: Limits | None = None,
          ) -> Iterator[tuple[dt.datetime, int, int, Any]]:
    """Valid records of one file with their sort key; bad lines go to ``bad``. Each file must be in ts order
    for the merge to be exact; a record older than its predecessor is still applied (late data)."""
    model = _MODELS[kind]
    lim = limits or Limits()
    win = window or guard.clock_window(skew_s=lim.skew_s)
    where = f"replay:{_NAMES[kind]}"
    with open_binary(path) as fh:
        for n, (line, size) in enumerate(read_lines(fh, lim.max_line_bytes), 1):
            if not line.strip():
                continue
            count()
            if size > lim.max_line_bytes:
                bad(where, f"{path}:{n}: too_large: line of {size} bytes (limit {lim.max_line_bytes})",
                    line[:65536].decode("utf-8", "replace"))
                continue
            text = line.decode("utf-8", "replace")  # U+FFFD in an id is refused, in free text marked (guard)
            obj, reason = guard.decode_record(text, model, window=win, max_bytes=lim.max_line_bytes,
                                              max_depth=lim.max_depth)
            if obj is None:
                bad(where, f"{path}:{n}: {reason}", text.rstrip("\n"))
                continue
            yield (obj.ts, kind, n, obj)


def merged(hr: Iterable[str | Path], signals: Iterable[str | Path], events: Iterable[str | Path],
           bad: Callable[[str, str, str], None], counters: dict[str, int],
           limits: Limits | None = None) -> Iterator[tuple[int, Any]]:
    """All inputs merged by (ts, HR before signals before events), each line through the input guard with
    the window of the inputs' own span (:func:`input_window`)."""
    lim = limits or Limits.from_settings()
    hr, signals, events = list(hr), list(signals), list(events)
    ev_win = input_window(events, lim) or guard.clock_window(skew_s=lim.skew_s)
    # HR news and signals may come a little after the last event (a departure recorded after the data ends)
    hr_win = guard.TsWindow(ev_win.lo, ev_win.hi + dt.timedelta(days=lim.gap_days), ev_win.basis + " + the gap")
    streams = []
    for kind, paths in ((HR, hr), (SIGNAL, signals), (EVENT, events)):
        name = _NAMES[kind]

        def inc(name: str = name) -> None:
            counters[name] += 1

        for p in paths:
            streams.append(_read(p, kind, bad, inc, ev_win if kind == EVENT else hr_win, lim))
    for _, kind, _, obj in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
        yield kind, obj


def run(engine: Engine, hr: Iterable[str | Path], signals: Iterable[str | Path], events: Iterable[str | Path],
        on_alert: Callable[[Alert], None], on_bad: Callable[[DeadLetter], None],
        progress: Callable[[ReplayStats], None] | None = None,
        after: Callable[[Any, list[Alert]], None] | None = None) -> ReplayStats:
    """Drive ``engine`` over the merged inputs; every alert to ``on_alert``, every bad line to ``on_bad``;
    ``after(record, alerts)`` (if given) sees each record and its alerts before ``on_alert`` does (the
    evidence ledger and the ``alerts.secops`` form hook in here)."""
    stats = ReplayStats()
    t0 = time.perf_counter()
    lim = Limits.from_settings()

    def bad(source: str, reason: str, raw: str) -> None:
        stats.bad += 1
        cat = reason_category(reason)
        stats.reasons[cat] = stats.reasons.get(cat, 0) + 1
        on_bad(DeadLetter(source=source, reason=reason, raw=raw[:65536], ts=utcnow()))

    hr = list(hr)
    known = known_employees(hr, lim)
    unknown: set[str] = set()
    resolve = getattr(engine, "resolve", None) or (lambda ev: ev.employee_id)
    n = 0
    last_ts: dt.datetime | None = None
    advance = getattr(engine, "advance", None)
    for kind, obj in merged(hr, signals, events, bad, stats.read, lim):
        if advance is not None:
            alerts = advance(obj.ts)  # the event-time watermark: last-day summaries of leavers (Engine.advance)
            if alerts:
                if after is not None:
                    after(None, alerts)  # (no input record made these)
                for a in alerts:
                    stats.alerts += 1
                    on_alert(a)
        if kind == EVENT:
            if known is not None:
                emp = resolve(obj)
                if emp is not None and emp not in known and emp not in unknown:
                    if len(unknown) >= lim.max_unknown_employees:
                        bad("replay:events", f"unknown employee id {emp[:80]!r} beyond the "
                            f"{lim.max_unknown_employees} ids no HR file names that replay keeps state for "
                            "(replay_max_unknown_employees)", obj.model_dump_json()[:65536])
                        continue
                    unknown.add(emp)
            alerts = engine.on_event(obj)
        elif kind == HR:
            alerts = engine.on_hr(obj)
        else:
            alerts = engine.on_signal(obj)
        if after is not None:
            after(obj, alerts)
        for a in alerts:
            stats.alerts += 1
            on_alert(a)
        if last_ts is None or obj.ts > last_ts:
            last_ts = obj.ts
        n += 1
        if progress is not None and n % 20000 == 0:
            stats.seconds = time.perf_counter() - t0
            progress(stats)
    finish = getattr(engine, "finish", None)
    if finish is not None and last_ts is not None:
        alerts = finish(last_ts)  # the end of the inputs: last-day summaries of leavers with no news since
        if after is not None and alerts:
            after(None, alerts)  # (no input record made these)
        for a in alerts:
            stats.alerts += 1
            on_alert(a)
    stats.seconds = time.perf_counter() - t0
    return stats


def replay_files(hr: list[str], signals: list[str], events: list[str], out: str, engine: Engine | None = None,
                 show_progress: bool | None = None,
                 after: Callable[[Any, list[Alert]], None] | None = None) -> ReplayStats:
    """The ``exitwatch replay`` command's work: alerts to ``out``, bad lines to ``out + '.deadletter'``."""
    engine = engine or Engine()
    show = sys.stderr.isatty() if show_progress is None else show_progress
    total_bytes = sum(Path(p).stat().st_size for p in [*hr, *signals, *events] if p != "-")

    def progress(s: ReplayStats) -> None:
        if show:
            done = sum(s.read.values())
            rate = done / s.seconds if s.seconds else 0
            sys.stderr.write(f"\rreplay: {done:,} records, {s.alerts:,} alerts, {s.bad:,} bad, {rate:,.0f}/s "
                             f"(inputs {total_bytes / 1e6:,.1f} MB)")
            sys.stderr.flush()

    with open(out, "wb") as fa, open(out + ".deadletter", "wb") as fd:

        def on_alert(a: Alert) -> None:
            fa.write(orjson.dumps(a.model_dump(mode="json")) + b"\n")

        def on_bad(d: DeadLetter) -> None:
            fd.write(orjson.dumps(d.model_dump(mode="json")) + b"\n")

        stats = run(engine, hr, signals, events, on_alert=on_alert, on_bad=on_bad, progress=progress, after=after)
    if show:
        sys.stderr.write("\n")
    return stats
