"""``salesforce``: Event Log File rows (CSV as downloaded, or JSON with the same upper-case fields) and
real-time event monitoring JSON (the streaming ``{"channel", "data": {"payload"}}`` form or bare payloads).

* ELF ``ReportExport`` -> crm report_export; ``Report`` -> view (``ROWS_PROCESSED``; an export origin ->
  report_export); ``API``/``RestApi`` queries -> api_query (``ROWS_PROCESSED``, ``ENTITY_NAME``);
  ``BulkApi``/``BulkApi2`` -> bulk_query; ``Login`` / ``Logout`` -> logon / logoff.
* ``ReportEvent`` ``ReportExported`` -> report_export, other report runs -> view (``RowsProcessed``);
  ``ApiEvent`` queries -> api_query; ``BulkApiResultEvent`` -> bulk_query; ``ListViewEvent`` /
  ``UriEvent`` / ``LightningUriEvent`` -> view; ``LoginEvent`` / ``LogoutEvent`` -> logon / logoff.

Event-store objects (``BulkApiResultEventStore``, ``ReportEventStore``, ``ApiEventStore``...) are read in
every form they are exported in: a SOQL result (``records`` with ``attributes.type``), a log-file row whose
``EVENT_TYPE`` names the object (upper-case fields), or a Data Loader CSV/JSON of the object's own fields
without a type, whose file is named after the object (``BulkApiResultEventStore.csv``). A record of an event
type the product does not monitor is counted as skipped; one whose type cannot be told is dead-lettered.

The actor is the 18-character user id (``USER_ID_DERIVED`` / ``UserId``); the 15-character id and the
username are tried as aliases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import os
import re

from connectors.base import Output, as_int, first, sha_id, skip
from connectors.framing import AutoStream, Stream
from connectors.sources import Source

QUERY_METHODS = ("query", "queryall", "querymore", "search")
#: Real-time event monitoring types (and their ``...Store`` objects) this connector reads.
RTEM_TYPES = ("ReportEvent", "ApiEvent", "BulkApiResultEvent", "ListViewEvent", "UriEvent", "LightningUriEvent",
              "LoginEvent", "LogoutEvent")
_TYPE_IN_NAME = re.compile("(" + "|".join(sorted(RTEM_TYPES, key=len, reverse=True)) + ")(?:Store|Stream)?",
                           re.I)


def _camel(key: str) -> str:
    """``ROWS_PROCESSED`` -> ``RowsProcessed`` (log-file field names to the event objects' own)."""
    return "".join(part[:1].upper() + part[1:].lower() for part in key.split("_"))


class SalesforceSource(Source):
    name = "salesforce"

    def open_stream(self, path: str) -> Stream:
        m = _TYPE_IN_NAME.search(os.path.basename(path))
        return AutoStream(_Typed(self, m.group(1) if m else None))

    def parse_row(self, row: dict[str, str], raw: str, default_type: str | None = None) -> Iterable[Output]:
        if any(k.strip().upper() == "EVENT_TYPE" for k in row):
            return self.parse({k.strip().upper(): v for k, v in row.items()}, raw)
        return self.parse({k.strip(): v for k, v in row.items()}, raw, default_type)

    def parse(self, rec: dict[str, Any], raw: str, default_type: str | None = None) -> Iterable[Output]:
        if "EVENT_TYPE" in rec:
            et = str(rec.get("EVENT_TYPE") or "")
            m = _TYPE_IN_NAME.fullmatch(et)
            if m:  # an event-store object in log-file form: its fields are the object's, upper-cased
                return [self._rtem(m.group(1), {_camel(k): v for k, v in rec.items()}, raw)]
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
        if not etype and default_type and "EventDate" in payload:
            etype = default_type  # a Data Loader export of one event object, named after it
        if not etype:
            if "display" in payload and "section" in payload:  # Setup Audit Trail: configuration, no data
                return [skip("setup audit trail (configuration)")]
            return [self._dead("Salesforce record without EVENT_TYPE, attributes.type or channel (name an export "
                               "of an event object after it, e.g. BulkApiResultEventStore.csv)", raw)]
        m = _TYPE_IN_NAME.fullmatch(etype)
        return [self._rtem(m.group(1) if m else etype, payload, raw)]

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
                return skip("API call that reads no records")
            return self.event(action="api_query", object=first(r.get("ENTITY_NAME"), r.get("URI")), count=count,
                              bytes=size, attrs=attrs, **base)
        if et in ("BulkApi", "BulkApi2", "BulkApiRequest"):
            op = str(r.get("OPERATION_TYPE") or "query").lower()
            if "query" not in op:
                return skip("bulk job that writes records")
            return self.event(action="bulk_query", object=first(r.get("ENTITY_TYPE"), r.get("ENTITY_NAME")),
                              count=count if count is not None else as_int(r.get("NUMBER_RECORDS")), attrs=attrs,
                              **base)
        if et in ("Login", "Logout"):
            if et == "Login" and str(r.get("LOGIN_STATUS") or "LOGIN_NO_ERROR") != "LOGIN_NO_ERROR":
                return skip("failed logon")
            base["kind"] = "logon"
            return self.event(action="logon" if et == "Login" else "logoff", attrs=attrs, **base)
        return skip("event type not monitored")

    def _rtem(self, et: str, p: dict[str, Any], raw: str) -> Output:
        et = et.replace("Store", "")
        if "ROWS_PROCESSED" in p and "RowsProcessed" not in p:
            p = {**p, "RowsProcessed": p["ROWS_PROCESSED"]}
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
        count = as_int(first(p.get("RowsProcessed"), p.get("RecordCount"), p.get("NumberOfRecords")))
        op = str(p.get("Operation") or "")
        if et == "ReportEvent":
            action = "report_export" if op == "ReportExported" else "view"
            return self.event(action=action, object=first(p.get("Name"), p.get("ReportId")), count=count,
                              attrs=attrs, **base)
        if et == "ApiEvent":
            if op.lower() not in QUERY_METHODS and not p.get("Query"):
                return skip("API call that reads no records")
            attrs["query"] = str(p.get("Query") or "")[:2000]
            return self.event(action="api_query", object=first(p.get("QueriedEntities")), count=count, attrs=attrs,
                              **base)
        if et in ("BulkApiResultEvent",):
            attrs["query"] = str(p.get("Query") or "")[:2000]
            return self.event(action="bulk_query", object=first(p.get("QueriedEntities"), _entity(p.get("Query"))),
                              count=count, attrs=attrs, **base)
        if et in ("ListViewEvent", "UriEvent", "LightningUriEvent"):
            if et != "ListViewEvent" and op and op != "Read":
                return skip("page change, not a read")
            obj = first(p.get("Name"), p.get("PageUrl"), p.get("QueriedEntities"), p.get("RecordId"))
            return self.event(action="view", object=obj, count=count, attrs=attrs, **base)
        if et in ("LoginEvent", "LogoutEvent"):
            if et == "LoginEvent" and str(p.get("Status") or "Success") != "Success":
                return skip("failed logon")
            base["kind"] = "logon"
            return self.event(action="logon" if et == "LoginEvent" else "logoff", attrs=attrs, **base)
        return skip("event type not monitored")


def _entity(query: Any) -> str | None:
    q = str(query or "")
    low = q.lower()
    i = low.find(" from ")
    if i < 0:
        return None
    rest = q[i + 6:].strip().split()
    return rest[0] if rest else None


class _Typed:
    """The source as one file's stream sees it: rows without a type take the one the file name gives."""

    def __init__(self, source: SalesforceSource, default_type: str | None) -> None:
        self.source = source
        self.name = source.name
        self.default_type = default_type

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        return self.source.parse(rec, raw, self.default_type)

    def parse_row(self, row: dict[str, str], raw: str) -> Iterable[Output]:
        return self.source.parse_row(row, raw, self.default_type)
