"""``hr``: HR records (to ``hr.status``) and HR signals (to ``hr.signals``) from JSON lines or CSV.

A record with a ``signal`` field is a signal, otherwise an HR record. In CSV, ``accounts`` holds the
aliases separated by ``;`` or ``|``; empty cells are absent values; ``watchlist`` accepts true/false/1/0/yes/no.
Column names are compared case-insensitively; ``id``/``employee`` stand for ``employee_id``, ``date`` or
``effective_date`` for ``ts`` (a date alone is taken as midnight UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from schemas.models import HRRecord, HRSignal

from connectors.base import Output, ParseError, _short_validation, dead, parse_ts
from connectors.framing import AutoStream, Stream
from connectors.sources import Source

_ALIASES = {
    "id": "employee_id",
    "employee": "employee_id",
    "employeeid": "employee_id",
    "emp_id": "employee_id",
    "date": "ts",
    "effective_date": "ts",
    "timestamp": "ts",
    "time": "ts",
    "manager": "manager_id",
    "aliases": "accounts",
}
_BOOL = {"true": True, "1": True, "yes": True, "y": True, "false": False, "0": False, "no": False, "n": False, "": False}


def _norm_key(k: str) -> str:
    k = k.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(k, k)


class HRSource(Source):
    name = "hr"

    def open_stream(self, path: str) -> Stream:
        return AutoStream(self)

    def _build(self, d: dict[str, Any], raw: str, from_csv: bool) -> Output:
        d = {_norm_key(str(k)): v for k, v in d.items()}
        if from_csv:
            d = {k: (None if isinstance(v, str) and v.strip() == "" else v) for k, v in d.items()}
            acc = d.get("accounts")
            if isinstance(acc, str):
                d["accounts"] = [a.strip() for a in re.split(r"[;|]", acc) if a.strip()]
            if "watchlist" in d:
                w = d["watchlist"]
                if w is None:
                    d.pop("watchlist")
                elif isinstance(w, str):
                    if w.strip().lower() not in _BOOL:
                        raise ParseError(f"watchlist: not a boolean: {w!r}")
                    d["watchlist"] = _BOOL[w.strip().lower()]
            if d.get("signal") is not None and isinstance(d.get("value"), str):
                v = d["value"]
                try:
                    d["value"] = float(v) if any(c in v for c in ".eE") else int(v)
                except ValueError:
                    pass
        if d.get("ts") is not None and not isinstance(d["ts"], (int, float)):
            d["ts"] = parse_ts(d["ts"])
        elif d.get("ts") is not None:
            d["ts"] = parse_ts(d["ts"])
        try:
            if d.get("signal") is not None:
                return HRSignal.model_validate(d), None
            if isinstance(d.get("accounts"), str):
                d["accounts"] = [a.strip() for a in re.split(r"[;|,]", d["accounts"]) if a.strip()]
            return HRRecord.model_validate(d), None
        except ValidationError as e:
            kind = "HR signal" if d.get("signal") is not None else "HR record"
            return dead(self.name, f"invalid {kind}: " + _short_validation(e), raw)

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        return [self._build(rec, raw, from_csv=False)]

    def parse_row(self, row: dict[str, str], raw: str) -> Iterable[Output]:
        return [self._build(dict(row), raw, from_csv=True)]
