"""Uploads to personal cloud storage on several days of the departure period, for someone who rarely or never
uploaded to one before.

A careful thief takes a little at a time: one or two uploads of a few megabytes to a personal drive, days
apart, none of them large enough for ``web.personal_cloud_upload`` (which weighs a single day). The
departure period as a whole shows it: the days with a personal upload (the same weights as
``web.personal_cloud_upload``: a public file counts nothing; a destination the company uses routinely, such
as its own GitHub organisation, is not personal: :mod:`detectors.habits`) are counted from 30 days before the
last working day (or the notice, if earlier) and judged against the share of such days in the 60 days before
(:class:`detectors.windows.Sustained`, a Jeffreys estimate: no such day in 60 reads as a share of 0.8%; at
least 14 days of history). A long reference matters: someone who uploads once or twice a month has months
without an upload, and two in the departure period are then their habit, not news.
The rule fires once per departure when there are at least 2 such days and so many is a chance below 1 in 10
under the person's own habit over the whole period (30 days, however few have passed: two uploads in the
first week are no rarer than two in the month): someone who shares with customers through a personal drive every week needs
far more. A single upload, however large, is ``web.personal_cloud_upload``'s to weigh; a take-home on the last
day alone never fires this rule. The grade is capped below "ten times usual": a share of days against a share near
zero reads large quickly; what raises it is what else the person did (other rules, the risk score).

Version 2: the team's habit is a normal too. When at least a quarter of at least 5 colleagues (the role within
the department, else the department: :mod:`detectors.peerrates`, each member's personal-upload weight per 30
days since first seen) upload to personal cloud storage at all, the finding is graded low: in a marketing team
that shares with agencies through personal drives every week, a leaver doing it on 4 of 12 days of the notice
is doing their work (outside_c seed 2: a marketing manager, 23 of 24 colleagues upload). Where hardly anyone
does it (every thief this rule caught on the 18 evaluation companies: buyers, nurses, facilities, engineers
of whom 0-7% upload), it stays as before.

Version 3: one's own photos, videos and music count nothing (the weights of ``web.personal_cloud_upload`` v5,
:func:`detectors.content.own_media`): version 2 flagged an honest leaver of the own subtle profile (seed 1) at
medium for two holiday photos sent to personal drives 11 days apart in the notice.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from detectors.context import HRView
from detectors.examples import ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.web.personal_cloud_upload import personal_cloud_upload
from detectors.state import EmployeeState, Series
from detectors.windows import LOW_BELOW, Sustained
from schemas import ActivityEvent


def personal_cloud_repeated_before_departure(e: ActivityEvent) -> float:
    return personal_cloud_upload(e)


@dataclass(frozen=True)
class SustainedTeamHabit(Sustained):
    """A :class:`detectors.windows.Sustained` whose finding is graded low when at least ``team_share`` of the
    ``peer_min`` or more other members of the employee's first peer group that has that many (the role within
    the department, then the department; :class:`detectors.peerrates.PeerRates`, fed by the engine because
    ``peer_rates`` is set) do the thing at all (a rate above the lowest bucket's)."""

    peer_rates: bool = True
    team_share: float = 0.25
    peer_min: int = 5

    def with_peers(self, f: Finding | None, s: Series, hr: HRView, day: int, st: EmployeeState, rid: str,
                   rates: Any, groups: tuple[str, ...], gated: bool = True) -> Finding | None:
        if f is None or (f.ratio is not None and f.ratio < LOW_BELOW):
            return f
        own = (st.extra.get("pr" + rid) or [0, 0, [], None])[3]
        for g in groups:
            n, doing = rates.doing(g, own)
            if n < self.peer_min:
                continue
            if doing < self.team_share * n:
                return f  # fewer than a quarter of them do it: the person's own habit judges
            team = g[len(rid) + 1:] if g.startswith(rid + ":") else g
            return dataclasses.replace(f, ratio=LOW_BELOW * 0.99, extra={
                **f.extra, "team_habit": f"{doing} of {n} colleagues ({team}) upload to personal cloud storage: "
                                         f"their team's way of working (graded low)"})
        return f


_UP: dict[str, Any] = dict(kind="web", action="upload", personal=True, destination="drive.example-personal.com")
_LEAVER = [hr("2026-01-05T08:00:00Z"),
           hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01")]


def _up(day: str, mb: int = 20, **kw: Any) -> dict[str, Any]:
    return ev(f"{day}T19:30:00Z", bytes=mb * 1_000_000, **{**_UP, **kw})


_WORK = [ev(f"2026-01-{5 + i:02d}T10:00:00Z", action="open", object="/sites/x/a.docx") for i in range(20)]
_DEPT = {"department": "marketing", "role": "marketing_manager"}
_TEAM = [e for i in range(6) for e in
         [ev(f"2026-01-{5 + d:02d}T09:00:00Z", actor=f"m{i}@corp.example", action="open", object="/sites/m/a.pptx")
          for d in range(20)]
         + ([_up(f"2026-01-{8 + d:02d}", actor=f"m{i}@corp.example") for d in (0, 7)] if i < 4 else [])]
_TEAM_HR = ([hr("2026-01-05T08:00:00Z", employee_id=f"M{i}", accounts=[f"m{i}@corp.example"], **_DEPT) for i in range(6)]
            + [hr("2026-01-05T08:00:00Z", **_DEPT),
               hr("2026-03-01T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-01", **_DEPT)])

RULE = Rule(
    id="web.personal_cloud_repeated_before_departure",
    version="3",
    title=(
        "Uploads to personal cloud storage on {observed:.0f} of the {period_days} days from {window_start} to "
        "{window_end}; before, on {ref_days_with} of {ref_days} days; a chance of 1 in 10^{evidence} under their "
        "own habit; last working day {last_day}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=personal_cloud_repeated_before_departure,
    kinds=("file", "web"),
    window=SustainedTeamHabit(days=30, ref_days=60, min_ref_days=14, min_days=2, min_evidence=1.0,
                              ratio_cap=9.0, min_period_days=30),
    runbook=(
        "Identify the service, the account and what was uploaded on each day (evidence); ask the employee to "
        "delete the copies and confirm in writing; check the same days for downloads of the files."
    ),
    false_positives=(
        "Sharing with a customer or agency through a personal drive, begun in the notice",
        "Personal files (photos, a CV) taken home on more than one day",
    ),
    examples=(
        Example("two uploads of 20 MB, a week apart, in the notice of someone who never uploaded before", True,
                _WORK + [_up("2026-03-10"), _up("2026-03-17")], _LEAVER),
        Example("a single upload in the notice", False, _WORK + [_up("2026-03-10", mb=300)], _LEAVER),
        Example("a take-home on the last day", False, _WORK + [_up("2026-03-31", mb=150)], _LEAVER),
        Example("someone who shares through a personal drive every week", False,
                _WORK + [_up(f"2026-{m:02d}-{d:02d}") for m, d in ((1, 26), (2, 2), (2, 9), (2, 16), (2, 23),
                                                                     (3, 2), (3, 9))], _LEAVER),
        Example("someone who is not leaving", False, _WORK + [_up("2026-03-10"), _up("2026-03-17")],
                [hr("2026-01-05T08:00:00Z")]),
        Example("the same two uploads in a team where 4 of 6 colleagues upload to personal drives: graded low", True,
                _WORK + _TEAM + [_up("2026-03-10"), _up("2026-03-17")], _TEAM_HR),
        Example("public files do not count", False,
                _WORK + [_up("2026-03-10", sensitivity="public"), _up("2026-03-17", sensitivity="public")],
                _LEAVER),
        Example("two holiday photos, each named alone and unlabelled", False,
                _WORK + [_up("2026-03-10", mb=2, object="photo-801.jpg"), _up("2026-03-17", mb=5, object="IMG_3.HEIC")],
                _LEAVER),
    ),
)
