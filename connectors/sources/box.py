"""``box``: Box enterprise (admin) events, one per line or as ``{"entries": [...]}`` stream pages.

``DOWNLOAD`` -> download, ``PREVIEW`` -> open, ``UPLOAD`` -> upload, ``COPY`` -> copy, ``DELETE``/``TRASH``
-> delete, ``ITEM_SYNC`` -> sync_download; ``COLLABORATION_INVITE`` to an outside address and shared links
(``SHARE``, ``ITEM_SHARED_CREATE``/``ITEM_SHARED_UPDATE``) open to anyone -> share_external.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import Output, as_int, first, sha_id, skip
from connectors.classification import domain_of
from connectors.sources import JsonSource

ACTIONS = {"DOWNLOAD": "download", "PREVIEW": "open", "UPLOAD": "upload", "COPY": "copy", "DELETE": "delete",
           "TRASH": "delete", "ITEM_SYNC": "sync_download", "ITEM_DOWNLOAD": "download", "ITEM_PREVIEW": "open",
           "ITEM_UPLOAD": "upload", "ITEM_COPY": "copy"}
LINKS = {"SHARE", "ITEM_SHARED_CREATE", "ITEM_SHARED_UPDATE", "SHARED_LINK_SEND"}


class BoxSource(JsonSource):
    name = "box"

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if isinstance(rec.get("entries"), list):
            out: list[Output] = []
            for e in rec["entries"]:
                if isinstance(e, dict):
                    out.extend(self.parse(e, raw))
            return out
        et = rec.get("event_type")
        if not isinstance(et, str):
            from connectors.base import dead

            return [dead(self.name, "not a Box event (no event_type)", raw)]
        by = rec.get("created_by") if isinstance(rec.get("created_by"), dict) else {}
        src = rec.get("source") if isinstance(rec.get("source"), dict) else {}
        det = rec.get("additional_details") if isinstance(rec.get("additional_details"), dict) else {}
        actor = first(by.get("login"), by.get("id"))
        eid = f"box:{rec['event_id']}" if rec.get("event_id") else sha_id(self.name, raw)
        parent = src.get("parent") if isinstance(src.get("parent"), dict) else {}
        name = first(src.get("item_name"), src.get("name"))
        obj = f"{parent.get('name')}/{name}" if parent.get("name") and name else name
        attrs: dict[str, Any] = {"event_type": et}
        for k, k2 in (("item_id", "item_id"), ("item_type", "item_type")):
            if src.get(k):
                attrs[k2] = src[k]
        if rec.get("ip_address"):
            attrs["ip"] = rec["ip_address"]
        base = dict(raw=raw, event_id=eid, ts=rec.get("created_at"), actor=actor, aliases=(by.get("id"),),
                    kind="file", object=obj, label=first(det.get("classification"), src.get("classification")),
                    attrs=attrs)
        if et in ACTIONS:
            return [self.event(action=ACTIONS[et], bytes=as_int(first(det.get("size"), src.get("size"))), **base)]
        if et == "COLLABORATION_INVITE":
            acc = rec.get("accessible_by") if isinstance(rec.get("accessible_by"), dict) else {}
            target = first(acc.get("login"), (src.get("accessible_by") or {}).get("login")
                           if isinstance(src.get("accessible_by"), dict) else None)
            if not target:
                from connectors.base import dead

                return [dead(self.name, "COLLABORATION_INVITE without accessible_by login", raw)]
            ext, personal = self.ctx.classifier.classify(target, actor)
            if ext is False:
                return [skip("sharing inside the company")]
            return [self.event(action="share_external", recipients=[target], destination=domain_of(target),
                               **base)]
        if et in LINKS:
            access = str(first(det.get("shared_link_access"), det.get("access"),
                               (src.get("shared_link") or {}).get("access") if isinstance(src.get("shared_link"),
                                                                                          dict) else None) or "")
            if access and access.lower() != "open":
                return [skip("shared link for the company or collaborators only")]
            return [self.event(action="share_external", destination="shared link",
                               external=True if access.lower() == "open" else None, **base)]
        return [skip("event type not monitored")]
