"""``postfix``: Postfix mail logs (syslog), lines grouped by queue id into one ``email``/``send`` event.

Per queue id: ``qmgr`` gives ``from=<sender>, size=N, nrcpt=M``; ``smtp``/``local``/``lmtp``/``virtual``
give ``to=<rcpt>`` with ``relay=`` and ``status=``; ``cleanup`` the ``message-id``; ``smtpd`` the client
and ``sasl_username`` (tried as an alias of the sender); ``qmgr ... removed`` ends the message and emits it.
Bounces (``from=<>``) are skipped. Classic syslog dates have no year: it comes from the ``year`` option
(``--year``, default: the current year), stepping to the next year when the month wraps from December to
January; RFC 3339 syslog times are read as they are.

Lines of other programs are skipped; lines that are not syslog lines at all are dead-lettered.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from typing import Any

from connectors.base import GuardError, as_int, dead, sha_id
from connectors.framing import Emitted, Stream, decode
from connectors.sources import Source

_SYSLOG = re.compile(
    r"^(?:<\d+>\d?\s*)?(?P<ts>(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2})"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(?P<host>\S+)\s+"
    r"(?P<prog>[\w.-]+(?:/[\w.-]+)*)(?:\[(?P<pid>\d+)\])?:\s?(?P<msg>.*)$"
)
_QID = re.compile(r"^(?P<qid>[0-9A-F]{6,15}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}):\s+(?P<rest>.*)$")
_KV = re.compile(r"(\w[\w-]*)=(<[^>]*>|\S+?)(?:,|$|\s)")
_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_DELIVERY_AGENTS = ("smtp", "lmtp", "local", "virtual", "pipe", "error", "discard", "relay")
MAX_OPEN = 100_000


def _kv(rest: str) -> dict[str, str]:
    out = {}
    for k, v in _KV.findall(rest):
        if k not in out:
            out[k] = v[1:-1] if v.startswith("<") else v
    return out


class _Msg:
    __slots__ = ("qid", "host", "start", "ts", "sender", "size", "nrcpt", "rcpts", "msgid", "sasl", "client",
                 "relays", "bad")

    def __init__(self, qid: str, host: str, start: int, ts: dt.datetime) -> None:
        self.qid, self.host, self.start, self.ts = qid, host, start, ts
        self.sender: str | None = None
        self.size: int | None = None
        self.nrcpt: int | None = None
        self.rcpts: dict[str, str] = {}
        self.msgid: str | None = None
        self.sasl: str | None = None
        self.client: str | None = None
        self.relays: list[str] = []
        self.bad: str | None = None


class PostfixStream(Stream):
    def __init__(self, source: "PostfixSource") -> None:
        super().__init__(source)
        self.ctx = source.ctx
        y = self.ctx.options.get("year")
        self.year = int(y) if y else dt.datetime.now(dt.timezone.utc).year
        self.last_month: int | None = None
        self.tz = self.ctx.options.get("tz") or dt.timezone.utc
        self.open: OrderedDict[tuple[str, str], _Msg] = OrderedDict()

    def _ts(self, m: re.Match[str]) -> dt.datetime:
        if m.group("mon"):
            mon = _MONTHS.get(m.group("mon"))
            if mon is None:
                raise ValueError("month")
            if self.last_month is not None and mon < self.last_month - 6:
                self.year += 1
            self.last_month = mon
            h, mi, s = (int(x) for x in m.group("hms").split(":"))
            return dt.datetime(self.year, mon, int(m.group("day")), h, mi, s, tzinfo=self.tz)
        t = dt.datetime.fromisoformat(m.group("ts").replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=self.tz)

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        text = decode(line)
        if not text.strip():
            return []
        m = _SYSLOG.match(text)
        if not m:
            return [(*dead(self.name, "not a syslog line", text), start)]
        prog = m.group("prog")
        if "postfix" not in prog:
            return [(None, None, start)]
        q = _QID.match(m.group("msg"))
        if not q:
            return [(None, None, start)]
        try:
            ts = self._ts(m)
        except ValueError:
            return [(*dead(self.name, "bad syslog date", text), start)]
        host = m.group("host")
        qid = q.group("qid")
        rest = q.group("rest")
        key = (host, qid)
        msg = self.open.get(key)
        if msg is None:
            if rest == "removed":
                return [(None, None, start)]
            msg = _Msg(qid, host, start, ts)
            self.open[key] = msg
        out: list[Emitted] = []
        agent = prog.rsplit("/", 1)[-1]
        if rest == "removed":
            del self.open[key]
            out.append(self._emit(msg))
            return out
        kv = _kv(rest)
        if "from" in kv and (agent == "qmgr" or msg.sender is None):
            msg.sender = kv["from"]
            for f in ("size", "nrcpt"):
                if f in kv:
                    try:
                        setattr(msg, f, as_int(kv[f], f))
                    except GuardError as e:  # a number no field can hold: the message is a dead letter
                        msg.bad = str(e)
        if "to" in kv and agent in _DELIVERY_AGENTS:
            rc = kv["to"]
            msg.rcpts[rc] = kv.get("status", "")
            relay = kv.get("relay")
            if relay and relay not in msg.relays and len(msg.relays) < 20:
                msg.relays.append(relay)
        if "message-id" in kv:
            msg.msgid = kv["message-id"]
        if "sasl_username" in kv:
            msg.sasl = kv["sasl_username"]
        if "client" in kv and agent == "smtpd":
            msg.client = kv["client"]
        if len(self.open) > MAX_OPEN:
            _, old = self.open.popitem(last=False)
            out.append(self._emit(old))
        return out

    def _emit(self, msg: _Msg) -> Emitted:
        if not msg.sender or not msg.rcpts:
            return (None, None, msg.start)
        sender = msg.sender
        rcpts = list(msg.rcpts)
        attrs: dict[str, Any] = {"queue_id": msg.qid, "status": {r: s for r, s in msg.rcpts.items() if s}}
        if msg.msgid:
            attrs["message_id"] = msg.msgid
        if msg.relays:
            attrs["relays"] = msg.relays
        if msg.client:
            attrs["client"] = msg.client
        if msg.sasl:
            attrs["sasl_username"] = msg.sasl
        raw = f"{msg.host} {msg.qid} from={sender} to={','.join(rcpts)} size={msg.size}"
        if msg.bad:
            return (*dead(self.name, msg.bad, raw), msg.start)
        v, d = self.ctx.event(
            source=self.name,
            raw=raw,
            event_id=sha_id(self.name, msg.host, msg.qid, msg.ts.isoformat(), msg.msgid or ""),
            ts=msg.ts,
            kind="email",
            action="send",
            actor=sender,
            aliases=(msg.sasl,),
            host=msg.host,
            recipients=rcpts,
            bytes=msg.size,
            count=msg.nrcpt,
            attrs=attrs,
        )
        return (v, d, msg.start)

    def finish(self) -> list[Emitted]:
        out = [self._emit(m) for m in self.open.values()]
        self.open.clear()
        return out

    def pending(self) -> int | None:
        if not self.open:
            return None
        return next(iter(self.open.values())).start  # insertion order is line order


class PostfixSource(Source):
    name = "postfix"

    def open_stream(self, path: str) -> Stream:
        return PostfixStream(self)
