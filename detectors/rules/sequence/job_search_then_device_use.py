"""Job-site visits followed within 30 days by a removable device used far more than before.

Logs that record the device but not the files (CERT before r5, many endpoint agents) show a thumb drive
filled before leaving only as more connects. First step: at least 3 job-site visits (as in
``sequence.job_search_then_exfiltration``: the ``job_search`` category or the job-board list) in the 30
days before. Last step: a day with at least 5 device connects and, once the employee has 14 days of
history, at least 3 times their usual daily connects. Someone who never used a device before is new to it
(``device.first_removable_media``), their ratio to a zero normal is the highest there is. Fires for anyone
(the search comes before the resignation); one alert per day.
"""

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.rules.sequence.job_search_then_exfiltration import job_site_visit
from detectors.windows import Sequence
from schemas import ActivityEvent


def job_search_then_device_use(e: ActivityEvent) -> int:
    return int(e.kind == "device" and e.action == "connect")


_HR = [hr("2026-01-01T09:00:00Z")]
_SEARCH = [ev(f"2026-02-0{d}T12:00:00Z", action="visit", kind="web", object="https://jobs.example/x",
              attrs={"category": "job_search"}) for d in (2, 3, 5)]
_USUAL = daily("2026-01-05", 30, per_day=1, action="connect")

RULE = Rule(
    staying_cap=None,
    id="sequence.job_search_then_device_use",
    version="1",
    title=(
        "{first_steps} job-site visits since {window_start}, then {observed:.0f} removable devices connected on "
        "{day}, {ratio_to_own_normal}x the employee's usual ({hours_since_first} h after the first visit); "
        "status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=job_search_then_device_use,
    kinds=("device", "web"),
    first=job_site_visit,
    window=Sequence(within_hours=24 * 30, min_first=3, then_min=5, then_factor=3.0),
    runbook=(
        "Find what went to the device (endpoint file logs, the device itself at the asset hand-in); treat the "
        "job search as context, not wrongdoing; raise it with HR and the manager if company data left."
    ),
    false_positives=("Recruiters who visit job boards as their work", "Field staff who swap cards and drives"),
    examples=(
        Example("3 job-site visits, then 6 connects by someone who connects once a day", True,
                _USUAL + _SEARCH + daily("2026-02-12", 1, per_day=6, action="connect"), _HR),
        Example("a single visit, then 6 connects", False,
                _USUAL + _SEARCH[:1] + daily("2026-02-12", 1, per_day=6, action="connect"), _HR),
        Example("4 connects are under 5", False,
                _USUAL + _SEARCH + daily("2026-02-12", 1, per_day=4, action="connect"), _HR),
        Example("someone who connects 5 a day anyway", False,
                daily("2026-01-05", 30, per_day=5, action="connect") + _SEARCH
                + daily("2026-02-12", 1, per_day=7, action="connect"), _HR),
    ),
)
