"""Streams: how the text units of one input become outputs.

The runner reads an input line by line and feeds each line with its byte offset to a stream; the stream
returns ``(value, deadletter, start_offset)`` triples, where ``start_offset`` is the offset of the first line
the output was built from. A stream that holds lines back (grouping by queue id, audit serial, message id)
reports the offset of the earliest held line with :meth:`Stream.pending`, so a checkpoint never passes a
line whose output has not been delivered.

* :class:`JsonStream`: JSON lines, or pretty-printed JSON documents (objects or arrays) spread over lines.
* :class:`CsvStream`: CSV with a header line (or ``#Fields:``), quoted fields may hold newlines.
* :class:`AutoStream`: JSON or CSV, chosen by the first non-blank line.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from schemas import guard
from schemas.guard import GuardError

from connectors.base import MAX_RECORD_BYTES, Output, ParseError, dead, skip

Emitted = tuple[Any, Any, int]

#: Deepest nesting of a JSON record a source is given (the guard's default; deeper records are too_deep).
MAX_JSON_DEPTH = guard.MAX_JSON_DEPTH
#: How far a quoted CSV field may run over lines before its opening quote is taken for a stray one.
MAX_CSV_CONTINUATION_LINES = 200
MAX_CSV_CONTINUATION_BYTES = 256 * 1024

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth(text: str) -> int:
    t = _STRINGS.sub("", text) if '"' in text else text
    return t.count("{") + t.count("[") - t.count("}") - t.count("]")


def decode(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.rstrip("\r\n")


def guarded(source: str, raw: str, fn: Callable[[], Iterable[Output]], empty_ok: bool = False) -> list[Output]:
    """Run a parser on one record: a dead letter with the reason instead of any exception; a record that
    gives no output at all (an empty page, a container without entries) is counted as skipped, unless the
    parser groups records and emits later (``empty_ok``)."""
    try:
        out = list(fn())
        return out if out or empty_ok else [skip("record without entries")]
    except (ParseError, GuardError) as e:
        return [dead(source, str(e) or "unparseable record", raw)]
    except Exception as e:  # noqa: BLE001 - one bad record never stops the connector
        return [dead(source, f"parser error: {type(e).__name__}: {e}", raw)]


class Stream:
    """The outputs of one input; subclasses override :meth:`feed` and, if they hold lines, the rest."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.name: str = source.name

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        raise NotImplementedError

    def finish(self) -> list[Emitted]:
        """End of input: emit whatever is held back."""
        return []

    def pending(self) -> int | None:
        """Offset of the earliest line held back, or None."""
        return None


class JsonStream(Stream):
    """JSON lines, or pretty-printed documents; each object goes to ``source.parse(obj, raw)``."""

    def __init__(self, source: Any) -> None:
        super().__init__(source)
        self._buf: list[str] | None = None
        self._buf_start = 0
        self._buf_size = 0
        self._depth = 0

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        text = decode(line)
        if self._buf is not None and text[:1] in ("{", "[") and self._whole(text):
            # A complete JSON line at column 0 while a document is open: the open one was truncated.
            # Dead-letter it alone and carry on with this line, so one broken record loses nothing else.
            raw = "\n".join(self._buf)
            s = self._buf_start
            self._reset()
            return [(*dead(self.name, "truncated JSON record (the next line starts a new one)", raw), s),
                    *self.feed(line, start)]
        if self._buf is not None:
            self._buf.append(text)
            self._buf_size += len(line)
            self._depth += _depth(text)
            if self._buf_size > MAX_RECORD_BYTES:
                raw = "\n".join(self._buf)
                s = self._buf_start
                self._reset()
                return [(*dead(self.name, f"record larger than {MAX_RECORD_BYTES} bytes", raw), s)]
            if self._depth <= 0:
                doc = "\n".join(self._buf)
                s = self._buf_start
                self._reset()
                return self._document(doc, s)
            return []
        stripped = text.strip()
        if not stripped:
            return []
        try:
            obj = orjson.loads(stripped)
        except orjson.JSONDecodeError as e:
            d = _depth(stripped)
            if d > 0 and (stripped in ("{", "[") or stripped[-1] in "{[,:" and stripped[0] in "{["):
                self._buf = [text]
                self._buf_start = start
                self._buf_size = len(line)
                self._depth = d
                return []
            return [(*dead(self.name, f"invalid JSON: {e}", text), start)]
        return self._objects(obj, stripped, start)

    @staticmethod
    def _whole(text: str) -> bool:
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        return True

    def _reset(self) -> None:
        self._buf = None
        self._buf_size = 0
        self._depth = 0

    def _document(self, doc: str, start: int) -> list[Emitted]:
        try:
            obj = orjson.loads(doc)
        except orjson.JSONDecodeError as e:
            return [(*dead(self.name, f"invalid JSON document: {e}", doc), start)]
        return self._objects(obj, doc, start)

    def _objects(self, obj: Any, raw: str, start: int) -> list[Emitted]:
        if isinstance(obj, list):
            out: list[Emitted] = []
            for item in obj:
                out.extend(self._objects(item, orjson.dumps(item).decode(), start))
            return out
        if not isinstance(obj, dict):
            return [(*dead(self.name, f"not a JSON object: {type(obj).__name__}", raw), start)]
        if raw.count("{") + raw.count("[") > MAX_JSON_DEPTH and guard.json_depth(obj, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            return [(*dead(self.name, f"too_deep: record nested more than {MAX_JSON_DEPTH} levels deep", raw), start)]
        return [(v, d, start) for v, d in guarded(self.name, raw, lambda: self.source.parse(obj, raw))]

    def finish(self) -> list[Emitted]:
        if self._buf is None:
            return []
        raw = "\n".join(self._buf)
        s = self._buf_start
        self._reset()
        return [(*dead(self.name, "truncated JSON document at end of input", raw), s)]

    def pending(self) -> int | None:
        return self._buf_start if self._buf is not None else None


class CsvStream(Stream):
    """CSV rows as dicts keyed by the header (``#Fields:`` lines too); each goes to ``source.parse_row``.

    Lines starting with ``#`` other than ``#Fields:`` are comments. A row whose quotes do not close
    continues on the next line, for at most :data:`MAX_CSV_CONTINUATION_LINES` lines; when the quote never
    closes, or closes into something that is not a CSV row of the header's width (a stray ``"``), only the
    line that opened it is dead-lettered and the lines after it are read again as rows, so one broken quote
    loses one line. Headers are compared as written (strip only).
    """

    def __init__(self, source: Any, header: list[str] | None = None, lower_header: bool = False) -> None:
        super().__init__(source)
        self.header = header
        self._lower = lower_header
        self._buf: list[str] | None = None
        self._lines: list[tuple[bytes, int]] = []
        self._buf_start = 0
        self._buf_size = 0

    def _set_header(self, text: str) -> None:
        cols = next(csv.reader([text]))
        self.header = [c.strip().lower() if self._lower else c.strip() for c in cols]
        on_header = getattr(self.source, "on_header", None)
        if on_header:
            on_header(self.header)

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        queue: deque[tuple[bytes, int]] = deque([(line, start)])
        out: list[Emitted] = []
        while queue:
            ln, st = queue.popleft()
            out.extend(self._feed_one(ln, st, queue))
        return out

    def _feed_one(self, line: bytes, start: int, queue: deque[tuple[bytes, int]]) -> list[Emitted]:
        text = decode(line)
        if self._buf is not None:
            self._buf.append(text)
            self._lines.append((line, start))
            self._buf_size += len(line)
            joined = "\n".join(self._buf)
            if joined.count('"') % 2 == 1:
                if self._buf_size > MAX_CSV_CONTINUATION_BYTES or len(self._buf) > MAX_CSV_CONTINUATION_LINES:
                    return self._recover(queue, f"unterminated quoted CSV field (no closing quote within "
                                                f"{len(self._buf) - 1} lines); the next line is read as a new row")
                return []
            values = self._values(joined)
            if isinstance(values, str):
                # the quote that opened the field closed, but not as a CSV field: a stray quote that
                # swallowed the rows after it. Only its own line is lost; the rest are read again.
                return self._recover(queue, f"stray quote in CSV row ({values}); the next line is read as a new row")
            s = self._buf_start
            self._buf = None
            return self._parse(values, joined, s)
        if not text.strip():
            return []
        if text.startswith("#"):
            if text[:8].lower() == "#fields:":
                self._set_header(text[8:].strip())
            return []
        if self.header is None:
            self._set_header(text)
            return []
        if text.count('"') % 2 == 1:
            self._buf = [text]
            self._lines = [(line, start)]
            self._buf_start = start
            self._buf_size = len(line)
            return []
        return self._row(text, start)

    def _recover(self, queue: deque[tuple[bytes, int]], reason: str) -> list[Emitted]:
        """Dead-letter the first buffered line alone and queue the lines after it to be read again."""
        assert self._buf is not None
        first, s = self._buf[0], self._buf_start
        rest = self._lines[1:]
        self._buf = None
        self._lines = []
        queue.extendleft(reversed(rest))
        return [(*dead(self.name, reason, first), s)]

    def _values(self, text: str) -> list[str] | str:
        """The fields of one CSV record, fitted to the header; a string saying why not."""
        try:
            values = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as e:
            return f"invalid CSV row: {e}"
        header = self.header or []
        if len(values) != len(header):
            if len(values) < len(header) and len(values) >= max(1, len(header) - 2):
                values = values + [""] * (len(header) - len(values))
            else:
                return f"CSV row has {len(values)} fields, header has {len(header)}"
        return values

    def _row(self, text: str, start: int) -> list[Emitted]:
        values = self._values(text)
        if isinstance(values, str):
            return [(*dead(self.name, values, text), start)]
        return self._parse(values, text, start)

    def _parse(self, values: list[str], text: str, start: int) -> list[Emitted]:
        row = dict(zip(self.header or [], values))
        return [(v, d, start) for v, d in guarded(self.name, text, lambda: self.source.parse_row(row, text),
                                                  empty_ok=getattr(self.source, "groups_rows", False))]

    def finish(self) -> list[Emitted]:
        out: list[Emitted] = []
        while self._buf is not None:  # the lines after an unclosed quote are still rows
            queue: deque[tuple[bytes, int]] = deque()
            out.extend(self._recover(queue, "unterminated quoted CSV field at end of input"))
            while queue:
                ln, st = queue.popleft()
                out.extend(self._feed_one(ln, st, queue))
        return out

    def pending(self) -> int | None:
        return self._buf_start if self._buf is not None else None


class AutoStream(Stream):
    """JSON when the first non-blank line starts with ``{`` or ``[``, else CSV."""

    def __init__(self, source: Any, csv_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(source)
        self._inner: Stream | None = None
        self._csv_kwargs = csv_kwargs or {}

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        if self._inner is None:
            t = decode(line).lstrip()
            if not t:
                return []
            self._inner = JsonStream(self.source) if t[0] in "{[" else CsvStream(self.source, **self._csv_kwargs)
        return self._inner.feed(line, start)

    def finish(self) -> list[Emitted]:
        return self._inner.finish() if self._inner else []

    def pending(self) -> int | None:
        return self._inner.pending() if self._inner else None
