"""``exitwatch reidentify``: who is behind an ``alerts.secops`` pseudonym or alert id. Needs the pseudonym key
(``EXITWATCH_PSEUDONYM_KEY``) and the HR file (or alerts.hr / ledger to map alert ids), and writes an audit
record (who, when, what, why) before it answers.

  exitwatch reidentify --hr HR.jsonl --pseudonym p-... --reason "case 2026-14"
  exitwatch reidentify --hr HR.jsonl --alert-id ID --alerts ALERTS_HR.jsonl --reason "..."
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("reidentify", help="name the employee behind a secops pseudonym or alert id (needs the "
                       "key; audited)", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hr", action="append", default=[], required=True, metavar="HR.jsonl")
    p.add_argument("--pseudonym", action="append", default=[], metavar="P")
    p.add_argument("--alert-id", action="append", default=[], metavar="SECOPS_ID")
    p.add_argument("--alerts", metavar="ALERTS_HR.jsonl", help="alerts.hr file to map secops alert ids")
    p.add_argument("--reason", required=True, help="why (goes into the audit record)")
    return p


def run(args: argparse.Namespace) -> int:
    import orjson

    from detectors.replay import open_text
    from evidence import audit
    from evidence.privacy import secops_alert_id
    from schemas.pseudonym import pseudonymize
    from schemas.settings import Settings

    s = Settings()
    if not args.pseudonym and not args.alert_id:
        raise ValueError("name at least one --pseudonym or --alert-id")
    if args.alert_id and not args.alerts:
        raise ValueError("--alert-id needs --alerts ALERTS_HR.jsonl (the identified alerts)")
    key = s.pseudonym_key.get_secret_value().encode()
    # audit first: a refused or failed look-up is still a look-up
    audit.write("reidentify", {"pseudonyms": args.pseudonym, "alert_ids": args.alert_id}, s, reason=args.reason)
    emps: set[str] = set()
    for path in args.hr:
        with open_text(path) as fh:
            for line in fh:
                if line.strip():
                    try:
                        emps.add(orjson.loads(line)["employee_id"])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue
    rev = {pseudonymize(e, key): e for e in emps}
    found = 0
    for p in args.pseudonym:
        e = rev.get(p)
        print(f"{p}\t{e if e else 'not found (another key, or not in the HR file)'}")
        found += e is not None
    if args.alert_id:
        want = set(args.alert_id)
        with open_text(args.alerts) as fh:
            for line in fh:
                if not line.strip():
                    continue
                a = orjson.loads(line)
                sid = secops_alert_id(a["alert_id"], key)
                if sid in want:
                    print(f"{sid}\t{a['employee_id']}\t{a['rule_id']}\t{a['ts']}")
                    want.discard(sid)
                    found += 1
        for sid in sorted(want):
            print(f"{sid}\tnot found")
    return 0 if found else 1
