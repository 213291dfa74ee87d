"""What both workers share (the default transactional one, :mod:`streams.tx`, and the Faust one,
:mod:`streams.app`): the internal topic and header names, the partitioner, the largest message, the
``alerts.secops`` form. Nothing here imports Faust, so the default worker never loads it (nor aiohttp):
about 18 MB of its resident memory (reports/benchmarks/s11-mem/README.md)."""

from __future__ import annotations

from typing import Any

from aiokafka.partitioner import murmur2  # (the partitioner alone: aiokafka's clients stay unloaded)

from detectors.engine import Engine
from evidence.privacy import secops_view as _secops_view
from schemas import Alert
from streams import metrics

#: Largest message the worker accepts; larger ones are dead-lettered.
MAX_MESSAGE_BYTES = 1 << 20
#: Seconds between reloads of the whole HR population from Redis (k-anonymity of alerts.secops).
POPULATION_REFRESH_S = 300.0
#: Internal topic (after the prefix) of events the enrich agent hands to the detect agent under the employee's key.
REKEY_TOPIC = "exitwatch.activity.rekeyed"
#: Kafka header of an enriched event naming its source record: ``<topic>|<partition>|<offset>``.
SRC_HEADER = "x-exitwatch-src"


def src_header(topic: str, partition: int, offset: int) -> str:
    return f"{topic}|{partition}|{offset}"


def secops_view(alert: Alert, key: bytes, population: Any = None) -> dict[str, Any]:
    """The ``alerts.secops`` form (:func:`evidence.privacy.secops_view`): keyed pseudonym, alert id and evidence
    references; HR fields k-anonymous over ``population`` (dropped without one)."""
    return _secops_view(alert, key, population)


def count_errors(engine: Engine, before: dict[str, int]) -> None:
    """Rule and model failures the engine contained since ``before``, to the metrics."""
    for rid, n in engine.stats.errors.items():
        if n != before.get(rid, 0):
            metrics.DETECTOR_ERRORS.labels(rid).inc(n - before.get(rid, 0))


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the connectors and Faust use) gives ``key``.

    >>> partition_of(b"E1", 4) == partition_of(b"E1", 4) < 4
    True
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions
