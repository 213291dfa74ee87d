"""The employee's first upload ever to personal cloud storage, in the departure period, when their colleagues
almost never upload to one.

A careful thief takes a few files once or twice: one upload of 5-40 MB to a drive of their own, days before
the last day. ``web.personal_cloud_upload`` weighs a day (an unlabelled 15 MB upload weighs 1 of the 3 it
needs) and ``web.personal_cloud_repeated_before_departure`` needs two such days against the person's own habit;
with a month of history and no upload the own normal says little either way (a Jeffreys estimate of 1-2% of
days). What does say something is everyone else: in a department where hardly anyone ever sent a file to a
personal drive (a logistics planner, a nurse, an HR partner), the first one a leaver ever sends, in their
notice, is news; in a team that shares with agencies through personal drives every week (designers,
marketing), it is their work, and a leaver doing it too is the natural calm.

So the rule fires, once per person (the novelty key is "any personal upload": the first one ever seen), when
all of these hold:

- the upload is not public (the weights of ``web.personal_cloud_upload``; a destination the company uses
  routinely, such as its own GitHub organisation, is not personal: :mod:`detectors.habits`);
- the person has at least 28 days of history, none of it with a personal upload (what they did in their first
  days is remembered as theirs: no novelty then, nor later);
- it falls in the departure period (notice, or 30 days before the last working day), but not on the last
  working day or the UTC day after it: a first upload then is a take-home, graded low by
  ``web.personal_cloud_upload``;
- at least :attr:`FirstInDeparture.min_peers` (5) other members of their department were seen, and fewer than
  :attr:`FirstInDeparture.max_peer_share` (a quarter) of them ever uploaded to a personal cloud before
  (:class:`detectors.peers.PeerFirsts`: members who did a first, no employee id kept).

HR news that arrives after the upload (a resignation recorded late, a termination on the spot) re-reads the day
(:meth:`FirstInDeparture.check_day`, against the peers as they were at the upload). For someone the departure
propensity only guesses may leave, the alert is low (:func:`detectors.engine.possibly_leaving_view`).

Version 2: one's own photos, videos and music are no upload (the weights of ``web.personal_cloud_upload`` v5,
:func:`detectors.content.own_media`): version 1 flagged two honest leavers of the own profiles (shifts and
subtle, seed 1) at medium for a single holiday photo sent to a personal drive in their notice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.examples import daily, ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.web.personal_cloud_upload import personal_cloud_upload
from detectors.state import EmployeeState, Series
from detectors.windows import FirstTime
from schemas import ActivityEvent

#: The novelty key: any upload to personal cloud storage (the first one counts, whatever the service).
KEY = "personal_cloud_upload"
#: Where the employee's state keeps the first upload's day and the peers then: ``[day, did, members]``.
PEERS_THEN = "pcp"


def personal_cloud_first_before_departure(e: ActivityEvent) -> bool:
    return personal_cloud_upload(e) > 0


def novelty(e: ActivityEvent) -> str:
    return KEY


@dataclass(frozen=True)
class FirstInDeparture(FirstTime):
    """A :class:`detectors.windows.FirstTime` for the departure period, read against the department: fires when
    fewer than ``max_peer_share`` of at least ``min_peers`` other members did the thing before, and not on the
    last working day (or the UTC day after it)."""

    when: str = "departing"
    max_peer_share: float = 0.25
    min_peers: int = 5

    def on_new(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str, key: str,
               peers: tuple[int, int] = (0, 0)) -> Finding | None:
        st.extra[PEERS_THEN] = [day, int(peers[0]), int(peers[1])]
        return self._judge(s, hr, day, st, rid, key, peers)

    def check_day(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str) -> Finding | None:
        """HR news after the upload: the day of the first upload, judged under the new picture against the
        peers as they were then."""
        then = st.extra.get(PEERS_THEN)
        if not then or then[0] != day or s.days.get(day, 0.0) <= 0:
            return None
        return self._judge(s, hr, day, st, rid, KEY, (then[1], then[2]))

    def _judge(self, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str, key: str,
               peers: tuple[int, int]) -> Finding | None:
        if hr.last_day is not None and hr.last_day <= day <= hr.last_day + 1:
            return None  # a take-home (web.personal_cloud_upload grades it)
        did, members = peers
        others = max(0, members - 1)  # the members seen include the employee
        if others < self.min_peers or did >= self.max_peer_share * others:
            return None
        f = super().on_new(s, hr, day, st, rid, key, (did, others))
        if f is None:
            return None
        return dataclasses.replace(f, extra={**f.extra, "peers_before": f"{did} of {others}"})


_UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="dropbox.com")
_DEPT = {"department": "logistics", "role": "planner"}


def _team(n: int, uploaders: int) -> list[dict[str, Any]]:
    """``n`` colleagues in the department working daily from 5 January; the first ``uploaders`` of them upload
    to a personal drive once in January."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        who = dict(actor=f"c{i}@corp.example")
        out += daily("2026-01-05", 30, **who)
        if i < uploaders:
            out.append(ev(f"2026-01-{10 + i:02d}T11:00:00Z", bytes=8_000_000, **{**_UP, **who}))
    return out


def _team_hr(n: int) -> list[dict[str, Any]]:
    return [hr("2026-01-01T08:00:00Z", employee_id=f"C{i}", accounts=[f"c{i}@corp.example"], **_DEPT)
            for i in range(n)]


_WORK = daily("2026-01-05", 40, hour=9)
_LEAVER = [hr("2026-01-01T08:00:00Z", **_DEPT),
           hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-27", resignation_date="2026-03-02", **_DEPT)]
_STAYER = [hr("2026-01-01T08:00:00Z", **_DEPT)]

RULE = Rule(
    id="web.personal_cloud_first_before_departure",
    version="2",
    title=(
        "First upload to personal cloud storage in {history_days} days of history, on {day}, in the departure "
        "period (last working day {last_day}); {peers_before} colleagues of their department had uploaded to one "
        "before; HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=50,
    predicate=personal_cloud_first_before_departure,
    kinds=("file", "web"),
    novelty=novelty,
    window=FirstInDeparture(min_history_days=28),
    runbook=(
        "Identify the service, the account and what was uploaded (evidence); ask the employee what it was and to "
        "delete the copy and confirm in writing; check the days before for downloads of the same files."
    ),
    false_positives=(
        "A leaver sending their own files (a CV, photos) home before the last day",
        "A new duty that uses a customer's or agency's drive, begun in the notice",
    ),
    examples=(
        Example("a 20 MB upload two weeks before the last day; none of 6 colleagues ever uploaded to a personal drive",
                True, _team(6, 0) + _WORK + [ev("2026-03-12T15:00:00Z", bytes=20_000_000, **_UP)],
                _team_hr(6) + _LEAVER),
        Example("the same upload on the last working day: a take-home", False,
                _team(6, 0) + _WORK + [ev("2026-03-27T15:00:00Z", bytes=20_000_000, **_UP)], _team_hr(6) + _LEAVER),
        Example("2 of 6 colleagues upload to personal drives: their team's way of working", False,
                _team(6, 2) + _WORK + [ev("2026-03-12T15:00:00Z", bytes=20_000_000, **_UP)], _team_hr(6) + _LEAVER),
        Example("the person uploaded to a personal drive before the departure period", False,
                _team(6, 0) + _WORK + [ev("2026-02-05T15:00:00Z", bytes=20_000_000, **_UP),
                                       ev("2026-03-12T15:00:00Z", bytes=20_000_000, **_UP)],
                _team_hr(6) + _LEAVER),
        Example("someone who is not leaving", False,
                _team(6, 0) + _WORK + [ev("2026-03-12T15:00:00Z", bytes=20_000_000, **_UP)], _team_hr(6) + _STAYER),
        Example("only 3 colleagues: no peers to read", False,
                _team(3, 0) + _WORK + [ev("2026-03-12T15:00:00Z", bytes=20_000_000, **_UP)], _team_hr(3) + _LEAVER),
        Example("public files do not count", False,
                _team(6, 0) + _WORK + [ev("2026-03-12T15:00:00Z", sensitivity="public", **_UP)],
                _team_hr(6) + _LEAVER),
        Example("one holiday photo, named alone and unlabelled: one's own", False,
                _team(6, 0) + _WORK + [ev("2026-03-12T15:00:00Z", object="photo-801.jpg", bytes=2_000_000, **_UP)],
                _team_hr(6) + _LEAVER),
        Example("... and a photo sent in January does not make the first document in the notice known", True,
                _team(6, 0) + _WORK + [ev("2026-01-20T15:00:00Z", object="photo-801.jpg", **_UP),
                                       ev("2026-03-12T15:00:00Z", object="doc-0629.pdf", **_UP)],
                _team_hr(6) + _LEAVER),
    ),
)
