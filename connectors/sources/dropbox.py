"""``dropbox``: Dropbox Business team events (``team_log/get_events``), one per line or as
``{"events": [...]}`` pages.

``file_download``/``shared_content_download`` -> download, ``file_preview`` -> open, ``file_add``/
``file_upload`` -> upload, ``file_copy`` -> copy, ``file_delete``/``file_permanently_delete`` -> delete;
``shared_link_create``/``shared_link_share``/``shared_content_add_member``/``shared_content_add_invitees``/
``sf_add_group``... involving a non-team member (``involve_non_team_member``) or public links ->
share_external.

The event type is read from ``event_type[".tag"]``, from flattened keys (``event_type.tag``), or, when the
export dropped the tag, from ``details[".tag"]`` (``file_download_details`` -> ``file_download``). An event
whose type cannot be told is dead-lettered; types the product does not monitor are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import Output, first, recipients_of, sha_id, skip
from connectors.classification import domain_of
from connectors.sources import JsonSource

ACTIONS = {"file_download": "download", "shared_content_download": "download", "file_preview": "open",
           "shared_content_view": "open", "file_add": "upload", "file_upload": "upload", "file_copy": "copy",
           "shared_content_copy": "copy", "file_delete": "delete", "file_permanently_delete": "delete"}
SHARES = {"shared_link_create", "shared_link_share", "shared_link_change_visibility", "shared_content_add_member",
          "shared_content_add_invitees", "shared_folder_create", "sf_invite_group", "sf_add_group",
          "shared_content_add_link_password", "file_request_create", "shared_link_settings_change_audience"}


def _tag(v: Any) -> str:
    if isinstance(v, dict):
        t = v.get(".tag", v.get("tag"))
        return str(t) if t not in (None, "") else ""
    return str(v or "")


def _event_type(rec: dict[str, Any]) -> str:
    et = _tag(rec.get("event_type"))
    if not et:
        et = str(first(rec.get("event_type.tag"), rec.get("event_type..tag"), rec.get("event_type_tag")) or "")
    if not et:
        dt_ = _tag(rec.get("details"))
        if dt_.endswith("_details"):
            et = dt_[: -len("_details")]
    return et


class DropboxSource(JsonSource):
    name = "dropbox"

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if isinstance(rec.get("events"), list):
            out: list[Output] = []
            for e in rec["events"]:
                if isinstance(e, dict):
                    out.extend(self.parse(e, raw))
            return out
        et = _event_type(rec)
        if not et or "timestamp" not in rec:
            from connectors.base import dead

            return [dead(self.name, "not a Dropbox team event (event_type .tag or details .tag, timestamp)", raw)]
        actor_d = rec.get("actor") if isinstance(rec.get("actor"), dict) else {}
        user = actor_d.get("user") or actor_d.get("admin") or {}
        if not isinstance(user, dict):
            user = {}
        actor = first(user.get("email"), user.get("team_member_id"), user.get("account_id"))
        assets = rec.get("assets") if isinstance(rec.get("assets"), list) else []
        paths = []
        for a in assets:
            if isinstance(a, dict):
                p = a.get("path") if isinstance(a.get("path"), dict) else {}
                paths.append(first(p.get("contextual"), a.get("display_name")))
        obj = next((p for p in paths if p), None)
        attrs: dict[str, Any] = {"event_type": et}
        if len(paths) > 1:
            attrs["assets"] = [p for p in paths if p][:20]
        origin = rec.get("origin") if isinstance(rec.get("origin"), dict) else {}
        geo = origin.get("geo_location") if isinstance(origin.get("geo_location"), dict) else {}
        if geo.get("ip_address"):
            attrs["ip"] = geo["ip_address"]
        base = dict(raw=raw, event_id=sha_id(self.name, raw), ts=rec.get("timestamp"), actor=actor,
                    aliases=(user.get("team_member_id"), user.get("account_id")), kind="file", object=obj,
                    attrs=attrs)
        if et in ACTIONS:
            return [self.event(action=ACTIONS[et], count=len(paths) or None, **base)]
        if et in SHARES:
            details = rec.get("details") if isinstance(rec.get("details"), dict) else {}
            emails = recipients_of([c.get("email") for c in rec.get("participants") or []
                                    if isinstance(c, dict)] + [
                (c.get("user") or {}).get("email") for c in rec.get("participants") or []
                if isinstance(c, dict) and isinstance(c.get("user"), dict)])
            vis = " ".join(_tag(details.get(k)) for k in ("new_value", "shared_content_link_visibility",
                                                          "visibility", "new_audience"))
            public = "public" in vis.lower()
            outside = rec.get("involve_non_team_member") is True
            ext_rc = [e for e in emails if self.ctx.classifier.classify(e, actor)[0] is not False]
            if not (public or outside or ext_rc):
                return [skip("sharing inside the company")]
            return [self.event(action="share_external", recipients=ext_rc,
                               destination=domain_of(ext_rc[0]) if ext_rc else ("public link" if public else None),
                               external=True, **base)]
        return [skip("event type not monitored")]
