"""How large the single exports (or other single amounts) of the employee's colleagues are: a reference for a rule
that grades one large act against the person's own largest, when the person's own history is short or holds
only small acts.

Every member of the department who made at least one such act has a *largest*: their largest single amount so
far, kept as a bucket of an eighth of an octave (:func:`detectors.peerrates.bucket`; read back as its upper end,
:func:`detectors.peerrates.rate_of`). The memory keeps, per department and rule series, how many members are in
each bucket (no employee id); the employee's own record (largest, group, bucket) is in their state
(``st.extra["px" + series]``), so that a new largest is one decrement and one increment and the employee can be
left out of their own reference. :func:`upper_largest` reads the largest of the member at the upper quartile:
a quarter of the colleagues have made a single act at least that large. A quartile, not the maximum, so that one
colleague's theft does not make every export of the department ordinary.

It lives in the engine's :class:`detectors.peerrates.PeerRates` memory (names ``<series>+L:<department>``), which
the worker already persists per partition (:mod:`detectors.shared`).

>>> from detectors.peerrates import PeerRates
>>> from detectors.state import EmployeeState
>>> pr = PeerRates()
>>> team = [EmployeeState() for _ in range(8)]
>>> for i, st in enumerate(team):  # colleague i's exports: 100 * (i + 1) records, and a small one
...     note_largest(pr, st, "bx", "sales", 100.0 * (i + 1))
...     note_largest(pr, st, "bx", "sales", 20.0)
>>> n, ref = upper_largest(pr, team[0], "bx", "sales")
>>> n, 700 <= ref <= 700 * 2 ** (1 / 8)  # the second largest of the seven others
(7, True)
>>> upper_largest(pr, team[0], "bx", "support")
(0, 0.0)
"""

from __future__ import annotations

from typing import Any

from detectors.peerrates import PeerRates, bucket, rate_of

#: The share of colleagues, from the top, whose largest is read (the upper quartile).
UPPER_SHARE = 0.25


def _name(series: str, group: str) -> str:
    return f"{series}+L:{group}"


def note_largest(pr: PeerRates, st: Any, series: str, group: str, amount: float, part: int = 0) -> None:
    """A single act of ``amount`` by the employee (``st``) of department ``group``: their largest and its bucket
    in the memory are brought up to date (a move to another department moves the bucket)."""
    if amount <= 0 or not group:
        return
    key = "px" + series
    rec = st.extra.get(key)
    if rec is None:
        rec = st.extra[key] = [0.0, "", None]
    largest = max(float(rec[0]), float(amount))
    b = bucket(largest)
    if rec[1] == group and rec[2] == b:
        rec[0] = largest
        return
    if rec[1] and rec[2] is not None:
        _move(pr, _name(series, rec[1]), rec[2], -1, part)
    _move(pr, _name(series, group), b, 1, part)
    rec[:] = [largest, group, b]


def _move(pr: PeerRates, name: str, b: int, by: int, part: int) -> None:
    c = pr.touch(part, name)
    k = str(b)
    c[k] = c.get(k, 0) + by
    if c[k] <= 0:
        del c[k]


def upper_largest(pr: PeerRates, st: Any, series: str, group: str) -> tuple[int, float]:
    """(other members counted, the largest of the member at the upper quartile; 0 without members) in the
    department ``group``; the employee themself left out."""
    counts: dict[int, int] = {}
    for c in pr.parts.get(_name(series, group), {}).values():
        for k, v in c.items():
            counts[int(k)] = counts.get(int(k), 0) + v
    rec = st.extra.get("px" + series)
    if rec and rec[1] == group and rec[2] is not None and counts.get(rec[2], 0) > 0:
        counts[rec[2]] -= 1
    n = sum(counts.values())
    if n <= 0:
        return 0, 0.0
    left = max(1, int(round(UPPER_SHARE * n)))
    for b in sorted(counts, reverse=True):
        left -= counts[b]
        if left <= 0:
            return n, rate_of(b)
    return n, 0.0
