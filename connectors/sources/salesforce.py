"""``salesforce``: Event Log File rows (CSV as downloaded, or JSON with the same upper-case fields) and
real-time event monitoring JSON (the streaming ``{"channel", "data": {"payload"}}`` form or bare payloads).

* ELF ``ReportExport`` -> crm report_export; ``Report`` -> view (``ROWS_PROCESSED``; an export origin ->
  report_export); ``API``/``RestApi`` queries -> api_query (``ROWS_PROCESSED``, ``ENTITY_NAME``);
  ``BulkApi``/``BulkApi2`` -> bulk_query; ``Login`` / ``Logout`` -> logon / logoff.
* ``ReportEvent`` ``ReportExported`` -> report_export, other report runs -> view (``RowsProcessed``);
  ``ApiEvent`` queries -> api_query; ``BulkApiResultEvent`` -> bulk_query; ``ListViewEvent`` /
  ``UriEvent`` / ``LightningUriEvent`` -> view; ``LoginEvent`` / ``LogoutEvent`` -> logon / logoff.

The actor is the 18-character user id (``USER_ID_DERIVED`` / ``UserId``); the 15-character id and the
username are tried as aliases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import SKIP, Output, as_int, first, sha_id
from connectors.framing import AutoStream, Stream
from connectors.sources import Source

QUERY_METHODS = ("query", "queryall", "querymore", "search")


class SalesforceSource(Source):
    name = "salesforce"

    def open_stream(self, path: str) -> Stream:
        return AutoStream(self)

    def parse_row(self, row: dict[str, str], raw: str) -> Iterable[Output]:
        return self.parse({k.strip().upper(): v for k, v in row.items()}, raw)

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        if "EVENT_TYPE" in rec:
            return [self._elf(rec, raw)]
        payload = rec
        channel = ""
        if isinstance(rec.get("data"), dict) and isinstance(rec["data"].get("payload"), dict):
            payload = rec["data"]["payload"]
            channel = str(rec.get("channel") or "")
        if isinstance(payload.get("records"), list):  # a SOQL query result of event records
            out: list[Output] = []
            for r in payload["records"]:
                if isinstance(r, dict):
                    out.extend(self.parse(r, raw))
            return out
        etype = str((payload.get("attributes") or {}).get("type") or "") if isinstance(
            payload.get("attributes"), dict) else ""
        if not etype and channel:
            etype = channel.rsplit("/", 1)[-1].replace("Stream", "")
        if not etype:
            if "display" in payload and "section" in payload:  # Setup Audit Trail: configuration, no data
                return [SKIP]
            return [SKIP] if "EventDate" in payload else [self._dead("no EVENT_TYPE, attributes.type or channel",
                                                                     raw)]
        return [self._rtem(etype, payload, raw)]

    def _dead(self, reason: str, raw: str) -> Output:
        from connectors.base import dead

        return dead(self.name, reason, raw)

    def _elf(self, r: dict[str, Any], raw: str) -> Output:
        et = str(r.get("EVENT_TYPE") or "")
        actor = first(r.get("USER_ID_DERIVED"), r.get("USER_ID"))
        ts = first(r.get("TIMESTAMP_DERIVED"), r.get("TIMESTAMP"))
        eid = sha_id(self.name, et, r.get("REQUEST_ID") or "", ts or "", actor or "", raw if not r.get("REQUEST_ID")
                     else "")
        base = dict(raw=raw, event_id=eid, ts=ts, actor=actor, aliases=(r.get("USER_ID"), r.get("USER_NAME")),
                    kind="crm")
        attrs: dict[str, Any] = {"event_type": et}
        for k in ("CLIENT_IP", "URI", "REPORT_ID", "ENTITY_NAME", "METHOD_NAME", "ORIGIN", "CLIENT_NAME",
                  "REPORT_DESCRIPTION", "ENTITY_TYPE", "OPERATION_TYPE"):
            if r.get(k):
                attrs[k.lower()] = r[k]
        count = as_int(r.get("ROWS_PROCESSED"))
        size = as_int(first(r.get("RESPONSE_SIZE")))
        if et == "ReportExport":
            obj = first(r.get("REPORT_DESCRIPTION"), r.get("URI_ID_DERIVED"), r.get("REPORT_ID"), r.get("URI"))
            return self.event(action="report_export", object=obj, count=count, attrs=attrs, **base)
        if et == "Report":
            action = "report_export" if "export" in str(r.get("ORIGIN") or "").lower() else "view"
            obj = first(r.get("REPORT_ID_DERIVED"), r.get("REPORT_ID"), r.get("ENTITY_NAME"))
            return self.event(action=action, object=obj, count=count, attrs=attrs, **base)
        if et in ("API", "RestApi", "ApexSoap", "ApexRestApi"):
            method = str(r.get("METHOD_NAME") or "").lower().replace("_", "")
            uri = str(r.get("URI") or "").lower()
            if not (method in QUERY_METHODS or "/query" in uri or "/search" in uri):
                return SKIP
            return self.event(action="api_query", object=first(r.get("ENTITY_NAME"), r.get("URI")), count=count,
                              bytes=size, attrs=attrs, **base)
        if et in ("BulkApi", "BulkApi2", "BulkApiRequest"):
            op = str(r.get("OPERATION_TYPE") or "query").lower()
            if "query" not in op:
                return SKIP
            return self.event(action="bulk_query", object=first(r.get("ENTITY_TYPE"), r.get("ENTITY_NAME")),
                              count=count if count is not None else as_int(r.get("NUMBER_RECORDS")), attrs=attrs,
                              **base)
        if et in ("Login", "Logout"):
            if et == "Login" and str(r.get("LOGIN_STATUS") or "LOGIN_NO_ERROR") != "LOGIN_NO_ERROR":
                return SKIP
            base["kind"] = "logon"
            return self.event(action="logon" if et == "Login" else "logoff", attrs=attrs, **base)
        return SKIP

    def _rtem(self, et: str, p: dict[str, Any], raw: str) -> Output:
        et = et.replace("Store", "")
        actor = first(p.get("UserId"), p.get("Username"))
        ts = first(p.get("EventDate"), p.get("CreatedDate"))
        ident = first(p.get("EventIdentifier"), p.get("Id"))
        eid = sha_id(self.name, et, ident or raw, ts or "")
        base = dict(raw=raw, event_id=eid, ts=ts, actor=actor, aliases=(p.get("Username"),), kind="crm")
        attrs: dict[str, Any] = {"event_type": et}
        for k in ("Operation", "SourceIp", "QueriedEntities", "ReportId", "ExportFileFormat", "Format", "EventSource",
                  "ListViewId", "RecordId"):
            if p.get(k) not in (None, ""):
                attrs[k[0].lower() + "".join("_" + c.lower() if c.isupper() else c for c in k[1:])] = p[k]
        count = as_int(p.get("RowsProcessed"))
        op = str(p.get("Operation") or "")
        if et == "ReportEvent":
            action = "report_export" if op == "ReportExported" else "view"
            return self.event(action=action, object=first(p.get("Name"), p.get("ReportId")), count=count,
                              attrs=attrs, **base)
        if et == "ApiEvent":
            if op.lower() not in QUERY_METHODS and not p.get("Query"):
                return SKIP
            attrs["query"] = str(p.get("Query") or "")[:2000]
            return self.event(action="api_query", object=first(p.get("QueriedEntities")), count=count, attrs=attrs,
                              **base)
        if et in ("BulkApiResultEvent",):
            attrs["query"] = str(p.get("Query") or "")[:2000]
            return self.event(action="bulk_query", object=first(p.get("QueriedEntities"), _entity(p.get("Query"))),
                              count=count, attrs=attrs, **base)
        if et in ("ListViewEvent", "UriEvent", "LightningUriEvent"):
            if et != "ListViewEvent" and op and op != "Read":
                return SKIP
            obj = first(p.get("Name"), p.get("PageUrl"), p.get("QueriedEntities"), p.get("RecordId"))
            return self.event(action="view", object=obj, count=count, attrs=attrs, **base)
        if et in ("LoginEvent", "LogoutEvent"):
            if et == "LoginEvent" and str(p.get("Status") or "Success") != "Success":
                return SKIP
            base["kind"] = "logon"
            return self.event(action="logon" if et == "LoginEvent" else "logoff", attrs=attrs, **base)
        return SKIP


def _entity(query: Any) -> str | None:
    q = str(query or "")
    low = q.lower()
    i = low.find(" from ")
    if i < 0:
        return None
    rest = q[i + 6:].strip().split()
    return rest[0] if rest else None
