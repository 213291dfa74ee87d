"""``exitwatch worker``: run the streaming worker (enrich, detect, alert sink) until stopped.

``--engine tx`` (the default): the transactional engine on confluent-kafka (:mod:`streams.tx`), exactly-once
with Kafka transactions, inputs taken in event-time order. ``--engine faust``: the Faust worker
(:mod:`streams.app`), at-least-once with idempotent effects."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("worker", help="run the streaming worker: enrich, detect, alerts", description=__doc__)
    p.add_argument("--engine", choices=("tx", "faust"), default="tx",
                   help="tx: Kafka transactions, time-ordered (default); faust: the Faust worker")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: settings / KAFKA_BOOTSTRAP)")
    p.add_argument("--redis", help="Redis URL (default: settings / REDIS_URL)")
    p.add_argument("--topic-prefix", help="prefix of every topic name")
    p.add_argument("--data-dir", help="folder of the worker's table state")
    p.add_argument("--store", help="table store: rocksdb:// (default) or memory://")
    p.add_argument("--metrics-port", type=int, help="port of /metrics, /healthz, /readyz (0 = off)")
    p.add_argument("--app-id", help="consumer group / application id")
    p.add_argument("--rules-config", help="TOML/JSON overrides of rule settings")
    p.add_argument("--loglevel", default="warning")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="json: one object a line")
    p.add_argument("--metrics-host", help="address of /metrics, /healthz, /readyz (default: settings, 127.0.0.1)")
    p.add_argument("--dev", action="store_true", help="a development run: accept the development keys "
                   "(as EXITWATCH_DEV_MODE=1)")
    return p


log = logging.getLogger("exitwatch.worker")


def settings_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from schemas.settings import Settings

    over = {
        "kafka_bootstrap": args.bootstrap, "redis_url": args.redis, "topic_prefix": args.topic_prefix,
        "data_dir": args.data_dir, "store": args.store, "metrics_port": args.metrics_port,
        "app_id": args.app_id, "rules_config": args.rules_config,
        "metrics_host": getattr(args, "metrics_host", None), "dev_mode": True if getattr(args, "dev", False) else None,
    }
    base = Settings()
    return base.model_copy(update={k: v for k, v in over.items() if v is not None})


#: Seconds a worker may take from start to its first partition assignment before it starts over.
STARTUP_WATCHDOG_S = float(os.environ.get("EXITWATCH_STARTUP_WATCHDOG_S", "45"))
#: Starts over at most this many times in a row.
STARTUP_RESTARTS = 3


def start_startup_watchdog(worker: Any) -> None:
    """Start the process over if it has no partition after :data:`STARTUP_WATCHDOG_S`.

    Seen here about once in ten starts on a loaded machine: Faust (0.15) creates the changelog topic and then
    never starts table recovery nor joins the group; a new start works. The process re-executes itself (same
    PID, same arguments), so whoever supervises it notices nothing; a table recovery in progress counts as
    started (partitions are assigned then) and is never interrupted.
    """
    if STARTUP_WATCHDOG_S <= 0:
        return
    restarts = int(os.environ.get("EXITWATCH_STARTUP_RESTARTS", "0"))

    def check() -> None:
        try:
            assigned = bool(worker.app.consumer.assignment())
        except Exception:  # consumer not created yet: not started either
            assigned = False
        if assigned:
            return
        if restarts >= STARTUP_RESTARTS:
            log.error("no partitions assigned %.0f s after start (after %d fresh starts); giving up on starting over",
                      STARTUP_WATCHDOG_S, restarts)
            return
        log.error("no partitions assigned %.0f s after start; starting the worker over", STARTUP_WATCHDOG_S)
        os.environ["EXITWATCH_STARTUP_RESTARTS"] = str(restarts + 1)
        for h in logging.getLogger().handlers:
            h.flush()
        os.execv(sys.executable, [sys.executable, *sys.argv])

    t = threading.Timer(STARTUP_WATCHDOG_S, check)
    t.daemon = True
    t.start()


def run(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "tx") == "tx":
        return run_tx(args)
    return run_faust(args)


def run_tx(args: argparse.Namespace) -> int:
    import signal

    from streams.health import start_health_server
    from streams.observability import JsonFormatter
    from streams.tx.observe import TxObservability
    from streams.tx.worker import TxWorker

    from schemas.secrets import cli_guard

    settings = settings_from(args)
    refused = cli_guard(settings, "exitwatch worker")
    if refused is not None:
        return int(refused)
    logging.getLogger().setLevel(args.loglevel.upper())
    if args.log_format == "json":
        for h in logging.getLogger().handlers:
            h.setFormatter(JsonFormatter())
    from evidence.audit import rules_in_force

    w = TxWorker(settings)
    rules_in_force(settings)  # a changed rule setting goes into the audit trail (issue 17)
    w.observability = TxObservability(w)
    if settings.metrics_port:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        start_health_server(w, settings.metrics_port, settings.metrics_host, token=token)
    signal.signal(signal.SIGTERM, w.stop)
    signal.signal(signal.SIGINT, w.stop)
    w.run()
    return 1 if w.assignment_failed else 0


def run_faust(args: argparse.Namespace) -> int:
    import faust

    from streams.app import create_worker, ensure_topics, quiet_library_logs
    from streams.health import start_health_server
    from streams.observability import setup as setup_observability

    from schemas.secrets import cli_guard

    settings = settings_from(args)
    refused = cli_guard(settings, "exitwatch worker")
    if refused is not None:
        return int(refused)
    logging.getLogger().setLevel(args.loglevel.upper())
    quiet_library_logs(args.loglevel)  # Faust's and aiokafka's own records only at --loglevel debug
    worker_opts = setup_observability(args.log_format, args.loglevel)  # metrics hook, JSON logs
    ensure_topics(settings)
    from evidence.audit import rules_in_force

    rules_in_force(settings)  # a changed rule setting goes into the audit trail (issue 17)
    w = create_worker(settings)
    if settings.metrics_port:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        start_health_server(w, settings.metrics_port, settings.metrics_host, token=token)
    start_startup_watchdog(w)
    faust.Worker(w.app, loglevel=args.loglevel, quiet=True, **worker_opts).execute_from_commandline()
    return 0
