"""Replay's resident memory per tracked employee (issue 15: at most 4 KB).

``python -m exitwatch.bench_replay_memory DIR [--alerts OUT] [--json OUT] [--trace N]`` replays a company folder
(``exitwatch generate``: hr.jsonl, signals.jsonl, events.jsonl) with the learned models, as ``exitwatch replay``
does, and reads the process's resident memory from ``/proc`` once the engine is built and again after the run
(after a full collection). The difference over the employees with detection state is the figure. ``--trace N``
also runs tracemalloc from the baseline on and lists the N largest allocation sites still alive at the end, and
the live objects by type; it slows the run several times (its own figures exclude tracemalloc's bookkeeping, the
RSS figure does not).

The alert file's SHA-256 is printed: a change to how state is held must leave it unchanged.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def warm_up(folder: Path, events: int = 5000) -> None:
    """The company's first ``events`` events through a throwaway engine: what a run imports on first use (the
    learned models load scipy and river's trees then: tens of MB) is imported before the baseline is read."""
    from detectors.factory import build_engine
    from detectors.replay import replay_files

    head = Path(f"/tmp/bench-replay-memory-warm-{os.getpid()}.jsonl")
    with open(folder / "events.jsonl", "rb") as src, open(head, "wb") as dst:
        for i, line in enumerate(src):
            if i >= events:
                break
            dst.write(line)
    out = Path(f"{head}.alerts")
    try:
        replay_files([str(folder / "hr.jsonl")], [], [str(head)], str(out), engine=build_engine(models=True),
                     show_progress=False)
    finally:
        for f in (head, out, Path(f"{out}.deadletter")):
            f.unlink(missing_ok=True)


def state_bytes(states: Any) -> int:
    """Deep size of the employees' states (objects shared between states, such as interned day numbers and
    event ids, counted once)."""
    seen: set[int] = set()
    stack = list(states)
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        elif hasattr(o, "__dict__"):
            stack.append(o.__dict__)
        elif hasattr(type(o), "__slots__"):
            stack.extend(getattr(o, a) for a in type(o).__slots__ if hasattr(o, a))
    return total


def measure(folder: Path, alerts: Path, trace: int = 0) -> dict[str, Any]:
    from detectors.factory import build_engine
    from detectors.replay import replay_files

    warm_up(folder)
    engine = build_engine(models=True)
    gc.collect()
    r0 = rss_bytes()
    if trace:  # from here: what the run itself allocates and keeps
        import tracemalloc

        tracemalloc.start(1)
    t0 = time.perf_counter()
    st = replay_files([str(folder / "hr.jsonl")], [str(folder / "signals.jsonl")], [str(folder / "events.jsonl")],
                      str(alerts), engine=engine, show_progress=False)
    seconds = time.perf_counter() - t0
    gc.collect()
    r1 = rss_bytes()
    tracked = len(engine.store.data)  # type: ignore[attr-defined]  # replay: a DictStore
    out: dict[str, Any] = {
        "company": folder.name, "events": st.read["events"], "alerts": st.alerts, "tracked_employees": tracked,
        "seconds": round(seconds, 1), "rss_mb_after_build": round(r0 / 2**20, 1), "rss_mb_after_run": round(r1 / 2**20, 1),
        "rss_bytes_per_tracked_employee": round((r1 - r0) / max(tracked, 1)),
        "state_bytes_per_tracked_employee": round(state_bytes(engine.store.data.values()) / max(tracked, 1)),  # type: ignore[attr-defined]
        "alerts_sha256": hashlib.sha256(alerts.read_bytes()).hexdigest(),
    }
    if trace:
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        sites = snap.statistics("lineno")
        out["traced_bytes_per_tracked_employee"] = round(sum(s.size for s in sites) / max(tracked, 1))
        out["top_sites"] = [{"site": f"{s.traceback[0].filename.rsplit('/', 2)[-2:]}:{s.traceback[0].lineno}",
                             "kb": round(s.size / 1024), "count": s.count} for s in sites[:trace]]
        files: Counter[str] = Counter()
        for s in snap.statistics("filename"):
            files["/".join(s.traceback[0].filename.rsplit("/", 2)[-2:])] += s.size
        out["top_files_kb"] = {k: round(v / 1024) for k, v in files.most_common(trace)}
        by_type: Counter[str] = Counter()
        n_type: Counter[str] = Counter()
        for o in gc.get_objects():
            t = type(o).__name__
            by_type[t] += sys.getsizeof(o)
            n_type[t] += 1
        out["top_types_kb"] = {t: [round(v / 1024), n_type[t]] for t, v in by_type.most_common(trace)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exitwatch.bench_replay_memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path)
    p.add_argument("--alerts", type=Path, default=None, help="alert file to write (default: a temporary one)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--trace", type=int, default=0, metavar="N", help="tracemalloc: the N largest sites and types")
    a = p.parse_args(argv)
    from schemas.runtime import tune_from_settings

    tune_from_settings()  # as exitwatch replay (exitwatch.cli.main)
    alerts = a.alerts or Path(f"/tmp/bench-replay-memory-{os.getpid()}.jsonl")
    res = measure(a.folder, alerts, a.trace)
    text = orjson.dumps(res, option=orjson.OPT_INDENT_2).decode()
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
