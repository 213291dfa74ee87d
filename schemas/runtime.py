"""Process-wide settings every ``exitwatch`` command applies at start (:func:`exitwatch.cli.main`, the bench children, ``python -m streams.batch``).

Python's cyclic garbage collector runs its youngest generation every 700 container allocations, a middle one
every 10 of those and a full one when the long-lived objects have grown by a quarter. The detection state of
thousands of employees is hundreds of thousands of small dicts and lists, which each middle and full collection
walks, yet they are freed by reference counting (they hold no cycles). Measured on the worker's own
decode/process/commit path with 10,080 employees (reports/benchmarks/s6-perf/): 20% of its time in the
collector at Python's default, under 5% with the first threshold at 20,000 or more, the same alerts.
"""

from __future__ import annotations

import gc


def tune_gc(gen0: int) -> tuple[int, int, int]:
    """Set the youngest generation's threshold to ``gen0`` (``EXITWATCH_GC_GEN0``; 0 leaves it), keeping the
    other two; returns the thresholds in force.

    >>> old = gc.get_threshold()
    >>> tune_gc(50_000)[0], tune_gc(0)[0]
    (50000, 50000)
    >>> _ = gc.set_threshold(*old)
    """
    if gen0 > 0:
        _, g1, g2 = gc.get_threshold()
        gc.set_threshold(gen0, g1, g2)
    return gc.get_threshold()


def tune_from_settings() -> None:
    """:func:`tune_gc` with the ``EXITWATCH_GC_GEN0`` setting (the default when the settings cannot be read:
    the command itself then says what is wrong with them)."""
    from schemas.settings import Settings

    try:
        gen0 = Settings().gc_gen0
    except Exception:  # noqa: BLE001 - a bad setting is the command's to report, not this tuning's
        gen0 = Settings.model_fields["gc_gen0"].default
    tune_gc(gen0)
