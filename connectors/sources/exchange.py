"""``exchange``: Exchange Server message tracking logs (``MSGTRK*.LOG``: CSV after ``#Fields:``), rows
grouped by ``message-id`` into one ``email``/``send`` event per message sent by a mailbox user.

A message is emitted when it was submitted from a mailbox (``RECEIVE`` from ``STOREDRIVER``, or
``SUBMIT``) or left the organisation (``SENDEXTERNAL``) without having come in from outside. Mail that came
in (``directionality`` ``Incoming``, or a ``RECEIVE`` over ``SMTP`` that no mailbox submitted, or a sender
outside ``company_domains``) is counted as inbound mail, also when a transport rule, a forward or a
redirect sends a copy outside (``SENDEXTERNAL``): that copy is not a send by the outside sender. Recipients are the
union over its rows, the size the largest ``total-bytes``; ``SENDEXTERNAL`` marks it external. A group
is complete when a later row is more than 10 minutes newer, or at the end of the input.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from connectors.base import ParseError, as_int, dead, first, parse_ts, recipients_of, sha_id, skip
from connectors.framing import CsvStream, Emitted, Stream
from connectors.sources import Source

WINDOW = dt.timedelta(minutes=10)


class _Msg:
    __slots__ = ("mid", "start", "ts", "last", "sender", "rcpts", "size", "events", "subject", "host", "sources",
                 "client")

    def __init__(self, mid: str, start: int, ts: dt.datetime) -> None:
        self.mid, self.start, self.ts, self.last = mid, start, ts, ts
        self.sender: str | None = None
        self.rcpts: list[str] = []
        self.size: int | None = None
        self.events: set[str] = set()
        self.subject: str | None = None
        self.host: str | None = None
        self.sources: set[str] = set()
        self.client: str | None = None


class _Handler:
    """What CsvStream calls per row; holds the open messages."""

    groups_rows = True  # rows give no output of their own: the message does, later

    def __init__(self, stream: "ExchangeStream") -> None:
        self.stream = stream
        self.name = stream.name

    def parse_row(self, row: dict[str, str], raw: str) -> list[Any]:
        return self.stream.row(row, raw)


class ExchangeStream(Stream):
    def __init__(self, source: "ExchangeSource") -> None:
        super().__init__(source)
        self.ctx = source.ctx
        self.csv = CsvStream(_Handler(self), lower_header=True)
        self.open: OrderedDict[str, _Msg] = OrderedDict()
        self._start = 0
        self._ready: list[Emitted] = []

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        self._start = start
        out = []
        for v, d, s in self.csv.feed(line, start):
            if v is not None or d is not None:
                out.append((v, d, s))
        out.extend(self._ready)
        self._ready = []
        return out

    def row(self, r: dict[str, str], raw: str) -> list[Any]:
        mid = first(r.get("message-id"), r.get("internal-message-id"))
        when = first(r.get("date-time"))
        if not mid or not when:
            raise ParseError("message tracking row without message-id or date-time")
        ts = parse_ts(when)
        # complete the groups this row is far past
        while self.open:
            k, m = next(iter(self.open.items()))
            if ts - m.last <= WINDOW:
                break
            del self.open[k]
            self._ready.append(self._emit(m))
        m = self.open.get(mid)
        if m is None:
            m = _Msg(mid, self._start, ts)
            self.open[mid] = m
        m.last = max(m.last, ts)
        ev = str(r.get("event-id") or "").upper()
        m.events.add(ev)
        src = str(r.get("source") or "").upper()
        if ev == "SUBMIT" or (ev == "RECEIVE" and src == "STOREDRIVER"):
            m.sources.add("SUBMITTED")
        if ev == "RECEIVE" and src == "SMTP":
            m.sources.add("SMTP_IN")
        if str(r.get("directionality") or "").lower() == "incoming":
            m.sources.add("INCOMING")
        if ev in ("TRANSFER", "REDIRECT", "RESOLVE") or "transportrule" in str(r.get("source-context") or "").lower().replace(" ", ""):
            m.sources.add("RULE_OR_FORWARD")
        m.sender = first(r.get("sender-address"), m.sender)
        for rc in recipients_of(r.get("recipient-address")):
            if rc.lower() not in {x.lower() for x in m.rcpts}:
                m.rcpts.append(rc)
        size = as_int(r.get("total-bytes"))
        if size is not None:
            m.size = max(size, m.size or 0)
        m.subject = first(r.get("message-subject"), m.subject)
        m.host = first(m.host, r.get("server-hostname"))
        m.client = first(m.client, r.get("client-hostname") if ev in ("RECEIVE", "SUBMIT") else None)
        return []

    def _emit(self, m: _Msg) -> Emitted:
        cl = self.ctx.classifier
        outside_sender = bool(m.sender and cl.company_domains and cl.classify(m.sender)[0])
        inbound = "SUBMITTED" not in m.sources and (
            "INCOMING" in m.sources or "SMTP_IN" in m.sources or outside_sender)
        if inbound:
            if "SENDEXTERNAL" in m.events:
                return (*skip("inbound mail relayed outside (alias, forward or rule)"), m.start)
            return (*skip("inbound mail"), m.start)
        outbound = "SENDEXTERNAL" in m.events or "SUBMITTED" in m.sources
        if not outbound:
            return (*skip("delivery inside the organisation (no submission seen)"), m.start)
        if not m.sender or not m.rcpts:
            return (*skip("message without sender or recipients"), m.start)
        attrs: dict[str, Any] = {"message_id": m.mid, "events": sorted(m.events)}
        if m.client:
            attrs["client"] = m.client
        fields: dict[str, Any] = {}
        if "SENDEXTERNAL" in m.events:
            fields["external"] = True
        v, d = self.ctx.event(source=self.name, raw=f"{m.mid} {m.sender} -> {';'.join(m.rcpts)}",
                              event_id=sha_id(self.name, m.mid, m.sender), ts=m.ts, kind="email", action="send",
                              actor=m.sender, host=m.host, recipients=m.rcpts, bytes=m.size, object=m.subject,
                              attrs=attrs, **fields)
        return (v, d, m.start)

    def finish(self) -> list[Emitted]:
        out = [t for t in self.csv.finish()]
        out.extend(self._emit(m) for m in self.open.values())
        self.open.clear()
        return out

    def pending(self) -> int | None:
        c = self.csv.pending()
        o = next(iter(self.open.values())).start if self.open else None
        vals = [x for x in (c, o) if x is not None]
        return min(vals) if vals else None


class ExchangeSource(Source):
    name = "exchange"

    def open_stream(self, path: str) -> Stream:
        return ExchangeStream(self)


_ = dead
