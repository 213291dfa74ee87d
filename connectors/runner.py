"""Reading inputs: files, folders, ``.gz``/``.zip``, standard input; follow mode and checkpoints.

:func:`iter_source` is the Python API: it yields ``(value, deadletter)`` pairs, where value is an
``ActivityEvent``, ``HRRecord`` or ``HRSignal``. :func:`run` drives a sink (Kafka or a file) with the same
records and returns the counts.

Checkpoints (``checkpoint=PATH``) hold, per input file, its inode and the byte offset up to which every
output has been delivered, plus the ids of outputs already delivered from lines after that offset (a
grouping connector holds lines back). They are written only at sync points, after the sink has flushed
without failures, so a restart loses no record. A record sent after the last sync point is sent again
after a crash, unless the sink is ``resumable`` (in follow mode): then the sink commits the checkpoint with
the records (a Kafka transaction; a file cut back to its size at the checkpoint), and nothing repeats.

>>> import tempfile, os
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "ev.jsonl")
>>> _ = open(p, "w").write('{"event_id":"a","ts":"2026-03-02T09:15:00Z","kind":"file","action":"open",'
...                        '"actor":"ann","source":"synthetic"}\\nnot json\\n')
>>> [(type(v).__name__, dl and dl.reason[:12]) for v, dl in iter_source("synthetic", [p])]
[('ActivityEvent', None), ('NoneType', 'invalid JSON')]
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from schemas import guard
from schemas.identity import AliasIndex
from schemas.reasons import reason_category
from schemas.models import ActivityEvent, DeadLetter, HRRecord, HRSignal

from connectors import sources
from connectors.base import (MAX_RAW_CHARS, MAX_RECORD_BYTES, NOT_MONITORED, UNRESOLVED_UNKNOWN, Context, Skip, Stats,
                             dead)
from connectors.classification import Classifier
from connectors.framing import Stream
from connectors.metrics import SKIPPED

_NOT_DATA = ("LICENSE", "COPYING", "NOTICE", "README", "COMMIT")
SYNC = object()  # marker: everything yielded before it should now be delivered
BATCH = 2000  # outputs between sync points in a backfill


def output_key(value: Any, dl: DeadLetter | None) -> str:
    """A stable key of an output, to recognise it again after a restart."""
    if isinstance(value, ActivityEvent):
        return value.event_id
    if isinstance(value, HRRecord):
        return f"hr:{value.employee_id}:{value.ts.isoformat()}:{value.status}"
    if isinstance(value, HRSignal):
        return f"sig:{value.employee_id}:{value.ts.isoformat()}:{value.signal}:{value.value}"
    if dl is not None:
        return "dl:" + hashlib.sha256((dl.reason + "\x1f" + dl.raw).encode("utf-8", "replace")).hexdigest()[:32]
    return ""


# ------------------------------------------------------------------------------------------------ inputs
@dataclass
class InputSpec:
    key: str  # checkpoint key: absolute path, "path!member" for zip members, "-" for stdin
    path: str
    member: str | None = None

    @property
    def growable(self) -> bool:
        return self.path != "-" and self.member is None and not self.path.endswith(".gz")


def expand(paths: Iterable[str]) -> list[InputSpec]:
    """Files of the given paths: folders recursively (sorted, hidden files and dead-letter files skipped)."""
    out: list[InputSpec] = []
    for p in paths:
        if p == "-":
            out.append(InputSpec("-", "-"))
            continue
        if os.path.isdir(p):
            files = []
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    if n.startswith(".") or n.endswith((".deadletter", ".md")) or n.upper().startswith(_NOT_DATA):
                        continue
                    files.append(os.path.join(root, n))
            out.extend(_file_specs(f) for f in sorted(files))
        else:
            out.append(_file_specs(p))
    flat: list[InputSpec] = []
    for o in out:
        flat.extend(o if isinstance(o, list) else [o])
    return flat


def _file_specs(path: str) -> list[InputSpec]:
    ap = os.path.abspath(path)
    if ap.lower().endswith(".zip") and os.path.isfile(ap):
        try:
            with zipfile.ZipFile(ap) as zf:
                return [
                    InputSpec(f"{ap}!{m.filename}", ap, m.filename)
                    for m in zf.infolist()
                    if not m.is_dir() and not os.path.basename(m.filename).startswith(".")
                ]
        except zipfile.BadZipFile:
            pass
    return [InputSpec(ap, ap)]


class _Opened:
    def __init__(self, spec: InputSpec) -> None:
        self.spec = spec
        self._zip: zipfile.ZipFile | None = None
        if spec.path == "-":
            self.fh: IO[bytes] = sys.stdin.buffer
            self.inode = None
            self.size = None
        elif spec.member is not None:
            self._zip = zipfile.ZipFile(spec.path)
            self.fh = self._zip.open(spec.member)
            st = os.stat(spec.path)
            self.inode = (st.st_dev, st.st_ino)
            self.size = self._zip.getinfo(spec.member).file_size
        else:
            st = os.stat(spec.path)
            self.inode = (st.st_dev, st.st_ino)
            raw = open(spec.path, "rb")
            magic = raw.read(2)
            raw.seek(0)
            if magic == b"\x1f\x8b":
                self.fh = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
                self._raw = raw
                self.size = None
            else:
                self.fh = raw
                self.size = st.st_size
        self.pos = 0

    def seek(self, offset: int) -> None:
        if offset:
            self.fh.seek(offset)
        self.pos = offset

    def close(self) -> None:
        if self.spec.path == "-":
            return
        try:
            self.fh.close()
        finally:
            if self._zip is not None:
                self._zip.close()
            raw = getattr(self, "_raw", None)
            if raw is not None:
                raw.close()

    def readline(self, final: bool) -> tuple[bytes | None, int, bool] | None:
        """One line: ``(bytes, start, oversized)``, or None when no complete line is there (yet)."""
        start = self.pos
        line = self.fh.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return None
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            head = line[: MAX_RAW_CHARS]
            total = len(line)
            while True:  # discard the rest of the oversized line
                more = self.fh.readline(1 << 20)
                total += len(more)
                if not more or more.endswith(b"\n"):
                    break
            if not final and not (more or b"").endswith(b"\n"):
                # the oversized line is still being written: come back later
                self.fh.seek(start)
                return None
            self.pos = start + total
            return head, start, True
        if not line.endswith(b"\n") and not final:
            self.fh.seek(start)
            return None
        self.pos = start + len(line)
        return line, start, False


# ----------------------------------------------------------------------------------------------- checkpoints
def read_checkpoint(path: str | None) -> dict[str, Any] | None:
    """The checkpoint file's document (``version``, ``source``, ``files``, maybe ``outputs``), or None."""
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return dict(json.load(f))
    except (OSError, ValueError) as e:
        raise SystemExit(f"connect: cannot read checkpoint {path}: {e}")


def load_checkpoint(path: str | None) -> dict[str, Any]:
    return dict((read_checkpoint(path) or {}).get("files", {}))


def save_checkpoint(path: str, source: str, files: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "source": source, "files": files, **(extra or {})}, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class _FileState:
    spec: InputSpec
    stream: Stream
    opened: _Opened | None = None
    done: bool = False
    skip: set[str] = field(default_factory=set)
    emitted: list[tuple[int, str]] = field(default_factory=list)  # (start offset, key) since safe offset

    def safe_offset(self) -> int:
        pos = self.opened.pos if self.opened else 0
        p = self.stream.pending()
        return pos if p is None else min(p, pos)


# ------------------------------------------------------------------------------------------------ the driver
class Driver:
    """Reads the inputs of one run and yields outputs, with ``SYNC`` markers at safe points.

    Resuming the generator after a ``SYNC`` means that everything before it has been delivered; unless
    :attr:`commit_ok` was set to False, the checkpoint is then written (``on_commit`` is called with its
    document first; it may add to it, or raise to stop the run).

    ``checkpoint_doc``: start from this checkpoint document instead of the file's. ``sync_interval``: in
    follow mode, seconds at least between the sync points of the read loop (default: every pass); a sync
    point still comes every ``BATCH`` outputs and when the run stops.
    """

    def __init__(
        self,
        source: str,
        paths: Iterable[str],
        *,
        ctx: Context | None = None,
        follow: bool = False,
        checkpoint: str | None = None,
        max_records: int | None = None,
        poll_interval: float = 0.5,
        idle_timeout: float | None = None,
        progress: Callable[[int, int | None, str], None] | None = None,
        stop: Callable[[], bool] | None = None,
        checkpoint_doc: dict[str, Any] | None = None,
        on_commit: Callable[[dict[str, Any]], None] | None = None,
        sync_interval: float = 0.0,
    ) -> None:
        self.ctx = ctx or Context()
        self.source = sources.get(source, self.ctx)
        self.source_name = source
        self.paths = list(paths)
        self.follow = follow
        self.checkpoint = checkpoint
        self.max_records = max_records
        self.poll_interval = poll_interval
        self.idle_timeout = idle_timeout
        self.progress = progress
        self.stop = stop or (lambda: False)
        self.commit_ok = True
        self.on_commit = on_commit
        self.sync_interval = sync_interval
        self.cp_files: dict[str, Any] = (
            dict(checkpoint_doc.get("files", {})) if checkpoint_doc is not None else load_checkpoint(checkpoint)
        )
        self.states: dict[str, _FileState] = {}
        skew = self.ctx.options.get("max_future_skew_s")
        self.skew_s = float(skew) if skew is not None else _setting("max_future_skew_s", guard.MAX_FUTURE_SKEW_S)
        self.max_depth = int(_setting("max_json_depth", guard.MAX_JSON_DEPTH))
        self.window = guard.clock_window(skew_s=self.skew_s)
        self.count = 0
        self.bytes_done = 0
        self.total_bytes: int | None = None

    # -- bookkeeping
    def _guard(self, value: Any) -> DeadLetter | None:
        """The input guard on one output (numbers, ids, depth, free text, the clock window); the dead letter
        it makes of a record that fails, else None (``value`` may have been cleaned in place)."""
        try:
            guard.check_record(value, self.max_depth)
            if value.ts > self.window.hi:
                self.window = guard.clock_window(skew_s=self.skew_s)  # the clock moved on (follow mode)
            self.window.check(value.ts)
        except guard.GuardError as e:
            try:
                raw = value.model_dump_json()
            except Exception:  # noqa: BLE001 - the raw text is a courtesy
                raw = repr(value)[:MAX_RAW_CHARS]
            return dead(self.source_name, str(e), raw)[1]
        return None

    def _deliver(self, st: _FileState, triples: list[tuple[Any, Any, int]]) -> Iterator[tuple[Any, Any]]:
        stats = self.ctx.stats
        for value, dl, start in triples:
            if dl is None and (value is None or isinstance(value, Skip)):
                reason = value.reason if isinstance(value, Skip) else NOT_MONITORED
                stats.skipped += 1
                stats.skipped_by[reason] = stats.skipped_by.get(reason, 0) + 1
                SKIPPED.labels(self.source_name, reason).inc()
                continue
            if value is not None:
                gdl = self._guard(value)
                if gdl is not None:
                    value, dl = None, gdl
            key = output_key(value, dl)
            if st.skip and key in st.skip:
                st.skip.discard(key)
                continue
            if self.checkpoint and st.spec.key != "-":
                st.emitted.append((start, key))
            if value is not None:
                if isinstance(value, ActivityEvent):
                    stats.events += 1
                    stats.by_kind[value.kind] = stats.by_kind.get(value.kind, 0) + 1
                elif isinstance(value, HRRecord):
                    stats.hr += 1
                else:
                    stats.signals += 1
            else:
                stats.deadletters += 1
                cat = reason_category(dl.reason)
                stats.deadletters_by[cat] = stats.deadletters_by.get(cat, 0) + 1
            self.count += 1
            yield value, dl

    def _commit(self) -> None:
        if not self.checkpoint:
            return
        if not self.commit_ok:
            self.commit_ok = True
            return
        for key, st in self.states.items():
            if key == "-" or st.opened is None and not st.done:
                continue
            safe = st.safe_offset() if not st.done else st.final_offset  # type: ignore[attr-defined]
            st.emitted = [(o, k) for o, k in st.emitted if o >= safe]
            prev = self.cp_files.get(key, {})
            inode = st.opened.inode if st.opened else prev.get("inode")
            self.cp_files[key] = {
                "inode": list(inode) if inode else None,
                "offset": safe,
                "skip": sorted({k for _, k in st.emitted} | st.skip),
            }
        doc: dict[str, Any] = {"version": 1, "source": self.source_name, "files": self.cp_files}
        if self.on_commit is not None:
            self.on_commit(doc)
        extra = {k: v for k, v in doc.items() if k not in ("version", "source", "files")}
        save_checkpoint(self.checkpoint, self.source_name, self.cp_files, extra)

    def _open(self, st: _FileState) -> None:
        op = _Opened(st.spec)
        prev = self.cp_files.get(st.spec.key)
        if prev and prev.get("inode") and op.inode and list(op.inode) == list(prev["inode"]):
            off = int(prev.get("offset", 0))
            if op.size is None or off <= op.size:
                op.seek(off)
                st.skip = set(prev.get("skip", []))
        st.opened = op

    def _limit_reached(self) -> bool:
        return self.max_records is not None and self.count >= self.max_records

    # -- the generator
    def __iter__(self) -> Iterator[Any]:
        specs = expand(self.source.order_paths(self.paths))
        self.total_bytes = _total_size(specs)
        last_new = last_sync = time.monotonic()
        since_sync = 0
        while True:
            got_any = False
            for spec in specs:
                st = self.states.get(spec.key)
                if st is None:
                    st = _FileState(spec, self.source.open_stream(spec.path))
                    self.states[spec.key] = st
                if st.done:
                    continue
                if st.opened is None:
                    try:
                        self._open(st)
                    except OSError as e:
                        yield from self._deliver(
                            st, [(*dead(self.source_name, f"cannot read {spec.path}: {e}", spec.key), 0)]
                        )
                        st.done = True
                        st.final_offset = 0  # type: ignore[attr-defined]
                        continue
                op = st.opened
                assert op is not None
                final = not (self.follow and spec.growable)
                while True:
                    got = op.readline(final)
                    if got is None:
                        break
                    line, start, oversized = got
                    got_any = True
                    self.ctx.stats.records_in += 1
                    self.bytes_done += op.pos - start
                    if oversized:
                        triples = [
                            (*dead(self.source_name, f"record larger than {MAX_RECORD_BYTES} bytes", line or b""),
                             start)
                        ]
                    else:
                        triples = _fed(self.source_name, st.stream, line or b"", start)
                    for item in self._deliver(st, triples):
                        since_sync += 1
                        yield item
                    if self.progress is not None and self.ctx.stats.records_in % 512 == 0:
                        self.progress(self.bytes_done, self.total_bytes, spec.path)
                    if self._limit_reached() or self.stop():
                        yield SYNC
                        self._commit()
                        return
                    if since_sync >= BATCH:
                        since_sync = 0
                        yield SYNC
                        self._commit()
                if final:
                    for item in self._deliver(st, st.stream.finish()):
                        yield item
                    st.final_offset = op.pos  # type: ignore[attr-defined]
                    st.done = True
                    op.close()
                    yield SYNC
                    self._commit()
                    since_sync = 0
                    if self._limit_reached() or self.stop():
                        return
                else:
                    for item in self._deliver(st, self._check_rotation(st)):
                        yield item
            if not self.follow:
                return
            now = time.monotonic()
            if got_any:
                last_new = now
            stopping = self.stop() or (self.idle_timeout is not None and now - last_new >= self.idle_timeout)
            if stopping or now - last_sync >= self.sync_interval:
                yield SYNC
                self._commit()
                since_sync = 0
                last_sync = time.monotonic()
            if stopping:
                return
            time.sleep(self.poll_interval)
            # new files in folders
            known = {s.key for s in specs}
            for s in expand(self.source.order_paths(self.paths)):
                if s.key not in known:
                    specs.append(s)

    def _check_rotation(self, st: _FileState) -> list[tuple[Any, Any, int]]:
        """A followed file replaced (new inode) or truncated: finish the old stream, start over at 0."""
        op = st.opened
        if op is None or op.inode is None:
            return []
        try:
            s = os.stat(st.spec.path)
        except OSError:
            return []
        if (s.st_dev, s.st_ino) != tuple(op.inode) or s.st_size < op.pos:
            # the old handle still reads the renamed file: take its last complete lines, then what it holds
            out: list[tuple[Any, Any, int]] = []
            while (got := op.readline(True)) is not None:
                line, start, oversized = got
                if not oversized:
                    out.extend(st.stream.feed(line or b"", start))
            out.extend(st.stream.finish())
            op.close()
            st.opened = None
            self.cp_files.pop(st.spec.key, None)
            st.skip = set()
            st.emitted = []
            st.stream = self.source.open_stream(st.spec.path)
            return out
        return []


def _fed(source: str, stream: Stream, line: bytes, start: int) -> list[tuple[Any, Any, int]]:
    """``stream.feed``, with any exception a dead letter of the line (one bad line never stops a run)."""
    try:
        return stream.feed(line, start)
    except Exception as e:  # noqa: BLE001 - a parser bug or a hostile line: count it, keep reading
        return [(*dead(source, f"parser error: {type(e).__name__}: {e}"[:500], line), start)]


def _setting(name: str, default: Any) -> Any:
    try:
        from schemas.settings import Settings

        return getattr(Settings(), name)
    except Exception:  # noqa: BLE001 - settings are optional here (a bad environment is reported elsewhere)
        return default


def _total_size(specs: list[InputSpec]) -> int | None:
    total = 0
    for s in specs:
        if s.path == "-":
            return None
        try:
            total += os.path.getsize(s.path) if s.member is None else 0
        except OSError:
            pass
    return total or None


# --------------------------------------------------------------------------------------------------- API
def make_context(
    hr: str | None = None,
    classification: str | None = None,
    options: dict[str, Any] | None = None,
    aliases: AliasIndex | None = None,
) -> Context:
    """A run context: HR aliases from an HR file (JSON lines or CSV, as the ``hr`` connector reads them)."""
    idx = aliases if aliases is not None else AliasIndex()
    if hr:
        for value, _ in iter_source("hr", [hr]):
            if isinstance(value, HRRecord):
                idx.add(value.employee_id, value.accounts)
    if classification is None:
        try:
            from schemas.settings import Settings

            classification = Settings().classification_config
        except Exception:  # noqa: BLE001 - settings are optional here
            classification = None
    return Context(aliases=idx, classifier=Classifier.load(classification), options=options)


_CTX_KEYS = ("hr", "classification", "aliases")


def iter_source(source: str, paths: Iterable[str], **opts: Any) -> Iterator[tuple[Any, DeadLetter | None]]:
    """``(ActivityEvent|HRRecord|HRSignal|None, DeadLetter|None)`` for every record of the inputs.

    Options: ``hr`` (HR file giving the aliases), ``aliases`` (an ``AliasIndex``), ``classification``
    (config file), ``year``/``tz`` and other connector options, ``follow``, ``checkpoint``,
    ``max_records``, ``idle_timeout``, ``poll_interval``, ``ctx`` (a prepared :class:`Context`).
    Skipped records (understood, but no activity) are not yielded.
    """
    driver = _driver(source, paths, opts)
    for item in driver:
        if item is SYNC:
            continue
        yield item


def _driver(source: str, paths: Iterable[str], opts: dict[str, Any]) -> Driver:
    opts = dict(opts)
    ctx = opts.pop("ctx", None)
    ctx_args = {k: opts.pop(k) for k in _CTX_KEYS if k in opts}
    driver_keys = ("follow", "checkpoint", "max_records", "poll_interval", "idle_timeout", "progress", "stop",
                   "checkpoint_doc", "on_commit", "sync_interval")
    dargs = {k: opts.pop(k) for k in driver_keys if k in opts}
    if ctx is None:
        ctx = make_context(options=opts, **ctx_args)
    else:
        ctx.options.update(opts)
    return Driver(source, paths, ctx=ctx, **dargs)


def run(source: str, paths: Iterable[str], sink: Any, **opts: Any) -> Stats:
    """Send every record of the inputs to ``sink`` (``KafkaSink``, ``FileSink``, ``NullSink``); the counts.

    At each sync point the sink is flushed; the checkpoint is written only when it reported no failure.
    In follow mode with a checkpoint, a ``resumable`` sink (transactional Kafka, a file) resumes from the
    checkpoint it committed and commits each checkpoint with the records before it.
    """
    cp = opts.get("checkpoint")
    resumable = bool(cp and opts.get("follow") and getattr(sink, "resumable", False))
    if getattr(sink, "transactional", False) and not resumable:
        raise ValueError("a transactional sink is for follow mode with a checkpoint (follow=True, checkpoint=...)")
    if resumable:
        opts["checkpoint_doc"] = sink.resume(read_checkpoint(cp))
        opts["on_commit"] = sink.checkpoint
    driver = _driver(source, paths, opts)
    stats = driver.ctx.stats
    transactional = bool(getattr(sink, "transactional", False))
    if resumable:
        driver._commit()  # the starting point, committed before anything is sent (file sizes, topic)
    failures_seen = 0
    for item in driver:
        if item is SYNC:
            if transactional:
                continue  # the commit at the checkpoint delivers everything or raises
            sink.flush()
            failed = getattr(sink, "failures", 0)
            if failed > failures_seen:
                failures_seen = failed
                driver.commit_ok = False
            continue
        value, dl = item
        if dl is not None:
            sink.send_deadletter(dl)
        elif isinstance(value, ActivityEvent):
            sink.send_event(value)
        elif isinstance(value, HRRecord):
            sink.send_hr(value)
        elif isinstance(value, HRSignal):
            sink.send_signal(value)
    sink.flush()
    stats.delivery_failures = getattr(sink, "failures", 0)
    return stats


def summary_line(source: str, stats: Stats, seconds: float) -> str:
    n = stats.events + stats.hr + stats.signals
    rate = stats.records_in / seconds if seconds > 0 else 0.0
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_kind.items()))
    parts = [f"connect {source}: {stats.records_in} lines read", f"{stats.events} events" + (f" ({kinds})" if kinds else "")]
    if stats.hr or stats.signals:
        parts.append(f"{stats.hr} HR records, {stats.signals} HR signals")
    parts += [
        f"{stats.deadletters} dead letters" + (
            " (" + ", ".join(f"{k} {v}" for k, v in sorted(stats.deadletters_by.items(), key=lambda kv: -kv[1]))
            + ")" if stats.deadletters_by else ""),
        f"{stats.skipped} skipped" + (
            " (" + ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped_by.items(), key=lambda kv: -kv[1])) + ")"
            if stats.skipped_by else ""),
        unresolved_text(stats),
        f"{stats.delivery_failures} delivery failures",
        f"{seconds:.1f} s ({rate:,.0f} lines/s)",
    ]
    del n
    return "; ".join(parts)


def unresolved_text(stats: Stats) -> str:
    """The summary's part on events sent on without an employee id: how many, why, and which accounts.

    >>> from connectors.base import UNRESOLVED_NO_HR, UNRESOLVED_UNKNOWN
    >>> unresolved_text(Stats(unresolved=5, unresolved_by={UNRESOLVED_NO_HR: 5}))
    '5 events with an unresolved actor: 5 left to the worker, which resolves them from hr.status (no --hr given here); not dead letters'
    >>> unresolved_text(Stats(unresolved=3, unresolved_by={UNRESOLVED_UNKNOWN: 3},
    ...                       unresolved_accounts={"svc_sql": 2, "svc_print": 1}))[-70:]
    'outside senders), 2 accounts: svc_sql 2, svc_print 1; not dead letters'
    """
    if not stats.unresolved:
        return "0 events with an unresolved actor"
    parts = []
    for why, n in sorted(stats.unresolved_by.items(), key=lambda kv: -kv[1]):
        text = f"{n} {why}"
        named = sorted(((a, c) for a, c in stats.unresolved_accounts.items() if a), key=lambda ac: -ac[1])
        if why == UNRESOLVED_UNKNOWN and named:
            more = "+" if "" in stats.unresolved_accounts else ""
            text += f", {len(named)}{more} accounts: " + ", ".join(f"{a} {c}" for a, c in named[:5])
            text += ", ..." if len(named) > 5 else ""
        parts.append(text)
    return f"{stats.unresolved} events with an unresolved actor: {'; '.join(parts)}; not dead letters"


class Progress:
    """A one-line progress bar on a TTY (stderr); silent elsewhere."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._t0 = time.monotonic()

    def __call__(self, done: int, total: int | None, path: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.2:
            return
        self._last = now
        rate = done / max(now - self._t0, 1e-6) / 1e6
        name = os.path.basename(path)[-30:]
        if total:
            frac = min(done / total, 1.0)
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r[{bar:<30}] {frac * 100:5.1f}% {rate:6.1f} MB/s {name:<30}")
        else:
            self.stream.write(f"\r{done / 1e6:10.1f} MB {rate:6.1f} MB/s {name:<30}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


__all__ = ["Driver", "Progress", "SYNC", "iter_source", "make_context", "run", "summary_line", "expand"]
_ = io  # keep import for typing of file objects
