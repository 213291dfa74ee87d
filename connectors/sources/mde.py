"""``mde``: Microsoft Defender for Endpoint records: the streaming API form (``{"records": [{"time",
"category": "AdvancedHunting-DeviceFileEvents", "properties": {...}}]}``), single streamed records, and
flat advanced-hunting / Sentinel rows (``Type`` or inferred table).

* ``DeviceEvents`` ``UsbDriveMounted`` -> device connect (``AdditionalFields`` is JSON in a string and is
  parsed a second time: drive letter, product, manufacturer, serial); ``UsbDriveUnmounted`` -> disconnect.
* ``DeviceFileEvents``: ``FileCreated``/``FileModified``/``FileRenamed`` on a drive letter mounted from USB
  on that device -> copy_to_removable; ``FileCreated`` with a ``FileOriginUrl`` -> web download;
  ``FileDeleted`` -> delete; a ``SensitivityLabel`` sets the sensitivity.
Other tables (``DeviceInfo``, ``DeviceNetworkInfo``... which have no ``ActionType``) and action types are
counted as skipped under a reason; a record of the two tables read here without ``ActionType``, or one that
is not a Defender record at all, is dead-lettered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from connectors.base import Output, as_int, dead, first, sha_id, skip
from connectors.classification import domain_of
from connectors.sources import JsonSource

MOUNT = {"UsbDriveMounted", "UsbDriveMount"}
UNMOUNT = {"UsbDriveUnmounted", "UsbDriveUnmount", "UsbDriveDismounted"}
WRITES = {"FileCreated", "FileModified", "FileRenamed"}
READ_TABLES = ("DeviceEvents", "DeviceFileEvents")
#: Field names that only Defender / Microsoft 365 Defender advanced-hunting rows carry.
_DEFENDER_FIELDS = ("DeviceId", "ReportId", "MachineGroup", "OnboardingStatus", "DeviceName")


def additional_fields(value: Any) -> dict[str, Any]:
    """``AdditionalFields`` as a dict: parsed again when it is a JSON string; {} when it cannot be."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            v = orjson.loads(value)
            return v if isinstance(v, dict) else {}
        except orjson.JSONDecodeError:
            return {}
    return {}


def _norm(p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    for k in list(p):
        for suffix in ("_string", "_dynamic", "_long"):
            if k.endswith(suffix):
                base = k[: -len(suffix)]
                if first(out.get(base)) is None and first(p[k]) is not None:
                    out[base] = p[k]
    return out


class MdeSource(JsonSource):
    name = "mde"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.mounted: dict[str, dict[str, str]] = {}  # device -> drive letter -> product

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if isinstance(rec.get("records"), list):
            out: list[Output] = []
            for r in rec["records"]:
                if isinstance(r, dict):
                    out.extend(self.parse(r, orjson.dumps(r).decode()))
            return out
        table = ""
        if isinstance(rec.get("properties"), dict):
            p = _norm(rec["properties"])
            table = str(rec.get("category") or "").replace("AdvancedHunting-", "")
            p.setdefault("Timestamp", rec.get("time"))
        else:
            p = _norm(rec)
            table = str(rec.get("Type") or rec.get("$table") or "")
        at = p.get("ActionType")
        if not isinstance(at, str):
            if table in READ_TABLES:
                return [dead(self.name, f"Defender {table} record without ActionType", raw)]
            if table or any(k in p for k in _DEFENDER_FIELDS):
                return [skip("table not monitored")]  # DeviceInfo, DeviceNetworkInfo...: no ActionType
            return [dead(self.name, "not a Defender record (no ActionType, table or device fields)", raw)]
        if not table:
            table = "DeviceEvents" if at in MOUNT | UNMOUNT else ("DeviceFileEvents" if "FolderPath" in p and
                                                                   at.startswith("File") else "")
        device = first(p.get("DeviceName"), p.get("DeviceId"))
        actor = first(p.get("RequestAccountName") and p.get("RequestAccountDomain") and
                      f"{p.get('RequestAccountDomain')}\\{p.get('RequestAccountName')}",
                      p.get("InitiatingProcessAccountUpn"),
                      p.get("InitiatingProcessAccountDomain") and p.get("InitiatingProcessAccountName") and
                      f"{p.get('InitiatingProcessAccountDomain')}\\{p.get('InitiatingProcessAccountName')}",
                      p.get("AccountUpn"), p.get("AccountName"), p.get("InitiatingProcessAccountName"))
        aliases = (p.get("InitiatingProcessAccountSid"), p.get("RequestAccountSid"), p.get("AccountSid"),
                   p.get("InitiatingProcessAccountUpn"), p.get("InitiatingProcessAccountName"))
        rid = first(p.get("ReportId"))
        eid = f"mde:{p.get('DeviceId') or device}:{rid}:{p.get('Timestamp')}" if rid is not None else sha_id(
            self.name, raw)
        attrs: dict[str, Any] = {"table": table, "action_type": at}
        if p.get("InitiatingProcessFileName"):
            attrs["process"] = p["InitiatingProcessFileName"]
        base = dict(raw=raw, event_id=eid, ts=first(p.get("Timestamp"), rec.get("time")), actor=actor,
                    aliases=aliases, host=device, attrs=attrs)
        dev_key = str(first(p.get("DeviceId"), device) or "")
        if table == "DeviceEvents" and (at in MOUNT or at in UNMOUNT):
            af = additional_fields(p.get("AdditionalFields"))
            letter = str(af.get("DriveLetter") or "").rstrip("\\").upper()
            product = first(af.get("ProductName"), af.get("Volume"), af.get("Manufacturer"))
            for k in ("DriveLetter", "Manufacturer", "ProductName", "SerialNumber", "Volume", "BusType"):
                if af.get(k) not in (None, ""):
                    attrs[k[0].lower() + "".join("_" + c.lower() if c.isupper() else c for c in k[1:])] = af[k]
            if at in MOUNT:
                if letter:
                    self.mounted.setdefault(dev_key, {})[letter] = str(product or "usb")
                return [self.event(kind="device", action="connect", object=product,
                                   destination=" ".join(str(x) for x in (af.get("Manufacturer"),
                                                                         af.get("ProductName")) if x) or None,
                                   **base)]
            if letter:
                self.mounted.get(dev_key, {}).pop(letter, None)
            return [self.event(kind="device", action="disconnect", object=product, **base)]
        if table != "DeviceFileEvents":
            return [skip("table not monitored" if table not in READ_TABLES else "action type not monitored")]
        folder = str(first(p.get("FolderPath")) or "")
        name = first(p.get("FileName"))
        obj = folder if not name or folder.lower().endswith(str(name).lower()) else folder.rstrip("\\") + "\\" + name
        size = as_int(p.get("FileSize"))
        label = first(p.get("SensitivityLabel"), p.get("SensitivitySubLabel"))
        drive = folder[:2].upper() if len(folder) >= 2 and folder[1] == ":" else ""
        if at in WRITES and drive and drive in self.mounted.get(dev_key, {}):
            return [self.event(kind="file", action="copy_to_removable", object=obj, bytes=size,
                               destination=self.mounted[dev_key][drive], label=label, **base)]
        if at == "FileCreated" and str(p.get("FileOriginUrl") or "").lower().startswith(("http://", "https://")):
            url = p["FileOriginUrl"]
            attrs["file"] = obj
            return [self.event(kind="web", action="download", object=url, bytes=size, destination=domain_of(url),
                               label=label, **base)]
        if at == "FileDeleted":
            return [self.event(kind="file", action="delete", object=obj, label=label, **base)]
        return [skip("action type not monitored")]
