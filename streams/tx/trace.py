"""Stage times of chosen events through the transactional worker, for latency measurements.

With ``EXITWATCH_TX_TRACE_PREFIX`` set (``exitwatch bench`` sets it to its probes' ``probe-``), every event whose
``event_id`` starts with it gets one log line (logger ``exitwatch.tx.trace``, INFO, turned on with the setting)
once the transaction that processed it has committed: ``trace {"event_id": ..., "produced": ..., ...}`` with
wall-clock times (``time.time()``) of

* ``produced``: the record's Kafka timestamp (the producer's create time),
* ``consumed``: the worker's consumer handed it over,
* ``merged``: the time-ordered merge released it,
* ``processed``: its batch was processed (enriched, detected, outputs produced in the open transaction),
* ``commit``: the commit of that transaction began, ``committed``: it returned (its outputs became visible
  to ``read_committed`` readers).

Off (the default) it costs one ``is None`` test per consumed batch.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

log = logging.getLogger("exitwatch.tx.trace")


class Trace:
    """The open traces of one worker, by event id."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.open: dict[str, dict[str, Any]] = {}
        log.setLevel(logging.INFO)

    def _id(self, rec: Any) -> str | None:
        eid = getattr(rec.obj, "event_id", None)
        return eid if isinstance(eid, str) and eid.startswith(self.prefix) else None

    def consumed(self, recs: list[Any]) -> None:
        now = time.time()
        for r in recs:
            eid = self._id(r)
            if eid is not None:
                self.open[eid] = {"event_id": eid, "produced": r.kafka_ts, "consumed": now}

    def stage(self, recs: list[Any], name: str) -> None:
        """Note ``name`` now for the traced records among ``recs``."""
        if not self.open:
            return
        now = time.time()
        for r in recs:
            t = self.open.get(self._id(r) or "")
            if t is not None:
                t[name] = now

    def commit_began(self) -> None:
        now = time.time()
        for t in self.open.values():
            if "processed" in t and "commit" not in t:
                t["commit"] = now

    def committed(self) -> None:
        now = time.time()
        for eid in [e for e, t in self.open.items() if "commit" in t]:
            t = self.open.pop(eid)
            t["committed"] = now
            log.info("trace %s", orjson.dumps(t).decode())

    def aborted(self) -> None:
        """The open transaction was rolled back: its records will be consumed again."""
        self.open.clear()
