"""Daily behaviour features of one employee, accumulated event by event in a few numbers.

A day's *accumulator* is a flat list of raw sums (counts, seconds, bytes, a 32-bit destination bitmap); the
*feature vector* derived from it has :data:`N` values on comparable scales (``log1p`` of counts, minutes and
megabytes; a share for after-hours work), which is what the baselines learn and the deviations are taken on.

Hours are UTC: the contract carries no local time zone, so "after hours" means outside 07:00-19:00 UTC or at
the weekend. Distinct external/personal destinations are counted approximately with linear counting over a
32-bit bitmap (exact for a handful, saturating around 100).

>>> acc = new_acc()
>>> touched = accumulate(acc, kind="file", action="copy_to_removable", hour=22, weekday=2)
>>> [NAMES[i] for i in touched], acc[A_USB], acc[A_AH], acc[A_TOT]
(['removable_copies', 'after_hours_share'], 1, 1, 1)
>>> round(vector(acc)[F_USB], 3)
0.693
"""

from __future__ import annotations

import math
import zlib
from typing import Any

#: Feature names, in vector order (the explanation uses them).
NAMES: tuple[str, ...] = (
    "file_downloads",
    "sensitive_downloads",
    "removable_copies",
    "uploads",
    "deletions",
    "mails_out_with_attachments",
    "crm_records_exported",
    "crm_minutes",
    "mb_moved",
    "after_hours_share",
    "distinct_destinations",
    "prints",
)
N = len(NAMES)
(F_DL, F_SDL, F_USB, F_UP, F_DEL, F_MAIL, F_CRM, F_CRMT, F_MB, F_AH, F_DST, F_PRT) = range(N)

# Accumulator slots: the first N-3 are the raw counterparts of features 0..8 in the same order, then
# after-hours events, all events, the destination bitmap and prints.
(A_DL, A_SDL, A_USB, A_UP, A_DEL, A_MAIL, A_CRM, A_CRMT, A_BYTES, A_AH, A_TOT, A_BM, A_PRT) = range(13)
ACC_LEN = 13

#: Unit of each feature's raw value in explanations.
UNITS: tuple[str, ...] = (
    "files", "files", "files", "files", "files", "mails", "records", "minutes", "MB", "share", "destinations",
    "prints",
)
#: Smallest scale (in vector units) a deviation is measured against: one or two extra events on a quiet
#: day must not look like a huge jump.
SCALE_FLOOR: tuple[float, ...] = (0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.6, 0.6, 0.7, 0.12, 0.45, 0.45)
#: Pseudo-count added to both sides of the observed/usual ratio of a feature (raw units).
RATIO_PSEUDO: tuple[float, ...] = (2, 1, 1, 1, 2, 1, 10, 10, 20, 0.1, 1, 1)

DOWNLOADS = frozenset({"download", "sync_download"})
UPLOADS = frozenset({"upload", "share_external"})
MAILS = frozenset({"send", "forward", "auto_forward"})
CRM_EXPORTS = frozenset({"export", "report_export", "bulk_query", "api_query"})
SENSITIVE = frozenset({"confidential", "restricted"})
MOVES = frozenset({"download", "sync_download", "upload", "share_external", "copy_to_removable", "copy"})

WORK_START_H, WORK_END_H = 7, 19


def new_acc() -> list[Any]:
    return [0] * ACC_LEN


def _dest_bit(dest: str) -> int:
    return 1 << (zlib.crc32(dest.lower().encode()) & 31)


def accumulate(acc: list[Any], *, kind: str, action: str, hour: int, weekday: int, sensitivity: str | None = None,
               nbytes: int | None = None, count: int | None = None, duration_s: float | None = None,
               external: bool | None = None, personal: bool | None = None, destination: str | None = None,
               recipients: list[str] | tuple[str, ...] = ()) -> list[int]:
    """Add one event to ``acc``; return the feature indices it changed (after-hours share included)."""
    touched: list[int] = []
    moved = False
    if kind == "file" or kind == "web":
        if action in DOWNLOADS or (kind == "web" and action == "download"):
            acc[A_DL] += 1
            touched.append(F_DL)
            if sensitivity in SENSITIVE:
                acc[A_SDL] += 1
                touched.append(F_SDL)
            moved = True
        elif action == "copy_to_removable":
            acc[A_USB] += 1
            touched.append(F_USB)
            moved = True
        elif action in UPLOADS:
            acc[A_UP] += 1
            touched.append(F_UP)
            moved = True
        elif action == "delete":
            acc[A_DEL] += 1
            touched.append(F_DEL)
        elif action == "print":
            acc[A_PRT] += 1
            touched.append(F_PRT)
        elif action == "copy":
            moved = True
    elif kind == "print":
        acc[A_PRT] += 1
        touched.append(F_PRT)
    elif kind == "email":
        if action in MAILS and (external or personal) and ((count or 0) > 0 or (nbytes or 0) > 0):
            acc[A_MAIL] += 1
            touched.append(F_MAIL)
            moved = True
    elif kind == "crm":
        if action in CRM_EXPORTS:
            acc[A_CRM] += count if count else 1
            touched.append(F_CRM)
            moved = True
        if duration_s:
            acc[A_CRMT] += float(duration_s)
            touched.append(F_CRMT)
    if moved and nbytes:
        acc[A_BYTES] += nbytes
        touched.append(F_MB)
    if (external or personal) and kind in ("email", "file", "web"):
        dests = [destination] if destination else [r.rsplit("@", 1)[-1] for r in recipients]
        bm = acc[A_BM]
        for d in dests:
            if d:
                bm |= _dest_bit(d)
        if bm != acc[A_BM]:
            acc[A_BM] = bm
            touched.append(F_DST)
    acc[A_TOT] += 1
    if weekday >= 5 or not WORK_START_H <= hour < WORK_END_H:
        acc[A_AH] += 1
    touched.append(F_AH)
    return touched


def distinct(bitmap: int) -> float:
    """Linear-counting estimate of the number of distinct destinations set in a 32-bit bitmap."""
    ones = bin(bitmap).count("1")
    if ones == 0:
        return 0.0
    if ones >= 32:
        return 32 * math.log(32)  # saturated: ~111
    return -32 * math.log(1 - ones / 32)


def raw(acc: list[Any], i: int) -> float:
    """The raw value of feature ``i`` in its unit (for explanations)."""
    if i == F_CRMT:
        return acc[A_CRMT] / 60.0
    if i == F_MB:
        return acc[A_BYTES] / 1e6
    if i == F_AH:
        return acc[A_AH] / (acc[A_TOT] + 4)
    if i == F_DST:
        return distinct(acc[A_BM])
    if i == F_PRT:
        return float(acc[A_PRT])
    return float(acc[i])


def transform(i: int, x: float) -> float:
    """Raw value -> vector value (log1p of counts, minutes and MB; the share as is)."""
    return x if i == F_AH else math.log1p(x)


def untransform(i: int, v: float) -> float:
    return v if i == F_AH else math.expm1(v)


def vector(acc: list[Any]) -> list[float]:
    """The day's feature vector (see :data:`NAMES`). The after-hours share is shrunk towards 0 by four
    pseudo-events, so the first event of a day at 06:59 does not look like a day spent after hours."""
    return [transform(i, raw(acc, i)) for i in range(N)]
