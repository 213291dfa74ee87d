"""The audit trail of the system's own use: who re-identified whom, who exported which case, which rule
settings a worker ran with. One JSON object per line in ``EXITWATCH_AUDIT_LOG`` (default ``var/audit.jsonl``),
each carrying the SHA-256 of the line before it (``prev``), so a deleted or edited line breaks the chain; with
``EXITWATCH_AUDIT_KAFKA=true`` also on the ``audit`` topic.

>>> import tempfile, os
>>> from schemas.settings import Settings
>>> p = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
>>> r = write("case_export", {"employee_id": "E1"}, Settings(audit_log=p, operator="ann"))
>>> r["who"], r["action"], read(p)[0]["what"]
('ann', 'case_export', {'employee_id': 'E1'})
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
from pathlib import Path
from typing import Any

import orjson

from schemas.models import utcnow
from schemas.settings import Settings


def _last_line(path: Path) -> bytes | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        lines = [x for x in fh.read().split(b"\n") if x.strip()]
    return lines[-1] if lines else None


def who(settings: Settings) -> str:
    if settings.operator:
        return settings.operator
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return f"uid:{os.getuid()}"


def write(action: str, what: dict[str, Any], settings: Settings | None = None, reason: str | None = None) -> dict[str, Any]:
    """Append one audit record (and send it to the audit topic when configured); returns the record."""
    s = settings or Settings()
    path = Path(s.audit_log)
    path.parent.mkdir(parents=True, exist_ok=True)
    last = _last_line(path)
    rec: dict[str, Any] = {
        "ts": utcnow().isoformat().replace("+00:00", "Z"),
        "who": who(s),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "action": action,
        "what": what,
        "prev": hashlib.sha256(last).hexdigest() if last is not None else None,
    }
    if reason:
        rec["reason"] = reason
    line = orjson.dumps(rec) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if s.audit_kafka:
        from confluent_kafka import Producer

        from schemas.topics import topic_names
        from schemas.transport import kafka_config

        extra: dict[str, Any] = {"enable.idempotence": True}
        p = Producer(kafka_config(s, **extra))
        p.produce(topic_names(s.topic_prefix)["audit"], key=action.encode(), value=line.rstrip(b"\n"))
        if p.flush(10) != 0:
            raise RuntimeError(f"the audit record could not be sent to Kafka at {s.kafka_bootstrap}; it is in {path}")
    return rec


def read(path: str) -> list[dict[str, Any]]:
    with open(path, "rb") as fh:
        return [orjson.loads(x) for x in fh if x.strip()]


def check(path: str) -> str | None:
    """The first broken link of an audit file, or None."""
    prev: bytes | None = None
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            line = raw.rstrip(b"\n")
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                return f"line {i}: not JSON"
            want = hashlib.sha256(prev).hexdigest() if prev is not None else None
            if rec.get("prev") != want:
                return f"line {i}: does not follow the line before it (a line was deleted, inserted or edited)"
            prev = line
    return None


def rules_in_force(settings: Settings | None = None) -> dict[str, Any] | None:
    """Record the rule settings a worker starts with when they differ from the last ones recorded (a rule
    change: a new threshold, a rule switched off, a new rule version); returns the record written, or None.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "audit.jsonl")
    >>> rules_in_force(Settings(audit_log=p, operator="ops"))["action"]
    'rule_change'
    >>> rules_in_force(Settings(audit_log=p, operator="ops")) is None  # unchanged: nothing new
    True
    """
    from detectors.catalogue import load_rules

    s = settings or Settings()
    now = {r.id: {"version": r.version, **r.params()} for r in load_rules(s.rules_config, include_disabled=True)}
    digest = hashlib.sha256(orjson.dumps(now, option=orjson.OPT_SORT_KEYS)).hexdigest()
    before: dict[str, Any] = {}
    path = Path(s.audit_log)
    if path.exists():
        for rec in read(str(path)):
            if rec.get("action") == "rule_change":
                before = rec["what"]
    if before.get("sha256") == digest:
        return None
    old = before.get("rules") or {}
    changed = sorted(k for k in set(now) | set(old) if now.get(k) != old.get(k))
    return write("rule_change", {"sha256": digest, "rules_config": s.rules_config, "changed": changed, "rules": now}, s)
