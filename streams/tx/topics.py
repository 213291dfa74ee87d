"""Topic names and identities of the transactional worker, and the topics it needs created.

>>> changelog_topic("acme.", "exitwatch")
'acme.exitwatch.tx.state-changelog'
"""

from __future__ import annotations

import hashlib
import os

from schemas.settings import Settings
from schemas.topics import topic_names
from schemas.transport import kafka_config


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
