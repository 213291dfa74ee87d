"""``exitwatch replay``: the detection core over files, with no broker (CONTRACT.md 6).

HR records, signals and events from any number of JSON-lines files (``.gz`` too) are merged in ``ts`` order
(at equal times HR records first, then signals, then events), each file read as a stream. A bad line is
counted and written to ``OUT.jsonl.deadletter`` with its reason; the run goes on.
"""

from __future__ import annotations

import datetime as dt
import gzip
import heapq
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from detectors.engine import Engine
from schemas import ActivityEvent, Alert, DeadLetter, HRRecord, HRSignal
from schemas.models import utcnow

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
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(x) for x in err["loc"]) or "record"
            parts.append(f"{loc}: {err['msg']}")
        return "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class ReplayStats:
    read: dict[str, int] = field(default_factory=lambda: {"hr": 0, "signals": 0, "events": 0})
    bad: int = 0
    alerts: int = 0
    seconds: float = 0.0


def _read(path: str | Path, kind: int, bad: Callable[[str, str, str], None], count: Callable[[], None]) -> Iterator[tuple[dt.datetime, int, int, Any]]:
    """Valid records of one file with their sort key; bad lines go to ``bad``. Each file must be in ts order
    for the merge to be exact; a record older than its predecessor is still applied (late data)."""
    model = _MODELS[kind]
    with open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            count()
            try:
                obj = model.model_validate_json(line)
            except (ValidationError, ValueError) as exc:
                bad(f"replay:{_NAMES[kind]}", f"{path}:{n}: {error_reason(exc)}", line.rstrip("\n"))
                continue
            yield (obj.ts, kind, n, obj)


def merged(hr: Iterable[str | Path], signals: Iterable[str | Path], events: Iterable[str | Path],
           bad: Callable[[str, str, str], None], counters: dict[str, int]) -> Iterator[tuple[int, Any]]:
    """All inputs merged by (ts, HR before signals before events)."""
    streams = []
    for kind, paths in ((HR, hr), (SIGNAL, signals), (EVENT, events)):
        name = _NAMES[kind]

        def inc(name: str = name) -> None:
            counters[name] += 1

        for p in paths:
            streams.append(_read(p, kind, bad, inc))
    for _, kind, _, obj in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
        yield kind, obj


def run(engine: Engine, hr: Iterable[str | Path], signals: Iterable[str | Path], events: Iterable[str | Path],
        on_alert: Callable[[Alert], None], on_bad: Callable[[DeadLetter], None],
        progress: Callable[[ReplayStats], None] | None = None) -> ReplayStats:
    """Drive ``engine`` over the merged inputs; every alert to ``on_alert``, every bad line to ``on_bad``."""
    stats = ReplayStats()
    t0 = time.perf_counter()

    def bad(source: str, reason: str, raw: str) -> None:
        stats.bad += 1
        on_bad(DeadLetter(source=source, reason=reason, raw=raw[:65536], ts=utcnow()))

    n = 0
    for kind, obj in merged(hr, signals, events, bad, stats.read):
        if kind == EVENT:
            alerts = engine.on_event(obj)
        elif kind == HR:
            alerts = engine.on_hr(obj)
        else:
            alerts = engine.on_signal(obj)
        for a in alerts:
            stats.alerts += 1
            on_alert(a)
        n += 1
        if progress is not None and n % 20000 == 0:
            stats.seconds = time.perf_counter() - t0
            progress(stats)
    stats.seconds = time.perf_counter() - t0
    return stats


def replay_files(hr: list[str], signals: list[str], events: list[str], out: str, engine: Engine | None = None,
                 show_progress: bool | None = None) -> ReplayStats:
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

        stats = run(engine, hr, signals, events, on_alert=on_alert, on_bad=on_bad, progress=progress)
    if show:
        sys.stderr.write("\n")
    return stats
