"""The small HTTP server behind ``/metrics``, ``/healthz`` and ``/readyz`` of the worker and the connectors.

It listens on loopback unless told otherwise (``EXITWATCH_METRICS_HOST``) and, with a token
(``EXITWATCH_METRICS_TOKEN``), answers 401 to any request without ``Authorization: Bearer <token>``: the
metrics count alerts per department, status and severity, which in a small department names people.

>>> import urllib.request, urllib.error
>>> srv = serve(lambda path: (200, "text/plain", b"ok\\n"), port=0, token="s3cret")
>>> url = f"http://127.0.0.1:{srv.server_address[1]}/metrics"
>>> try:
...     urllib.request.urlopen(url, timeout=5)
... except urllib.error.HTTPError as e:
...     print(e.code, e.headers["WWW-Authenticate"])
401 Bearer realm="exitwatch"
>>> req = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret"})
>>> urllib.request.urlopen(req, timeout=5).read()
b'ok\\n'
>>> srv.shutdown()
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (status, content type, body) for a request path without its query.
Route = Callable[[str], tuple[int, str, bytes]]


def serve(route: Route, port: int, host: str = "127.0.0.1", token: str | None = None,
          name: str = "metrics-http") -> ThreadingHTTPServer:
    """Serve ``route`` on ``host:port`` in a daemon thread (``port=0``: a free port); returns the server."""
    expected = f"Bearer {token}".encode() if token else None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if expected is not None and not hmac.compare_digest(
                    (self.headers.get("Authorization") or "").encode(), expected):
                code, ctype, body = 401, "text/plain", b"401: send Authorization: Bearer <EXITWATCH_METRICS_TOKEN>\n"
            else:
                code, ctype, body = route(self.path.split("?", 1)[0])
            self.send_response(code)
            if code == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="exitwatch"')
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server
