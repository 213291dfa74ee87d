"""``/metrics`` (Prometheus), ``/healthz`` (liveness) and ``/readyz`` (readiness) on one port, in a thread.

* ``/healthz``: 200 while the worker's event loop runs its observability tick (``streams.observability``),
  503 once that heartbeat is older than a minute (a stuck loop); a restart is the remedy.
* ``/readyz``: 200 once the consumer has partitions of the worker's topics assigned, no rebalance is under
  way and table recovery is done; 503 before. The body is JSON with those facts either way.
* ``/metrics``: the process's Prometheus registry.

They listen on 127.0.0.1 unless ``host`` says otherwise, and with a ``token`` answer 401 to a request
without ``Authorization: Bearer <token>`` (:mod:`schemas.http`). ``port=0`` picks a free port (``server.server_address[1]``).
"""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from schemas.http import serve


def start_health_server(worker: Any, port: int, host: str = "127.0.0.1",
                        token: str | None = None) -> ThreadingHTTPServer:
    """Serve the three endpoints for ``worker`` in a daemon thread; returns the server (``shutdown()`` stops it).

    ``host``: loopback by default (``EXITWATCH_METRICS_HOST``); ``token``: when set, every request needs
    ``Authorization: Bearer <token>`` and gets 401 without it (``EXITWATCH_METRICS_TOKEN``)."""

    def route(path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        if path == "/healthz":
            ok, detail = alive(worker)
            return 200 if ok else 503, "application/json", orjson.dumps({"alive": ok, **detail})
        if path == "/readyz":
            detail = ready(worker)
            return 200 if detail["ready"] else 503, "application/json", orjson.dumps(detail)
        return 404, "text/plain", b"not found\n"

    return serve(route, port, host, token, name="health")


def alive(worker: Any) -> tuple[bool, dict[str, Any]]:
    """Liveness from the observability heartbeat; without the hook installed, alive while the process is."""
    obs = getattr(worker, "observability", None)
    if obs is None:
        return True, {"heartbeat": None}
    return obs.alive()


def ready(worker: Any) -> dict[str, Any]:
    """Readiness with its facts: ``ready``, ``partitions``, ``rebalancing``, ``recovery_done``."""
    from streams.observability import readiness

    obs = getattr(worker, "observability", None)
    if obs is not None:
        return obs.readiness()
    return readiness(worker.app)


def _ready(worker: Any) -> bool:
    """Kept for callers of the first version: readiness as a boolean."""
    return bool(ready(worker)["ready"])
