"""Client settings for Kafka and Redis, built in one place from :class:`schemas.settings.Settings`.

Every Kafka client of exitwatch (connectors, the workers, the CLI tools) takes its base configuration from
:func:`kafka_config`, and every Redis client its connection from :func:`redis_kwargs`, so transport security
(TLS, SASL, Redis AUTH) is set once, in the settings, and holds everywhere.

>>> from schemas.settings import Settings
>>> kafka_config(Settings(kafka_bootstrap="127.0.0.1:9999"), **{"group.id": "g"})
{'bootstrap.servers': '127.0.0.1:9999', 'group.id': 'g'}
"""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings


def kafka_config(settings: Settings | None = None, **overrides: Any) -> dict[str, Any]:
    """Base confluent-kafka configuration (bootstrap servers and transport security), plus ``overrides``."""
    s = settings or Settings()
    conf: dict[str, Any] = {"bootstrap.servers": s.kafka_bootstrap}
    conf.update(overrides)
    return conf


def redis_kwargs(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis.from_url`` / ``redis.asyncio.from_url`` beyond the URL."""
    return {}
