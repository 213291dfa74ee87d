"""What downloads are worth before a departure: where they go next and where they came from (shared by the file
rules that count downloads).

Volume alone does not tell an honest leaver who hands over a lot from someone taking data. Two facts that
every audit log carries do:

- **Passed on internally.** Downloads followed, within :data:`HANDOVER_HOURS` of the last of them, by an
  internal mail (sent, every recipient internal: ``external`` false, not ``personal``) that carries
  attachments are handover or ordinary collaboration: the mail takes back up to its attachment count of them.
  A copy to removable media, an external share, or a mail or upload to an external or personal destination
  makes the session's pending downloads unclaimable. A session (downloads less than :data:`HANDOVER_HOURS`
  apart on one day) is judged when it is over: once an event after that time is seen, at the end of its day,
  or at an exit.
- **Novelty.** A download from a container (the host and the first :data:`CONTAINER_DEPTH` folders of its
  path) the employee has never touched counts :data:`NOVEL_WEIGHT` and is never taken back: re-reading one's
  own work is not collecting a department's files. Containers are learned from the employee's file events
  other than deletions (:func:`teaches_place`) on days that may teach a baseline (not in the departure period,
  not on the watchlist), and from every day in
  the first :data:`MIN_HISTORY_DAYS`; they are kept as 16-bit hashes, most recently used last,
  :data:`KNOWN_CAP` of them (``st.extra["kc"]``). A collision makes a new container pass as known: a miss,
  never a false alert.

While the employee is departing (or watched), each rule keeps a small record under its own key of
``st.extra`` (:func:`observe`; nothing for anyone else). :func:`unexplained_share` is the
weight not explained per download judged: near 0 for a handover, 1 when nothing was passed on, up to
:data:`NOVEL_WEIGHT` when everything came from new places. The rules' windows multiply their ratio to the
employee's usual by it; what fires (the count) does not depend on it, so alert ids stay independent of the
order in which events arrive.

**Arrival order.** Streaming delivers events late (a source that lags, topics read in no fixed order, a
partition read again), and the engine accepts them up to ``detectors.state.LATE_DAYS`` days late. The
valuation is the one time order gives for the events seen so far, whatever order they came in: the record
keeps the events that matter (counted downloads, known or novel; internal handover mails; exits) of the days a
late event may still change as *marks*, one int per kind and minute, and replays them in time order (within a
minute: downloads, then a mail, then an exit); older days are judged for good and leave two numbers. So a
handover mail that arrives after its downloads were judged still takes them back, and downloads that arrive
after their mail are still taken back (version 2 judged each session in arrival order: a late mail or late
downloads changed the grade, and ``risk.employee`` then crossed only in the late order). A download more
than ``LATE_DAYS`` late counts as not passed on.

>>> container("https://corp.sharepoint.com/sites/Finance/Shared Documents/Q3/budget.xlsx")
'corp.sharepoint.com/sites/finance/shared documents'
>>> container("/sites/sales/conf/doc-0001.pdf"), container("C:\\\\Users\\\\ann\\\\report.docx"), container(None)
('sites/sales/conf', 'c:/users/ann', None)
"""

from __future__ import annotations

import base64
import bisect
import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from detectors.state import LATE_DAYS, EmployeeState
from schemas import ActivityEvent

DOWNLOADS = frozenset({"download", "sync_download"})
SENDS = frozenset({"send", "forward"})
#: Hours after the last download of a session within which an internal mail with attachments takes them back.
HANDOVER_HOURS = 2.0
#: Folders below the host that make a container.
CONTAINER_DEPTH = 3
#: What a download from a container the employee never touched counts.
NOVEL_WEIGHT = 3.0
#: Containers remembered per employee.
KNOWN_CAP = 24
#: Days of history before novelty counts (a newcomer touches nothing but new containers).
MIN_HISTORY_DAYS = 14
KNOWN = "kc"


def container(obj: str | None) -> str | None:
    """The host and the first :data:`CONTAINER_DEPTH` folders of an object's path (lower case), or None."""
    if not obj:
        return None
    p = obj.replace("\\", "/").lower()
    if "://" in p:
        p = p.split("://", 1)[1]
    parts = [x for x in p.split("?", 1)[0].split("/") if x]
    if len(parts) < 2:
        return None
    return "/".join(parts[:-1][: CONTAINER_DEPTH + (1 if "://" in obj else 0)])


def _hash(key: str) -> str:
    return hashlib.blake2s(key.encode(), digest_size=2).hexdigest()


@lru_cache(maxsize=16384)
def _container_hash(obj: str) -> str | None:
    """``_hash(container(obj))``, None without a container; cached: several rules ask it of the same event's
    object, and a working day's objects recur."""
    c = container(obj)
    return None if c is None else _hash(c)


def teaches_place(e: ActivityEvent) -> bool:
    """Whether a file event shows the employee working in its container: any but a deletion. Wiping another
    team's share on an ordinary day (before HR records a departure) makes it no place of theirs, so that the
    same wipe, judged again when the news arrives, still reads as a place they never worked in."""
    return e.action != "delete"


def known_container(st: EmployeeState, obj: str | None, learn: bool) -> bool:
    """Whether the employee touched ``obj``'s container before; remembers it when ``learn``. An object
    without a container counts as known (nothing to say it is new)."""
    h = _container_hash(obj) if obj else None
    if h is None:
        return True
    seen: str = st.extra.get(KNOWN, "")
    keys = [seen[i : i + 4] for i in range(0, len(seen), 4)]
    known = h in keys
    if learn and (not known or keys[-1] != h):
        if known:
            keys.remove(h)
        st.extra[KNOWN] = "".join((keys + [h])[-KNOWN_CAP:])
    return known


def is_exit(e: ActivityEvent) -> bool:
    """Data leaving the company's hands: removable media, an external share, external or personal mail or upload."""
    if e.kind == "file":
        return e.action in ("copy_to_removable", "share_external") or (
            e.action == "upload" and (e.personal is True or e.external is True))
    if e.kind == "email":
        return e.personal is True or e.external is True
    return e.kind == "web" and e.action == "upload"


def is_internal_handover(e: ActivityEvent) -> bool:
    """A mail to colleagues only, with attachments."""
    return (e.kind == "email" and e.action in SENDS and e.external is False and e.personal is not True
            and bool(e.recipients) and (e.count or 0) > 0)


def relevant(e: ActivityEvent) -> bool:
    """The events the valuation needs to see: file events (containers, downloads, exits), mails and uploads."""
    return e.kind in ("file", "email") or (e.kind == "web" and e.action == "upload")


#: Downloads judged before the share is trusted (fewer: the share is unknown and the ratio stays as it is).
MIN_JUDGED = 3

#: What the record keeps of an event, by kind (the two low bits of a mark; this order also breaks ties within
#: a minute: downloads, then a mail that may take them back, then an exit).
KNOWN_DL, NOVEL_DL, MAIL, EXIT = range(4)
#: A mark's count (downloads in its minute, a mail's attachments) saturates here (10 bits).
COUNT_CAP = 1023
#: Marks kept at most (a safety bound: the oldest days are judged for good earlier when it is reached).
MARKS_CAP = 160
#: Fields of the record (``st.extra[key]``): the day its minutes count from (the oldest day a late event may
#: still change), the latest minute seen, what was judged for good (downloads, weight not explained), the marks
#: of the days since (stored packed: :func:`_pack`), then the valuation as of the latest minute: downloads judged, their weight not explained.
R_ORIGIN, R_CLOCK, R_BASE_N, R_BASE_W, R_MARKS, R_JUDGED, R_WEIGHT = range(7)


def _pack(marks: list[int]) -> str | list[int]:
    """The stored form of a record's marks: 4 bytes each, big-endian, in base64 (a third of the room of a JSON
    list of 7-8 digit ints); the list itself if a mark does not fit in 4 bytes.

    >>> _pack([2174977, 2375681]), _unpack(_pack([2174977, 2375681])), _unpack([5]), _unpack("")
    ('ACEwAQAkQAE', [2174977, 2375681], [5], [])
    """
    if any(m >> 32 for m in marks):
        return marks
    return base64.b64encode(b"".join(m.to_bytes(4, "big") for m in marks)).decode().rstrip("=")


def _unpack(stored: str | list[int]) -> list[int]:
    """A record's marks from their stored form (:func:`_pack`; records written before it hold the list)."""
    if isinstance(stored, list):
        return stored
    raw = base64.b64decode(stored + "=" * (-len(stored) % 4))
    return [int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw), 4)]


def _num(x: float) -> float | int:
    """A weight as stored: a whole number without its ``.0``."""
    return int(x) if x == int(x) else x


def _mark(minute: int, code: int, n: int) -> int:
    """One event (or several of one kind in one minute) as an int: minute, kind, count; ints sort by time, then
    kind."""
    return ((minute * 4 + code) << 10) | min(n, COUNT_CAP)


def _value(marks: list[int], n0: int, w0: float, clock: int | None) -> tuple[int, float]:
    """Downloads judged and their weight not explained, from ``n0``/``w0`` and the marks replayed in time order
    (sessions end after HANDOVER_HOURS without a download, at the end of the day, or at an exit); with
    ``clock`` (a minute), the session still open is judged if it is over by then, else (None) it is judged."""
    gap = int(HANDOVER_HOURS * 60)
    judged, weight = n0, w0
    last = -1
    total = known = novel = 0  # the open session's downloads, its known ones not taken back, its novel ones
    for m in marks:
        minute, code, n = m >> 12, (m >> 10) & 3, m & COUNT_CAP
        if total and (minute - last > gap or minute // 1440 != last // 1440 or code == EXIT):
            judged, weight = judged + total, weight + known + NOVEL_WEIGHT * novel
            total = known = novel = 0
        if code == KNOWN_DL or code == NOVEL_DL:
            last = minute
            total += n
            if code == KNOWN_DL:
                known += n
            else:
                novel += n
        elif code == MAIL and known:
            known -= min(known, n)
    if total and (clock is None or clock - last > gap or clock // 1440 != last // 1440):
        judged, weight = judged + total, weight + known + NOVEL_WEIGHT * novel
    return judged, round(weight, 1)


def _open(rec: list[Any]) -> bool:
    """Whether a session of the record is still open at its latest minute."""
    marks = rec[R_MARKS]
    return _value(marks, 0, 0.0, rec[R_CLOCK]) != _value(marks, 0, 0.0, None)


def _settle(rec: list[Any], day: int) -> None:
    """Judge for good the days older than a late event may still change (``LATE_DAYS`` before ``day``), or
    more while the marks exceed MARKS_CAP; their marks go, and the origin moves on."""
    origin = max(rec[R_ORIGIN], day - LATE_DAYS)
    marks = rec[R_MARKS]
    if len(marks) > MARKS_CAP:
        origin = min(max(origin, rec[R_ORIGIN] + (marks[0] >> 12) // 1440 + 1), day)
    shift = (origin - rec[R_ORIGIN]) * 1440
    if shift <= 0:
        return
    old = [m for m in marks if m >> 12 < shift]
    if old:
        rec[R_BASE_N], rec[R_BASE_W] = _value(old, rec[R_BASE_N], rec[R_BASE_W], None)
    rec[R_MARKS] = [m - (shift << 12) for m in marks if m >> 12 >= shift]
    rec[R_CLOCK] = max(0, rec[R_CLOCK] - shift)
    rec[R_ORIGIN] = origin


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float, *,
            counts: Callable[[ActivityEvent], bool], key: str) -> None:
    """Follow event ``e`` for a rule that counts the downloads ``counts`` accepts, keeping its record under
    ``st.extra[key]`` (see :data:`R_ORIGIN`): the valuation is the one time order gives, whatever order the
    events arrive in, for events up to ``LATE_DAYS`` late (within a minute: a mail after the downloads of its
    minute, an exit after both). The events of the days a late event may still change are kept as *marks*,
    one int per kind and minute; older days are judged for good. A download older than that counts as not
    passed on."""
    if not relevant(e):
        return
    learn = hr.learnable(day)
    mature = day - st.extra.get("fs", day) >= MIN_HISTORY_DAYS
    download = e.kind == "file" and e.action in DOWNLOADS and counts(e)
    known = known_container(st, e.object, (learn or not mature) and teaches_place(e)) if e.kind == "file" else True
    rec: list[Any] | None = st.extra.get(key)
    if rec is not None:
        rec[R_MARKS] = _unpack(rec[R_MARKS])
    if learn:
        # a day that may teach a baseline is no departure: once the record's last session is over, back to
        # ordinary days (an event from before the departure that arrives late changes nothing)
        if rec is not None and day >= rec[R_ORIGIN] + rec[R_CLOCK] // 1440 and not _open(rec):
            del st.extra[key]
        elif rec is not None:
            rec[R_MARKS] = _pack(rec[R_MARKS])
        return
    if download:
        code, n = (NOVEL_DL if mature and not known else KNOWN_DL), 1
    elif is_exit(e):
        code, n = EXIT, 1
    elif is_internal_handover(e):
        code, n = MAIL, e.count or 0
    else:
        code, n = -1, 0
    if rec is None:
        if code < 0:
            return
        rec = st.extra[key] = [day - LATE_DAYS, LATE_DAYS * 1440, 0, 0, [], 0, 0]
    minute = int(t // 60) - rec[R_ORIGIN] * 1440
    if minute < 0:  # older than a late event may be: a download counts as not passed on, the rest is lost
        if code == KNOWN_DL or code == NOVEL_DL:
            rec[R_BASE_N] += n
            rec[R_BASE_W] = round(rec[R_BASE_W] + (NOVEL_WEIGHT if code == NOVEL_DL else 1.0) * n, 1)
    elif code >= 0:
        marks: list[int] = rec[R_MARKS]
        m = _mark(minute, code, n)
        head = m >> 10
        i = bisect.bisect_left(marks, head << 10)
        if i < len(marks) and marks[i] >> 10 == head:
            marks[i] = _mark(minute, code, (marks[i] & COUNT_CAP) + n)
        else:
            marks.insert(i, m)
    rec[R_CLOCK] = max(rec[R_CLOCK], minute)
    _settle(rec, rec[R_ORIGIN] + rec[R_CLOCK] // 1440)
    judged, weight = _value(rec[R_MARKS], rec[R_BASE_N], rec[R_BASE_W], rec[R_CLOCK])
    rec[R_JUDGED], rec[R_WEIGHT] = judged, _num(weight)
    rec[R_BASE_W] = _num(rec[R_BASE_W])
    rec[R_MARKS] = _pack(rec[R_MARKS])


def day_of_t(t: float) -> int:
    return int(t // 86400)
