"""What every connector shares: the run context (aliases, classification, options), the output type, and
helpers that build contract events or dead letters, parse times and derive event ids.

A source turns the text units of one input (lines, or JSON documents) into outputs. An output is a
``(value, deadletter)`` pair: exactly one of them is set, or neither for a record that is understood but
carries no activity (a logon to a directory service, a configuration change...), which is counted as
skipped.

>>> ctx = Context()
>>> ev, dl = ctx.event(source="m365", raw="{}", event_id="x1", ts="2026-03-02T09:15:00Z", kind="email",
...                    action="send", actor="ann@corp.example", recipients=["bob@gmail.com"])
>>> ev.external, ev.personal, dl
(True, True, None)
>>> ev, dl = ctx.event(source="m365", raw="{}", event_id="x2", ts="not a time", kind="file",
...                    action="download", actor="ann@corp.example")
>>> ev, dl.reason
(None, "bad timestamp: 'not a time'")
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Union

from pydantic import ValidationError

from schemas import guard
from schemas.guard import GuardError
from schemas.identity import AliasIndex
from schemas.models import ActivityEvent, DeadLetter, HRRecord, HRSignal, utcnow

from connectors.classification import Classifier, domain_of

#: A record longer than this is rejected with a reason (never parsed): the input guard's limit.
MAX_RECORD_BYTES = guard.MAX_RECORD_BYTES
#: The raw text kept in a dead letter.
MAX_RAW_CHARS = 64 * 1024

class Skip:
    """The value of an output for a record that is understood but carries no monitored activity (a logon to a
    directory service, sharing inside the company, inbound mail...): counted under its ``reason`` in the run
    summary and the ``exitwatch_connector_skipped_records_total`` metric, never sent, never dead-lettered.
    Reasons are fixed phrases of the code (they become a metric label), never text from the record."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Skip({self.reason!r})"


Value = Union[ActivityEvent, HRRecord, HRSignal]
Output = tuple[Union[Value, Skip, None], Union[DeadLetter, None]]
#: A record of a kind the product does not monitor (the reason: "not monitored").
SKIP: Output = (None, None)
#: The reason :data:`SKIP` (and a bare ``(None, None)``) is counted under.
NOT_MONITORED = "not monitored"


def skip(reason: str) -> Output:
    """An output for a record understood and deliberately not turned into an event, with the reason."""
    return Skip(reason), None

UTC = dt.timezone.utc


class ParseError(ValueError):
    """A record the connector cannot use; the message becomes the dead letter's reason."""


def truncate_raw(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        raw = raw[: MAX_RAW_CHARS * 4].decode("utf-8", errors="replace")
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS]


def dead(source: str, reason: str, raw: str | bytes) -> Output:
    """A dead-letter output."""
    return None, DeadLetter(source=source, reason=reason[:2000], raw=truncate_raw(raw), ts=utcnow())


def sha_id(source: str, *parts: object) -> str:
    """A deterministic event id from the source name and the parts of a record (e.g. its raw line)."""
    h = hashlib.sha256(source.encode())
    for p in parts:
        h.update(b"\x1f")
        h.update(p if isinstance(p, bytes) else str(p).encode("utf-8", errors="replace"))
    return f"{source}:{h.hexdigest()[:32]}"


_TZ_TAIL = re.compile(r"([+-]\d{2}):?(\d{2})$")


def parse_ts(value: Any, *, default_tz: dt.tzinfo = UTC) -> dt.datetime:
    """A timezone-aware time from the forms sources use; a time without an offset is taken as ``default_tz``.

    >>> parse_ts("2021-08-02T13:11:39.7724491Z").isoformat()
    '2021-08-02T13:11:39.772449+00:00'
    >>> parse_ts("2023-03-22T13:18:56.686+0000").isoformat(), parse_ts(1492037289.295).isoformat()
    ('2023-03-22T13:18:56.686000+00:00', '2017-04-12T22:48:09.295000+00:00')
    >>> parse_ts("01/02/2010 07:11:45").isoformat(), parse_ts("20230317180424.293").isoformat()
    ('2010-01-02T07:11:45+00:00', '2023-03-17T18:04:24.293000+00:00')
    """
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        if v > 1e14:  # microseconds
            v /= 1e6
        elif v > 1e11:  # milliseconds
            v /= 1e3
        try:
            return dt.datetime.fromtimestamp(v, UTC)
        except (OverflowError, OSError, ValueError) as e:
            raise ParseError(f"bad timestamp: {value!r}") from e
    elif isinstance(value, str):
        s = value.strip()
        try:
            d = _parse_ts_str(s)
        except (ValueError, OverflowError, IndexError) as e:
            raise ParseError(f"bad timestamp: {value[:80]!r}") from e
    else:
        raise ParseError(f"bad timestamp: {value!r}"[:120])
    if d.tzinfo is None:
        d = d.replace(tzinfo=default_tz)
    return d


def _parse_ts_str(s: str) -> dt.datetime:
    if not s:
        raise ValueError("empty")
    c0 = s[0]
    if c0.isdigit() and len(s) >= 10 and s[4] == "-":
        try:
            return dt.datetime.fromisoformat(s)
        except ValueError:
            t = s.replace(" UTC", "Z").replace(" ", "T", 1)
            m = _TZ_TAIL.search(t)
            if m and ":" not in m.group(0):
                t = t[: m.start()] + f"{m.group(1)}:{m.group(2)}"
            # more than 6 fraction digits
            t = re.sub(r"(\.\d{6})\d+", r"\1", t)
            return dt.datetime.fromisoformat(t)
    if c0.isdigit() and len(s) >= 10 and s[2] == "/":  # MM/DD/YYYY HH:MM:SS (CERT)
        return dt.datetime.strptime(s, "%m/%d/%Y %H:%M:%S" if len(s) > 10 else "%m/%d/%Y")
    if s.replace(".", "", 1).isdigit():
        if len(s) >= 14 and s[:14].isdigit() and (len(s) == 14 or s[14] == "."):  # 20230317180424.293
            base = dt.datetime.strptime(s[:14], "%Y%m%d%H%M%S")
            frac = s[15:21]
            return base.replace(microsecond=int(frac.ljust(6, "0")) if frac else 0)
        return parse_ts(float(s))
    raise ValueError(s)


def as_int(value: Any, field: str = "number") -> int | None:
    """A non-negative int out of ``12``, ``"12"``, ``"12.0"``, ``12.0``; ``None`` for empty / invalid / negative;
    a number that does not fit 64 bits raises the guard's ``number_out_of_range`` (the record is dead-lettered
    with that reason, never silently emptied or crashed on).

    >>> as_int("12.0"), as_int("-1"), as_int("x")
    (12, None, None)
    >>> as_int(2**64, "size")
    Traceback (most recent call last):
    ...
    schemas.guard.GuardError: number_out_of_range: size = 18446744073709551616 is outside 0..9223372036854775807
    """
    return guard.to_int(value, field)


def first(*values: Any) -> Any:
    """The first value that is not None or empty (``"-"`` and ``"None"`` count as empty)."""
    for v in values:
        if v is None or v == "" or v == "-" or v == "None":
            continue
        return v
    return None


#: Why an event leaves a connector without an employee id. Neither is an error and neither is a dead letter: the
#: event goes on with its actor, and the worker resolves the actor from the HR records on ``hr.status`` (the
#: alias index in Redis); the events whose actor no HR record names (service accounts, outside senders) are
#: kept on ``activity.enriched`` without an employee and counted in ``exitwatch_unresolved_actors_total``.
UNRESOLVED_NO_HR = "left to the worker, which resolves them from hr.status (no --hr given here)"
UNRESOLVED_UNKNOWN = "by accounts no HR record names (service accounts, outside senders)"
#: Distinct unresolved accounts a run counts by name (the summary names the largest); the rest add up under "".
UNRESOLVED_ACCOUNTS = 1000


@dataclass
class Stats:
    """Counts of one run, reported in the summary line."""

    events: int = 0
    hr: int = 0
    signals: int = 0
    deadletters: int = 0
    skipped: int = 0
    skipped_by: dict[str, int] = field(default_factory=dict)  # reason -> records
    deadletters_by: dict[str, int] = field(default_factory=dict)  # reason category -> records
    unresolved: int = 0  # events sent on without an employee id (the worker resolves them, or counts them)
    records_in: int = 0
    bytes_in: int = 0
    delivery_failures: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # connect: unresolved actors
    unresolved_by: dict[str, int] = field(default_factory=dict)  # UNRESOLVED_* reason -> events
    unresolved_accounts: dict[str, int] = field(default_factory=dict)  # account -> events (UNRESOLVED_ACCOUNTS kept)

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


class Context:
    """What a connector run knows: HR aliases, classification, options (``year``, ``tz`` ...) and counts."""

    def __init__(
        self,
        aliases: AliasIndex | None = None,
        classifier: Classifier | None = None,
        options: dict[str, Any] | None = None,
        stats: Stats | None = None,
    ) -> None:
        self.aliases = aliases if aliases is not None else AliasIndex()
        self.classifier = classifier if classifier is not None else Classifier.load()
        self.options = dict(options or {})
        self.stats = stats if stats is not None else Stats()

    def host_tz(self, host: str | None) -> dt.tzinfo | None:
        """The time zone of ``host`` from the ``host_timezones`` mapping (option, else the setting
        ``EXITWATCH_HOST_TIMEZONES``): keys are host names or globs (``NYC-*``), compared case-insensitively
        with the full and the short name; None when no key matches.

        >>> Context(options={"host_timezones": {"ws*": "America/New_York"}}).host_tz("WS5.corp.example").key
        'America/New_York'
        """
        if not host:
            return None
        table = self._host_tz_table()
        if not table:
            return None
        h = str(host).lower()
        short = h.split(".", 1)[0]
        for pattern, tz in table:
            if fnmatch.fnmatchcase(h, pattern) or fnmatch.fnmatchcase(short, pattern):
                return tz
        return None

    def _host_tz_table(self) -> list[tuple[str, dt.tzinfo]]:
        table = getattr(self, "_host_tzs", None)
        if table is None:
            raw = self.options.get("host_timezones")
            if raw is None:
                try:
                    from schemas.settings import Settings

                    raw = Settings().host_timezones
                except Exception:  # noqa: BLE001 - settings are optional here
                    raw = {}
            from zoneinfo import ZoneInfo

            table = []
            for pattern, zone in dict(raw or {}).items():
                table.append((str(pattern).lower(), zone if isinstance(zone, dt.tzinfo) else ZoneInfo(str(zone))))
            self._host_tzs = table
        return table

    def unresolved(self, actor: str | None) -> None:
        """Count an event sent on without an employee id, by reason (:data:`UNRESOLVED_NO_HR` when the run was
        given no HR aliases, else :data:`UNRESOLVED_UNKNOWN`) and by account."""
        st = self.stats
        st.unresolved += 1
        why = UNRESOLVED_UNKNOWN if len(self.aliases) else UNRESOLVED_NO_HR
        st.unresolved_by[why] = st.unresolved_by.get(why, 0) + 1
        if why == UNRESOLVED_UNKNOWN:
            acc = str(actor or "")
            if acc not in st.unresolved_accounts and len(st.unresolved_accounts) >= UNRESOLVED_ACCOUNTS:
                acc = ""
            st.unresolved_accounts[acc] = st.unresolved_accounts.get(acc, 0) + 1

    def resolve(self, *accounts: str | None) -> str | None:
        """The employee id of the first account the HR aliases know."""
        if not len(self.aliases):
            return None
        for a in accounts:
            if a:
                e = self.aliases.resolve(a)
                if e is not None:
                    return e
        return None

    def event(
        self,
        *,
        source: str,
        raw: str | bytes,
        event_id: str,
        ts: Any,
        kind: str,
        action: str,
        actor: str | None,
        aliases: Iterable[str | None] = (),
        label: str | None = None,
        **fields: Any,
    ) -> Output:
        """Build, classify and validate one Activity event; a dead letter with the reason when it fails.

        ``aliases`` are further names of the actor tried for the employee id; ``label`` is the source's
        sensitivity label of the object. ``external``/``personal`` are filled from ``recipients`` or
        ``destination`` when not given, ``sensitivity`` from the label or the object/site patterns.
        """
        try:
            when = parse_ts(ts, default_tz=self.options.get("tz") or UTC)
        except ParseError as e:
            return dead(source, str(e), raw)
        if not actor or not str(actor).strip():
            return dead(source, "no actor in record", raw)
        actor = str(actor).strip()
        d: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        d.update(event_id=event_id, ts=when, kind=kind, action=action, actor=actor, source=source)
        if d.get("employee_id") is None:
            emp = self.resolve(actor, *aliases)
            if emp is not None:
                d["employee_id"] = emp
            else:
                self.unresolved(actor)
        cl = self.classifier
        if "external" not in d or "personal" not in d:
            rec = d.get("recipients")
            if rec:
                e, p = cl.classify_many(rec, actor)
            elif d.get("destination"):
                e, p = cl.classify(d["destination"], actor)
            else:
                e = p = None
            if "external" not in d and e is not None:
                d["external"] = e
            if "personal" not in d and p is not None:
                d["personal"] = p
        if cl.categories:  # job search, leak sites, hacking tools, competitors (classification.toml)
            self._categorise(d)
        if "sensitivity" not in d:
            s = cl.sensitivity(label, d.get("object"), (d.get("attrs") or {}).get("site"))
            if s:
                d["sensitivity"] = s
        if label and "attrs" in d:
            d["attrs"].setdefault("label", label)
        elif label:
            d["attrs"] = {"label": label}
        try:
            return ActivityEvent.model_validate(d), None
        except ValidationError as e:
            return dead(source, "invalid event: " + _short_validation(e), raw)

    def _categorise(self, d: dict[str, Any]) -> None:
        """``attrs.category`` of a web event's URL or destination; ``attrs.recipient_categories`` of a mail."""
        attrs = d.get("attrs") or {}
        cl = self.classifier
        if d["kind"] == "web" and "category" not in attrs:
            cat = cl.category_of(d.get("object")) or cl.category_of(d.get("destination"))
            if cat:
                d["attrs"] = {**attrs, "category": cat}
        elif d.get("recipients") and "recipient_categories" not in attrs:
            cats = sorted({c for r in d["recipients"] if (c := cl.category_of(r))})
            if cats:
                d["attrs"] = {**attrs, "recipient_categories": cats}

    def destination_flags(self, destination: str | None, actor: str | None) -> tuple[bool | None, bool | None]:
        return self.classifier.classify(destination, actor)


def _short_validation(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def recipients_of(*values: Any) -> list[str]:
    """E-mail addresses out of strings (``;`` or ``,`` separated, ``Name <a@b>``) and lists, de-duplicated."""
    out: list[str] = []
    seen: set[str] = set()

    def add(v: Any) -> None:
        if v is None:
            return
        if isinstance(v, dict):
            add(v.get("address") or v.get("email") or v.get("Address") or v.get("EmailAddress"))
            return
        if isinstance(v, (list, tuple)):
            for x in v:
                add(x)
            return
        for part in re.split(r"[;,]", str(v)):
            p = part.strip()
            if "<" in p and p.endswith(">"):
                p = p[p.rindex("<") + 1 : -1].strip()
            p = p.strip("<>\"' ")
            if p and p.lower() not in seen:
                seen.add(p.lower())
                out.append(p)

    for v in values:
        add(v)
    return out


def walk_dicts(obj: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a JSON value (itself included)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            yield o
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)


__all__ = [
    "Context",
    "Output",
    "GuardError",
    "ParseError",
    "SKIP",
    "Skip",
    "Stats",
    "Value",
    "as_int",
    "dead",
    "domain_of",
    "first",
    "parse_ts",
    "recipients_of",
    "sha_id",
    "skip",
]
