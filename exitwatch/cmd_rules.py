"""``exitwatch rules``: the rule catalogue with the settings in force (after overrides)."""

from __future__ import annotations

import argparse

import orjson


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("rules", help="print the rule catalogue with its effective settings", description=__doc__)
    p.add_argument("--rules-config", metavar="FILE", help="TOML/JSON overrides of rule settings")
    return p


def run(args: argparse.Namespace) -> int:
    from detectors.catalogue import effective_config

    print(orjson.dumps(effective_config(args.rules_config), option=orjson.OPT_INDENT_2).decode())
    return 0
