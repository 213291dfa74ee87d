"""``/metrics`` (Prometheus), ``/healthz`` (liveness) and ``/readyz`` (readiness) on one port, in a thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def start_health_server(worker: Any, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/metrics"):
                body, ctype, code = generate_latest(), CONTENT_TYPE_LATEST, 200
            elif self.path.startswith("/healthz"):
                body, ctype, code = b"ok\n", "text/plain", 200
            elif self.path.startswith("/readyz"):
                ready = _ready(worker)
                body, ctype, code = (b"ready\n" if ready else b"not ready\n"), "text/plain", 200 if ready else 503
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


def _ready(worker: Any) -> bool:
    """Ready once the app has its partitions assigned and table recovery is done."""
    app = worker.app
    try:
        return bool(app.consumer.assignment()) and not app.rebalancing and bool(getattr(app.tables, "recovery", None)
                                                                                and app.tables.recovery.completed.is_set())
    except Exception:
        return False
