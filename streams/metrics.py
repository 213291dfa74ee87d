"""Prometheus metrics of the worker (one registry per process; served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("exitwatch_events_in_total", "Activity events read by the enrich stage", ["topic", "kind", "source"])
UNRESOLVED = Counter("exitwatch_unresolved_actors_total", "Events whose actor matched no employee", ["source"])
DEADLETTER = Counter("exitwatch_deadletter_total", "Records sent to the dead-letter topic", ["stage", "reason"])
CACHE = Counter("exitwatch_hr_cache_total", "HR cache look-ups in the enrich stage", ["result"])
HR_STORE_ERRORS = Counter("exitwatch_hr_store_errors_total", "Failed HR store (Redis) calls", ["op"])
HR_RECORDS = Counter("exitwatch_hr_records_total", "HR records applied", ["stage"])
ALERTS = Counter("exitwatch_alerts_total", "Alerts emitted", ["rule_id", "severity"])
DETECTOR_ERRORS = Counter("exitwatch_detector_errors_total", "Rule or model errors", ["rule_id"])
DUPLICATES_SKIPPED = Counter("exitwatch_redelivered_skipped_total", "Re-delivered messages skipped (already applied)", ["topic"])
DETECTED = Counter("exitwatch_detect_messages_total", "Messages processed by the detect stage", ["topic"])
EVENT_TO_ALERT = Histogram(
    "exitwatch_event_to_alert_seconds", "Event time to alert emission (wall clock)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
PROCESSING = Histogram(
    "exitwatch_processing_seconds", "Time to process one message or batch in a stage", ["stage"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
EMPLOYEES = Gauge("exitwatch_employees_tracked", "Employees with detection state in this worker")
