"""More downloads than the employee's own normal on many days before a departure, without labels.

A slow drip (a few more files a day, for weeks, from the person's own usual folders) shows in no single day,
needs no sensitivity label and comes from no new place: only the daily volume against the person's own
normal tells it. The rule counts ``download`` events (not ``sync_download``: a sync client pulls libraries
by itself) per day and judges the departure period (30 days up to the last working day, or from the start of
the notice if earlier) with the 30 days before it, as one change that may have begun up to 30 days earlier
(:class:`detectors.windows.SustainedAbove`): since an onset, a day counts when its downloads are above the
employee's usual day before the onset (its 75th percentile, days without downloads counting 0). It fires once
per departure when at least 5 days are, so many is a chance below 1 in 10,000 under their own share of such
days (times the onsets tried), and they hold at least 10 downloads more than the mean day before. Sporadic,
heavy-tailed users have a usual day of 0 and a high share of days above it: they need far more. One busy day
is one day.

Honest leavers hand over a lot, but only once they have resigned. Evidence from the days before the notice
(what a drip that starts weeks before the resignation leaves) is graded medium; evidence that needs the
notice's days is graded low (a handover looks the same), after taking out the downloads passed on by an
internal mail within two hours (``file/_handover.py``). The alert names the days above the usual day, the
usual day, the excess, the chance, and whether it began before the notice.

**Peers, when there is no own normal** (v2). A drip that began in the first days the system saw the employee
(a new deployment, a new hire) has no clean history before it: for someone first seen less than 44 days (30
onsets + 14 reference days) before the departure period, the days from first seen to the day before the
notice are compared with their peers (role within the department, else the department; :mod:`detectors.
peerrates`). It fires, medium, when their downloads per 30 days are at least 3 times the rate of the second
busiest of at least 5 colleagues (one unusual colleague does not hide it; the rate is at least 4, a download a
week), at least 20 downloads more, on at least 5 days; each day counts at most twice their median day, so a
burst is not a rate. For example a sales assistant first seen 9 days before a drip of 3-10 files a day: 97 per
30 days against 22 for the second busiest of 15 colleagues, 4.5x. Someone who always downloads far more than
their team is judged by their own normal once it exists (44 days), never by the peers.

**Peers as context** (v2). An own-normal finding above low is graded low when the rate since the onset is less
than twice what the median colleague downloads (at least 4 per 30 days): someone back at their role's usual
volume after a quiet month is no drip. For example an engineering manager at 79 downloads per 30 days, up from
24 (a chance of 1 in 10^5.7 under their own normal), where the median of 9 colleagues downloads 83.

**Absences** (v3). The rule's observer notes the days the employee was seen at all (any mail, file or web
event: :func:`detectors.windows.mark_present`); a run of 3 or more days without any (a holiday, leave, sick
days: longer than a weekend) before the onset is an absence and does not teach the usual day. Weekends and other
single quiet days stay judged as before, and so does an absence after the onset (days not above the usual: it
only weakens the evidence). An absence is not a run of usual days without downloads: an honest
finance analyst away for three weeks had a usual day of 0 in the reference, and their ordinary 3-14 downloads a
day back at work read as "above the usual day on 24 of 32 days, a chance of 1 in 10^7.2", medium before the
notice (outside_b seed 2, main 50d7dbb). The reference needs 14 days not away. (Tried first and left out:
judging only the days seen at all, weekends dropped too. That raised the usual day of five-day workers, and a
drip of 1-3 more a day on a base of 2-3 fell below the evidence needed: outside_b seed 1's 102568 was lost. And
dropping an absence after the onset as well made a sales assistant's drip with a week away in it an own-normal
finding that the median colleague graded low, and the rule, which fires once per departure, no longer gave the
peers' medium: outside_a seed 2's NW-27707.)
"""

from typing import Any

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.rules.file._handover import observe
from detectors.windows import SustainedAbove, mark_present
from schemas import ActivityEvent

KEY = "dv"  # where observe() keeps this rule's record in st.extra
PRESENT = "dp"  # the days the employee was seen (mark_present)
KINDS = ("email", "file", "web")  # downloads, and the mails and uploads the handover observer reads


def downloads_above_own_normal(e: ActivityEvent) -> bool:
    return e.kind == "file" and e.action == "download"


def _observe(e: ActivityEvent, st: Any, hr: Any, day: int, t: float) -> None:
    observe(e, st, hr, day, t, counts=downloads_above_own_normal, key=KEY)
    if e.kind in KINDS:  # the engine passes only these; a day with any of them is a day at work
        mark_present(st, PRESENT, day)


def _own(start: str, days: int, per_day: int = 2, hour: int = 10) -> list[dict[str, Any]]:
    return daily(start, days, per_day, hour=hour, action="download", object="/sites/support/cases/case.pdf")


def _handover(start: str, days: int, n: int) -> list[dict[str, Any]]:
    return daily(start, days, hour=11, action="send", count=n, external=False,
                 recipients=["bob@corp.example"], object="handover notes")


def _sporadic(start: str, weeks: int) -> list[dict[str, Any]]:
    import datetime as dt

    d0 = dt.date.fromisoformat(start)
    return [x for w in range(weeks) for x in _own((d0 + dt.timedelta(days=7 * w + 2)).isoformat(), 1, per_day=20)]


def _team(start: str, days: int, per_day: int, n: int = 6) -> list[dict[str, Any]]:
    """``n`` colleagues (P1..Pn, support agents) downloading ``per_day`` files a day."""
    return [x for i in range(1, n + 1)
            for x in daily(start, days, per_day, hour=9, action="download", actor=f"p{i}@corp.example",
                           object="/sites/support/cases/case.pdf")]


def _team_hr(n: int = 6) -> list[dict[str, Any]]:
    return [hr("2026-01-05T07:00:00Z", employee_id=f"P{i}", accounts=[f"p{i}@corp.example"],
               department="support", role="agent") for i in range(1, n + 1)]


#: an agent first seen on 20 January, resigning on 25 February (no own normal before a change that began early)
_NEW = [hr("2026-01-20T08:00:00Z", department="support", role="agent"),
        hr("2026-02-25T09:00:00Z", status="notice", last_day="2026-03-13", resignation_date="2026-02-25",
           department="support", role="agent")]

_LEAVER = [hr("2026-01-05T08:00:00Z"),
           hr("2026-02-25T09:00:00Z", status="notice", last_day="2026-03-13", resignation_date="2026-02-25")]
#: notice given before the downloads rose
_EARLY = [hr("2026-01-05T08:00:00Z"),
          hr("2026-02-13T09:00:00Z", status="notice", last_day="2026-03-13", resignation_date="2026-02-13")]

#: resigning on 9 April after three weeks away in February and March
_AWAY = [hr("2026-01-05T08:00:00Z"),
         hr("2026-04-09T09:00:00Z", status="notice", last_day="2026-04-20", resignation_date="2026-04-09")]

RULE = Rule(
    id="file.downloads_above_own_normal",
    version="3",
    title=(
        "Downloads above {basis} on {observed:.0f} of the {period_days} days from {window_start} to "
        "{window_end}: {total:.0f} downloads, {excess:.0f} more than {normal} ({expected:.0f}); {detail}, "
        "{when}; last working day {last_day}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=downloads_above_own_normal,
    kinds=KINDS,
    observe=_observe,
    window=SustainedAbove(days=30, ref_days=30, min_days=5, min_evidence=4.0, min_excess=10.0, unexplained=KEY,
                          ratio_cap=9.0, peer_rates=True, presence=PRESENT),
    runbook=(
        "Compare the downloaded files (evidence) with the handover plan; ask the manager whether the work in "
        "the departure period needed them; look for the same files leaving by mail, USB or personal cloud."
    ),
    false_positives=(
        "A handover prepared from downloads shared by link or chat, not by mail (graded on the raw count)",
        "A project peak in the last weeks (a month-end close, a release) that the month before did not have",
    ),
    examples=(
        Example("five downloads a day where two were usual, from two weeks before the resignation", True,
                _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5), _LEAVER),
        Example("the same volume only after the resignation: a handover looks the same (graded low)", True,
                _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5), _EARLY),
        Example("after the resignation, each day's downloads mailed on to a colleague (graded low)", True,
                _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5) + _handover("2026-02-14", 21, 5),
                _EARLY),
        Example("one busy day is not a drip", False,
                _own("2026-01-05", 68) + _own("2026-02-20", 1, per_day=40), _LEAVER),
        Example("someone who is not leaving", False,
                _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5), [hr("2026-01-05T08:00:00Z")]),
        Example("the usual volume through the departure period", False, _own("2026-01-05", 68), _LEAVER),
        Example("a sporadic user: twenty downloads one day a week, before and during the departure", False,
                _sporadic("2026-01-05", 10), _LEAVER),
        Example("one more download a day is not volume", False,
                _own("2026-01-05", 40) + _own("2026-02-14", 9, per_day=3), _LEAVER),
        Example("sync clients pulling libraries do not count", False,
                _own("2026-01-05", 40) + daily("2026-02-14", 21, action="sync_download", count=50,
                                               object="/sites/support/cases/lib"), _LEAVER),
        Example("a drip that began six weeks before the last day (before the departure period)", True,
                _own("2026-01-05", 30) + _own("2026-02-04", 37, per_day=4), _LEAVER),
        Example("HR records the resignation after the downloads", True,
                _own("2026-01-05", 40) + _own("2026-02-14", 14, per_day=5),
                [hr("2026-01-05T08:00:00Z"),
                 hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-13", resignation_date="2026-02-25")]),
        Example("peers: five downloads a day from the first day seen, where the team downloads one (5x)", True,
                _own("2026-01-20", 53, per_day=5) + _team("2026-01-05", 51, 1), _NEW + _team_hr()),
        Example("peers: the same five a day in a team that downloads five", False,
                _own("2026-01-20", 53, per_day=5) + _team("2026-01-05", 51, 5), _NEW + _team_hr()),
        Example("peers: too few colleagues to compare with", False,
                _own("2026-01-20", 53, per_day=5) + _team("2026-01-05", 51, 1, n=3), _NEW + _team_hr(3)),
        Example("peers: a long own history at the same volume is the own normal (the team is not asked)", False,
                _own("2025-11-20", 96, per_day=5) + _team("2026-01-05", 51, 1),
                [{**_NEW[0], "ts": "2025-11-20T08:00:00Z"}, _NEW[1]] + _team_hr()),
        Example("above the own normal, but what the median colleague downloads (graded low)", True,
                _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5) + _team("2026-01-05", 61, 5),
                [{**x, "department": "support", "role": "agent"} for x in _LEAVER] + _team_hr()),
        Example("back at the same five a day after three weeks away (no event at all): an absence is no usual day",
                False, _own("2026-01-05", 40, per_day=5) + _own("2026-03-09", 43, per_day=5), _AWAY),
        Example("a source without paths: events named only by a file", True,
                [{**x, "object": "q.xlsx"} for x in _own("2026-01-05", 40) + _own("2026-02-14", 21, per_day=5)],
                _LEAVER),
    ),
)
