"""``windows``: Windows event records as JSON (NXLog/Logstash flat form, ``{"record": {...}}`` wrappers,
Winlogbeat ``winlog.event_data``), from files or the zipped OTRF datasets.

* Security 4663 (an object was accessed): ``AccessList`` codes give the access: ``%%1537`` DELETE ->
  delete; ``%%4417`` WriteData / ``%%4418`` AppendData on removable storage (category "Removable
  Storage") -> copy_to_removable; ``%%4416`` ReadData -> open (a plain write is an ``open`` with
  ``attrs.access`` = ["write"]).
* Security 5145 (network share object checked) -> file open of ``\\\\host\\share\\relative path``, same
  access codes; writes -> copy.
* Security 6416 (new external device) -> device connect of a storage device (disk drive, portable device,
  CD/DVD, USB mass storage), credited to the user logged on at that host (the record's subject is always
  SYSTEM, the Plug and Play manager); virtual disks and adapters (VHD, Msft Virtual Disk, software and
  remote-display devices) and other device classes are counted as skipped.
* Security 4624 interactive, remote-interactive, unlock and cached logons -> logon (they also tell whose
  session a host is in); 4634/4647 -> logoff.
* PrintService/Operational 307 (document printed) -> print with document, pages (count), bytes, printer.

Times: the record's own UTC field wins (``UtcTime``, ``TimeCreated``/``SystemTime``, Azure's
``TimeGenerated``); NXLog's ``EventTime`` is the host's local time, read in the zone the ``host_timezones``
mapping gives the host (``--host-tz``, ``EXITWATCH_HOST_TIMEZONES``), or with the host's offset measured on
the same record (NXLog's local ``EventReceivedTime`` against the shipper's UTC ``@timestamp`` of that
receipt, rounded to 15 minutes); then the shipper's ``@timestamp`` (UTC, ingest time); a bare ``EventTime``
last, in ``--tz`` (UTC by default). An event whose time came from
a local ``EventTime`` says so in ``attrs.time_source``.

Records are read flat (NXLog/Logstash), wrapped (``{"record": ...}``), as Winlogbeat (``winlog``), as XML
rendered to JSON, and as Azure collects them (``properties.EventId`` with the fields or an ``EventData``
XML string; ``records`` arrays). System accounts (SYSTEM, LOCAL/NETWORK SERVICE, machine accounts ending in
``$``) are skipped for file access; other event ids (4656, 5140, Sysmon...) are counted as skipped.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from typing import Any

import orjson

from connectors.base import Output, ParseError, as_int, dead, first, parse_ts, sha_id, skip
from connectors.sources import JsonSource

READ, WRITE, APPEND, DELETE = "%%4416", "%%4417", "%%4418", "%%1537"
_WORDS = {"readdata": READ, "writedata": WRITE, "appenddata": APPEND, "delete": DELETE}
SYSTEM_SIDS = {"S-1-5-18", "S-1-5-19", "S-1-5-20"}
#: Device classes of 6416 that can carry data away.
STORAGE_CLASSES = {"diskdrive", "wpd", "cdrom", "volume", "usb", "floppydisk", "tapedrive", "smartcardreader"}
_VIRTUAL = re.compile(r"virtual[ _]?disk|prod_virtual|\bvhdx?\b|ven_msft|vmbus|hyper-?v|vmware|virtualbox|vbox|"
                      r"^(?:swd|root)\\(?!wpdbusenum)|remotedisplay|rdpidd|volumesnapshot|storvsc", re.I)
#: 4624 logon types of a person at the host: interactive, remote interactive, unlock, cached.
PERSON_LOGONS = {"2", "10", "7", "11"}
_XML_DATA = re.compile(r"<Data Name=['\"]([^'\"]+)['\"]\s*(?:/>|>(.*?)</Data>)", re.S)


def accesses(value: Any) -> set[str]:
    """The access codes of an ``AccessList`` ("%%4416\\r\\n\\t%%4417" or "ReadData (or ListDirectory) ...")."""
    if not value:
        return set()
    s = str(value)
    out = {tok for tok in s.split() if tok.startswith("%%")}
    low = s.lower().replace(" ", "")
    for word, code in _WORDS.items():
        if word in low:
            out.add(code)
    return out


def _offset(received_local: Any, received_utc: Any) -> dt.timedelta | None:
    """The host's UTC offset from NXLog's local ``EventReceivedTime`` and the shipper's UTC ``@timestamp``
    of the same receipt (seconds apart): their difference rounded to 15 minutes; None when they are missing,
    carry their own offset, or differ by more than 5 minutes from a whole offset (a delayed shipment)."""
    if not received_local or not received_utc or not isinstance(received_local, str):
        return None
    try:
        loc = parse_ts(received_local, default_tz=dt.timezone.utc)
        utc = parse_ts(received_utc)
    except ParseError:
        return None
    if re.search(r"(?:Z|[+-]\d{2}:?\d{2})$", received_local.strip()):
        return None  # it says its own offset: not a bare local time
    delta = (loc - utc).total_seconds()
    quarter = round(delta / 900) * 900
    if abs(delta - quarter) > 300 or abs(quarter) > 14 * 3600:
        return None
    return dt.timedelta(seconds=quarter)


def _azure(rec: dict[str, Any]) -> dict[str, Any] | None:
    """An Azure-collected record (diagnostic settings / Event Hub, Log Analytics ``Event``/``SecurityEvent``):
    ``properties`` with ``EventId`` and the fields, or an ``EventData`` XML string; None when it is not one."""
    props = rec.get("properties")
    if not isinstance(props, dict) or not any(k in props for k in ("EventId", "EventID", "eventId")):
        return None
    flat: dict[str, Any] = {k: v for k, v in rec.items() if k != "properties"}
    flat.update(props)
    flat["EventID"] = first(props.get("EventID"), props.get("EventId"), props.get("eventId"))
    xml = props.get("EventData")
    if isinstance(xml, str) and "<Data" in xml:
        for name, value in _XML_DATA.findall(xml):
            flat.setdefault(name, html.unescape(value.strip()))
    flat.setdefault("Hostname", first(props.get("Computer"), rec.get("Computer")))
    flat.setdefault("Channel", first(props.get("Channel"), props.get("EventLog")))
    flat["TimeCreated"] = first(props.get("TimeGenerated"), props.get("TimeCreated"), rec.get("TimeGenerated"),
                                rec.get("time"))
    flat.pop("@timestamp", None)
    return flat


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    if isinstance(rec.get("record"), dict):
        rec = rec["record"]
    az = _azure(rec)
    if az is not None:
        return az
    w = rec.get("winlog")
    if isinstance(w, dict):  # Winlogbeat
        flat: dict[str, Any] = {}
        for part in ("event_data", "user_data"):
            if isinstance(w.get(part), dict):
                flat.update(w[part])
        flat["EventID"] = w.get("event_id")
        flat["Channel"] = w.get("channel")
        flat["Hostname"] = w.get("computer_name") or (rec.get("host") or {}).get("name")
        flat["RecordNumber"] = w.get("record_id")
        flat["Category"] = w.get("task")
        flat["@timestamp"] = rec.get("@timestamp")
        if isinstance(w.get("user"), dict):
            flat.setdefault("UserID", w["user"].get("identifier"))
            flat.setdefault("UserDomain", w["user"].get("domain"))
        return flat
    ev = rec.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):  # XML rendered to JSON
        sysd = ev["System"]
        flat = {}
        for part in ("EventData", "UserData"):
            data = ev.get(part)
            if isinstance(data, dict):
                for k, v in data.items():
                    if isinstance(v, dict):
                        flat.update(v)
                    else:
                        flat[k] = v
        eid = sysd.get("EventID")
        flat["EventID"] = eid.get("#text") if isinstance(eid, dict) else eid
        flat["Channel"] = sysd.get("Channel")
        flat["Hostname"] = sysd.get("Computer")
        flat["RecordNumber"] = sysd.get("EventRecordID")
        tc = sysd.get("TimeCreated")
        flat["TimeCreated"] = tc.get("@SystemTime") if isinstance(tc, dict) else tc
        return flat
    return rec


class WindowsSource(JsonSource):
    name = "windows"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.sessions: dict[str, tuple[str, str | None, str | None]] = {}  # host -> (actor, sid, user) logged on

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if isinstance(rec.get("records"), list):  # Azure diagnostic / Event Hub batches
            out: list[Output] = []
            for r in rec["records"]:
                if isinstance(r, dict):
                    out.extend(self.parse(r, orjson.dumps(r).decode()))
            return out
        r = _flatten(rec)
        eid = as_int(first(r.get("EventID"), r.get("EventId")), "EventID")
        if eid is None:
            return [dead(self.name, "not a Windows event record (no EventID)", raw)]
        host = first(r.get("Hostname"), r.get("Computer"), r.get("host") if isinstance(r.get("host"), str) else None)
        ts, time_source = self._time(r, host)
        rn = first(r.get("RecordNumber"), r.get("EventRecordID"))
        if rn is not None and host:
            event_id = f"windows:{host}:{str(r.get('Channel')).lower()}:{rn}"
        else:  # the record's content, not its formatting or wrapper
            event_id = sha_id(self.name, orjson.dumps(r, option=orjson.OPT_SORT_KEYS))
        base = dict(raw=raw, event_id=event_id, ts=ts, host=host)
        out = self._dispatch(eid, r, base)
        v = out[0]
        if time_source.startswith("EventTime") and v is not None and hasattr(v, "attrs"):
            v.attrs["time_source"] = time_source  # a local time: say how it was read
        return [out]

    def _dispatch(self, eid: int, r: dict[str, Any], base: dict[str, Any]) -> Output:
        if eid in (4624, 4634, 4647):
            return self._logon(eid, r, base)
        if eid == 4663:
            return self._access(r, base, share=False)
        if eid == 5145:
            return self._access(r, base, share=True)
        if eid == 6416:
            return self._device(r, base)
        if eid == 307 and ("PrintService" in str(r.get("Channel") or r.get("SourceName") or "")
                           or r.get("Param5") is not None or r.get("param5") is not None):
            return self._print(r, base)
        return skip("event id not monitored")

    def _time(self, r: dict[str, Any], host: str | None) -> tuple[Any, str]:
        """The record's time and the field it came from (see the module docstring)."""
        for key in ("UtcTime", "TimeCreated", "SystemTime", "TimeGenerated"):
            v = r.get(key)
            if v not in (None, ""):
                return parse_ts(v), key  # a UTC field: without an offset it is still UTC
        local = first(r.get("EventTime"))
        tz = self.ctx.host_tz(host)
        if local is not None and tz is not None:
            return parse_ts(local, default_tz=tz), "EventTime (host time zone)"
        offset = _offset(r.get("EventReceivedTime"), r.get("@timestamp"))
        if local is not None and offset is not None:
            t = parse_ts(local, default_tz=dt.timezone.utc)
            return (t - offset).replace(tzinfo=dt.timezone.utc), "EventTime (offset of EventReceivedTime)"
        if r.get("@timestamp") not in (None, ""):
            return r["@timestamp"], "@timestamp"
        return local, "EventTime"

    def _logon(self, eid: int, r: dict[str, Any], base: dict[str, Any]) -> Output:
        user = first(r.get("TargetUserName"), r.get("SubjectUserName"))
        dom = first(r.get("TargetDomainName"), r.get("SubjectDomainName"))
        sid = first(r.get("TargetUserSid"), r.get("SubjectUserSid"))
        if sid in SYSTEM_SIDS or not user or str(user).endswith("$") or str(dom or "").upper() in (
                "NT AUTHORITY", "WINDOW MANAGER", "FONT DRIVER HOST"):
            return skip("logon of a system or machine account")
        actor = f"{dom}\\{user}" if dom else str(user)
        host = str(base.get("host") or "").lower()
        attrs: dict[str, Any] = {"event_code": eid}
        if eid == 4624:
            lt = str(r.get("LogonType") or "")
            if lt not in PERSON_LOGONS:
                return skip("network or service logon")
            attrs["logon_type"] = int(lt)
            if r.get("IpAddress") not in (None, "", "-"):
                attrs["client_ip"] = r["IpAddress"]
            if host:
                self.sessions[host] = (actor, sid, user)
            return self.event(kind="logon", action="logon", actor=actor, aliases=(sid, user), attrs=attrs, **base)
        if host and self.sessions.get(host, ("",))[0] == actor:
            del self.sessions[host]
        return self.event(kind="logon", action="logoff", actor=actor, aliases=(sid, user), attrs=attrs, **base)

    def _actor(self, r: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        user = first(r.get("SubjectUserName"), r.get("TargetUserName"))
        dom = first(r.get("SubjectDomainName"), r.get("TargetDomainName"))
        sid = first(r.get("SubjectUserSid"), r.get("UserID"))
        actor = f"{dom}\\{user}" if user and dom else (user or sid)
        return actor, sid, user

    def _access(self, r: dict[str, Any], base: dict[str, Any], share: bool) -> Output:
        actor, sid, user = self._actor(r)
        if sid in SYSTEM_SIDS or (user and str(user).endswith("$")):
            return skip("file access by a system or machine account")
        acc = accesses(first(r.get("AccessList"), r.get("Accesses"))) & {READ, WRITE, APPEND, DELETE}
        if not acc:
            return skip("file access to attributes or permissions only")
        removable = "removable" in str(r.get("Category") or "").lower() or str(r.get("Task")) == "12816"
        if share:
            share_name = str(first(r.get("ShareName")) or "").replace("\\\\*\\", "\\\\" + str(base["host"]) + "\\")
            rel = first(r.get("RelativeTargetName"))
            obj = f"{share_name}\\{rel}" if rel else share_name
        else:
            obj = first(r.get("ObjectName"))
        wrote = bool(acc & {WRITE, APPEND})
        if DELETE in acc:
            action = "delete"
        elif wrote and removable:
            action = "copy_to_removable"
        elif wrote and share:
            action = "copy"
        else:
            action = "open"
        attrs: dict[str, Any] = {"event_code": 5145 if share else 4663,
                                 "access": sorted({READ: "read", WRITE: "write", APPEND: "append",
                                                   DELETE: "delete"}.get(a, a) for a in acc)}
        if r.get("ProcessName"):
            attrs["process"] = r["ProcessName"]
        if share and r.get("IpAddress"):
            attrs["client_ip"] = r["IpAddress"]
        return self.event(kind="file", action=action, actor=actor, aliases=(sid, user), object=obj,
                          destination="removable" if action == "copy_to_removable" else None, attrs=attrs, **base)

    def _device(self, r: dict[str, Any], base: dict[str, Any]) -> Output:
        cls = str(r.get("ClassName") or "").strip().lower()
        ident = " ".join(str(r.get(k) or "") for k in ("DeviceId", "DeviceDescription", "VendorIds",
                                                       "CompatibleIds", "LocationInformation"))
        if _VIRTUAL.search(ident):
            return skip("virtual device")
        if cls and cls not in STORAGE_CLASSES:
            return skip("device that carries no data (not storage)")
        actor, sid, user = self._actor(r)
        if sid in SYSTEM_SIDS or (user and str(user).endswith("$")) or not actor:
            # the Plug and Play manager reports it as SYSTEM: the person is whoever is logged on at the host
            who = self.sessions.get(str(base.get("host") or "").lower())
            if who is None:
                return skip("device connected with no user logged on")
            actor, sid, user = who
        attrs = {k2: html.unescape(str(r[k])) for k, k2 in (("ClassName", "class"), ("DeviceId", "device_id"),
                                                            ("ClassId", "class_id")) if r.get(k)}
        return self.event(kind="device", action="connect", actor=actor, aliases=(sid, user),
                          object=first(r.get("DeviceDescription"), r.get("DeviceId")),
                          destination=first(r.get("DeviceDescription")), attrs=attrs, **base)

    def _print(self, r: dict[str, Any], base: dict[str, Any]) -> Output:
        p = {k.lower(): v for k, v in r.items() if k.lower().startswith("param")}
        user = first(p.get("param3"))
        dom = first(r.get("UserDomain"))
        actor = f"{dom}\\{user}" if user and dom and "\\" not in str(user) else user
        attrs: dict[str, Any] = {"event_code": 307}
        if p.get("param1"):
            attrs["job_id"] = p["param1"]
        if p.get("param6"):
            attrs["port"] = p["param6"]
        client = first(p.get("param4"))
        host = str(client).lstrip("\\") if client else base["host"]
        b = {**base, "host": host}
        return self.event(kind="print", action="print", actor=actor, aliases=(r.get("UserID"), user),
                          object=first(p.get("param2")), destination=first(p.get("param5")),
                          bytes=as_int(p.get("param7")), count=as_int(p.get("param8")), attrs=attrs, **b)
