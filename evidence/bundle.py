"""Case bundles: ``exitwatch evidence export`` writes one employee's evidence, ``verify`` checks it.

A bundle is a folder:

- ``ledger.jsonl``: the employee's ledger entries, verbatim, in chain order (each hashed and signed by the
  worker's key; the source of truth of everything else);
- ``alerts.jsonl``: the alerts numbered 1.. in order, with their numbers (observed, threshold, baseline, window);
- ``evidence.jsonl``: every Activity event an alert cites, with the alert numbers citing it;
- ``hr.jsonl``: the HR records and the handover / returned-asset signals the entries carry;
- ``timeline.jsonl``: all of the above in time order;
- ``report.html``: the same for a person to read;
- ``manifest.json``: employee, number of entries, chain head, the SHA-256, size and lines of every file, the
  signing key's public half and fingerprint; ``manifest.sig``: Ed25519 signature of ``manifest.json``'s bytes.

``verify`` trusts nothing in the folder but the public key pinned in settings: the manifest must be signed by
it; the ledger entries must each be signed by it and chain from n=1 to the manifest's head; every other file is
rendered again from the verified entries and must be byte-identical; every file's SHA-256 must match the
manifest; no file may be missing or added. It names the first broken link. Editing, deleting, inserting or
reordering anything therefore needs the private key, and a bundle re-signed with another key names that key.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import orjson

from evidence.keys import PublicKey, SigningKey
from evidence.ledger import canonical, check_chain
from schemas.models import utcnow

FORMAT = "exitwatch-case-bundle"
VERSION = 1
DERIVED = ("alerts.jsonl", "evidence.jsonl", "hr.jsonl", "timeline.jsonl", "report.html")
LEDGER = "ledger.jsonl"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def _jsonl(rows: list[Any]) -> bytes:
    return b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in rows)


def _views(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    alerts: list[dict[str, Any]] = []
    events: dict[str, dict[str, Any]] = {}
    cited: dict[str, list[int]] = {}
    hr: dict[bytes, dict[str, Any]] = {}
    for i, e in enumerate(entries, 1):
        a = e.get("alert") or {}
        alerts.append({
            "number": i, "ledger_n": e.get("n"), "entry_hash": e.get("hash"), "alert_id": a.get("alert_id"),
            "ts": a.get("ts"), "rule_id": a.get("rule_id"), "rule_version": a.get("rule_version"),
            "severity": a.get("severity"), "score": a.get("score"), "title": a.get("title"),
            "explanation": a.get("explanation"), "evidence": a.get("evidence"),
            "missing_evidence": e.get("missing_evidence") or [], "employee": a.get("employee"),
        })
        for ev in e.get("evidence") or []:
            eid = ev.get("event_id") or ev.get("ref")  # an Activity event, or an HR signal a model cites
            events.setdefault(eid, ev)
            cited.setdefault(eid, [])
            if i not in cited[eid]:
                cited[eid].append(i)
        for r in e.get("hr_records") or []:
            hr.setdefault(canonical({"record": "hr", **r}), {"record": "hr", **r})
        for s in e.get("signals") or []:
            hr.setdefault(canonical({"record": "signal", **s}), {"record": "signal", **s})
    evidence = sorted(({**ev, "cited_by": cited[eid]} for eid, ev in events.items()),
                      key=lambda x: (str(x.get("ts")), str(x.get("event_id") or x.get("ref"))))
    hr_rows = sorted(hr.values(), key=lambda x: (str(x.get("ts")), canonical(x)))
    timeline = sorted(
        [{"at": ev.get("ts"), "what": "event", "event_id": ev.get("event_id") or ev.get("ref"),
          "kind": ev.get("kind") or "hr_signal", "action": ev.get("action") or ev.get("signal"),
          "actor": ev.get("actor"), "object": ev.get("object") if "object" in ev else ev.get("value"),
          "cited_by": ev["cited_by"]} for ev in evidence]
        + [{"at": r.get("ts"), "what": r["record"], **{k: v for k, v in r.items() if k not in ("record", "ts")}}
           for r in hr_rows]
        + [{"at": a["ts"], "what": "alert", "number": a["number"], "rule_id": a["rule_id"],
            "severity": a["severity"], "score": a["score"], "title": a["title"]} for a in alerts],
        key=lambda x: (str(x.get("at")), {"hr": 0, "signal": 1, "event": 2, "alert": 3}[x["what"]], canonical(x)))
    return {"alerts": alerts, "evidence": evidence, "hr": hr_rows, "timeline": timeline}


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        v = orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "\n".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>\n"


def _report(employee_id: str, entries: list[dict[str, Any]], views: dict[str, list[dict[str, Any]]],
            key_id: str) -> bytes:
    head = entries[-1]["hash"] if entries else ""
    e = html.escape
    parts = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>exitwatch case file {e(employee_id)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #999;padding:3px 6px;font-size:13px;vertical-align:top}th{background:#eee}</style>",
        "</head><body>",
        f"<h1>Case file: employee {e(employee_id)}</h1>",
        f"<p>{len(entries)} signed ledger entries; chain head <code>{e(head)}</code>; signed with Ed25519 key "
        f"<code>{e(key_id)}</code>. Check this folder with <code>exitwatch evidence verify DIR</code> "
        "(with the organisation's public key pinned in EXITWATCH_EVIDENCE_PUBLIC_KEY) before relying on it: "
        "this page is a rendering of <code>ledger.jsonl</code>, which is the record.</p>",
        "<h2>Alerts</h2>",
        _table(views["alerts"], ["number", "ts", "rule_id", "rule_version", "severity", "score", "title",
                                 "explanation", "evidence", "missing_evidence"]),
        "<h2>Timeline</h2>",
        _table(views["timeline"], ["at", "what", "number", "event_id", "kind", "action", "actor", "object",
                                   "status", "signal", "value", "title", "cited_by"]),
        "<h2>Evidence records</h2>",
        _table(views["evidence"], ["event_id", "ref", "ts", "signal", "value", "kind", "action", "actor", "source", "host", "object",
                                   "bytes", "count", "sensitivity", "destination", "external", "personal",
                                   "recipients", "cited_by"]),
        "<h2>HR records and handover</h2>",
        _table(views["hr"], ["record", "ts", "status", "department", "role", "manager_id", "resignation_date",
                             "last_day", "watchlist", "accounts", "signal", "value"]),
        "<h2>Integrity</h2>",
        _table([{"n": x.get("n"), "hash": x.get("hash"), "prev": x.get("prev"), "sig": x.get("sig")} for x in entries],
               ["n", "hash", "prev", "sig"]),
        "</body></html>\n",
    ]
    return "\n".join(parts).encode()


def render(employee_id: str, entries: list[dict[str, Any]], key_id: str) -> dict[str, bytes]:
    """Every file of the bundle but the manifest, from the entries (deterministic: verify renders again)."""
    entries = [orjson.loads(canonical(e)) for e in entries]  # the same key order however they were read
    views = _views(entries)
    return {
        LEDGER: _jsonl(entries),
        "alerts.jsonl": _jsonl(views["alerts"]),
        "evidence.jsonl": _jsonl(views["evidence"]),
        "hr.jsonl": _jsonl(views["hr"]),
        "timeline.jsonl": _jsonl(views["timeline"]),
        "report.html": _report(employee_id, entries, views, key_id),
    }


def export(entries: list[dict[str, Any]], employee_id: str, out: str | Path, key: SigningKey,
           source: str = "") -> dict[str, Any]:
    """Write the bundle of ``employee_id``'s ``entries`` (chain order) to ``out``; returns the manifest."""
    if not entries:
        raise ValueError(f"the ledger has no entries for employee {employee_id!r}: nothing to export")
    bad = check_chain(entries, key.public)
    if bad:
        raise ValueError(f"the ledger of {employee_id} is not intact, refusing to export it: {bad}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stale = [p.name for p in out.iterdir()]
    if stale:
        raise ValueError(f"{out} is not empty ({', '.join(sorted(stale)[:5])}); export into a new folder")
    files = render(employee_id, entries, key.public.fingerprint)
    manifest = {
        "format": FORMAT, "version": VERSION, "employee_id": employee_id, "entries": len(entries),
        "chain_head": entries[-1]["hash"], "first_ts": entries[0].get("ts"), "last_ts": entries[-1].get("ts"),
        "key_id": key.public.fingerprint, "public_key": key.public.hex, "signature": "Ed25519",
        "created": utcnow().isoformat().replace("+00:00", "Z"), "source": source,
        "files": {name: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b), "lines": b.count(b"\n")}
                  for name, b in sorted(files.items())},
    }
    mbytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    for name, b in files.items():
        (out / name).write_bytes(b)
    (out / MANIFEST).write_bytes(mbytes)
    (out / SIGNATURE).write_bytes(key.sign(mbytes).hex().encode() + b"\n")
    return manifest


def _first_diff(got: bytes, want: bytes) -> str:
    g, w = got.split(b"\n"), want.split(b"\n")
    for i, (a, b) in enumerate(zip(g, w), 1):
        if a != b:
            return f"line {i} differs from what the signed ledger says (edited, or a line deleted, inserted or moved)"
    if len(g) != len(w):
        n = min(len(g), len(w))
        return f"line {n}: {'lines added' if len(g) > len(w) else 'lines missing'} after it"
    return "bytes differ"


def verify(folder: str | Path, key: PublicKey) -> tuple[str | None, dict[str, Any]]:
    """``(None, summary)`` for an intact bundle signed by ``key``; ``(first broken link, summary)`` otherwise."""
    d = Path(folder)
    info: dict[str, Any] = {"folder": str(d), "pinned_key": key.fingerprint}
    if not d.is_dir():
        return f"{d}: not a folder", info
    mpath, spath = d / MANIFEST, d / SIGNATURE
    if not mpath.exists():
        return f"{MANIFEST}: missing", info
    if not spath.exists():
        return f"{SIGNATURE}: missing", info
    mbytes = mpath.read_bytes()
    sraw = spath.read_bytes()
    try:
        sig = bytes.fromhex(sraw.decode("ascii").strip())
    except (ValueError, UnicodeDecodeError):
        return f"{SIGNATURE}: not a hex signature (edited)", info
    if sraw != sig.hex().encode() + b"\n":  # exactly as export writes it: lowercase hex, one newline
        return f"{SIGNATURE}: not in the form export writes (edited: case, spacing or line ends changed)", info
    if not key.verify(sig, mbytes):
        try:
            other = orjson.loads(mbytes).get("key_id")
        except (orjson.JSONDecodeError, AttributeError):
            other = None
        if other and other != key.fingerprint:
            return (f"{MANIFEST}: claims key {other!r}, not the pinned key {key.fingerprint!r}; the signature does "
                    "not verify with the pinned key (re-signed by someone else, or edited)"), info
        return f"{MANIFEST}: signature in {SIGNATURE} does not verify (the manifest or its signature was edited)", info
    m = orjson.loads(mbytes)
    emp = m.get("employee_id")
    info.update(employee_id=emp, entries=m.get("entries"), key_id=m.get("key_id"))
    files = m.get("files") or {}
    # the ledger first: it is what everything else is rendered from
    raw = (d / LEDGER).read_bytes() if (d / LEDGER).exists() else None
    if raw is None:
        return f"{LEDGER}: missing", info
    entries: list[Any] = []
    for i, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            entries.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            return f"{LEDGER} line {i}: not valid JSON (edited)", info
    bad = check_chain(entries, key, where=f"{LEDGER} line")
    if bad:
        return bad, info
    if any(e.get("employee_id") != emp for e in entries):
        return f"{LEDGER}: holds entries of another employee than the manifest's {emp!r}", info
    if len(entries) != m.get("entries") or (entries and entries[-1]["hash"] != m.get("chain_head")):
        return (f"{LEDGER}: {len(entries)} entries ending at {entries[-1]['hash'] if entries else None}, the manifest "
                f"says {m.get('entries')} ending at {m.get('chain_head')} (entries deleted or added at the end)"), info
    want = render(emp, entries, key.fingerprint)
    if sorted(files) != sorted(want):
        return f"{MANIFEST}: lists {sorted(files)}, a bundle has {sorted(want)}", info
    present = sorted(p.name for p in d.iterdir())
    for name in present:
        if name not in want and name not in (MANIFEST, SIGNATURE):
            return f"{name}: not part of the bundle (added)", info
    for name in sorted(want, key=lambda n: (n != LEDGER, n)):
        p = d / name
        if not p.exists():
            return f"{name}: missing", info
        got = p.read_bytes()
        if got != want[name]:
            return f"{name} {_first_diff(got, want[name])}", info
        if hashlib.sha256(got).hexdigest() != files[name].get("sha256"):
            return f"{name}: SHA-256 differs from the manifest", info
    info["files"] = len(want) + 2
    return None, info
