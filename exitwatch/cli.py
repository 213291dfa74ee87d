"""The ``exitwatch`` command. Each subcommand lives with its code and plugs in through ``register(sub)``
(adds its argparse parser) and ``run(args) -> int``; this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

#: subcommand modules, each with register(subparsers) and run(args)
SUBCOMMANDS = [
    "exitwatch.cmd_replay",
    "exitwatch.cmd_rules",
    "connectors.cli",
    "exitwatch.generate",
    "exitwatch.evaluate",
    "exitwatch.whatif",
    "exitwatch.cert_eval",
    "streams.cli",
    "exitwatch.demo",
    "exitwatch.bench",
    "exitwatch.faults",
    "evidence.cmd_evidence",
    "evidence.cmd_reidentify",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exitwatch",
        description="Catches data theft and damage by employees around their departure, while it happens.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        p = mod.register(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from schemas.runtime import tune_from_settings

    tune_from_settings()  # the garbage collector's threshold (EXITWATCH_GC_GEN0)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"exitwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
