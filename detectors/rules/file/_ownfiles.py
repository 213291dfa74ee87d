"""A compact memory of the files an employee worked with: a sampled Bloom filter of file paths.

What tells an honest leaver's clean-up from a saboteur's wipe is whose files go: someone tidying up before they
leave deletes, among much else, the files they themselves opened, downloaded or edited; someone wiping a shared
or unfamiliar store deletes files they never touched. Measured on six outside companies (400 employees, 100
days, seeds 1-2) and the own profiles: the departing deletions of honest leavers held 2-60% of the person's own
earlier files; those of saboteurs 0-1.4% (``/work/notes/s10-delete.md``).

A person touches hundreds of files (up to ~1,700 in 100 days), too many to keep each. The memory keeps a
*sample*: only paths whose hash falls in one of :data:`SAMPLE` equal parts, in a Bloom filter of :data:`BITS`
bits with :data:`HASHES` hash positions (``st.extra["of"]``, base64). A deleted file is
*tested* only when it falls in the same part, so the share of own files among the tested ones estimates the
share among all, and the filter holds a quarter of the paths. That is the same false "own" rate as a filter of
``SAMPLE * BITS`` bits over every path, for a quarter of the room.

**False "own" rate.** A path never touched reads as own when all its :data:`HASHES` bits are set: the rate is
``fill ** HASHES`` (:func:`false_rate`, read from the filter itself). For a person with ``n`` distinct files it
is about ``(1 - exp(-HASHES * n / SAMPLE / BITS)) ** HASHES``: 0.2% at 50 files, 0.9% at 100, 3% at 200, 6% at
300, 10% at 400, 20% at 600 (``tests/detectors/test_own_files.py`` measures it). It is read on every judgement
(:func:`own_share` subtracts it), and above :data:`MAX_FALSE` (about 700 files) the memory says nothing: a
saturated filter would read everything as own, so the rule then stays as it was. Why this size: the leavers of
the evaluation companies had worked with 10-350 files before their departure period (false rate under 10%),
and the whole per-employee state has a budget of 4.5 KiB (``tests/detectors/test_rules_state_size.py``); 512
bits cost 88 bytes of it, made room for by storing the download rules' marks packed (``_handover._pack``).

>>> from detectors.state import EmployeeState
>>> st = EmployeeState()
>>> paths = [f"/sites/fin/q{i}.xlsx" for i in range(400)]
>>> for p in paths[:200]:
...     remember(st, p)
>>> tested = [t for t in (is_own(st, p) for p in paths) if t is not None]
>>> len(tested) > 60, sum(tested[:40]) > 0, round(false_rate(st), 3) < 0.05
(True, True, True)
>>> is_own(st, None), false_rate(EmployeeState())
(None, 0.0)
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from detectors.state import EmployeeState

#: st.extra key of the filter.
KEY = "of"
#: Paths are kept (and deleted files tested) when their hash falls in one of SAMPLE equal parts.
SAMPLE = 4
#: Bits of the filter (a multiple of 8).
BITS = 512
#: Bit positions per path.
HASHES = 2
#: Above this false "own" rate the filter is too full to say anything.
MAX_FALSE = 0.25


@lru_cache(maxsize=65536)
def _positions(obj: str) -> tuple[int, ...] | None:
    """The filter bits of ``obj`` (a path, case-insensitive), or None when it is not in the sampled part."""
    v = int.from_bytes(hashlib.blake2b(obj.lower().encode(), digest_size=8).digest(), "big")
    if v % SAMPLE:
        return None
    v //= SAMPLE
    return tuple((v >> (16 * i)) % BITS for i in range(HASHES))


def _bits(st: EmployeeState) -> bytearray:
    raw = st.extra.get(KEY)
    if not raw:
        return bytearray(BITS // 8)
    return bytearray(base64.b64decode(raw + "=" * (-len(raw) % 4)))


def remember(st: EmployeeState, obj: str | None) -> None:
    """Add ``obj`` to the employee's own files (nothing unless it is in the sampled part)."""
    pos = _positions(obj) if obj else None
    if pos is None:
        return
    b = _bits(st)
    if all(b[p >> 3] >> (p & 7) & 1 for p in pos):
        return
    for p in pos:
        b[p >> 3] |= 1 << (p & 7)
    st.extra[KEY] = base64.b64encode(bytes(b)).decode().rstrip("=")


def is_own(st: EmployeeState, obj: str | None) -> bool | None:
    """Whether ``obj`` reads as one of the employee's own files; None when it is not tested (no path, or not in
    the sampled part)."""
    pos = _positions(obj) if obj else None
    if pos is None:
        return None
    raw = st.extra.get(KEY)
    if not raw:
        return False
    b = _bits(st)
    return all(b[p >> 3] >> (p & 7) & 1 for p in pos)


def false_rate(st: EmployeeState) -> float:
    """The share of never-touched paths that read as own: ``fill ** HASHES``."""
    raw = st.extra.get(KEY)
    if not raw:
        return 0.0
    fill = sum(bin(x).count("1") for x in _bits(st)) / BITS
    return fill**HASHES


def own_share(tested: int, own: int, false: float) -> float | None:
    """The share of own files among ``tested`` deleted ones of which ``own`` read as own, with the filter's
    false rate taken out; None when the filter is too full to tell or nothing was tested.

    >>> own_share(100, 20, 0.0), round(own_share(100, 28, 0.1), 3), own_share(100, 90, 0.3), own_share(0, 0, 0.0)
    (0.2, 0.2, None, None)
    """
    if tested <= 0 or false > MAX_FALSE:
        return None
    return max(0.0, (own / tested - false) / (1.0 - false))
