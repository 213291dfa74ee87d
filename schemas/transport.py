"""Client settings for Kafka and Redis, built in one place from :class:`schemas.settings.Settings`.

Every Kafka client of exitwatch (connectors, the workers, the CLI tools) takes its base configuration from
:func:`kafka_config`, the Faust worker from :func:`faust_broker_options`, and every Redis client its
connection from :func:`redis_kwargs`, so transport security (TLS, SASL, Redis AUTH and TLS) is set once, in
the settings, and holds everywhere.

>>> from schemas.settings import Settings
>>> kafka_config(Settings(kafka_bootstrap="127.0.0.1:9999"), **{"group.id": "g"})
{'bootstrap.servers': '127.0.0.1:9999', 'group.id': 'g'}

TLS is on when a CA or client certificate is named (or the protocol says so); SASL when a mechanism is
named, over TLS unless ``SASL_PLAINTEXT`` is asked for explicitly:

>>> s = Settings(kafka_bootstrap="k:9093", kafka_ssl_cafile="/etc/ca.pem", kafka_sasl_mechanism="SCRAM-SHA-512",
...              kafka_sasl_username="worker", kafka_sasl_password="pw")
>>> c = kafka_config(s)
>>> c["security.protocol"], c["sasl.mechanism"], c["ssl.ca.location"], c["sasl.username"]
('SASL_SSL', 'SCRAM-SHA-512', '/etc/ca.pem', 'worker')
>>> redis_kwargs(Settings(redis_url="rediss://r:6380/0", redis_password="pw", redis_ssl_cafile="/etc/ca.pem"))
{'password': 'pw', 'ssl_ca_certs': '/etc/ca.pem'}
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.parse
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from schemas.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


class TransportConfigError(ValueError):
    """Transport settings that do not fit together; the message says which setting to change."""


def security_protocol(s: Settings) -> str:
    """``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``: the setting, else derived from the others."""
    explicit = (s.kafka_security_protocol or "").strip().upper()
    mech = (s.kafka_sasl_mechanism or "").strip().upper()
    if explicit:
        if explicit not in PROTOCOLS:
            raise TransportConfigError(f"EXITWATCH_KAFKA_SECURITY_PROTOCOL={explicit!r} is not one of "
                                       f"{', '.join(PROTOCOLS)}")
        if explicit.startswith("SASL") and not mech:
            raise TransportConfigError(f"EXITWATCH_KAFKA_SECURITY_PROTOCOL={explicit} needs "
                                       f"EXITWATCH_KAFKA_SASL_MECHANISM (one of {', '.join(MECHANISMS)})")
        return explicit
    if mech:
        return "SASL_SSL"  # a password never goes out in clear unless SASL_PLAINTEXT is asked for by name
    if s.kafka_ssl_cafile or s.kafka_ssl_certfile:
        return "SSL"
    return "PLAINTEXT"


def _mechanism(s: Settings) -> str:
    mech = (s.kafka_sasl_mechanism or "").strip().upper()
    if mech not in MECHANISMS:
        raise TransportConfigError(f"EXITWATCH_KAFKA_SASL_MECHANISM={s.kafka_sasl_mechanism!r} is not one of "
                                   f"{', '.join(MECHANISMS)}")
    if mech == "OAUTHBEARER":
        missing = [n for n, v in (("EXITWATCH_KAFKA_OAUTH_TOKEN_URL", s.kafka_oauth_token_url),
                                  ("EXITWATCH_KAFKA_OAUTH_CLIENT_ID", s.kafka_oauth_client_id),
                                  ("EXITWATCH_KAFKA_OAUTH_CLIENT_SECRET", s.kafka_oauth_client_secret)) if not v]
        if missing:
            raise TransportConfigError(f"EXITWATCH_KAFKA_SASL_MECHANISM=OAUTHBEARER needs {', '.join(missing)} "
                                       "(OIDC client credentials)")
    elif not (s.kafka_sasl_username and s.kafka_sasl_password):
        raise TransportConfigError(f"EXITWATCH_KAFKA_SASL_MECHANISM={mech} needs EXITWATCH_KAFKA_SASL_USERNAME and "
                                   "EXITWATCH_KAFKA_SASL_PASSWORD")
    return mech


def _secret(v: Any) -> str | None:
    """The value of a secret setting (a plain string too: ``model_copy(update=...)`` does not validate)."""
    return v if v is None or isinstance(v, str) else v.get_secret_value()


def kafka_config(settings: Settings | None = None, bootstrap: Any = None, **overrides: Any) -> dict[str, Any]:
    """Base confluent-kafka configuration (bootstrap servers and transport security), plus ``overrides``.

    ``bootstrap`` (a ``--bootstrap`` argument) replaces the settings' servers; the security settings stay."""
    s = settings or Settings()
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap or s.kafka_bootstrap}
    proto = security_protocol(s)
    if proto != "PLAINTEXT":
        conf["security.protocol"] = proto
    if proto in ("SSL", "SASL_SSL"):
        for key, value in (("ssl.ca.location", s.kafka_ssl_cafile), ("ssl.certificate.location", s.kafka_ssl_certfile),
                           ("ssl.key.location", s.kafka_ssl_keyfile),
                           ("ssl.key.password", _secret(s.kafka_ssl_key_password))):
            if value:
                conf[key] = value
        conf["ssl.endpoint.identification.algorithm"] = "https" if s.kafka_ssl_check_hostname else "none"
    if proto.startswith("SASL"):
        mech = _mechanism(s)
        conf["sasl.mechanism"] = mech
        if mech == "OAUTHBEARER":
            conf.update({"sasl.oauthbearer.method": "oidc",
                         "sasl.oauthbearer.token.endpoint.url": s.kafka_oauth_token_url,
                         "sasl.oauthbearer.client.id": s.kafka_oauth_client_id,
                         "sasl.oauthbearer.client.secret": _secret(s.kafka_oauth_client_secret)})
            if s.kafka_oauth_scope:
                conf["sasl.oauthbearer.scope"] = s.kafka_oauth_scope
        else:
            conf["sasl.username"] = s.kafka_sasl_username
            conf["sasl.password"] = _secret(s.kafka_sasl_password)
    conf.update(overrides)
    return conf


# ---------------------------------------------------------------------------------------------- Faust/aiokafka
def kafka_ssl_context(s: Settings) -> ssl.SSLContext:
    """The TLS context of the Python (aiokafka) clients, from the same settings as :func:`kafka_config`."""
    ctx = ssl.create_default_context(cafile=s.kafka_ssl_cafile) if s.kafka_ssl_cafile \
        else ssl.create_default_context()
    if s.kafka_ssl_certfile:
        ctx.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile, _secret(s.kafka_ssl_key_password))
    if not s.kafka_ssl_check_hostname:
        ctx.check_hostname = False
    return ctx


class OIDCTokenProvider:
    """OAUTHBEARER tokens for aiokafka by the OIDC client-credentials grant (what librdkafka's ``oidc`` does).

    A token is fetched from ``EXITWATCH_KAFKA_OAUTH_TOKEN_URL`` and reused until a minute before it expires.
    """

    def __init__(self, s: Settings) -> None:
        self.url = s.kafka_oauth_token_url or ""
        self.client_id = s.kafka_oauth_client_id or ""
        self.client_secret = _secret(s.kafka_oauth_client_secret) or ""
        self.scope = s.kafka_oauth_scope
        self._token: str | None = None
        self._expires = 0.0

    def fetch(self) -> tuple[str, float]:
        """One token request (blocking): the access token and its lifetime in seconds."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        req = urllib.request.Request(self.url, data=urllib.parse.urlencode(form).encode(), method="POST")
        import base64

        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        req.add_header("Authorization", f"Basic {basic}")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - the operator's token endpoint
            body = json.loads(resp.read())
        if "access_token" not in body:
            raise TransportConfigError(f"token endpoint {self.url} answered without access_token")
        return str(body["access_token"]), float(body.get("expires_in", 300))

    async def token(self) -> str:
        if self._token is None or time.time() > self._expires - 60:
            tok, life = await asyncio.get_running_loop().run_in_executor(None, self.fetch)
            self._token, self._expires = tok, time.time() + life
        return self._token

    def extensions(self) -> dict[str, str]:  # aiokafka's AbstractTokenProvider interface
        return {}


def faust_broker_options(settings: Settings | None = None) -> dict[str, Any]:
    """``faust.App`` options for the same transport security: ``broker_credentials`` (SSL/SASL) or nothing."""
    import faust

    s = settings or Settings()
    proto = security_protocol(s)
    if proto == "PLAINTEXT":
        return {}
    ctx = kafka_ssl_context(s) if proto in ("SSL", "SASL_SSL") else None
    if proto == "SSL":
        assert ctx is not None
        return {"broker_credentials": faust.SSLCredentials(ctx)}
    mech = _mechanism(s)
    if mech == "OAUTHBEARER":
        from aiokafka.abc import AbstractTokenProvider
        from faust.auth import OAuthCredentials

        class _Provider(OIDCTokenProvider, AbstractTokenProvider):
            pass

        return {"broker_credentials": OAuthCredentials(oauth_cb=_Provider(s), ssl_context=ctx)}
    creds = faust.SASLCredentials(username=s.kafka_sasl_username, password=_secret(s.kafka_sasl_password),
                                  ssl_context=ctx, mechanism=mech)
    return {"broker_credentials": creds}


# ---------------------------------------------------------------------------------------------- Redis
def redis_kwargs(settings: Settings | None = None, url: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis.from_url`` / ``redis.asyncio.from_url`` beyond the URL.

    ``url`` (default: ``settings.redis_url``) decides whether TLS applies: TLS settings need ``rediss://``.
    A user name or password in the URL itself wins over the settings (redis-py's rule).
    """
    s = settings or Settings()
    url = url or s.redis_url
    out: dict[str, Any] = {}
    if s.redis_username:
        out["username"] = s.redis_username
    if s.redis_password is not None:
        out["password"] = _secret(s.redis_password)
    tls = urlsplit(url).scheme == "rediss"
    tls_files = (s.redis_ssl_cafile, s.redis_ssl_certfile, s.redis_ssl_keyfile)
    if any(tls_files) and not tls:
        raise TransportConfigError(f"Redis TLS files are set (EXITWATCH_REDIS_SSL_*) but the Redis URL {url!r} is "
                                   "not rediss://: write rediss://host:port/db in EXITWATCH_REDIS_URL")
    if tls:
        for key, value in (("ssl_ca_certs", s.redis_ssl_cafile), ("ssl_certfile", s.redis_ssl_certfile),
                           ("ssl_keyfile", s.redis_ssl_keyfile)):
            if value:
                out[key] = value
        if not s.redis_ssl_check_hostname:
            out["ssl_check_hostname"] = False
    return out


def redis_client(settings: Settings | None = None, url: str | None = None, **extra: Any) -> Any:
    """A synchronous ``redis.Redis`` for ``url`` (default: the settings') with AUTH and TLS applied."""
    import redis

    s = settings or Settings()
    return redis.Redis.from_url(url or s.redis_url, **{**redis_kwargs(s, url), **extra})
