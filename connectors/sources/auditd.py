"""``auditd``: Linux audit logs (``audit.log``), records grouped by ``audit(epoch:serial)``.

A group (SYSCALL + EXECVE + CWD + PATH... up to ``EOE``; interleaved groups are fine) becomes at most one
event; relative ``PATH`` names are resolved against ``CWD``, hex-encoded values decoded.

* ``open``/``openat``/``creat`` -> file open (``attrs.access`` read/write); a write under a removable mount
  (``/media``, ``/run/media``, ``/mnt``) -> copy_to_removable.
* ``unlink``/``unlinkat``/``rmdir`` -> delete; ``rename*`` onto a removable mount -> copy_to_removable.
* ``execve`` of ``cp``/``rsync`` onto a removable mount -> copy_to_removable; ``scp``/``sftp``/``rsync``/
  ``rclone``/``curl -T``... to a remote host -> upload with that host as destination.
* ``USER_LOGIN`` (success) -> logon.
Failed syscalls and everything else are counted as skipped under a reason. The actor is the login user (the enriched ``AUID`` name
when the log has one, else the numeric ``auid``, else ``uid``); the host is ``node=`` when present.
"""

from __future__ import annotations

import posixpath
import re
from collections import OrderedDict
from typing import Any

from connectors.base import dead, sha_id, skip
from connectors.framing import Emitted, Stream, decode
from connectors.sources import Source

_HEAD = re.compile(r"^(?:node=(?P<node>\S+)\s+)?type=(?P<type>\S+)\s+msg=audit\((?P<epoch>\d+(?:\.\d+)?):(?P<serial>\d+)\):?\s*(?P<body>.*)$")
_KV = re.compile(r"([\w-]+)=(\"[^\"]*\"|'[^']*'|\S+)")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")

SYSCALLS = {
    "c000003e": {2: "open", 257: "openat", 85: "creat", 87: "unlink", 263: "unlinkat", 84: "rmdir", 82: "rename",
                 264: "renameat", 316: "renameat2", 59: "execve", 322: "execveat"},
    "40000003": {5: "open", 295: "openat", 8: "creat", 10: "unlink", 301: "unlinkat", 40: "rmdir", 38: "rename",
                 302: "renameat", 353: "renameat2", 11: "execve", 358: "execveat"},
    "c00000b7": {56: "openat", 35: "unlinkat", 38: "renameat", 276: "renameat2", 221: "execve", 281: "execveat"},
}
REMOVABLE = ("/media/", "/run/media/", "/mnt/")
UPLOADERS = {"scp", "sftp", "rsync", "rclone", "curl", "wget", "aws", "gsutil", "azcopy", "ftp", "lftp"}
COPIERS = {"cp", "rsync", "mv", "dd", "tar", "zip"}
UNSET = "4294967295"
WINDOW = 256  # groups kept open without EOE before the oldest is taken as complete


def _value(v: str) -> str | None:
    if v.startswith('"') or v.startswith("'"):
        return v[1:-1]
    if v in ("(null)", "?", "(none)"):
        return None
    if len(v) >= 2 and _HEX.match(v):
        try:
            return bytes.fromhex(v).decode("utf-8", errors="replace")
        except ValueError:
            return v
    return v


_ENCODED = {"name", "cwd", "exe", "comm", "proctitle", "path", "cmd", "acct", "data", "new", "old"}


def parse_fields(body: str, rtype: str = "") -> dict[str, Any]:
    """``key=value`` pairs of one record body; ``msg='...'`` contents merged in; enriched part as ``_names``.

    >>> f = parse_fields('item=0 name=2F746D702F61 nametype=NORMAL', "PATH")
    >>> f["name"], f["nametype"]
    ('/tmp/a', 'NORMAL')
    """
    enriched: dict[str, str] = {}
    if "\x1d" in body:
        body, rest = body.split("\x1d", 1)
        enriched = {k: (v[1:-1] if v.startswith('"') else v) for k, v in _KV.findall(rest)}
    out: dict[str, Any] = {}
    execve = rtype == "EXECVE"
    for k, v in _KV.findall(body):
        if k == "msg" and v.startswith("'"):
            for k2, v2 in _KV.findall(v[1:-1]):
                out.setdefault(k2, _value(v2) if k2 in _ENCODED else v2.strip('"'))
            continue
        if k in out:
            continue
        if k in _ENCODED or (execve and k[:1] == "a" and k[1:].isdigit()):
            out[k] = _value(v)
        else:
            out[k] = v[1:-1] if v[:1] in "\"'" and len(v) > 1 else v
    out["_names"] = enriched
    return out


class _Group:
    __slots__ = ("key", "start", "node", "epoch", "records", "raw")

    def __init__(self, key: tuple[str, str], start: int, node: str | None, epoch: str) -> None:
        self.key, self.start, self.node, self.epoch = key, start, node, epoch
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.raw: list[str] = []


class AuditdStream(Stream):
    def __init__(self, source: "AuditdSource") -> None:
        super().__init__(source)
        self.ctx = source.ctx
        self.open: OrderedDict[tuple[str, str], _Group] = OrderedDict()

    def feed(self, line: bytes, start: int) -> list[Emitted]:
        text = decode(line)
        if not text.strip():
            return []
        m = _HEAD.match(text)
        if not m:
            return [(*dead(self.name, "not an audit record (type=... msg=audit(epoch:serial))", text), start)]
        node = m.group("node")
        key = (node or "", m.group("serial") + "@" + m.group("epoch"))
        rtype = m.group("type")
        g = self.open.get(key)
        out: list[Emitted] = []
        if rtype == "EOE":
            if g is not None:
                del self.open[key]
                out.append(self._emit(g))
            return out
        if g is None:
            g = _Group(key, start, node, m.group("epoch"))
            self.open[key] = g
        g.records.append((rtype, parse_fields(m.group("body"), rtype)))
        if len(g.raw) < 20:
            g.raw.append(text)
        while len(self.open) > WINDOW:
            _, old = self.open.popitem(last=False)
            out.append(self._emit(old))
        return out

    def finish(self) -> list[Emitted]:
        out = [self._emit(g) for g in self.open.values()]
        self.open.clear()
        return out

    def pending(self) -> int | None:
        return next(iter(self.open.values())).start if self.open else None

    # -- one group -> one output
    def _emit(self, g: _Group) -> Emitted:
        try:
            v, d = self._build(g)
        except Exception as e:  # noqa: BLE001 - a bad group is a dead letter
            v, d = dead(self.name, f"parser error: {type(e).__name__}: {e}", "\n".join(g.raw))
        return (v, d, g.start)

    def _build(self, g: _Group) -> tuple[Any, Any]:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for t, f in g.records:
            by_type.setdefault(t, []).append(f)
        raw = "\n".join(g.raw)
        host = g.node or self.ctx.options.get("host")
        base = dict(source=self.name, raw=raw, event_id=sha_id(self.name, g.node or "", g.key[1]), ts=float(g.epoch),
                    host=host)
        if "USER_LOGIN" in by_type:
            f = by_type["USER_LOGIN"][0]
            if f.get("res") not in ("success", "yes", "1"):
                return skip("failed logon")
            actor = f["_names"].get("AUID") or f.get("acct") or f.get("id") or f.get("auid")
            return self.ctx.event(kind="logon", action="logon", actor=actor,
                                  attrs={"addr": f.get("addr"), "terminal": f.get("terminal")}, **base)
        if "SYSCALL" not in by_type:
            return skip("audit record type not monitored")
        sc = by_type["SYSCALL"][0]
        if sc.get("success") != "yes":
            return skip("failed system call")
        names = sc["_names"]
        name = names.get("SYSCALL") or SYSCALLS.get(str(sc.get("arch")), {}).get(int(sc.get("syscall") or -1))
        if not name:
            return skip("system call not monitored")
        auid = sc.get("auid")
        actor = names.get("AUID") or (auid if auid and auid != UNSET else None) or names.get("UID") or sc.get("uid")
        cwd = (by_type.get("CWD") or [{}])[0].get("cwd")
        paths = []
        for p in by_type.get("PATH", []):
            n = p.get("name")
            if not n:
                continue
            if not n.startswith("/") and cwd:
                n = posixpath.normpath(posixpath.join(cwd, n))
            paths.append((n, (p.get("nametype") or p.get("objtype") or "").upper()))
        attrs: dict[str, Any] = {"syscall": name, "exe": sc.get("exe"), "comm": sc.get("comm")}
        if sc.get("key"):
            attrs["key"] = sc["key"]
        ev = dict(kind="file", actor=actor, aliases=(names.get("UID"),), attrs=attrs, **base)
        if name in ("open", "openat", "creat"):
            target = [p for p, t in paths if t not in ("PARENT",)] or [p for p, _ in paths]
            if not target:
                return skip("file system call without a path")
            flags = sc.get("a2") if name == "openat" else sc.get("a1")
            try:
                fl = int(str(flags), 16) if flags else 0
            except ValueError:
                fl = 0
            write = name == "creat" or bool(fl & 0o3)
            attrs["access"] = ["write"] if write else ["read"]
            obj = target[-1]
            action = "copy_to_removable" if write and obj.startswith(REMOVABLE) else "open"
            return self.ctx.event(action=action, object=obj,
                                  destination="removable" if action == "copy_to_removable" else None, **ev)
        if name in ("unlink", "unlinkat", "rmdir"):
            target = [p for p, t in paths if t == "DELETE"] or [p for p, t in paths if t != "PARENT"]
            if not target:
                return skip("file system call without a path")
            return self.ctx.event(action="delete", object=target[-1], **ev)
        if name.startswith("rename"):
            created = [p for p, t in paths if t == "CREATE"]
            deleted = [p for p, t in paths if t == "DELETE"]
            if created and created[-1].startswith(REMOVABLE):
                attrs["from"] = deleted[0] if deleted else None
                return self.ctx.event(action="copy_to_removable", object=created[-1], destination="removable", **ev)
            return skip("rename on the same disk")
        if name.startswith("execve"):
            return self._exec(by_type, paths, cwd, ev)
        return skip("system call not monitored")

    def _exec(self, by_type: dict[str, list[dict[str, Any]]], paths: list[tuple[str, str]], cwd: str | None,
              ev: dict[str, Any]) -> tuple[Any, Any]:
        ex = (by_type.get("EXECVE") or [{}])[0]
        argc = int(ex.get("argc") or 0) if str(ex.get("argc") or "0").isdigit() else 0
        args = [str(ex.get(f"a{i}") or "") for i in range(min(argc, 64))]
        if not args:
            return skip("program run without arguments logged")
        prog = posixpath.basename(args[0])
        rest = [a for a in args[1:] if not a.startswith("-")]
        ev["attrs"]["argv"] = args[:16]
        if prog in UPLOADERS:
            for a in rest:
                m = re.match(r"^(?:[\w.-]+@)?([\w.-]+\.[\w.-]+|[\w-]+):(?!//)", a) or re.match(r"^\w+://([^/:]+)", a)
                if m and (prog not in ("curl", "wget") or any(x in args for x in ("-T", "--upload-file", "-F",
                                                                                  "--data-binary", "--post-file"))):
                    src = [x for x in rest if x != a and not re.match(r"^\w+://", x)]
                    obj = src[0] if src else None
                    if obj and not obj.startswith("/") and cwd:
                        obj = posixpath.normpath(posixpath.join(cwd, obj))
                    return self.ctx.event(action="upload", object=obj, destination=m.group(1), **ev)
        if prog in COPIERS and len(rest) >= 2:
            dst = rest[-1]
            if not dst.startswith("/") and cwd:
                dst = posixpath.normpath(posixpath.join(cwd, dst))
            if dst.startswith(REMOVABLE):
                src = rest[0]
                if not src.startswith("/") and cwd:
                    src = posixpath.normpath(posixpath.join(cwd, src))
                ev["attrs"]["to"] = dst
                return self.ctx.event(action="copy_to_removable", object=src, destination="removable", **ev)
        return skip("program run that moves no data")


class AuditdSource(Source):
    name = "auditd"

    def open_stream(self, path: str) -> Stream:
        return AuditdStream(self)
