"""``exitwatch worker``: run the streaming worker (enrich, detect, alert sink) until stopped."""

from __future__ import annotations

import argparse
import logging


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("worker", help="run the Faust worker: enrich, detect, alerts", description=__doc__)
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
    return p


def settings_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from schemas.settings import Settings

    over = {
        "kafka_bootstrap": args.bootstrap, "redis_url": args.redis, "topic_prefix": args.topic_prefix,
        "data_dir": args.data_dir, "store": args.store, "metrics_port": args.metrics_port,
        "app_id": args.app_id, "rules_config": args.rules_config,
    }
    base = Settings()
    return base.model_copy(update={k: v for k, v in over.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    import faust

    from streams.app import create_worker
    from streams.health import start_health_server
    from streams.observability import setup as setup_observability

    settings = settings_from(args)
    logging.getLogger().setLevel(args.loglevel.upper())
    worker_opts = setup_observability(args.log_format, args.loglevel)  # metrics hook, JSON logs
    w = create_worker(settings)
    if settings.metrics_port:
        start_health_server(w, settings.metrics_port)
    faust.Worker(w.app, loglevel=args.loglevel, quiet=True, **worker_opts).execute_from_commandline()
    return 0
