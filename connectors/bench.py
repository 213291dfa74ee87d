"""Connector throughput: records per second per format, parse + validate only, to a null sink.

Each format's test fixture is replicated to a decent size in a temporary file (header lines kept once, ids
made unique per copy where a connector groups by them), then read with :func:`connectors.runner.run`.

    python -m connectors.bench [--quick]

``bench_connectors(quick)`` returns ``{format: {"lines", "outputs", "seconds", "lines_per_s",
"outputs_per_s"}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.producer import NullSink
from connectors.runner import make_context, run

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "connectors"

_MSGID = re.compile(r"<([\w.-]+)@")
_QID = re.compile(r"(postfix/\w+\[\d+\]: )([0-9A-F]{6,15}):")
_SERIAL = re.compile(r"msg=audit\((\d+\.\d+):(\d+)\)")


def _exchange(line: str, i: int) -> str:
    return _MSGID.sub(lambda m: f"<{m.group(1)}-{i}@", line)


def _postfix(line: str, i: int) -> str:
    return _QID.sub(lambda m: f"{m.group(1)}{m.group(2)}{i:X}:", line)


def _auditd(line: str, i: int) -> str:
    return _SERIAL.sub(lambda m: f"msg=audit({m.group(1)}:{m.group(2)}{i:04d})", line)


#: format -> (fixture files relative to FIXTURES, header lines kept once, per-copy line rewrite)
CASES: dict[str, tuple[list[str], int, Callable[[str, int], str] | None]] = {
    "m365": (["own/m365_documented.jsonl"], 0, None),
    "gworkspace": (["own/gworkspace_reports.jsonl"], 0, None),
    "box": (["own/box_events.json"], 0, None),
    "dropbox": (["own/dropbox_team_events.jsonl"], 0, None),
    "salesforce": (["own/salesforce_elf_api.csv"], 1, None),
    "exchange": (["own/exchange_msgtrk.log"], 5, _exchange),
    "postfix": (["postfix-maillog-dump/mailog2"], 0, _postfix),
    "mde": (["own/mde_streaming.json"], 0, None),
    "windows": (["otrf-security-datasets/_derived_windows_file_and_device_events.ndjson"], 0, None),
    "auditd": (["elastic-go-libaudit/auparse/testdata/audit-rhel7.log", "own/auditd_documented.log"], 0, _auditd),
    "cert": (["own/cert_r42/logon.csv"], 1, None),
    "hr": (["own/hr.jsonl"], 0, None),
    "synthetic": (["own/synthetic.jsonl"], 0, None),
}


def _replicate(files: list[Path], header: int, rewrite: Callable[[str, int], str] | None, target: int,
               out: Path) -> int:
    head: list[str] = []
    body: list[str] = []
    for f in files:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        if header and not head:
            head = lines[:header]
        body.extend(lines[header:])
    body = [b for b in body if b.strip()]
    if not body:
        return 0
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for h in head:
            fh.write(h + "\n")
        i = 0
        while n < target:
            for line in body:
                fh.write((rewrite(line, i) if rewrite else line) + "\n")
                n += 1
            i += 1
    return n


def bench_connectors(quick: bool = False, formats: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Records per second of every connector over its fixtures (``quick``: ~3k lines each, else ~60k)."""
    target = 3_000 if quick else 60_000
    results: dict[str, dict[str, Any]] = {}
    hr = str(FIXTURES / "own" / "hr.jsonl")
    with tempfile.TemporaryDirectory(prefix="exitwatch-bench-") as tmp:
        for name, (rel, header, rewrite) in CASES.items():
            if formats and name not in formats:
                continue
            files = [FIXTURES / r for r in rel]
            if not all(f.exists() for f in files):
                continue
            path = Path(tmp) / (name + "_" + os.path.basename(rel[0]))
            lines = _replicate(files, header, rewrite, target, path)
            ctx = make_context(hr=hr, options={"year": 2026})
            sink = NullSink()
            t0 = time.perf_counter()
            stats = run(name, [str(path)], sink, ctx=ctx)
            dt = time.perf_counter() - t0
            outputs = stats.events + stats.hr + stats.signals + stats.deadletters
            results[name] = {
                "lines": lines,
                "outputs": outputs,
                "seconds": round(dt, 4),
                "lines_per_s": round(lines / dt) if dt > 0 else None,
                "outputs_per_s": round(outputs / dt) if dt > 0 else None,
                "mb_per_s": round(path.stat().st_size / dt / 1e6, 2) if dt > 0 else None,
            }
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = p.parse_args(argv)
    res = bench_connectors(a.quick)
    if a.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{'format':<12}{'lines':>9}{'outputs':>9}{'seconds':>9}{'lines/s':>10}{'outputs/s':>11}{'MB/s':>7}")
    for k, r in res.items():
        print(f"{k:<12}{r['lines']:>9}{r['outputs']:>9}{r['seconds']:>9.2f}{r['lines_per_s']:>10,}"
              f"{r['outputs_per_s']:>11,}{r['mb_per_s']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
