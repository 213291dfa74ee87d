"""``exitwatch connect``: parse audit logs of one format into contract records, to Kafka or a file.

    exitwatch connect SOURCE PATH... [--to-file OUT.jsonl] [--hr HR.jsonl] [--follow --checkpoint CP]
    exitwatch connect --list

``register(subparsers)`` adds the subcommand to an argparse parser; ``run(args)`` runs it and returns the
exit status: 0 when the run completed (dead letters do not change that), 1 when records could not be
delivered, 2 on a usage error.

``--follow --checkpoint CP`` to Kafka is exactly once: the records between two sync points and the
checkpoint commit in one Kafka transaction (the checkpoint goes to ``<prefix>connect.checkpoints``); after a
kill, the restarted connector aborts what was not committed and resumes from the committed checkpoint.
Readers must use ``isolation.level=read_committed`` (librdkafka's default). With ``--to-file`` the output
is cut back to its size at the checkpoint on restart.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from connectors import sources
from connectors.runner import Progress, make_context, run as run_source, summary_line


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``connect`` subcommand to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "connect",
        help="parse audit logs into Activity events (to Kafka or a file)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="?", help="connector name (see --list)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (.gz, .zip read too); - for stdin")
    p.add_argument("--list", action="store_true", help="name every connector and exit")
    p.add_argument("--to-file", metavar="OUT.jsonl", help="write JSON lines here instead of Kafka")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: settings / KAFKA_BOOTSTRAP)")
    p.add_argument("--topic-prefix", default=None, help="put in front of every topic name")
    p.add_argument("--hr", metavar="HR.jsonl", help="HR records whose accounts resolve actors to employees")
    p.add_argument("--classification", metavar="FILE", help="classification config (TOML or JSON)")
    p.add_argument("--company-domain", action="append", default=[], metavar="DOMAIN",
                   help="a company domain (repeatable), added to the classification config")
    p.add_argument("--follow", action="store_true", help="keep reading growing files (tail -F)")
    p.add_argument("--checkpoint", metavar="PATH", help="resume from / save read positions in this file")
    p.add_argument("--poll-interval", type=float, default=0.5, help="seconds between reads in --follow")
    p.add_argument("--sync-interval", type=float, default=0.0, metavar="SECONDS",
                   help="in --follow, commit the checkpoint at most this often (default: after every read "
                        "that found something; below 50 with Kafka)")
    p.add_argument("--no-transactions", action="store_true",
                   help="--follow to Kafka without transactions (at least once: after a crash, records sent "
                        "after the last checkpoint are sent again); for brokers without transactions")
    p.add_argument("--year", type=int, help="year of syslog dates without one (postfix; default: this year)")
    p.add_argument("--tz", help="time zone of times without an offset (default UTC), e.g. Europe/Berlin")
    p.add_argument("--host-tz", action="append", default=[], metavar="HOST=ZONE",
                   help="time zone of one host's local times (glob allowed, e.g. 'NYC-*=America/New_York'); "
                        "repeat it; adds to the setting EXITWATCH_HOST_TIMEZONES")
    p.add_argument("--max-records", type=int, help="stop after this many records (testing)")
    p.add_argument("--quiet", action="store_true", help="no summary line")
    p.add_argument("--metrics-port", type=int, metavar="PORT", help="serve Prometheus /metrics on this port")
    p.add_argument("--metrics-host", metavar="ADDR", help="address of /metrics (default: EXITWATCH_METRICS_HOST, "
                   "127.0.0.1)")
    p.add_argument("--dev", action="store_true", help="a development run: accept the development keys "
                   "(as EXITWATCH_DEV_MODE=1)")


def _tz(name: str | None) -> Any:
    if not name:
        return None
    import datetime as dt
    from zoneinfo import ZoneInfo

    if name.upper() in ("UTC", "Z"):
        return dt.timezone.utc
    return ZoneInfo(name)


def run(args: argparse.Namespace) -> int:
    """Run ``exitwatch connect`` with parsed arguments; the exit status."""
    if args.list:
        for name, desc in sources.describe():
            print(f"{name:<12} {desc}")
        return 0
    if not args.source:
        print("connect: name a SOURCE (see --list)", file=sys.stderr)
        return 2
    if args.source not in sources.REGISTRY:
        print(f"connect: unknown source {args.source!r}; known: {', '.join(sources.names())}", file=sys.stderr)
        return 2
    if not args.paths:
        print("connect: give at least one PATH (or - for standard input)", file=sys.stderr)
        return 2
    options: dict[str, Any] = {}
    if args.year:
        options["year"] = args.year
    try:
        tz = _tz(args.tz)
    except Exception as e:  # noqa: BLE001
        print(f"connect: unknown time zone {args.tz!r}: {e}", file=sys.stderr)
        return 2
    if tz is not None:
        options["tz"] = tz
    if args.host_tz:
        from zoneinfo import ZoneInfo

        from schemas.settings import Settings

        table: dict[str, Any] = dict(Settings().host_timezones)
        for item in args.host_tz:
            host, _, zone = item.partition("=")
            try:
                table[host.strip()] = ZoneInfo(zone.strip())
            except Exception as e:  # noqa: BLE001
                print(f"connect: --host-tz {item!r}: give HOST=ZONE with an IANA zone ({e})", file=sys.stderr)
                return 2
        options["host_timezones"] = table
    try:
        ctx = make_context(hr=args.hr, classification=args.classification, options=options)
    except (OSError, ValueError) as e:
        print(f"connect: {e}", file=sys.stderr)
        return 2
    if args.company_domain:
        from dataclasses import replace

        ctx.classifier = replace(
            ctx.classifier,
            company_domains=ctx.classifier.company_domains | {d.lower() for d in args.company_domain},
        )

    from schemas.settings import Settings

    from schemas.secrets import InsecureKeyError, require_keys

    settings = Settings()
    if args.dev:
        settings = settings.model_copy(update={"dev_mode": True})
    if not args.to_file:  # a deployment's feed (a file run is offline and holds no key): its keys are its own
        try:
            require_keys(settings, "exitwatch connect")
        except InsecureKeyError as e:
            print(str(e), file=sys.stderr)
            return 2
    transactional = bool(args.follow and args.checkpoint and not args.to_file and not args.no_transactions)
    if transactional and not 0 <= args.sync_interval < 50:
        print("connect: --sync-interval must be at least 0 and below 50 s (a Kafka transaction stays open "
              "that long and is aborted after 60 s)", file=sys.stderr)
        return 2
    if args.to_file:
        from connectors.producer import FileSink

        sink: Any = FileSink(
            args.to_file,
            append=bool(args.follow or args.checkpoint),
            primary="hr" if args.source == "hr" else "event",
        )
    else:
        from connectors.producer import KafkaSink, transactional_id

        prefix = args.topic_prefix if args.topic_prefix is not None else settings.topic_prefix
        sink = KafkaSink(args.bootstrap or settings.kafka_bootstrap, prefix,
                         transactional_id=transactional_id(args.source, args.checkpoint) if transactional else None)
        if not args.quiet:
            sink.log = lambda line: print(f"connect: {line}", file=sys.stderr, flush=True)

    if args.metrics_port:
        from connectors.metrics import instrument

        sink = instrument(sink, args.source, args.metrics_port, args.metrics_host or settings.metrics_host,
                          settings.metrics_token.get_secret_value() if settings.metrics_token else None)
    stopping = {"flag": False}

    def _stop(signum: int, frame: Any) -> None:
        stopping["flag"] = True

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, _stop)
        except ValueError:  # not in the main thread
            pass
    progress = Progress()
    t0 = time.monotonic()
    from connectors.producer import ConnectorError

    try:
        stats = run_source(
            args.source,
            args.paths,
            sink,
            ctx=ctx,
            follow=args.follow,
            checkpoint=args.checkpoint,
            max_records=args.max_records,
            poll_interval=args.poll_interval,
            progress=progress,
            stop=lambda: stopping["flag"],
            sync_interval=args.sync_interval,
        )
    except ConnectorError as err:
        print(f"connect: {err}", file=sys.stderr)
        return 1
    finally:
        progress.close()
        try:
            sink.close()
        except ConnectorError as close_err:
            print(f"connect: {close_err}", file=sys.stderr)
        for sig, h in old.items():
            signal.signal(sig, h)
    stats.delivery_failures = getattr(sink, "failures", 0)
    if not args.quiet:
        print(summary_line(args.source, stats, time.monotonic() - t0), file=sys.stderr)
    if stats.delivery_failures:
        for e in getattr(sink, "errors", [])[:5]:
            print(f"connect: delivery failed: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m connectors``: the ``connect`` subcommand on its own."""
    parser = argparse.ArgumentParser(prog="exitwatch-connect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
