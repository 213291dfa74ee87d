"""The connector registry: one module per source format, each with a :class:`Source` subclass.

>>> names()[:3]
['auditd', 'box', 'cert']
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from connectors.base import Context, Output
from connectors.framing import JsonStream, Stream

#: source name -> (module, class, one-line description)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "m365": ("m365", "M365Source", "Office 365 Management Activity API (SharePoint/OneDrive, Exchange, MIP)"),
    "gworkspace": ("gworkspace", "GWorkspaceSource", "Google Workspace Reports API (Drive) and Gmail logs"),
    "box": ("box", "BoxSource", "Box admin event log (enterprise events)"),
    "dropbox": ("dropbox", "DropboxSource", "Dropbox Business team events (team_log/get_events)"),
    "salesforce": ("salesforce", "SalesforceSource", "Salesforce Event Log File CSV and real-time event JSON"),
    "exchange": ("exchange", "ExchangeSource", "Exchange on-premises message tracking logs (#Fields: CSV)"),
    "postfix": ("postfix", "PostfixSource", "Postfix mail log (syslog), grouped by queue id; --year"),
    "mde": ("mde", "MdeSource", "Microsoft Defender for Endpoint streaming / advanced hunting records"),
    "windows": ("windows", "WindowsSource", "Windows Security 4663/5145/6416 and PrintService 307 (JSON)"),
    "auditd": ("auditd", "AuditdSource", "Linux audit.log, grouped by audit(epoch:serial)"),
    "cert": ("cert", "CertSource", "CMU CERT insider threat r4.2/r6.2 CSV files and monthly LDAP files"),
    "hr": ("hr", "HRSource", "HR records and HR signals, CSV or JSON lines"),
    "synthetic": ("synthetic", "SyntheticSource", "contract-form Activity events (JSON lines), validated"),
}


def names() -> list[str]:
    """Every source name, sorted."""
    return sorted(REGISTRY)


def describe() -> list[tuple[str, str]]:
    return [(n, REGISTRY[n][2]) for n in names()]


def get(name: str, ctx: Context) -> "Source":
    """A new source object of format ``name`` for one run."""
    if name not in REGISTRY:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(names())}")
    mod, cls, _ = REGISTRY[name]
    module = importlib.import_module(f"connectors.sources.{mod}")
    return getattr(module, cls)(ctx)


class Source:
    """One input format. A run makes one source object; every input file gets its own stream."""

    name = ""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def order_paths(self, paths: list[str]) -> list[str]:
        """The order the files of a run are read in (default: as given)."""
        return paths

    def open_stream(self, path: str) -> Stream:
        raise NotImplementedError

    # shortcuts
    def event(self, raw: str, **kw: Any) -> Output:
        return self.ctx.event(source=self.name, raw=raw, **kw)


class JsonSource(Source):
    """A source of JSON records: override :meth:`parse`."""

    def open_stream(self, path: str) -> Stream:
        return JsonStream(self)

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        raise NotImplementedError
