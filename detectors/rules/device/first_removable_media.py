"""The first time the employee uses removable media (a device connected, or a file copied to one), after at
least 28 days of history without it.

Detection without labels: the novelty is the signal, whatever the files are. Someone who connected a drive
once, anywhere in the remembered history, is not new to it; the amount is judged by
``device.connect_spike`` and ``device.removable_copy_spike``. Alone it is ``low``, in notice too
(a handover on a stick is ordinary); it feeds ``activity.firsts_together``. A first that most of the
employee's department did before (a field team where everyone carries drives) does not count.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.activity._firsts import removable
from detectors.windows import FirstTime
from schemas import ActivityEvent


def first_removable_media(e: ActivityEvent) -> bool:
    return removable(e) is not None


_HR = [hr("2026-01-01T09:00:00Z")]
_WORK = daily("2026-01-05", 30, per_day=3, hour=10, action="open")
# A field team of six where the five others all use thumb drives.
_TEAM = [hr("2026-01-01T09:00:00Z", department="Field")] + [
    hr("2026-01-01T09:00:00Z", employee_id=f"E{i}", accounts=[f"p{i}@corp.example"], department="Field")
    for i in range(2, 7)]
_TEAM_USB = [ev(f"2026-01-0{5 + i % 4}T11:00:00Z", actor=f"p{i}@corp.example", action="connect")
             for i in range(2, 7)]

RULE = Rule(
    id="device.first_removable_media",
    version="1",
    title="First use of removable media in {history_days} days of history, on {day}; HR status {status}",
    description=__doc__,
    severity="low",
    score=35,
    predicate=first_removable_media,
    kinds=("device", "file"),
    novelty=removable,
    window=FirstTime(min_history_days=28),
    runbook=(
        "Identify the device (host, attrs) and what was copied (evidence, file alerts of the same day); ask "
        "whether it is a company-issued encrypted drive."
    ),
    false_positives=("A first company-issued drive", "Presentation material for a customer visit"),
    examples=(
        Example("a thumb drive connected after 30 days without one", True,
                _WORK + [ev("2026-02-10T11:00:00Z", action="connect", destination="removable")], _HR),
        Example("a file copied to removable media counts too", True,
                _WORK + [ev("2026-02-10T11:00:00Z", action="copy_to_removable")], _HR),
        Example("someone who connects a drive now and then", False,
                _WORK + [ev("2026-01-12T11:00:00Z", action="connect"), ev("2026-02-10T11:00:00Z", action="connect")],
                _HR),
        Example("a first that most of the team did before is not unusual", False,
                _WORK + _TEAM_USB + [ev("2026-02-10T11:00:00Z", action="connect")], _TEAM),
        Example("the same first in a team where one other uses drives", True,
                _WORK + _TEAM_USB[:1] + [ev("2026-02-10T11:00:00Z", action="connect")], _TEAM),
        Example("in the first weeks nothing is new yet", False,
                _WORK[:30] + [ev("2026-01-12T11:00:00Z", action="connect")], _HR),
    ),
)
