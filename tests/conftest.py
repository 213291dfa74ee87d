"""Shared test fixtures: where the real Kafka broker and Redis are, and unique topic names.

Integration tests (tier 3 in DESIGN.md) talk to a real broker and Redis found through the environment:

    KAFKA_BOOTSTRAP=127.0.0.1:9092  REDIS_URL=redis://127.0.0.1:6379/0

``ops/services.sh up`` starts both locally and prints those exports; ``.ci/run`` starts its own and sets them
with ``CI=true``. When a variable is missing, a test that needs it is skipped, except in CI, where it fails:
CI must never pass by skipping the integration tier. When a variable is set but the service does not
answer, the test fails.

Fixtures (keep this list short; anything rule- or agent-specific belongs in that area's own conftest):

* ``kafka_bootstrap`` (session): the bootstrap servers string, checked with one metadata request.
* ``redis_url`` (session): the Redis URL, checked with PING.
* ``unique_prefix`` (function): a topic prefix unique to the test, ``t<8 hex>.``, to put in front of the
  contract's topic names (``unique_prefix + "activity.file"``) so tests never share a topic or group.
* ``kafka_admin`` (session): a :class:`KafkaAdmin` whose ``create_topics`` creates topics and waits until
  the broker serves them; topics it made are deleted at the end of the session.

Every test under ``tests/integration/`` is marked ``integration`` automatically, so
``pytest -m "not integration"`` runs the fast tiers alone; mark integration tests elsewhere by hand.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The tests run generated companies with the development keys: declare a development run (schemas/secrets.py),
# for this process and every worker or connector a test starts. Tests of the refusal set dev_mode=False.
os.environ.setdefault("EXITWATCH_DEV_MODE", "1")

_INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration/ with ``integration``."""
    for item in items:
        if _INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.integration)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    hint = f"{name} is not set (start the services with `eval \"$(ops/services.sh up)\"`)"
    if _in_ci():
        pytest.fail(f"{hint}; in CI a missing service is a failure, not a skip", pytrace=False)
    pytest.skip(hint)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of the real Kafka broker, from ``KAFKA_BOOTSTRAP``."""
    bootstrap = _required_env("KAFKA_BOOTSTRAP")
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=15)
    except Exception as exc:  # KafkaException: broker down or wrong address
        pytest.fail(f"KAFKA_BOOTSTRAP={bootstrap} does not answer: {exc}", pytrace=False)
    if not metadata.brokers:
        pytest.fail(f"KAFKA_BOOTSTRAP={bootstrap} reports no brokers", pytrace=False)
    return bootstrap


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis, from ``REDIS_URL``."""
    url = _required_env("REDIS_URL")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={url} does not answer PING: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def unique_prefix() -> str:
    """A topic (and consumer group) prefix unique to this test, like ``t1a2b3c4d.``."""
    return f"t{uuid.uuid4().hex[:8]}."


class KafkaAdmin:
    """A confluent-kafka ``AdminClient`` (``.client``) with a topic helper that waits for the broker."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.client = AdminClient({"bootstrap.servers": bootstrap})
        self.created: list[str] = []

    def create_topics(
        self,
        names: Iterable[str],
        partitions: int = 1,
        config: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> list[str]:
        """Create the topics (an existing one is fine) and return their names once metadata lists them.

        ``config`` is topic configuration, e.g. ``{"cleanup.policy": "compact"}`` for ``hr.status``.
        """
        from confluent_kafka import KafkaError
        from confluent_kafka.admin import NewTopic

        names = list(names)
        new = [NewTopic(n, num_partitions=partitions, replication_factor=1, config=dict(config or {})) for n in names]
        for name, future in self.client.create_topics(new, operation_timeout=timeout).items():
            try:
                future.result(timeout=timeout)
                self.created.append(name)
            except Exception as exc:
                err: Any = exc.args[0] if exc.args else None
                if getattr(err, "code", lambda: None)() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        deadline = time.monotonic() + timeout
        while True:
            topics = self.client.list_topics(timeout=timeout).topics
            ready = [n for n in names if n in topics and topics[n].error is None and topics[n].partitions]
            if len(ready) == len(names):
                return names
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not ready after {timeout} s: {sorted(set(names) - set(ready))}")
            time.sleep(0.1)

    def delete_created(self) -> None:
        """Delete the topics this helper created (best effort)."""
        if self.created:
            for future in self.client.delete_topics(self.created, operation_timeout=30).values():
                try:
                    future.result(timeout=30)
                except Exception:
                    pass
            self.created.clear()


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> Iterator[KafkaAdmin]:
    """Creates topics on the real broker: ``kafka_admin.create_topics([unique_prefix + "alerts.hr"], 4)``."""
    admin = KafkaAdmin(kafka_bootstrap)
    yield admin
    admin.delete_created()
