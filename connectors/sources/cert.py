"""``cert``: the CMU CERT insider threat test data (r4.2 / r6.2): ``logon.csv``, ``device.csv``,
``file.csv``, ``email.csv``, ``http.csv`` and the monthly ``LDAP/YYYY-MM.csv`` files.

Activity rows become events with ``event_id`` = ``cert:`` + the row id and ``employee_id`` = the user id
(``DTAA/AAM0658`` -> ``AAM0658``). LDAP files become HR records: everyone in the first month is
``active`` from its first day; someone new later is ``active`` from that month; someone missing from the
next month's file has left: a ``departed`` record whose ``last_day`` is the last day with activity in the
run's activity files (when read in the same run; they are read first) or else the end of the last month
they were listed, effective the day after. ``dtaa.com`` is taken as the company domain unless the
classification names company domains. The file kind comes from the file name or, failing that, the header.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from typing import Any

from schemas.models import HRRecord

from connectors.base import Output, ParseError, dead, first, parse_ts
from connectors.framing import CsvStream, Emitted, Stream
from connectors.sources import Source

KINDS = ("logon", "device", "file", "email", "http")
_LDAP_NAME = re.compile(r"(\d{4})-(\d{2})")
UTC = dt.timezone.utc


def _kind_of(path: str) -> str | None:
    base = os.path.basename(path).lower()
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

    def on_header(self, header: list[str]) -> None:
        if self.kind is None:
            h = set(header)
            if "employee_name" in h and "user_id" in h:
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
        if self.kind is None:
            raise ParseError("unknown CERT file (name or header)")
        rid = first(r.get("id"))
        user = first(r.get("user"))
        if not rid or not user:
            raise ParseError("CERT row without id or user")
        ts = parse_ts(r.get("date"))
        emp = str(user).split("/")[-1]
        self.source.saw(emp, ts.date())
        base: dict[str, Any] = dict(raw=raw, event_id=f"cert:{rid.strip('{}')}", ts=ts, actor=user, employee_id=emp,
                                    host=first(r.get("pc")))
        act = str(r.get("activity") or "").strip()
        k = self.kind
        if k in ("logon", "device"):
            low = act.lower()
            if low in ("logon", "logoff"):
                return [self.source.event(kind="logon", action=low, **base)]
            if low in ("connect", "disconnect"):
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
            count = int(att) if att.isdigit() else (len([a for a in att.split(";") if a.strip()]) if att else 0)
            attrs = {"from": r.get("from")} if r.get("from") else {}
            size = first(r.get("size"))
            return [self.source.event(kind="email", action="send", recipients=[x.strip() for x in rc],
                                      bytes=int(size) if size and str(size).isdigit() else None, count=count,
                                      attrs=attrs, **base)]
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
        out: list[Output] = []
        prev = self.months[-1][1] if self.months else {}
        start = dt.datetime(month.year, month.month, 1, tzinfo=UTC)
        for uid, r in rows.items():
            p = prev.get(uid)
            if p is None or any(p.get(k) != r.get(k) for k in ("role", "department", "supervisor", "functional_unit")):
                out.append(self._record(uid, r, start, "active"))
        if self.months:
            pmonth = self.months[-1][0]
            month_end = dt.date(pmonth.year, pmonth.month, calendar.monthrange(pmonth.year, pmonth.month)[1])
            for uid, r in prev.items():
                if uid in rows:
                    continue
                seen = self.last_seen.get(uid)
                last = seen if seen and pmonth <= seen <= month_end else month_end
                eff = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=UTC)
                out.append(self._record(uid, r, eff, "departed", last_day=last))
        self.months.append((month, rows))
        return out

    def _record(self, uid: str, r: dict[str, str], ts: dt.datetime, status: str, **kw: Any) -> Output:
        accounts = [uid, f"DTAA/{uid}"] + ([r["email"]] if r.get("email") else [])
        dept = " / ".join(x for x in (r.get("business_unit"), r.get("functional_unit"), r.get("department"))
                          if x) or None
        sup = first(r.get("supervisor"))
        return HRRecord(employee_id=uid, ts=ts, status=status, accounts=accounts, department=dept,
                        role=first(r.get("role")), manager_id=sup, **kw), None
