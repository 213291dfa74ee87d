"""Topic names and identities of the transactional worker, and the topics it needs created.

>>> changelog_topic("acme.", "exitwatch")
'acme.exitwatch.tx.state-changelog'
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from schemas.settings import Settings
from schemas.topics import topic_names
from schemas.transport import kafka_config

log = logging.getLogger("exitwatch.tx.topics")


def instance_id(app_id: str, data_dir: str) -> str:
    """Stable per worker instance (host and state folder): the group instance id and the transactional id,
    so that a restarted instance takes its partitions back at once and fences the process it replaces.

    >>> instance_id("exitwatch", "/srv/a") == instance_id("exitwatch", "/srv/a/")
    True
    """
    key = f"{os.uname().nodename}:{os.path.realpath(data_dir)}"
    return f"{app_id}-tx-{hashlib.blake2s(key.encode(), digest_size=6).hexdigest()}"


def changelog_topic(prefix: str, app_id: str) -> str:
    """The compacted topic of the per-employee states.

    >>> changelog_topic("acme.", "exitwatch")
    'acme.exitwatch.tx.state-changelog'
    """
    return f"{prefix}{app_id}.tx.state-changelog"


def ensure_topics(s: Settings, timeout: float = 30.0) -> int:
    """Create the topics the worker reads and writes that are missing; returns the partition count of the
    state (``hr.status``'s, ``s.partitions`` when it is new): the rekey and changelog topics get the same."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from streams.tx.process import REKEY_TOPIC

    names = topic_names(s.topic_prefix)
    admin = AdminClient(kafka_config(s))
    existing = admin.list_topics(timeout=timeout).topics
    hr = existing.get(names["hr_status"])
    nparts = len(hr.partitions) if hr is not None and hr.partitions else s.partitions
    compact = {"cleanup.policy": "compact"}
    wanted = {t: (nparts, compact if k == "hr_status" else {}) for k, t in names.items()}
    wanted[s.topic_prefix + REKEY_TOPIC] = (nparts, {})
    wanted[changelog_topic(s.topic_prefix, s.app_id)] = (nparts, compact)
    wanted[f"{s.topic_prefix}{s.app_id}.tx.models"] = (1, compact)  # the models' shared state (streams/tx/models.py)
    wanted[f"{s.topic_prefix}{s.app_id}.tx.shared-changelog"] = (nparts, compact)  # streams/tx/shared.py
    new = [NewTopic(t, n, 1, config=c) for t, (n, c) in wanted.items() if t not in existing]
    for t, fut in (admin.create_topics(new, request_timeout=timeout).items() if new else ()):
        try:
            fut.result(timeout)
        except Exception as exc:  # noqa: BLE001 - created meanwhile by another worker
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return nparts


#: Errors of a watermark query that only say the client's metadata is not (yet) current: a topic created a
#: moment ago, a broker just restarted, a leader moving. Asked again until the deadline.
_METADATA_NOT_READY = frozenset({KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC,
                                 KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                                 KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT,
                                 KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT})


def watermarks(consumer: Any, tp: TopicPartition, timeout: float = 30.0, pause: float = 0.5,
               retriable: bool = False) -> tuple[int, int]:
    """``consumer.get_watermark_offsets(tp)`` (low, high) from the broker, asked again while the answer is only
    that the metadata is not current yet (:data:`_METADATA_NOT_READY`; with ``retriable``, also any error the
    client marks retriable: the connectors' checkpoint reader), for up to ``timeout`` seconds in all.
    Right after a broker restart or a topic's creation the first query fails that way; a worker reading its
    changelog, models or shared memories then stopped (a fault run: "Local: Unknown partition" on the
    assignment after the broker came back; a bench worker: NOT_LEADER_FOR_PARTITION on a new models topic).

    >>> class C:
    ...     n = 0
    ...     def get_watermark_offsets(self, tp, timeout):
    ...         C.n += 1
    ...         if C.n < 3:
    ...             raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION))
    ...         return (0, 7)
    >>> watermarks(C(), TopicPartition("t", 0), pause=0.0), C.n
    ((0, 7), 3)
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            lo, hi = consumer.get_watermark_offsets(tp, timeout=max(1.0, deadline - time.monotonic()))
            return lo, hi
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            code = err.code() if isinstance(err, KafkaError) else None
            again = code in _METADATA_NOT_READY or (retriable and isinstance(err, KafkaError) and err.retriable())
            if not again or time.monotonic() + pause > deadline:
                raise
            log.info("%s[%d]: watermarks not available yet (%s); asking again", tp.topic, tp.partition, err)
            time.sleep(pause)
