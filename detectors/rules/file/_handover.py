"""What downloads are worth before a departure: where they go next and where they came from (shared by the file
rules that count downloads).

Volume alone does not tell an honest leaver who hands over a lot from someone taking data. Two facts that
every audit log carries do:

- **Passed on internally.** Downloads followed, within :data:`HANDOVER_HOURS` of the last of them, by an
  internal mail (sent, every recipient internal: ``external`` false, not ``personal``) that carries
  attachments are handover or ordinary collaboration: the mail takes back up to its attachment count of them.
  A copy to removable media, an external share, or a mail or upload to an external or personal destination
  makes the session's pending downloads unclaimable. A session (downloads less than :data:`HANDOVER_HOURS`
  apart on one day) is judged when it is over: at the next file or mail event after that time, at the end of
  its day, or at an exit.
- **Novelty.** A download from a container (the host and the first :data:`CONTAINER_DEPTH` folders of its
  path) the employee has never touched counts :data:`NOVEL_WEIGHT` and is never taken back: re-reading one's
  own work is not collecting a department's files. Containers are learned from the employee's file events on
  days that may teach a baseline (not in the departure period, not on the watchlist), and from every day in
  the first :data:`MIN_HISTORY_DAYS`; they are kept as 16-bit hashes, most recently used last,
  :data:`KNOWN_CAP` of them (``st.extra["kc"]``). A collision makes a new container pass as known: a miss,
  never a false alert.

While the employee is departing (or watched), each rule keeps a small record under its own key of
``st.extra`` (:func:`observe`; nothing for anyone else). :func:`unexplained_share` is the
weight not explained per download judged: near 0 for a handover, 1 when nothing was passed on, up to
:data:`NOVEL_WEIGHT` when everything came from new places. The rules' windows multiply their ratio to the
employee's usual by it; what fires (the count) does not depend on it, so alert ids stay independent of the
order in which events arrive.

>>> container("https://corp.sharepoint.com/sites/Finance/Shared Documents/Q3/budget.xlsx")
'corp.sharepoint.com/sites/finance/shared documents'
>>> container("/sites/sales/conf/doc-0001.pdf"), container("C:\\\\Users\\\\ann\\\\report.docx"), container(None)
('sites/sales/conf', 'c:/users/ann', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detectors.state import EmployeeState
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
    import hashlib

    return hashlib.blake2s(key.encode(), digest_size=2).hexdigest()


def known_container(st: EmployeeState, obj: str | None, learn: bool) -> bool:
    """Whether the employee touched ``obj``'s container before; remembers it when ``learn``. An object
    without a container counts as known (nothing to say it is new)."""
    c = container(obj)
    if c is None:
        return True
    h = _hash(c)
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


def observe(e: ActivityEvent, st: EmployeeState, hr: Any, day: int, t: float, *,
            counts: Callable[[ActivityEvent], bool], key: str) -> None:
    """Follow event ``e`` for a rule that counts the downloads ``counts`` accepts, keeping its record under
    ``st.extra[key]``: ``[time of the session's last download, its known downloads not taken back, its novel
    downloads, its downloads, downloads judged, their weight not explained]``."""
    if not relevant(e):
        return
    learn = hr.learnable(day)
    mature = day - st.extra.get("fs", day) >= MIN_HISTORY_DAYS
    download = e.kind == "file" and e.action in DOWNLOADS and counts(e)
    known = known_container(st, e.object, learn or not mature) if e.kind == "file" else True
    rec: list[Any] | None = st.extra.get(key)
    if rec is None:
        if learn or not download:
            return
        rec = st.extra[key] = [int(t), 0, 0, 0, 0, 0.0]
    elif rec[3] and (t - rec[0] > HANDOVER_HOURS * 3600 or day != day_of_t(rec[0]) or is_exit(e)):
        rec[4] += rec[3]  # the session is over: judge it
        rec[5] = round(rec[5] + rec[1] + NOVEL_WEIGHT * rec[2], 1)
        rec[1] = rec[2] = rec[3] = 0
    if download:
        rec[0] = max(rec[0], int(t)) if rec[3] else int(t)
        rec[3] += 1
        if mature and not known:
            rec[2] += 1
        else:
            rec[1] += 1
    elif rec[1] and is_internal_handover(e):
        rec[1] -= min(rec[1], e.count or 0)
    if learn and not rec[3]:
        del st.extra[key]  # back to ordinary days: nothing to keep


def day_of_t(t: float) -> int:
    return int(t // 86400)
