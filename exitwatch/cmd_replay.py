"""``exitwatch replay``: the detectors over contract files, with no broker (CONTRACT.md 6)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("replay", help="run the detectors over HR, signal and event files; alerts to a file",
                       description=__doc__)
    p.add_argument("--hr", action="append", default=[], required=True, metavar="HR.jsonl")
    p.add_argument("--signals", action="append", default=[], metavar="SIGNALS.jsonl")
    p.add_argument("--events", action="append", default=[], required=True, metavar="EVENTS.jsonl")
    p.add_argument("--alerts", required=True, metavar="OUT.jsonl")
    p.add_argument("--alerts-secops", metavar="OUT.jsonl",
                   help="also write the alerts.secops form of every alert (keyed ids, k-anonymous HR fields; "
                   "key EXITWATCH_PSEUDONYM_KEY, k EXITWATCH_SECOPS_K)")
    p.add_argument("--ledger", metavar="PATH",
                   help="also write the evidence ledger (signed with EXITWATCH_EVIDENCE_SIGNING_KEY), as the "
                   "worker writes it to evidence.ledger")
    p.add_argument("--rules-config", metavar="FILE", help="TOML/JSON overrides of rule settings")
    p.add_argument("--no-models", action="store_true", help="rules only (no learned models)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress line on stderr (default: when stderr is a terminal)")
    return p


def run(args: argparse.Namespace) -> int:
    from detectors.factory import build_engine
    from detectors.replay import replay_files

    from schemas.secrets import warn_dev_keys
    from schemas.settings import Settings

    # Offline: replay reads files and writes files its operator holds, and is how rules are tried on a
    # laptop, so a development key is a warning here, not a refusal (docs/operations.md, "Keys").
    warn_dev_keys(Settings(), "replay")
    engine = build_engine(rules_config=args.rules_config, models=not args.no_models)
    outputs = None
    if args.alerts_secops or args.ledger:
        from evidence.outputs import ReplayOutputs

        outputs = ReplayOutputs(engine, secops=args.alerts_secops, ledger=args.ledger)
    try:
        stats = replay_files(args.hr, args.signals, args.events, args.alerts, engine=engine,
                             show_progress=args.progress, after=outputs.after if outputs else None)
    finally:
        if outputs is not None:
            outputs.close()
    r = stats.read
    rate = sum(r.values()) / stats.seconds if stats.seconds else 0.0
    print(f"replay: {r['events']:,} events, {r['hr']:,} HR records, {r['signals']:,} signals read; "
          f"{stats.bad:,} bad{_by_reason(stats.reasons)} (see {args.alerts}.deadletter); {stats.alerts:,} alerts to {args.alerts}; "
          f"{engine.stats.unresolved:,} unresolved actors; {stats.seconds:.1f} s ({rate:,.0f} records/s)",
          file=sys.stderr)
    if outputs is not None:
        print(f"replay: {outputs.summary()}", file=sys.stderr)
    return 0


def _by_reason(reasons: dict[str, int]) -> str:
    return f" ({', '.join(f'{k} {v:,}' for k, v in sorted(reasons.items()))})" if reasons else ""
