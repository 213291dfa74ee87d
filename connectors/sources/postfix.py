"""``postfix``: Postfix mail logs (syslog), lines grouped by queue id into one ``email``/``send`` event.

Per queue id: ``qmgr`` gives ``from=<sender>, size=N, nrcpt=M``; ``smtp``/``local``/``lmtp``/``virtual``
give ``to=<rcpt>`` with ``relay=`` and ``status=``; ``cleanup`` the ``message-id``; ``smtpd`` the client
and ``sasl_username`` (tried as an alias of the sender); ``qmgr ... removed`` ends the message and emits it.
Direction: a message is a send by its sender when it was submitted by someone of the organisation:
picked up from the local queue (``pickup``), authenticated (``sasl_username``), handed in from the host
itself (a webmail or application on loopback), or sent by a company address (``company_domains``).
A message that came in over SMTP from outside is inbound mail, counted as skipped, also when an alias, a
``.forward`` or a rule relays it outside (it is not a send by the outside sender). Deliveries to a content
filter on loopback (``relay=127.0.0.1[127.0.0.1]:10024 ... queued as NEXT``) are hops, not recipients: the
re-queued copy inherits the first queue id's direction, and a recipient of one message id is counted once
whatever its queue hops.

Roundcube's sendmail log lines (``[DD-Mon-YYYY HH:MM:SS +ZZZZ]: <id> User U [ip]; Message <mid> for
rcpts; 250: ...``), found in the same mail logs, are sends by the webmail user.

Bounces (``from=<>``) are skipped. Classic syslog dates have no year: it comes from the ``year`` option
(``--year``, default: the current year), stepping to the next year when the month wraps from December to
January, unless that would put the line in the future (concatenated logs); without ``--year`` a date that
would lie in the future is taken from the year before. RFC 3339 syslog times are read as they are.

Lines of other programs and lines without a queue id are counted as skipped; lines that are not syslog
lines at all are dead-lettered.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from typing import Any

from connectors.base import GuardError, as_int, dead, sha_id, skip
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
#: (message id, recipient) pairs remembered to count a recipient once across queue hops.
MAX_SEEN = 200_000
_QUEUED_AS = re.compile(r"queued as ([0-9A-Za-z]{6,20})")
_LOOPBACK = re.compile(r"(?:^|\[)(?:127\.\d+\.\d+\.\d+|::1|localhost)(?:\]|$|:)|^localhost\b", re.I)
_ROUNDCUBE = re.compile(
    r"^\[(?P<ts>\d{1,2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(?: [+-]\d{4})?)\]: <[0-9a-f]+> "
    r"(?:User (?P<user>\S+) \[(?P<ip>[^\]]*)\]; Message (?P<mid><[^>]*>) for (?P<rcpts>.+?); "
    r"(?P<code>\d{3}):(?P<status>.*)|(?P<other>.*))$")


def _left(state: str) -> bool:
    """Whether a recipient's delivery (``"status agent relay"``) went to another mail server over SMTP."""
    _, agent, relay = (state.split(" ", 2) + ["", ""])[:3]
    return agent in ("smtp", "relay") and relay not in ("none", "") and not _LOOPBACK.search(relay)


def _kv(rest: str) -> dict[str, str]:
    out = {}
    for k, v in _KV.findall(rest):
        if k not in out:
            out[k] = v[1:-1] if v.startswith("<") else v
    return out


class _Msg:
    __slots__ = ("qid", "host", "start", "ts", "sender", "size", "nrcpt", "rcpts", "msgid", "sasl", "client",
                 "relays", "bad", "pickup", "hops", "origin", "probed")

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
        self.pickup = False
        self.probed = False
        self.hops: list[str] = []  # queue ids of the copies a content filter re-queued
        self.origin: str | None = None  # "in" / "out": the direction of the copy this one was re-queued from


class PostfixStream(Stream):
    def __init__(self, source: "PostfixSource") -> None:
        super().__init__(source)
        self.ctx = source.ctx
        y = self.ctx.options.get("year")
        self.year = int(y) if y else dt.datetime.now(dt.timezone.utc).year
        self.last_month: int | None = None
        self.tz = self.ctx.options.get("tz") or dt.timezone.utc
        self.open: OrderedDict[tuple[str, str], _Msg] = OrderedDict()
        self.explicit_year = bool(y)
        self.next_origin: OrderedDict[tuple[str, str], str] = OrderedDict()  # (host, queued-as id) -> direction
        self.seen: OrderedDict[tuple[str, str], None] = OrderedDict()  # (message id, recipient) counted

    def _ts(self, m: re.Match[str]) -> dt.datetime:
        if m.group("mon"):
            mon = _MONTHS.get(m.group("mon"))
            if mon is None:
                raise ValueError("month")
            h, mi, s = (int(x) for x in m.group("hms").split(":"))
            day = int(m.group("day"))
            soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
            if self.last_month is not None and mon < self.last_month - 6:
                stepped = dt.datetime(self.year + 1, mon, day, h, mi, s, tzinfo=self.tz)
                if stepped <= soon:  # a new year in a log read in order, not a concatenation of logs
                    self.year += 1
            self.last_month = mon
            t = dt.datetime(self.year, mon, day, h, mi, s, tzinfo=self.tz)
            if t > soon and not self.explicit_year:
                t = t.replace(year=self.year - 1)  # December's lines read in January
            return t
        t = dt.datetime.fromisoformat(m.group("ts").replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=self.tz)

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        text = decode(line)
        if not text.strip():
            return []
        m = _SYSLOG.match(text)
        if not m:
            if text.startswith("["):
                rc = _ROUNDCUBE.match(text)
                if rc:
                    return [self._roundcube(rc, text, start)]
            return [(*dead(self.name, "not a syslog line", text), start)]
        prog = m.group("prog")
        if "postfix" not in prog:
            return [(*skip("line of another program"), start)]
        q = _QID.match(m.group("msg"))
        if not q:
            return [(*skip("postfix line without a queue id"), start)]
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
                return [(*skip("queue id removed before any of its lines"), start)]
            msg = _Msg(qid, host, start, ts)
            msg.origin = self.next_origin.pop(key, None)
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
        if agent == "pickup":
            msg.pickup = True
        if "to" in kv and agent in _DELIVERY_AGENTS:
            rc = kv["to"]
            relay = kv.get("relay") or ""
            hop = _QUEUED_AS.search(rest) if _LOOPBACK.search(relay) else None
            if hop:  # handed to a content filter that re-queues it: a hop, not a recipient
                msg.hops.append(hop.group(1))
            elif kv.get("status") in ("deliverable", "undeliverable"):
                msg.probed = True  # address verification (sendmail -bv, verify probes): nothing was sent
            else:
                msg.rcpts[rc] = f"{kv.get('status', '') or '-'} {agent} {relay or 'none'}"
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

    def _direction(self, msg: _Msg) -> str:
        """``out`` (a send by the sender) or ``in`` (mail that came in), see the module docstring."""
        if msg.origin is not None:
            return msg.origin
        if msg.pickup or msg.sasl:
            return "out"
        if msg.client and _LOOPBACK.search(msg.client):
            return "out"  # handed in on the host itself: webmail, an application
        cl = self.ctx.classifier
        if msg.sender and cl.company_domains:
            return "in" if cl.classify(msg.sender)[0] else "out"
        return "in" if msg.client else "out"

    def _emit(self, msg: _Msg) -> Emitted:
        direction = self._direction(msg) if msg.sender else "out"
        for nxt in msg.hops:  # the re-queued copies carry this one's direction
            self.next_origin[(msg.host, nxt)] = direction
            if len(self.next_origin) > MAX_OPEN:
                self.next_origin.popitem(last=False)
        if not msg.sender:
            return (*skip("bounce or message without a sender"), msg.start)
        if not msg.rcpts:
            if msg.hops:
                return (*skip("handed to a content filter (counted at its re-queued copy)"), msg.start)
            if msg.probed:
                return (*skip("address verification probe (nothing sent)"), msg.start)
            return (*skip("message without delivered recipients"), msg.start)
        if direction == "in":
            left = any(_left(st) for st in msg.rcpts.values())
            return (*skip("inbound mail relayed outside (alias, forward or rule)" if left else "inbound mail"),
                    msg.start)
        sender = msg.sender
        rcpts = list(msg.rcpts)
        if msg.msgid:  # a recipient is counted once per message, whatever its queue hops
            fresh = [r for r in rcpts if (msg.msgid, r.lower()) not in self.seen]
            for r in rcpts:
                self.seen[(msg.msgid, r.lower())] = None
            while len(self.seen) > MAX_SEEN:
                self.seen.popitem(last=False)
            if not fresh:
                return (*skip("recipients already counted at another queue id"), msg.start)
            rcpts = fresh
        attrs: dict[str, Any] = {"queue_id": msg.qid,
                                 "status": {r: s.split(" ", 1)[0] for r, s in msg.rcpts.items()
                                            if s.split(" ", 1)[0] != "-"}}
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

    def _roundcube(self, m: re.Match[str], text: str, start: int) -> Emitted:
        if m.group("other") is not None:
            return (*skip("webmail log line (not a message)"), start)
        if m.group("code") != "250":
            return (*skip("webmail message not accepted"), start)
        try:
            ts = dt.datetime.strptime(m.group("ts"), "%d-%b-%Y %H:%M:%S %z" if " +" in m.group("ts") or
                                      " -" in m.group("ts") else "%d-%b-%Y %H:%M:%S")
        except ValueError:
            return (*dead(self.name, "bad webmail log date", text), start)
        rcpts = [r.strip() for r in m.group("rcpts").split(",") if r.strip()]
        mid = m.group("mid")
        for r in rcpts:
            self.seen[(mid, r.lower())] = None
        v, d = self.ctx.event(source=self.name, raw=text, event_id=sha_id(self.name, "roundcube", mid, m.group("ts")),
                              ts=ts if ts.tzinfo else ts.replace(tzinfo=self.tz), kind="email", action="send",
                              actor=m.group("user"), recipients=rcpts,
                              attrs={"message_id": mid, "client": m.group("ip"), "via": "webmail"})
        return (v, d, start)

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
