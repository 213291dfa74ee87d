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
  ``MipLabel`` -> email send with recipients and the label (a labelled message that came in from outside
  is inbound mail, not a send); ``New-InboxRule``/``Set-InboxRule``/``Set-Mailbox`` (admin records, with
  ``Parameters``) and Outlook's ``UpdateInboxRules`` (mailbox records, with ``OperationProperties``: a
  ``ForwardToRecipientsAction``, ``ForwardAsAttachmentToRecipientsAction`` or ``RedirectToRecipientsAction``
  whose recipients are in the ``ServerRule``/``RuleActions`` values) forwarding to an address outside the
  company -> email auto_forward.

Keys are read whatever their case (``Operation`` or ``operation``, ``Parameters[].Name`` or ``name``), as
exports and SIEM forwarders write them. Everything else (page views, logons, admin changes,
``MailItemsAccessed``...) is counted as skipped under a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from connectors.base import Output, ParseError, as_int, first, recipients_of, sha_id, skip
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
#: Outlook / EWS inbox-rule changes logged by mailbox auditing (the rule is in OperationProperties)
CLIENT_RULE_OPS = {"UpdateInboxRules", "New-InboxRule-Client"}
FORWARD_ACTIONS = ("ForwardToRecipientsAction", "ForwardAsAttachmentToRecipientsAction", "RedirectToRecipientsAction")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
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


def _params(rec: dict[str, Any], key: str = "Parameters") -> dict[str, Any]:
    """``Parameters`` (or ``OperationProperties``) as ``{lower-case name: value}``, whatever the key case."""
    ps = rec.get(key)
    if isinstance(ps, str):
        try:
            ps = orjson.loads(ps)
        except orjson.JSONDecodeError:
            return {}
    out: dict[str, Any] = {}
    if isinstance(ps, list):
        for p in ps:
            if isinstance(p, dict):
                name = first(p.get("Name"), p.get("name"))
                if name is not None:
                    out[str(name).lower()] = p.get("Value", p.get("value"))
    elif isinstance(ps, dict):
        out = {str(k).lower(): v for k, v in ps.items()}
    return out


_CANON = {k.lower(): k for k in (
    "Operation", "CreationTime", "TimeGenerated", "Id", "OfficeId", "Workload", "OfficeWorkload", "RecordType",
    "UserId", "UserKey", "UserType", "ObjectId", "OfficeObjectId", "Parameters", "OperationProperties", "Item",
    "ClientIP", "ClientIPAddress", "MailboxOwnerUPN", "LogonUserSid", "SiteUrl", "SourceFileName", "ResultStatus",
    "Sender", "Receivers", "Recipients", "LabelName", "LabelAction", "ItemName", "Subject", "ExternalAccess",
    "OrganizationName", "OriginatingServer", "FileSizeBytes", "TargetUserOrGroupName", "TargetUserOrGroupType",
    "SensitivityLabelName", "SensitivityLabelId", "DeviceName", "Platform", "TargetDomain", "TargetFilePath")}


def canonical_keys(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` with the top-level keys this connector reads in the API's case (``operation`` ->
    ``Operation``), for records that SIEM exports and forwarders write in lower or camel case."""
    if "Operation" in rec:
        return rec
    out = dict(rec)
    for k, v in rec.items():
        c = _CANON.get(str(k).lower())
        if c is not None and c not in out:
            out[c] = v
    return out


def _rule_targets(props: dict[str, Any]) -> list[str] | None:
    """The recipients of a forwarding action in ``UpdateInboxRules`` properties; None when no action of the
    rule forwards or redirects."""
    text = " ".join(str(v) for v in props.values() if v is not None)
    if not any(a in text for a in FORWARD_ACTIONS):
        return None
    found: list[str] = []
    server = props.get("serverrule")
    try:
        rule = orjson.loads(server) if isinstance(server, str) else server
    except orjson.JSONDecodeError:
        rule = None
    if isinstance(rule, dict):
        for act in rule.get("Actions") or rule.get("actions") or []:
            if not isinstance(act, dict):
                continue
            for rc in act.get("Recipients") or act.get("recipients") or []:
                vals = rc.get("Values") if isinstance(rc, dict) else None
                for val in vals if isinstance(vals, list) else []:
                    v = val.get("Value") if isinstance(val, dict) else None
                    if isinstance(v, str) and _EMAIL.fullmatch(v.strip()):
                        found.append(v.strip())
    if not found:
        for k in ("ruleactions", "serverrule", "forwardto", "redirectto", "forwardasattachmentto"):
            found.extend(_EMAIL.findall(str(props.get(k) or "")))
    seen: set[str] = set()
    return [x for x in found if not (x.lower() in seen or seen.add(x.lower()))]  # type: ignore[func-returns-value]


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
        rec = canonical_keys(rec)
        op = rec.get("Operation")
        if not isinstance(op, str):
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
        if op in CLIENT_RULE_OPS:
            return [self._client_rule(rec, attrs, base)]
        return [skip("operation not monitored")]

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
            return skip("sharing inside the company")
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
            return skip("sharing inside the company")
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
        owner = base["actor"]
        if actor and owner and str(actor).lower() != str(owner).lower() and domain_of(str(actor)) != domain_of(
                str(owner)) and self.ctx.classifier.classify(str(actor), str(owner))[0] is not False:
            return skip("inbound mail")  # a labelled message from outside, logged in the receiving mailbox
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
            return skip("mailbox or rule change without forwarding")
        actor = base["actor"]
        external = [t for t in targets if self.ctx.classifier.classify(t, actor)[0] is not False]
        if not external:
            return skip("forwarding inside the company")
        mailbox = first(params.get("identity"), params.get("mailbox"), rec.get("ObjectId"))
        if mailbox:
            attrs["mailbox"] = mailbox
        if params.get("name"):
            attrs["rule"] = params["name"]
        return self.event(kind="email", action="auto_forward", object=first(params.get("name"), mailbox),
                          recipients=external, destination=domain_of(external[0]), attrs=attrs, **base)

    def _client_rule(self, rec: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        props = _params(rec, "OperationProperties")
        targets = _rule_targets(props)
        if targets is None:
            return skip("mailbox or rule change without forwarding")
        if not targets:
            raise ParseError("inbox rule forwards, but names no address to forward to")
        actor = base["actor"]
        external = [t for t in targets if self.ctx.classifier.classify(t, actor)[0] is not False]
        if not external:
            return skip("forwarding inside the company")
        name = first(props.get("rulename"), props.get("name"))
        if name:
            attrs["rule"] = name
        mailbox = first(rec.get("MailboxOwnerUPN"), rec.get("ObjectId"))
        if mailbox:
            attrs["mailbox"] = mailbox
        return self.event(kind="email", action="auto_forward", object=first(name, mailbox), recipients=external,
                          destination=domain_of(external[0]), attrs=attrs, **base)
