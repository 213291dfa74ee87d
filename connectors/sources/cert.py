"""``cert``: the CMU CERT insider threat test data (every release, r1 to r6.2): ``logon.csv``,
``device.csv``, ``file.csv``, ``email.csv``, ``http.csv`` and the monthly ``LDAP/YYYY-MM.csv`` files.

Activity rows become events with ``event_id`` = ``cert:`` + the row id and ``employee_id`` = the user id
(``DTAA/AAM9901`` -> ``AAM9901``). Columns are read by name, so every release's layout works:

- ``device``: ``Connect``/``Disconnect`` (r3 on; r5 on add ``file_tree``, kept in ``attrs``) and r1/r2's
  ``Insert``/``Remove``; every device event has ``destination`` ``removable``.
- ``file``: r2-r4 have no ``activity``: every row is a copy to removable media. r5 on have ``activity``
  (``File Open``/``Write``/``Copy``/``Delete``) and the ``to_removable_media`` / ``from_removable_media``
  flags: a write or copy *to* removable media is ``copy_to_removable``.
- ``email``: r4 on name the sending ``user`` and ``pc``; r1-r3 have only ``from``, which becomes the actor
  (the LDAP e-mail is one of the employee's accounts, so enrichment resolves it). r5 on have ``activity``:
  only ``Send`` is a send (``Receive``/``View`` are reading mail). ``attachments`` is a count (r4) or a list
  ``name(size);...`` (r5 on: the count of names, their sizes added to ``bytes``).
- ``http``: r6 has ``activity`` (``WWW Visit``/``Download``/``Upload``); earlier releases only visits.
- ``psychometric.csv`` and ``decoy_file.csv`` carry no activity and are skipped.

Times are ``MM/DD/YYYY HH:MM:SS`` (r1/r2 also without leading zeros), taken as UTC.

LDAP files become HR records, read as the data show: the file for month M lists who was still employed at
the end of M (an insider active on 13 July is absent from the July file). Everyone in the first file is
``active`` from its first day; someone new later is ``active`` from that month; a change of role,
department or supervisor is a new ``active`` record. Someone listed in month M and missing from month M+1
left *during* M+1: a ``departed`` record, effective the day after its ``last_day``, which is

- the last day with activity in the run's activity files (read before the LDAP files), when that day lies
  in M or M+1: CERT stops a leaver's activity on their termination day, so this is the real last day;
- else the end of M+1, the latest day they can have worked: nothing they did while employed is then called
  activity after departure; the price is that windows before the last day may be anchored up to a month
  late when the activity files do not cover the departure.

``manager_id`` is the supervisor's user id, resolved from their name (``supervisor`` names a person by
``employee_name``) over every LDAP file read so far; a name that resolves to nobody is left out.
``dtaa.com`` is taken as the company domain unless the classification names company domains. The file
kind comes from the file name or, failing that, the header.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from typing import Any

from schemas.models import HRRecord

from connectors.base import Output, ParseError, as_int, dead, first, parse_ts
from connectors.framing import CsvStream, Emitted, Stream
from connectors.sources import Source

KINDS = ("logon", "device", "file", "email", "http")
#: Files of a CERT release that carry no activity (personality scores, the r6 decoy list).
SKIPPED = ("psychometric", "decoy")
_LDAP_NAME = re.compile(r"(\d{4})-(\d{2})")
_ATT_SIZE = re.compile(r"\((\d+)\)\s*$")
_CERT_TS = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
UTC = dt.timezone.utc


def cert_ts(value: Any) -> dt.datetime:
    """A CERT time, ``MM/DD/YYYY HH:MM:SS`` with or without leading zeros (r1/r2: ``3/6/2010 1:41:56``), UTC.

    >>> cert_ts("3/6/2010 1:41:56").isoformat(), cert_ts("01/02/2010 07:21:06").isoformat()
    ('2010-03-06T01:41:56+00:00', '2010-01-02T07:21:06+00:00')
    """
    m = _CERT_TS.match(str(value or "").strip())
    if not m:
        return parse_ts(value)
    mo, d, y, hh, mi, ss = (int(x) if x else 0 for x in m.groups())
    try:
        return dt.datetime(y, mo, d, hh, mi, ss, tzinfo=UTC)
    except ValueError as e:
        raise ParseError(f"bad timestamp: {str(value)[:80]!r}") from e


def _kind_of(path: str) -> str | None:
    base = os.path.basename(path).lower()
    if base.startswith(SKIPPED):
        return "skip"
    for k in KINDS:
        if base.startswith(k):
            return k
    if _LDAP_NAME.search(base) and ("ldap" in path.lower() or base[:4].isdigit()):
        return "ldap"
    return None


class _Handler:
    def __init__(self, source: "CertSource", kind: str | None, path: str) -> None:
        self.source = source
        self.ctx = source.ctx
        self.name = source.name
        self.kind = kind
        self.path = path
        self.groups_rows = kind == "ldap"  # LDAP rows give HR records at the month's end, not one each

    def on_header(self, header: list[str]) -> None:
        if self.kind is None:
            h = set(header)
            if {"o", "c", "e", "a", "n"} <= h or "decoy_filename" in h:
                self.kind = "skip"
            elif "employee_name" in h and "user_id" in h:
                self.kind = "ldap"
            elif "url" in h:
                self.kind = "http"
            elif "to" in h and "from" in h:
                self.kind = "email"
            elif "filename" in h:
                self.kind = "file"
            elif "activity" in h and "pc" in h:
                self.kind = "logon"  # logon and device share the header; the activity value tells them apart

    def parse_row(self, r: dict[str, str], raw: str) -> list[Output]:
        if self.kind == "ldap":
            self.source.ldap_row(self.path, r)
            return []
        if self.kind == "skip":
            return []
        if self.kind is None:
            raise ParseError("unknown CERT file (name or header)")
        rid = first(r.get("id"))
        user = first(r.get("user"))
        sender = first(r.get("from")) if self.kind == "email" else None
        if not rid or not (user or sender):
            raise ParseError("CERT row without id or user")
        ts = cert_ts(r.get("date"))
        emp = str(user).split("/")[-1] if user else None  # r1-r3 mail: the sender address, resolved by HR
        if emp:
            self.source.saw(emp, ts.date())
        base: dict[str, Any] = dict(raw=raw, event_id=f"cert:{rid.strip('{}')}", ts=ts, actor=user or sender,
                                    employee_id=emp, host=first(r.get("pc")))
        act = str(r.get("activity") or "").strip()
        k = self.kind
        if k in ("logon", "device"):
            low = act.lower()
            if low in ("logon", "logoff"):
                return [self.source.event(kind="logon", action=low, **base)]
            if low in ("connect", "disconnect", "insert", "remove"):
                low = {"insert": "connect", "remove": "disconnect"}.get(low, low)
                attrs = {"file_tree": r["file_tree"][:500]} if r.get("file_tree") else {}
                return [self.source.event(kind="device", action=low, destination="removable", attrs=attrs, **base)]
            raise ParseError(f"unknown logon/device activity {act!r}")
        if k == "file":
            to_rm = str(r.get("to_removable_media") or "").lower() == "true"
            low = act.lower()
            if not act:  # r4.2: every row is a copy to removable media
                action = "copy_to_removable"
            elif low == "file open":
                action = "open"
            elif low == "file delete":
                action = "delete"
            elif low in ("file copy", "file write"):
                action = "copy_to_removable" if to_rm else ("copy" if low == "file copy" else "open")
            else:
                raise ParseError(f"unknown file activity {act!r}")
            attrs = {"from_removable": str(r.get("from_removable_media") or "").lower() == "true"} if act else {}
            return [self.source.event(kind="file", action=action, object=first(r.get("filename")),
                                      destination="removable" if action == "copy_to_removable" else None,
                                      attrs=attrs, **base)]
        if k == "email":
            if act and act.lower() != "send":
                return [(None, None)]  # "View": reading mail
            rc = [x for f in ("to", "cc", "bcc") for x in str(r.get(f) or "").split(";") if x.strip()]
            att = str(r.get("attachments") or "").strip()
            names = [a for a in att.split(";") if a.strip()] if att and not att.isdigit() else []
            count = as_int(att, "attachments") if att.isdigit() else len(names)
            attrs = {"from": r.get("from")} if r.get("from") else {}
            size = first(r.get("size"))
            nbytes = as_int(size, "size") if size and str(size).isdigit() else None
            sizes = [as_int(m.group(1), "attachment size") or 0 for a in names if (m := _ATT_SIZE.search(a))]
            if sizes:
                nbytes = (nbytes or 0) + sum(sizes)
            return [self.source.event(kind="email", action="send", recipients=[x.strip() for x in rc],
                                      bytes=nbytes, count=count, attrs=attrs, **base)]
        if k == "http":
            low = act.lower()
            action = {"www visit": "visit", "www download": "download", "www upload": "upload", "": "visit"}.get(low)
            if action is None:
                raise ParseError(f"unknown http activity {act!r}")
            url = first(r.get("url"))
            from connectors.classification import domain_of

            return [self.source.event(kind="web", action=action, object=url, destination=domain_of(url), **base)]
        raise ParseError(f"unknown CERT file kind {k!r}")


class _LdapStream(CsvStream):
    def finish(self) -> list[Emitted]:
        out = super().finish()
        try:
            out.extend((v, d, 0) for v, d in self.source.source.end_month(self.source.path))
        except Exception as e:  # noqa: BLE001 - never stop on bad input
            out.append((*dead(self.name, f"LDAP month failed: {type(e).__name__}: {e}", self.source.path), 0))
        return out


class CertSource(Source):
    name = "cert"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.last_seen: dict[str, dt.date] = {}
        self.months: list[tuple[dt.date, dict[str, dict[str, str]]]] = []
        self.names: dict[str, str] = {}  # employee_name -> user_id, over every LDAP file read
        self._cur: dict[str, dict[str, dict[str, str]]] = {}
        if not ctx.classifier.company_domains:
            from dataclasses import replace

            ctx.classifier = replace(ctx.classifier, company_domains=frozenset({"dtaa.com"}))

    def order_paths(self, paths: list[str]) -> list[str]:
        from connectors.runner import expand

        files = [s.path for s in expand(paths)]
        act = [p for p in files if _kind_of(p) != "ldap"]
        ldap = sorted((p for p in files if _kind_of(p) == "ldap"), key=lambda p: os.path.basename(p))
        return act + ldap

    def open_stream(self, path: str) -> Stream:
        kind = _kind_of(path)
        h = _Handler(self, kind, path)
        if kind == "ldap":
            return _LdapStream(h, lower_header=True)
        return CsvStream(h, lower_header=True)

    def event(self, raw: str, **kw: Any) -> Output:  # type: ignore[override]
        return self.ctx.event(source=self.name, raw=raw, **kw)

    def saw(self, user: str, day: dt.date) -> None:
        if day > self.last_seen.get(user, dt.date.min):
            self.last_seen[user] = day

    def ldap_row(self, path: str, r: dict[str, str]) -> None:
        uid = first(r.get("user_id"))
        if not uid:
            raise ParseError("LDAP row without user_id")
        self._cur.setdefault(path, {})[str(uid)] = r

    def end_month(self, path: str) -> list[Output]:
        m = _LDAP_NAME.search(os.path.basename(path))
        rows = self._cur.pop(path, {})
        if not m:
            return [dead(self.name, "LDAP file name has no YYYY-MM", path)]
        month = dt.date(int(m.group(1)), int(m.group(2)), 1)
        for uid, r in rows.items():
            name = str(r.get("employee_name") or "").strip()
            if name:
                self.names[name] = uid
        out: list[Output] = []
        prev = self.months[-1][1] if self.months else {}
        start = dt.datetime(month.year, month.month, 1, tzinfo=UTC)
        for uid, r in rows.items():
            p = prev.get(uid)
            if p is None or any(p.get(k) != r.get(k) for k in ("role", "department", "supervisor", "functional_unit")):
                out.append(self._record(uid, r, start, "active"))
        if self.months:
            # Listed at the end of the previous month, missing from this one: left during this month.
            pmonth = self.months[-1][0]
            month_end = dt.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
            for uid, r in prev.items():
                if uid in rows:
                    continue
                seen = self.last_seen.get(uid)
                last = seen if seen and pmonth <= seen <= month_end else month_end
                eff = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=UTC)
                out.append(self._record(uid, r, eff, "departed", last_day=last))
            out.sort(key=lambda o: o[0].ts if o[0] is not None else start)  # in time order, as replay reads
        self.months.append((month, rows))
        return out

    def _record(self, uid: str, r: dict[str, str], ts: dt.datetime, status: str, **kw: Any) -> Output:
        accounts = [uid, f"DTAA/{uid}"] + ([r["email"]] if r.get("email") else [])
        dept = " / ".join(x for x in (r.get("business_unit"), r.get("functional_unit"), r.get("department"))
                          if x) or None
        sup = self.names.get(str(r.get("supervisor") or "").strip())
        return HRRecord(employee_id=uid, ts=ts, status=status, accounts=accounts, department=dept,
                        role=first(r.get("role")), manager_id=sup, **kw), None
