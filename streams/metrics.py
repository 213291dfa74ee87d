"""Prometheus metrics of the worker (one registry per process; served on ``/metrics`` by :mod:`streams.health`).

Names follow the Prometheus conventions: ``exitwatch_`` namespace, base units (seconds), ``_total`` on
counters. Labels are bounded: topics are contract names, dead-letter reasons are short categories
(:func:`reason_category`), departments come from HR (capped by :func:`bounded`), and no label ever carries
an employee id, an account or a name. ``docs/operations.md`` lists every metric with its meaning.

>>> reason_category("invalid activity event: kind: Input should be 'file', 'email' or 'crm'")
'invalid_record'
>>> reason_category("invalid activity event: ts: Input should be a valid datetime")
'bad_timestamp'
>>> reason_category("record too large: 2000000 bytes"), reason_category("detector failure: KeyError: 'x'")
('too_large', 'detector_failure')
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# ------------------------------------------------------------------------------------------ label hygiene
#: Dead-letter reason categories (the ``reason`` label); anything else is ``other``.
from schemas.reasons import REASON_CATEGORIES, reason_category  # noqa: E402  (shared with the connectors)


_seen: dict[str, set[str]] = {}


def bounded(kind: str, value: str | None, limit: int = 64) -> str:
    """``value`` as a label, or ``other`` once ``limit`` distinct values of ``kind`` were seen (``none`` if empty).

    >>> [bounded("doctest", v, limit=2) for v in ("a", "b", "c", "a", None)]
    ['a', 'b', 'other', 'a', 'none']
    """
    if not value:
        return "none"
    value = str(value)[:64]
    seen = _seen.setdefault(kind, set())
    if value in seen:
        return value
    if len(seen) >= limit:
        return "other"
    seen.add(value)
    return value


class _CategorisedCounter:
    """A labelled counter whose ``reason`` label is reduced to a category before it is used."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def labels(self, stage: str, reason: str = "other") -> Any:
        return self.counter.labels(stage, reason if reason in REASON_CATEGORIES else reason_category(reason))


# ------------------------------------------------------------------------------------------ throughput
EVENTS_IN = Counter("exitwatch_events_in_total", "Activity events read by the enrich stage",
                    ["topic", "kind", "source"])
UNRESOLVED = Counter("exitwatch_unresolved_actors_total", "Events whose actor matched no employee", ["source"])
_DEADLETTER = Counter("exitwatch_deadletter_records_total",
                      "Records sent to the dead-letter topic, by stage and reason category", ["stage", "reason"])
DEADLETTER = _CategorisedCounter(_DEADLETTER)
CACHE = Counter("exitwatch_hr_cache_lookups_total",
                "Enrichment look-ups in the in-process HR cache (alias_hit, alias_miss, hr_hit, hr_miss)",
                ["result"])
HR_STORE_ERRORS = Counter("exitwatch_hr_store_errors_total", "Failed HR store (Redis) calls", ["op"])
HR_RECORDS = Counter("exitwatch_hr_records_total", "HR records applied", ["stage"])
DETECTED = Counter("exitwatch_detect_messages_total", "Messages processed by the detect stage", ["topic"])
DUPLICATES_SKIPPED = Counter("exitwatch_redelivered_skipped_total",
                             "Re-delivered messages skipped (already applied)", ["topic"])
REDELIVERED_COMMITTED = Counter("exitwatch_redelivered_committed_total",
                                "Records fetched again below the committed offset and not delivered", ["topic"])
REREADS = Counter("exitwatch_partition_rereads_total",
                  "Partitions sought back to their committed offset because the stream dropped records", ["topic"])

# ------------------------------------------------------------------------------------------ detection
ALERTS = Counter("exitwatch_alerts_total", "Alerts emitted", ["rule_id", "severity"])
ALERTS_BY_DEPARTMENT = Counter(
    "exitwatch_department_alerts_total",
    "Alerts emitted, by the employee's department and HR status at event time (no identities)",
    ["department", "status", "severity"],
)
ALERT_DAYS_TO_LAST_DAY = Histogram(
    "exitwatch_alert_days_to_last_day",
    "Days between an alert (event time) and the employee's last working day, for employees with one",
    buckets=(-30, -7, -1, 0, 1, 3, 7, 14, 30, 60, 90),
)
DETECTOR_ERRORS = Counter("exitwatch_detector_errors_total", "Rule or model errors (contained)", ["rule_id"])

# ------------------------------------------------------------------------------------------ latency
EVENT_TO_ALERT = Histogram(
    "exitwatch_event_to_alert_seconds", "Event time to alert emission (wall clock)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400, 604800, 2592000),
)
INGEST_TO_PROCESSED = Histogram(
    "exitwatch_ingest_to_processed_seconds",
    "Kafka message timestamp (ingest) to the message being processed and acknowledged by the worker",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
PROCESSING = Histogram(
    "exitwatch_processing_seconds", "Time to process one message or batch in a stage", ["stage"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)

# ------------------------------------------------------------------------------------------ consumer, state
CONSUMER_LAG = Gauge("exitwatch_consumer_lag_messages",
                     "Messages behind: partition high-water mark minus the worker's committed offset",
                     ["topic", "partition"])
ASSIGNED_PARTITIONS = Gauge("exitwatch_assigned_partitions", "Source-topic partitions assigned to this worker")
READY = Gauge("exitwatch_worker_ready", "1 when partitions are assigned and table recovery is done")
REBALANCES = Counter("exitwatch_rebalances_total", "Consumer-group rebalances this worker went through")
LAST_PROCESSED = Gauge("exitwatch_last_processed_timestamp_seconds",
                       "Unix time at which the worker last finished a message", ["topic"])
EMPLOYEES = Gauge("exitwatch_employees_tracked", "Employees with detection state in this worker")

# ------------------------------------------------------------------------------------------ departures
HR_EMPLOYEES = Gauge("exitwatch_hr_employees",
                     "Employees known to the HR store by latest status and department (same in every worker)",
                     ["status", "department"])
LEAVING = Gauge("exitwatch_employees_leaving",
                "Employees in notice whose last working day is within the window from now (7d, 30d, later, "
                "unknown, past)", ["window"])
WATCHLIST = Gauge("exitwatch_watchlist_employees", "Employees manually placed on the watchlist (not departed)")
