"""``exitwatch evidence``: case bundles from the signed evidence ledger.

  export --employee ID --out DIR [--ledger PATH]   the employee's case bundle (from the file, else from the
                                                    evidence.ledger topic); writes an audit record
  verify DIR [--public-key HEX]                    exit 0 if intact, else 1 naming the first broken link
  verify-ledger PATH                                every employee's chain in a whole ledger file
  keygen                                            a new Ed25519 signing key and its public key
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("evidence", help="export and verify signed case bundles from the evidence ledger",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = p.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    e = s.add_parser("export", help="write one employee's case bundle")
    e.add_argument("--employee", required=True, metavar="ID")
    e.add_argument("--out", required=True, metavar="DIR")
    e.add_argument("--ledger", metavar="PATH", help="a ledger file (`exitwatch replay --ledger`); default: the "
                   "evidence.ledger topic")
    e.add_argument("--reason", help="why the case is exported (goes into the audit record)")
    v = s.add_parser("verify", help="check a case bundle; exit 0 if intact, 1 naming the first broken link")
    v.add_argument("dir", metavar="DIR")
    v.add_argument("--public-key", metavar="HEX", help="the public key to trust (default: settings)")
    vl = s.add_parser("verify-ledger", help="check every chain of a ledger file")
    vl.add_argument("path", metavar="PATH")
    vl.add_argument("--public-key", metavar="HEX")
    s.add_parser("keygen", help="print a new signing key and its public key")
    return p


def run(args: argparse.Namespace) -> int:
    from evidence import audit
    from evidence.bundle import export, verify
    from evidence.keys import PublicKey, SigningKey, pinned_public_key, signing_key
    from evidence.ledger import check_ledger, employee_entries, read_ledger, read_topic
    from schemas.settings import Settings
    from schemas.topics import topic_names

    s = Settings()
    cmd = args.evidence_command
    if cmd == "keygen":
        k = SigningKey.generate()
        print(f"EXITWATCH_EVIDENCE_SIGNING_KEY={k._key.private_bytes_raw().hex()}  # the worker and `evidence export` only")
        print(f"EXITWATCH_EVIDENCE_PUBLIC_KEY={k.public.hex}  # wherever bundles are verified")
        print(f"# fingerprint {k.public.fingerprint}")
        return 0
    if cmd in ("verify", "verify-ledger"):
        key = PublicKey.from_hex(args.public_key) if args.public_key else pinned_public_key(s)
        if cmd == "verify":
            bad, info = verify(args.dir, key)
        else:
            n, bad = check_ledger(read_ledger(args.path), key)
            info = {"entries": n}
        if bad:
            msg = f"exitwatch evidence {cmd}: BROKEN: first broken link: {bad}"
            print(msg)  # the answer of the command, on stdout like "intact" ...
            print(msg, file=sys.stderr)  # ... and on stderr, where a failing command's reason is looked for
            return 1
        dev = "; the pinned key is the DEVELOPMENT key anyone can compute" if key.hex == signing_key(
            Settings(evidence_signing_key="")).public.hex else ""  # type: ignore[arg-type]
        what = (f"{info.get('entries')} ledger entries of {info.get('employee_id')}, {info.get('files')} files"
                if cmd == "verify" else f"{info['entries']} ledger entries")
        print(f"exitwatch evidence {cmd}: intact: {what}, signed by key {key.fingerprint}{dev}")
        return 0
    # export
    sk = signing_key(s)
    if args.ledger:
        source = f"file {args.ledger}"
        entries = employee_entries(read_ledger(args.ledger), args.employee)
    else:
        topic = topic_names(s.topic_prefix)["evidence_ledger"]
        source = f"topic {topic} on {s.kafka_bootstrap}"
        entries = employee_entries(read_topic(s, topic), args.employee)
    manifest = export(entries, args.employee, args.out, sk, source=source)
    audit.write("case_export", {"employee_id": args.employee, "out": str(args.out), "source": source,
                                "entries": manifest["entries"], "chain_head": manifest["chain_head"]},
                s, reason=args.reason)
    print(f"exitwatch evidence export: {manifest['entries']} entries of {args.employee} to {args.out} "
          f"(chain head {manifest['chain_head'][:16]}..., key {manifest['key_id']}); audit record in {s.audit_log}")
    return 0
