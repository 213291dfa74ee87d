"""Daily behaviour features of one employee, accumulated event by event in a few numbers.

A day's *accumulator* is a flat list: one raw sum per feature (counts, seconds, bytes, an after-hours count, a
32-bit destination bitmap), then the day's event count and a 32-bit bitmap of the folders downloaded from.
The *feature vector* derived from it has :data:`N` values on comparable scales (``log1p`` of counts, minutes
and megabytes; a share for after-hours work), which is what the baselines learn and deviations are taken on.

The features are the ways data leaves or is destroyed (removable media, uploads, mail to outside and personal
addresses, sensitive items going out, bulk CRM exports, sensitive deletions), how much is touched (downloads,
sensitive ones, ones from folders this employee has not used before, CRM time, megabytes moved) and context
(after-hours share, distinct outside destinations, prints).

"After hours" is the employee's own: an event the engine marked ``attrs.off_hours`` (outside the hours and
weekdays the person is usually active in, learned by :mod:`detectors.habits`, as the rules read it; nothing is
marked before the habit's warm-up), passed as ``off_hours``. A fixed clock (outside 07:00-19:00 UTC or at the
weekend) made every afternoon of a New York employee after hours, and a night shift's every day; it remains
only for callers that pass no ``off_hours``. Distinct outside destinations and familiar folders are
approximate (32-bit bitmaps; linear counting for the former, exact for a handful).

>>> acc = new_acc()
>>> touched = accumulate(acc, kind="file", action="copy_to_removable", hour=22, weekday=2,
...                      sensitivity="restricted")
>>> [NAMES[i] for i in touched]
['removable_copies', 'sensitive_out', 'after_hours_share']
>>> round(vector(acc)[F_USB], 3), raw(acc, F_AH)
(0.693, 0.2)
"""

from __future__ import annotations

import math
import zlib
from typing import Any

#: Feature names, in vector order (the explanation uses them).
NAMES: tuple[str, ...] = (
    "file_downloads",
    "sensitive_downloads",
    "unfamiliar_folder_downloads",
    "removable_copies",
    "uploads",
    "sensitive_out",
    "mails_out_with_attachments",
    "deletions",
    "sensitive_deletions",
    "crm_records_exported",
    "crm_minutes",
    "mb_moved",
    "after_hours_share",
    "distinct_destinations",
    "prints",
)
N = len(NAMES)
(F_DL, F_SDL, F_NEWDIR, F_USB, F_UP, F_SOUT, F_MAIL, F_DEL, F_SDEL, F_CRM, F_CRMT, F_MB, F_AH, F_DST,
 F_PRT) = range(N)
A_TOT, A_DIRS = N, N + 1
ACC_LEN = N + 2

#: Unit of each feature's raw value in explanations.
UNITS: tuple[str, ...] = (
    "files", "files", "files", "files", "files", "items", "mails", "files", "files", "records", "minutes", "MB",
    "share", "destinations", "prints",
)
#: Smallest scale (in vector units) a deviation is measured against: one or two extra events on a quiet day
#: must not look like a huge jump; records exported come in hundreds, so their floor is wider.
SCALE_FLOOR: tuple[float, ...] = (0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.6, 0.45, 1.0, 0.6, 0.7, 0.12, 0.45,
                                  0.45)
#: How much a feature's deviation counts in the day's score: the ways data leaves or is destroyed count fully;
#: volume and context (time of day, CRM time, plain downloads and deletions) count less, so they cannot alert
#: on their own.
WEIGHT: tuple[float, ...] = (0.6, 0.9, 0.9, 1.0, 0.9, 1.0, 0.85, 0.65, 1.0, 0.9, 0.8, 0.75, 0.5, 0.75, 0.7)
#: Pseudo-count added to both sides of the observed/usual ratio of a feature (raw units).
RATIO_PSEUDO: tuple[float, ...] = (2, 1, 1, 1, 1, 1, 1, 2, 1, 20, 10, 20, 0.1, 1, 1)

#: The act each feature counts, or ``None`` for a feature that describes the items of whatever act it came with
#: (how many were sensitive, how many megabytes, at what hours, to how many places). One act far from normal
#: makes several features far from normal (a thumb drive filled with restricted files at night: removable
#: copies, sensitive items out, megabytes, after-hours share), which is one behaviour, not several: see
#: :func:`acts`.
ACT: tuple[str | None, ...] = (
    "downloads", "downloads", "downloads", "removable", "uploads", None, "mail", "deletions", "deletions",
    "crm_export", "crm_time", None, None, None, "prints",
)
#: The features a describing feature (``ACT`` is ``None``) can come from; megabytes also come from copies
#: inside the company, which have no feature of their own.
FROM: dict[int, frozenset[int]] = {
    F_SOUT: frozenset({F_USB, F_UP, F_MAIL}),
    F_MB: frozenset({F_DL, F_SDL, F_NEWDIR, F_USB, F_UP, F_CRM}),
    F_AH: frozenset(i for i, a in enumerate(ACT) if a is not None),  # any act
    F_DST: frozenset({F_DL, F_UP, F_MAIL}),  # downloads from outside, uploads, mails out
}


def acts(far: set[int] | frozenset[int]) -> int:
    """How many distinct acts the features in ``far`` (indices far from normal) stand for: the acts of the
    counting features, plus one for describing features none of whose sources is far from normal (an unusual
    amount of data moved inside the company, an unusual share of the day after hours).

    >>> acts({F_USB, F_SOUT, F_MB, F_AH}), acts({F_USB, F_NEWDIR, F_SOUT}), acts({F_DEL, F_MB}), acts({F_MB, F_AH})
    (1, 2, 2, 1)
    """
    kinds = {ACT[i] for i in far if ACT[i] is not None}
    loose = any(ACT[i] is None and not FROM[i] & far for i in far)
    return len(kinds) + loose


DOWNLOADS = frozenset({"download", "sync_download"})
UPLOADS = frozenset({"upload", "share_external"})
MAILS = frozenset({"send", "forward", "auto_forward"})
CRM_EXPORTS = frozenset({"export", "report_export", "bulk_query", "api_query"})
SENSITIVE = frozenset({"confidential", "restricted"})

WORK_START_H, WORK_END_H = 7, 19


def new_acc() -> list[Any]:
    return [0] * ACC_LEN


def bit(key: str) -> int:
    """One of 32 bits for ``key`` (stable across processes: CRC-32, not Python's salted hash)."""
    return 1 << (zlib.crc32(key.lower().encode()) & 31)


def folder_of(obj: str | None) -> str | None:
    """The repository part of an object path or URL: its first two segments (``/sites/finance``)."""
    if not obj:
        return None
    parts = [p for p in obj.replace("\\", "/").split("/") if p][:-1]
    return "/".join(parts[:2]) if parts else None


def accumulate(acc: list[Any], *, kind: str, action: str, hour: int, weekday: int, sensitivity: str | None = None,
               nbytes: int | None = None, count: int | None = None, duration_s: float | None = None,
               external: bool | None = None, personal: bool | None = None, destination: str | None = None,
               recipients: list[str] | tuple[str, ...] = (), obj: str | None = None,
               known_dirs: int | None = None, off_hours: bool | None = None) -> list[int]:
    """Add one event to ``acc``; return the feature indices it changed (after-hours share always).

    ``known_dirs`` is the employee's bitmap of familiar folders (``None``: too early to tell); ``off_hours``
    whether the event lies outside the employee's own hours (``None``: judged by ``hour`` and ``weekday`` in
    UTC against 07:00-19:00 on weekdays)."""
    touched: list[int] = []
    moved = False
    sens = sensitivity in SENSITIVE
    out = False  # the item leaves the organisation's control
    if kind == "file" or kind == "web":
        if action in DOWNLOADS or (kind == "web" and action == "download"):
            acc[F_DL] += 1
            touched.append(F_DL)
            if sens:
                acc[F_SDL] += 1
                touched.append(F_SDL)
            if kind == "file":
                d = folder_of(obj)
                if d is not None:
                    b = bit(d)
                    acc[A_DIRS] |= b
                    if known_dirs is not None and not known_dirs & b:
                        acc[F_NEWDIR] += 1
                        touched.append(F_NEWDIR)
            moved = True
        elif action == "copy_to_removable":
            acc[F_USB] += 1
            touched.append(F_USB)
            moved = out = True
        elif action in UPLOADS:
            acc[F_UP] += 1
            touched.append(F_UP)
            moved = True
            out = bool(external or personal) or action == "share_external"
        elif action == "delete":
            acc[F_DEL] += 1
            touched.append(F_DEL)
            if sens:
                acc[F_SDEL] += 1
                touched.append(F_SDEL)
        elif action == "print":
            acc[F_PRT] += 1
            touched.append(F_PRT)
        elif action == "copy":
            moved = True
    elif kind == "print":
        acc[F_PRT] += 1
        touched.append(F_PRT)
    elif kind == "email":
        if action in MAILS and (external or personal) and ((count or 0) > 0 or sens):
            acc[F_MAIL] += 1
            touched.append(F_MAIL)
            moved = out = True
    elif kind == "crm":
        if action in CRM_EXPORTS:
            acc[F_CRM] += count if count else 1
            touched.append(F_CRM)
            moved = True
        if duration_s:
            acc[F_CRMT] += float(duration_s)
            touched.append(F_CRMT)
    if out and sens:
        # personal destinations count double: a private address is where stolen data goes
        acc[F_SOUT] += max(1, count or 1) * (2 if personal else 1)
        touched.append(F_SOUT)
    if moved and nbytes:
        acc[F_MB] += nbytes
        touched.append(F_MB)
    if (external or personal) and kind in ("email", "file", "web") and action != "visit":
        dests = [destination] if destination else [r.rsplit("@", 1)[-1] for r in recipients]
        bm = acc[F_DST]
        for d in dests:
            if d:
                bm |= bit(d)
        if bm != acc[F_DST]:
            acc[F_DST] = bm
            touched.append(F_DST)
    acc[A_TOT] += 1
    if off_hours if off_hours is not None else (weekday >= 5 or not WORK_START_H <= hour < WORK_END_H):
        acc[F_AH] += 1
    touched.append(F_AH)
    return touched


def distinct(bitmap: int) -> float:
    """Linear-counting estimate of the number of distinct keys set in a 32-bit bitmap."""
    ones = bin(bitmap).count("1")
    if ones == 0:
        return 0.0
    if ones >= 32:
        return 32 * math.log(32)  # saturated: ~111
    return -32 * math.log(1 - ones / 32)


def raw(acc: list[Any], i: int) -> float:
    """The raw value of feature ``i`` in its unit (for explanations). The after-hours share is shrunk towards 0
    by four pseudo-events, so the first event of a day at 06:59 does not look like a day spent after hours."""
    if i == F_CRMT:
        return acc[F_CRMT] / 60.0
    if i == F_MB:
        return acc[F_MB] / 1e6
    if i == F_AH:
        return acc[F_AH] / (acc[A_TOT] + 4)
    if i == F_DST:
        return distinct(acc[F_DST])
    return float(acc[i])


def transform(i: int, x: float) -> float:
    """Raw value -> vector value (log1p of counts, minutes and MB; the share as is)."""
    return x if i == F_AH else math.log1p(x)


def untransform(i: int, v: float) -> float:
    return v if i == F_AH else math.expm1(v)


def vector(acc: list[Any]) -> list[float]:
    """The day's feature vector (see :data:`NAMES`)."""
    return [transform(i, raw(acc, i)) for i in range(N)]
