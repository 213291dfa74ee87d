"""``/metrics`` (Prometheus), ``/healthz`` (liveness) and ``/readyz`` (readiness) on one port, in a thread.

* ``/healthz``: 200 while the worker's event loop runs its observability tick (``streams.observability``),
  503 once that heartbeat is older than a minute (a stuck loop); a restart is the remedy.
* ``/readyz``: 200 once the consumer has partitions of the worker's topics assigned, no rebalance is under
  way and table recovery is done; 503 before. The body is JSON with those facts either way.
* ``/metrics``: the process's Prometheus registry.

``port=0`` picks a free port (``server.server_address[1]``).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def start_health_server(worker: Any, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve the three endpoints for ``worker`` in a daemon thread; returns the server (``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, ctype, code = generate_latest(REGISTRY), CONTENT_TYPE_LATEST, 200
            elif path == "/healthz":
                ok, detail = alive(worker)
                body, ctype, code = orjson.dumps({"alive": ok, **detail}), "application/json", 200 if ok else 503
            elif path == "/readyz":
                detail = ready(worker)
                body, ctype, code = orjson.dumps(detail), "application/json", 200 if detail["ready"] else 503
            else:
                body, ctype, code = b"not found\n", "text/plain", 404
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


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
