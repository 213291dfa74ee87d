"""``m365``: Office 365 Management Activity API records (as the API returns them, one per line or JSON arrays)
and the same records as Microsoft Sentinel's ``OfficeActivity`` table holds them.

* SharePoint / OneDrive file operations: ``FileDownloaded`` -> download, ``FileSyncDownloadedFull/Partial``
  -> sync_download, ``FileUploaded``/``FileSyncUploaded*`` -> upload, ``FileCopied`` -> copy,
  ``FileAccessed``/``FilePreviewed`` -> open, ``FileDeleted``/``FileRecycled``/... -> delete; sharing
  (``SharingSet``, ``SharingInvitationCreated``, ``AnonymousLinkCreated``, ``AddedToSecureLink``...) to a
  guest, an outside address or an anonymous link -> share_external (sharing inside the company is skipped).
* Endpoint DLP (``FileCopiedToRemovableMedia``, ``FilePrinted``, ``FileUploadedToCloud``,
  ``FileCopiedToNetworkShare``).
* Exchange ``Send``/``SendAs``/``SendOnBehalf`` -> email send (size, attachments from ``Item.Attachments``);
  ``MipLabel`` -> email send with recipients and the label; ``New-InboxRule``/``Set-InboxRule``/
  ``Set-Mailbox`` forwarding to an address outside the company -> email auto_forward.

Everything else (page views, logons, admin changes, ``MailItemsAccessed``...) is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from connectors.base import SKIP, Output, as_int, first, recipients_of, sha_id
from connectors.classification import domain_of
from connectors.sources import JsonSource

FILE_OPS = {
    "FileDownloaded": "download",
    "FileSyncDownloadedFull": "sync_download",
    "FileSyncDownloadedPartial": "sync_download",
    "FileUploaded": "upload",
    "FileSyncUploadedFull": "upload",
    "FileSyncUploadedPartial": "upload",
    "FileCopied": "copy",
    "FileAccessed": "open",
    "FileAccessedExtended": "open",
    "FilePreviewed": "open",
    "FileDeleted": "delete",
    "FileRecycled": "delete",
    "FileDeletedFirstStageRecycleBin": "delete",
    "FileDeletedSecondStageRecycleBin": "delete",
    "FolderDeleted": "delete",
    "FolderRecycled": "delete",
    # Endpoint DLP (RecordType 63)
    "FileCopiedToRemovableMedia": "copy_to_removable",
    "FileCopiedToNetworkShare": "copy",
    "FileUploadedToCloud": "upload",
    "FilePrinted": "print",
}
SHARE_OPS = {
    "SharingSet",
    "SharingInvitationCreated",
    "SharingInvitationUpdated",
    "AnonymousLinkCreated",
    "AnonymousLinkUpdated",
    "AddedToSecureLink",
    "SecureLinkCreated",
    "SharedLinkCreated",
    "AddedToGroup",
}
SEND_OPS = {"Send", "SendAs", "SendOnBehalf"}
RULE_OPS = {"New-InboxRule", "Set-InboxRule", "Set-Mailbox", "New-TransportRule", "Set-TransportRule"}
FORWARD_PARAMS = {
    "forwardto",
    "forwardasattachmentto",
    "redirectto",
    "forwardingsmtpaddress",
    "forwardingaddress",
    "redirectmessageto",
    "blindcopyto",
}

_ATT = re.compile(r"\((\d+)b\)\s*$")


def parse_attachments(value: Any) -> tuple[list[str], int | None]:
    """Names and total size of ``Item.Attachments`` ("a.png (3442b); b.pdf (12282b)") or a list of dicts.

    >>> parse_attachments("LogoM365.png (3442b); group_photo (13165b)")
    (['LogoM365.png', 'group_photo'], 16607)
    """
    if not value:
        return [], None
    names: list[str] = []
    total = 0
    have = False
    if isinstance(value, list):
        for a in value:
            if isinstance(a, dict):
                names.append(str(a.get("Name") or a.get("name") or ""))
                s = as_int(a.get("Size") or a.get("size"))
                if s is not None:
                    total += s
                    have = True
            else:
                names.append(str(a))
        return names, total if have else None
    for part in str(value).split(";"):
        p = part.strip()
        if not p:
            continue
        m = _ATT.search(p)
        if m:
            total += as_int(m.group(1), "attachment size") or 0
            have = True
            p = p[: m.start()].strip()
        names.append(p)
    return names, total if have else None


def _params(rec: dict[str, Any]) -> dict[str, Any]:
    ps = rec.get("Parameters")
    if isinstance(ps, str):
        try:
            ps = orjson.loads(ps)
        except orjson.JSONDecodeError:
            return {}
    out: dict[str, Any] = {}
    if isinstance(ps, list):
        for p in ps:
            if isinstance(p, dict) and p.get("Name") is not None:
                out[str(p["Name"]).lower()] = p.get("Value")
    elif isinstance(ps, dict):
        out = {str(k).lower(): v for k, v in ps.items()}
    return out


def _forward_targets(value: Any) -> list[str]:
    out = []
    for v in recipients_of(value):
        v = v.strip()
        if v.lower().startswith("smtp:"):
            v = v[5:]
        v = v.strip("[]\"' ")
        if "@" in v and not v.upper().startswith("EX:"):
            out.append(v)
    return out


class M365Source(JsonSource):
    name = "m365"

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        op = rec.get("Operation")
        if not isinstance(op, str):
            if "CreationTime" in rec or "Workload" in rec or "RecordType" in rec:
                return [SKIP]
            return [self._dead("not an Office 365 audit record (no Operation)", raw)]
        workload = first(rec.get("Workload"), rec.get("OfficeWorkload")) or ""
        ts = first(rec.get("CreationTime"), rec.get("TimeGenerated"), rec.get("Start_Time"))
        rid = first(rec.get("Id"), rec.get("OfficeId"), rec.get("SourceRecordId"))
        eid = f"m365:{rid}" if rid else sha_id(self.name, raw)
        actor = first(rec.get("UserId"), rec.get("UserId_"), rec.get("MailboxOwnerUPN"))
        aliases = (rec.get("UserKey") if "@" in str(rec.get("UserKey") or "") else None, rec.get("LogonUserSid"))
        base = dict(raw=raw, event_id=eid, ts=ts, actor=actor, aliases=aliases)
        attrs = {"operation": op, "workload": workload}
        ip = first(rec.get("ClientIP"), rec.get("ClientIPAddress"), rec.get("Client_IPAddress"))
        if ip:
            attrs["client_ip"] = ip
        if rec.get("RecordType") is not None:
            attrs["record_type"] = rec.get("RecordType")
        if op in FILE_OPS:
            return [self._file(rec, op, attrs, base)]
        if op in SHARE_OPS:
            return [self._share(rec, op, attrs, base)]
        if op in SEND_OPS:
            return [self._send(rec, attrs, base)]
        if op.lower() == "miplabel":
            return [self._mip(rec, attrs, base)]
        if op in RULE_OPS:
            return [self._rule(rec, op, attrs, base)]
        return [SKIP]

    def _dead(self, reason: str, raw: str) -> Output:
        from connectors.base import dead

        return dead(self.name, reason, raw)

    def _file(self, rec: dict[str, Any], op: str, attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        action = FILE_OPS[op]
        obj = first(rec.get("ObjectId"), rec.get("OfficeObjectId"), rec.get("TargetFilePath"))
        site = first(rec.get("SiteUrl"), rec.get("Site_Url"))
        if site:
            attrs["site"] = site
        for k_src, k_dst in (("ItemType", "item_type"), ("SourceFileExtension", "extension"),
                             ("IsManagedDevice", "managed_device"), ("Platform", "platform")):
            if rec.get(k_src) not in (None, ""):
                attrs[k_dst] = rec[k_src]
        label = first(rec.get("SensitivityLabelName"), rec.get("SensitivityLabel"), rec.get("SensitivityLabelId"))
        kind = "print" if action == "print" else "file"
        destination = None
        if action == "upload" and op == "FileUploadedToCloud":
            destination = first(rec.get("TargetDomain"), rec.get("TargetUrl"))
        elif action == "copy_to_removable":
            rm = rec.get("RemovableMediaDeviceAttributes")
            destination = (
                first(rm.get("Model"), rm.get("Manufacturer"), rm.get("SerialNumber"))
                if isinstance(rm, dict)
                else None
            ) or "removable"
        elif action == "print":
            destination = first(rec.get("TargetPrinterName"), rec.get("PrinterName"))
        host = first(rec.get("DeviceName"), rec.get("DeviceDisplayName") if rec.get("Platform") is None else None)
        if host and re.fullmatch(r"[0-9a-fA-F:.]+", str(host)):
            host = None
        return self.event(
            kind=kind,
            action=action,
            object=obj,
            bytes=as_int(first(rec.get("FileSizeBytes"), rec.get("FileSize"))),
            host=host,
            destination=destination,
            label=label,
            attrs=attrs,
            **base,
        )

    def _share(self, rec: dict[str, Any], op: str, attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        obj = first(rec.get("ObjectId"), rec.get("OfficeObjectId"))
        target = first(rec.get("TargetUserOrGroupName"), rec.get("TargetUserOrGroupName_"))
        ttype = str(rec.get("TargetUserOrGroupType") or "")
        site = first(rec.get("SiteUrl"), rec.get("Site_Url"))
        if site:
            attrs["site"] = site
        if ttype:
            attrs["target_type"] = ttype
        label = first(rec.get("SensitivityLabelName"), rec.get("SensitivityLabelId"))
        if op.startswith("AnonymousLink"):
            return self.event(kind="file", action="share_external", object=obj, destination="anonymous link",
                              external=True, label=label, attrs=attrs, **base)
        if op == "AddedToGroup" and ttype.lower() != "guest":
            return SKIP
        dest = target if target and "@" in str(target) else None
        ext, personal = self.ctx.classifier.classify(dest, base["actor"]) if dest else (None, None)
        if ttype.lower() == "guest" or "#ext#" in str(target or "").lower():
            ext = True
            if dest is None and target and "#ext#" in str(target).lower():
                # guest UPN: bob_gmail.com#EXT#@tenant.onmicrosoft.com -> bob@gmail.com
                local = str(target).split("#", 1)[0]
                if "_" in local:
                    dest = local[: local.rindex("_")] + "@" + local[local.rindex("_") + 1 :]
                    _, personal = self.ctx.classifier.classify(dest, base["actor"])
        if not ext:
            return SKIP
        return self.event(kind="file", action="share_external", object=obj, destination=domain_of(dest) or dest,
                          recipients=[dest] if dest else [], external=True, personal=personal, label=label,
                          attrs=attrs, **base)

    def _send(self, rec: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        item = rec.get("Item") if isinstance(rec.get("Item"), dict) else {}
        names, att_bytes = parse_attachments(item.get("Attachments"))
        if names:
            attrs["attachments"] = names[:50]
        msgid = item.get("InternetMessageId")
        if msgid:
            attrs["message_id"] = str(msgid).replace("&lt;", "<").replace("&gt;", ">")
        size = as_int(item.get("SizeInBytes"))
        if size is None:
            size = att_bytes
        rcpt = recipients_of(item.get("Recipients"), item.get("To"), item.get("Cc"), item.get("Bcc"))
        return self.event(kind="email", action="send", object=first(item.get("Subject")), bytes=size,
                          count=len(names), recipients=rcpt, label=first(item.get("SensitivityLabel")),
                          attrs=attrs, **base)

    def _mip(self, rec: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        rcpt = recipients_of(rec.get("Receivers"), rec.get("Recipients"))
        label = first(rec.get("LabelName"), rec.get("SensitivityLabelName"), rec.get("LabelId"))
        if rec.get("LabelAction"):
            attrs["label_action"] = rec["LabelAction"]
        if rec.get("ObjectId"):
            attrs["message_id"] = rec["ObjectId"]
        actor = first(rec.get("Sender"), base["actor"])
        b = {**base, "actor": actor}
        return self.event(kind="email", action="send", object=first(rec.get("ItemName"), rec.get("Subject")),
                          recipients=rcpt, label=label, attrs=attrs, **b)

    def _rule(self, rec: dict[str, Any], op: str, attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        params = _params(rec)
        targets: list[str] = []
        for k, v in params.items():
            if k in FORWARD_PARAMS and v:
                targets.extend(_forward_targets(v))
        if not targets:
            return SKIP
        actor = base["actor"]
        external = [t for t in targets if self.ctx.classifier.classify(t, actor)[0] is not False]
        if not external:
            return SKIP
        mailbox = first(params.get("identity"), params.get("mailbox"), rec.get("ObjectId"))
        if mailbox:
            attrs["mailbox"] = mailbox
        if params.get("name"):
            attrs["rule"] = params["name"]
        return self.event(kind="email", action="auto_forward", object=first(params.get("name"), mailbox),
                          recipients=external, destination=domain_of(external[0]), attrs=attrs, **base)
