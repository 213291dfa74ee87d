"""``windows``: Windows event records as JSON (NXLog/Logstash flat form, ``{"record": {...}}`` wrappers,
Winlogbeat ``winlog.event_data``), from files or the zipped OTRF datasets.

* Security 4663 (an object was accessed): ``AccessList`` codes give the access: ``%%1537`` DELETE ->
  delete; ``%%4417`` WriteData / ``%%4418`` AppendData on removable storage (category "Removable
  Storage") -> copy_to_removable; ``%%4416`` ReadData -> open (a plain write is an ``open`` with
  ``attrs.access`` = ["write"]).
* Security 5145 (network share object checked) -> file open of ``\\\\host\\share\\relative path``, same
  access codes; writes -> copy.
* Security 6416 (new external device) -> device connect.
* PrintService/Operational 307 (document printed) -> print with document, pages (count), bytes, printer.

System accounts (SYSTEM, LOCAL/NETWORK SERVICE, machine accounts ending in ``$``) are skipped for file
access; other event ids (4656, 5140, Sysmon...) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from connectors.base import SKIP, Output, as_int, first, sha_id
from connectors.sources import JsonSource

READ, WRITE, APPEND, DELETE = "%%4416", "%%4417", "%%4418", "%%1537"
_WORDS = {"readdata": READ, "writedata": WRITE, "appenddata": APPEND, "delete": DELETE}
SYSTEM_SIDS = {"S-1-5-18", "S-1-5-19", "S-1-5-20"}


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


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    if isinstance(rec.get("record"), dict):
        rec = rec["record"]
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

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        r = _flatten(rec)
        eid = as_int(r.get("EventID"))
        if eid is None:
            return [SKIP]
        ts = first(r.get("@timestamp"), r.get("TimeCreated"), r.get("UtcTime"), r.get("EventTime"))
        host = first(r.get("Hostname"), r.get("Computer"), r.get("host") if isinstance(r.get("host"), str) else None)
        rn = first(r.get("RecordNumber"), r.get("EventRecordID"))
        if rn is not None and host:
            event_id = f"windows:{host}:{str(r.get('Channel')).lower()}:{rn}"
        else:  # the record's content, not its formatting or wrapper
            event_id = sha_id(self.name, orjson.dumps(r, option=orjson.OPT_SORT_KEYS))
        base = dict(raw=raw, event_id=event_id, ts=ts, host=host)
        if eid == 4663:
            return [self._access(r, base, share=False)]
        if eid == 5145:
            return [self._access(r, base, share=True)]
        if eid == 6416:
            return [self._device(r, base)]
        if eid == 307 and ("PrintService" in str(r.get("Channel") or r.get("SourceName") or "")
                           or r.get("Param5") is not None or r.get("param5") is not None):
            return [self._print(r, base)]
        return [SKIP]

    def _actor(self, r: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        user = first(r.get("SubjectUserName"), r.get("TargetUserName"))
        dom = first(r.get("SubjectDomainName"), r.get("TargetDomainName"))
        sid = first(r.get("SubjectUserSid"), r.get("UserID"))
        actor = f"{dom}\\{user}" if user and dom else (user or sid)
        return actor, sid, user

    def _access(self, r: dict[str, Any], base: dict[str, Any], share: bool) -> Output:
        actor, sid, user = self._actor(r)
        if sid in SYSTEM_SIDS or (user and str(user).endswith("$")):
            return SKIP
        acc = accesses(first(r.get("AccessList"), r.get("Accesses"))) & {READ, WRITE, APPEND, DELETE}
        if not acc:
            return SKIP  # attributes, permissions, synchronize only
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
        actor, sid, user = self._actor(r)
        attrs = {k2: r[k] for k, k2 in (("ClassName", "class"), ("DeviceId", "device_id"),
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
