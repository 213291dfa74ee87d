"""Removable devices connected on one day markedly above the employee's own normal.

CERT releases before r5 log only the connects, not the files: the rate of connects is then what shows a
thumb drive used far more than before. Counts ``device`` ``connect`` events; fires when a day has more than
3 times the employee's usual daily connects, 3 standard deviations above it, and at least 5. The baseline
learns from normal days only (not in notice, not within 30 days of the last day, not a flagged day) and is
trusted after 14 days. Someone who never used a device is the job of ``device.first_removable_media``.
"""

from detectors.examples import daily, hr
from detectors.rule import Example, Rule
from detectors.windows import AboveBaseline
from schemas import ActivityEvent


def connect_spike(e: ActivityEvent) -> int:
    return int(e.kind == "device" and e.action == "connect")


_HR = [hr("2026-01-01T09:00:00Z")]
_HISTORY = daily("2026-01-05", 30, per_day=1, action="connect")

RULE = Rule(
    id="device.connect_spike",
    version="1",
    title=(
        "{observed:.0f} removable devices connected on {day}, {ratio_to_own_normal}x the employee's usual "
        "{baseline[mean]:.1f} a day (limit {threshold:.1f}); HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=45,
    predicate=connect_spike,
    kinds=("device",),
    window=AboveBaseline(when="always", factor=3.0, z=3.0, min_value=5.0),
    runbook="Identify the devices and the files copied (file alerts of the same day, endpoint logs); ask the "
            "manager about the need.",
    false_positives=("Field work with several cards or drives", "Testing hardware"),
    examples=(
        Example("8 connects against a normal of 1", True, _HISTORY + daily("2026-02-10", 1, per_day=8,
                                                                           action="connect"), _HR),
        Example("4 connects are under the floor of 5", False,
                _HISTORY + daily("2026-02-10", 1, per_day=4, action="connect"), _HR),
        Example("someone who connects 6 a day", False,
                daily("2026-01-05", 30, per_day=6, action="connect")
                + daily("2026-02-10", 1, per_day=9, action="connect"), _HR),
        Example("disconnects do not count", False,
                _HISTORY + daily("2026-02-10", 1, per_day=8, action="disconnect"), _HR),
    ),
)
