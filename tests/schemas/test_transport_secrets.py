"""Transport settings, the refusal of the development keys, and the metrics endpoints' binding and token
(issue 17). The same settings against a real TLS broker and Redis: tests/integration/test_tls.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from schemas.secrets import InsecureKeyError, require_keys
from schemas.settings import Settings
from schemas.transport import (OIDCTokenProvider, TransportConfigError, faust_broker_options, kafka_config,
                               redis_kwargs, security_protocol)

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"pseudonym_key": "p" * 43, "data_key": "d" * 43}


def prod(**kw: Any) -> Settings:
    """Settings of a production run (not development mode, own keys) plus ``kw``."""
    return Settings(dev_mode=False, **{**GOOD, **kw})


# ---------------------------------------------------------------------------------------------- Kafka
def test_plaintext_by_default_and_bootstrap_override() -> None:
    assert kafka_config(prod(kafka_bootstrap="a:1")) == {"bootstrap.servers": "a:1"}
    c = kafka_config(prod(kafka_bootstrap="a:1", kafka_ssl_cafile="/ca.pem"), bootstrap="b:2", **{"group.id": "g"})
    assert c["bootstrap.servers"] == "b:2" and c["security.protocol"] == "SSL" and c["group.id"] == "g"


def test_tls_settings_map_to_librdkafka() -> None:
    s = prod(kafka_ssl_cafile="/ca.pem", kafka_ssl_certfile="/c.pem", kafka_ssl_keyfile="/k.pem",
             kafka_ssl_key_password="kp", kafka_ssl_check_hostname=False)
    c = kafka_config(s)
    # the bootstrap comes from the environment when KAFKA_BOOTSTRAP is set (CI: another port)
    assert c == {"bootstrap.servers": s.kafka_bootstrap, "security.protocol": "SSL", "ssl.ca.location": "/ca.pem",
                 "ssl.certificate.location": "/c.pem", "ssl.key.location": "/k.pem", "ssl.key.password": "kp",
                 "ssl.endpoint.identification.algorithm": "none"}


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "scram-sha-512"])
def test_sasl_goes_over_tls_unless_plaintext_is_named(mech: str) -> None:
    s = prod(kafka_sasl_mechanism=mech, kafka_sasl_username="u", kafka_sasl_password="pw")
    c = kafka_config(s)
    assert (c["security.protocol"], c["sasl.mechanism"], c["sasl.username"], c["sasl.password"]) == \
        ("SASL_SSL", mech.upper(), "u", "pw")
    assert c["ssl.endpoint.identification.algorithm"] == "https"
    plain = kafka_config(s.model_copy(update={"kafka_security_protocol": "SASL_PLAINTEXT"}))
    assert plain["security.protocol"] == "SASL_PLAINTEXT" and "ssl.endpoint.identification.algorithm" not in plain


def test_oauthbearer_uses_librdkafka_oidc() -> None:
    s = prod(kafka_sasl_mechanism="OAUTHBEARER", kafka_oauth_token_url="https://idp/token",
             kafka_oauth_client_id="cid", kafka_oauth_client_secret="cs", kafka_oauth_scope="kafka")
    c = kafka_config(s)
    assert c["sasl.oauthbearer.method"] == "oidc" and c["sasl.oauthbearer.client.secret"] == "cs"
    assert c["sasl.oauthbearer.token.endpoint.url"] == "https://idp/token" and c["sasl.oauthbearer.scope"] == "kafka"
    assert "sasl.password" not in c


@pytest.mark.parametrize("kw, says", [
    ({"kafka_security_protocol": "TLS"}, "EXITWATCH_KAFKA_SECURITY_PROTOCOL"),
    ({"kafka_security_protocol": "SASL_SSL"}, "EXITWATCH_KAFKA_SASL_MECHANISM"),
    ({"kafka_sasl_mechanism": "GSSAPI", "kafka_sasl_username": "u", "kafka_sasl_password": "p"}, "GSSAPI"),
    ({"kafka_sasl_mechanism": "SCRAM-SHA-256", "kafka_sasl_username": "u"}, "EXITWATCH_KAFKA_SASL_PASSWORD"),
    ({"kafka_sasl_mechanism": "OAUTHBEARER"}, "EXITWATCH_KAFKA_OAUTH_TOKEN_URL"),
])
def test_settings_that_do_not_fit_name_the_setting(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(TransportConfigError, match=says):
        kafka_config(prod(**kw))


def test_faust_gets_the_same_security(tmp_path: Path) -> None:
    import faust
    from faust.auth import OAuthCredentials
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    assert faust_broker_options(prod()) == {}
    ca = _ca_file(tmp_path)
    ssl_opts = faust_broker_options(prod(kafka_ssl_cafile=str(ca)))
    assert isinstance(ssl_opts["broker_credentials"], faust.SSLCredentials)
    auth = credentials_to_aiokafka_auth(faust_broker_options(prod(
        kafka_ssl_cafile=str(ca), kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="u",
        kafka_sasl_password="pw"))["broker_credentials"])
    assert (auth["security_protocol"], auth["sasl_mechanism"], auth["sasl_plain_username"],
            auth["sasl_plain_password"]) == ("SASL_SSL", "SCRAM-SHA-512", "u", "pw")
    assert auth["ssl_context"].check_hostname
    oauth = faust_broker_options(prod(kafka_sasl_mechanism="OAUTHBEARER", kafka_oauth_token_url="http://x/t",
                                      kafka_oauth_client_id="c", kafka_oauth_client_secret="s"))
    assert isinstance(oauth["broker_credentials"], OAuthCredentials)


def _ca_file(tmp_path: Path) -> Path:
    """A throwaway self-signed CA certificate (an SSL context needs a readable one)."""
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    try:
        from test_tls import make_certs
    finally:
        sys.path.pop(0)
    return make_certs(tmp_path)["ca"]


def test_oidc_token_provider_fetches_and_reuses_tokens() -> None:
    """aiokafka's OAUTHBEARER token comes from the client-credentials grant, cached until near its expiry."""
    import asyncio

    seen: list[tuple[str | None, bytes]] = []

    class Idp(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            seen.append((self.headers.get("Authorization"), self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"access_token": f"tok{len(seen)}", "expires_in": 3600}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Idp)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        p = OIDCTokenProvider(prod(kafka_oauth_token_url=f"http://127.0.0.1:{srv.server_address[1]}/token",
                                   kafka_oauth_client_id="cid", kafka_oauth_client_secret="sec", kafka_oauth_scope="k"))

        async def two() -> tuple[str, str]:
            return await p.token(), await p.token()

        assert asyncio.run(two()) == ("tok1", "tok1")
    finally:
        srv.shutdown()
    assert len(seen) == 1
    assert seen[0][0] == "Basic Y2lkOnNlYw=="  # cid:sec
    assert b"grant_type=client_credentials" in seen[0][1] and b"scope=k" in seen[0][1]


# ---------------------------------------------------------------------------------------------- Redis
def test_redis_auth_and_tls_keywords() -> None:
    assert redis_kwargs(prod()) == {}
    assert redis_kwargs(prod(redis_username="w", redis_password="pw")) == {"username": "w", "password": "pw"}
    kw = redis_kwargs(prod(redis_url="rediss://r:6380/0", redis_ssl_cafile="/ca", redis_ssl_certfile="/c",
                           redis_ssl_keyfile="/k", redis_ssl_check_hostname=False))
    assert kw == {"ssl_ca_certs": "/ca", "ssl_certfile": "/c", "ssl_keyfile": "/k", "ssl_check_hostname": False}
    with pytest.raises(TransportConfigError, match="rediss://"):
        redis_kwargs(prod(redis_ssl_cafile="/ca"))  # TLS files with a redis:// URL would silently not be used
    import redis

    # redis-py takes every keyword (a typo would only show when connecting)
    redis.Redis.from_url("rediss://127.0.0.1:1/0", **redis_kwargs(prod(redis_url="rediss://127.0.0.1:1/0",
                                                                         redis_password="x", redis_ssl_cafile="/ca")))


def test_protocol_derivation() -> None:
    assert security_protocol(prod()) == "PLAINTEXT"
    assert security_protocol(prod(kafka_ssl_certfile="/c")) == "SSL"
    assert security_protocol(prod(kafka_security_protocol="ssl")) == "SSL"


# ---------------------------------------------------------------------------------------------- keys
def test_development_keys_refused_outside_development_mode() -> None:
    with pytest.raises(InsecureKeyError) as e:
        require_keys(Settings(dev_mode=False), "exitwatch worker")
    msg = str(e.value)
    assert "EXITWATCH_PSEUDONYM_KEY is the development key" in msg and "EXITWATCH_DATA_KEY" in msg
    assert "EXITWATCH_DEV_MODE=1" in msg and "secrets.token_urlsafe(32)" in msg
    with pytest.raises(InsecureKeyError, match="EXITWATCH_DATA_KEY is the development key"):
        require_keys(Settings(dev_mode=False, pseudonym_key="p" * 43), "w")
    with pytest.raises(InsecureKeyError, match="shorter than 16"):
        require_keys(Settings(dev_mode=False, pseudonym_key="short", data_key="d" * 43), "w")
    require_keys(prod(), "w")  # own keys: accepted
    require_keys(Settings(dev_mode=True), "w")  # declared development run: accepted


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k not in ("EXITWATCH_PSEUDONYM_KEY", "EXITWATCH_DATA_KEY")}
    e.update({"PYTHONPATH": str(ROOT), "EXITWATCH_DEV_MODE": "0", "KAFKA_BOOTSTRAP": "127.0.0.1:1", **env})
    return subprocess.run([sys.executable, "-m", "exitwatch.cli", *args], cwd=ROOT, env=e, capture_output=True,
                          text=True, timeout=120)


def test_worker_and_connector_refuse_the_development_key(tmp_path: Path) -> None:
    """Refused before touching the broker (KAFKA_BOOTSTRAP points nowhere), exit status 2, what to set."""
    w = _cli("worker", "--store", "memory://", "--data-dir", str(tmp_path / "w"))
    assert w.returncode == 2, w.stderr
    assert "exitwatch worker: EXITWATCH_PSEUDONYM_KEY is the development key" in w.stderr
    assert "EXITWATCH_DEV_MODE=1" in w.stderr and "--dev" in w.stderr
    events = tmp_path / "e.jsonl"
    events.write_text("")
    c = _cli("connect", "synthetic", str(events))
    assert c.returncode == 2 and "exitwatch connect: EXITWATCH_PSEUDONYM_KEY" in c.stderr, c.stderr
    # an offline run to a file holds no key: accepted
    f = _cli("connect", "synthetic", str(events), "--to-file", str(tmp_path / "out.jsonl"))
    assert f.returncode == 0, f.stderr
    # the batch driver too
    b = subprocess.run([sys.executable, "-m", "streams.batch", "--idle-exit", "1"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "EXITWATCH_DEV_MODE": "0",
                                                    "KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    assert b.returncode == 2 and "EXITWATCH_DEV_MODE=1" in b.stderr, b.stderr


def test_replay_warns_but_runs(tmp_path: Path) -> None:
    (tmp_path / "hr.jsonl").write_text("")
    (tmp_path / "e.jsonl").write_text("")
    r = _cli("replay", "--hr", str(tmp_path / "hr.jsonl"), "--events", str(tmp_path / "e.jsonl"),
             "--alerts", str(tmp_path / "a.jsonl"))
    assert r.returncode == 0, r.stderr
    assert "replay: warning: EXITWATCH_PSEUDONYM_KEY is the development key" in r.stderr


def test_create_worker_refuses_too() -> None:
    from streams.app import create_worker

    with pytest.raises(InsecureKeyError):
        create_worker(Settings(dev_mode=False, store="memory://"))


def test_worker_dev_flag_declares_development_mode() -> None:
    import argparse

    from streams.cli import register, settings_from

    sub = argparse.ArgumentParser().add_subparsers()
    p = register(sub)
    old = os.environ.pop("EXITWATCH_DEV_MODE", None)
    try:
        assert settings_from(p.parse_args(["--dev"])).dev_mode is True
        assert settings_from(p.parse_args([])).dev_mode is False
    finally:
        if old is not None:
            os.environ["EXITWATCH_DEV_MODE"] = old


# ---------------------------------------------------------------------------------------------- metrics
def _get(url: str, token: str | None = None) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_worker_endpoints_on_loopback_with_optional_token() -> None:
    from streams.health import start_health_server

    class W:  # no observability hook: alive while the process is; readiness from the app
        observability = None

    srv = start_health_server(W(), 0)
    try:
        assert srv.server_address[0] == "127.0.0.1"  # the default: loopback
        assert _get(f"http://127.0.0.1:{srv.server_address[1]}/metrics") == 200
    finally:
        srv.shutdown()
    srv = start_health_server(W(), 0, token="t0ken")
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        for path in ("/metrics", "/healthz", "/readyz"):
            assert _get(base + path) == 401
            assert _get(base + path, "nope") == 401
        assert _get(base + "/metrics", "t0ken") == 200
        assert _get(base + "/healthz", "t0ken") == 200
    finally:
        srv.shutdown()
    assert Settings().metrics_host == "127.0.0.1"


def test_connector_metrics_on_loopback_with_optional_token() -> None:
    from connectors.metrics import serve

    srv = serve(0, token="abc")
    try:
        assert srv.server_address[0] == "127.0.0.1"
        url = f"http://127.0.0.1:{srv.server_address[1]}/metrics"
        assert _get(url) == 401 and _get(url, "abc") == 200
    finally:
        srv.shutdown()


# ---------------------------------------------------------------------------------------------- one place
def test_every_client_takes_its_config_from_schemas_transport() -> None:
    """No Kafka client config is built by hand, and every module that opens Redis applies redis_kwargs, so a
    TLS/SASL/AUTH setting holds for every client (a new client that forgets it fails here)."""
    import re

    kafka_dict = re.compile(r"""["']bootstrap\.servers["']\s*:""")
    redis_open = re.compile(r"""\bfrom_url\(|\bredis\.Redis\(|\bStrictRedis\(""")
    offenders = []
    for pkg in ("connectors", "streams", "exitwatch", "detectors"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            text = path.read_text()
            rel = path.relative_to(ROOT)
            if kafka_dict.search(text):
                offenders.append(f"{rel}: builds a Kafka config by hand; use schemas.transport.kafka_config()")
            if redis_open.search(text) and "redis_kwargs" not in text:
                offenders.append(f"{rel}: opens Redis without schemas.transport.redis_kwargs()")
    assert not offenders, "\n".join(offenders)
