"""``gworkspace``: Google Workspace Reports API activities (``activities.list`` items with ``events[]``,
whole responses with ``items``, or single-event exports with ``event``) and Gmail logs.

Drive: ``download`` -> download, ``view``/``preview`` -> open, ``copy`` -> copy, ``upload`` -> upload,
``delete``/``trash`` -> delete, ``print`` -> print, ``sync_item_content`` -> sync_download; sharing
(``change_user_access``, ``change_document_visibility``, ``change_acl_editors``,
``change_document_access_scope``...) to a user outside the company or to anyone with the link / the public
-> share_external, also when only ``visibility``/``visibility_change`` says the item is now shared outside.
Gmail (Reports API ``gmail`` application or BigQuery Gmail log rows with ``message_info``): a message whose
sender is the actor -> email send with recipients, size and attachments; a message that came in (sender
outside the company, or an inbound SMTP source) is counted as inbound mail. ``user_accounts``/``login``
``email_forwarding_out_of_domain`` -> email auto_forward to ``email_forwarding_destination_address``.

Both forms of an activity are read: the API's (``events[]`` with ``parameters`` as a list of
``{name, value}``) and the one-event-per-row form SIEMs store (``name``, ``type`` and ``parameters`` as an
object at the top of the row). Events of other applications are counted as skipped under a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import Output, as_int, first, recipients_of, sha_id, skip
from connectors.classification import domain_of
from connectors.sources import JsonSource

DRIVE = {
    "download": "download",
    "view": "open",
    "preview": "open",
    "copy": "copy",
    "upload": "upload",
    "delete": "delete",
    "trash": "delete",
    "print": "print",
    "sync_item_content": "sync_download",
}
SHARE = {"change_user_access", "change_document_visibility", "change_acl_editors", "change_document_access_scope",
         "change_user_access_hierarchy_reconciled", "shared_drive_membership_change"}
PUBLIC = ("people_with_link", "public_on_the_web", "anyone_with_link", "shared_externally", "public")
#: Applications whose events say nothing the product monitors (counted as skipped, never dead-lettered).
FORWARDING_APPS = ("user_accounts", "login")
_INBOUND_SERVICES = ("smtp-inbound", "smtp_inbound", "inbound")


def _param_value(p: dict[str, Any]) -> Any:
    for k in ("value", "boolValue", "intValue", "multiValue", "multiIntValue"):
        if k in p:
            return p[k]
    if "messageValue" in p:
        return _params((p["messageValue"] or {}).get("parameter") or [])
    if "multiMessageValue" in p:
        return [_params((m or {}).get("parameter") or []) for m in p["multiMessageValue"] or []]
    return None


def _params(ps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(ps, dict):  # the one-event-per-row form: already {name: value}
        return dict(ps)
    if isinstance(ps, list):
        for p in ps:
            if isinstance(p, dict) and p.get("name") is not None:
                out[str(p["name"])] = _param_value(p)
    return out


class GWorkspaceSource(JsonSource):
    name = "gworkspace"

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if isinstance(rec.get("items"), list):
            out: list[Output] = []
            for it in rec["items"]:
                if isinstance(it, dict):
                    out.extend(self.parse(it, raw))
            return out
        if "message_info" in rec:
            return [self._gmail_row(rec, raw)]
        rid = rec.get("id")
        one_row = "events" not in rec and "event" not in rec and isinstance(rec.get("name"), str)
        if not isinstance(rid, dict) or ("events" not in rec and "event" not in rec and not one_row):
            return [self._dead("not a Reports API activity (id, events)", raw)]
        if one_row:
            events = [rec]
        else:
            events = rec.get("events") if isinstance(rec.get("events"), list) else [rec.get("event")]
        app = str(rid.get("applicationName") or "")
        actor_d = rec.get("actor") if isinstance(rec.get("actor"), dict) else {}
        actor = first(actor_d.get("email"), actor_d.get("profileId"))
        out = []
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                continue
            name = str(ev.get("name") or "")
            params = _params(ev.get("parameters"))
            eid = (f"gworkspace:{app}:{rid.get('time')}:{rid.get('uniqueQualifier')}:{i}"
                   if rid.get("uniqueQualifier") else sha_id(self.name, raw, i))
            base = dict(raw=raw, event_id=eid, ts=rid.get("time"), actor=actor, aliases=(actor_d.get("profileId"),))
            attrs: dict[str, Any] = {"application": app, "event": name}
            if rec.get("ipAddress"):
                attrs["ip"] = rec["ipAddress"]
            if app == "gmail":
                out.append(self._gmail(params.get("message_info") or params, attrs, base))
            elif app == "drive":
                out.append(self._drive(name, params, attrs, base))
            elif app in FORWARDING_APPS and name == "email_forwarding_out_of_domain":
                out.append(self._forwarding(params, attrs, base))
            else:
                out.append(skip("application not monitored"))
        if not out:
            return [self._dead("Reports API activity without events", raw)]
        return out

    def _forwarding(self, p: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        dest = first(p.get("email_forwarding_destination_address"))
        if not dest:
            return self._dead("email_forwarding_out_of_domain without email_forwarding_destination_address",
                              base["raw"])
        ext, personal = self.ctx.classifier.classify(str(dest), base["actor"])
        if ext is False:
            return skip("forwarding inside the company")
        return self.event(kind="email", action="auto_forward", object="mail forwarding", recipients=[str(dest)],
                          destination=domain_of(str(dest)), external=True, personal=personal, attrs=attrs, **base)

    def _dead(self, reason: str, raw: str) -> Output:
        from connectors.base import dead

        return dead(self.name, reason, raw)

    def _drive(self, name: str, p: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        for k in ("doc_id", "doc_type", "owner", "visibility"):
            if p.get(k) not in (None, ""):
                attrs[k] = p[k]
        obj = first(p.get("doc_title"), p.get("doc_id"))
        if name in DRIVE:
            action = DRIVE[name]
            return self.event(kind="print" if action == "print" else "file", action=action, object=obj,
                              label=first(p.get("label_title"), p.get("sensitivity_label")), attrs=attrs, **base)
        if name in SHARE:
            target = first(p.get("target_user"), p.get("target_domain"))
            new = p.get("new_value") or p.get("visibility")
            new_s = " ".join(new) if isinstance(new, list) else str(new or "")
            if any(x in new_s.lower() for x in PUBLIC) and not target:
                return self.event(kind="file", action="share_external", object=obj, destination="anyone with link",
                                  external=True, attrs=attrs, **base)
            vis = " ".join(str(p.get(k) or "") for k in ("visibility", "visibility_change")).lower()
            if not target:
                if "external" in vis:  # made external without a named target (a domain or link change)
                    return self.event(kind="file", action="share_external", object=obj,
                                      destination="outside the company", external=True, attrs=attrs, **base)
                return skip("sharing inside the company")
            ext, personal = self.ctx.classifier.classify(target, base["actor"])
            if p.get("target_user") is None and p.get("target_domain") and ext is None:
                ext = True
            if ext is None and "external" in vis:
                ext = True
            if not ext:
                return skip("sharing inside the company")
            rc = [target] if "@" in str(target) else []
            return self.event(kind="file", action="share_external", object=obj, recipients=rc,
                              destination=domain_of(target) or target, external=True, personal=personal, attrs=attrs,
                              **base)
        return skip("operation not monitored")

    def _gmail(self, mi: dict[str, Any], attrs: dict[str, Any], base: dict[str, Any]) -> Output:
        src = mi.get("source") if isinstance(mi.get("source"), dict) else {}
        sender = first(src.get("address"), src.get("from_header_address"))
        actor = base["actor"] or sender
        if sender and actor and str(sender).lower() != str(actor).lower():
            return skip("inbound mail")  # a message the actor received
        service = str(src.get("service") or "").lower()
        if any(x in service for x in _INBOUND_SERVICES) or (
                sender and self.ctx.classifier.company_domains
                and self.ctx.classifier.classify(str(sender))[0] is True):
            return skip("inbound mail")  # it came in over SMTP, or its sender is outside the company
        dests = mi.get("destination") or []
        rc = recipients_of([d.get("address") for d in dests if isinstance(d, dict)] if isinstance(dests, list)
                           else dests)
        if not rc:
            return skip("message without recipients")
        att = mi.get("attachment") or []
        if isinstance(att, list) and att:
            attrs["attachments"] = [a.get("file_name") for a in att if isinstance(a, dict)][:50]
        if mi.get("rfc2822_message_id"):
            attrs["message_id"] = mi["rfc2822_message_id"]
        return self.event(kind="email", action="send", object=first(mi.get("subject")), recipients=rc,
                          bytes=as_int(mi.get("payload_size")),
                          count=as_int(first(mi.get("num_message_attachments"), len(att) if isinstance(att, list)
                                             else None)),
                          **{**base, "actor": actor}, attrs=attrs)

    def _gmail_row(self, rec: dict[str, Any], raw: str) -> Output:
        mi = rec.get("message_info") if isinstance(rec.get("message_info"), dict) else {}
        ei = rec.get("event_info") if isinstance(rec.get("event_info"), dict) else {}
        src = mi.get("source") if isinstance(mi.get("source"), dict) else {}
        ts = first(ei.get("timestamp_usec"), rec.get("timestamp_usec"), rec.get("time"))
        if ei.get("success") is False:
            return skip("failed delivery")
        ident = first(mi.get("rfc2822_message_id"), mi.get("message_set"))
        base = dict(raw=raw, event_id=sha_id(self.name, "gmail", ident or raw, ts or "",
                                             ei.get("mail_event_type") or ""),
                    ts=int(ts) / 1e6 if isinstance(ts, (int, str)) and str(ts).isdigit() else ts,
                    actor=first(src.get("address")), aliases=())
        attrs = {"application": "gmail", "mail_event_type": ei.get("mail_event_type")}
        return self._gmail(mi, attrs, base)
