"""Visits to or downloads from hacking-tool and keylogger sites (``attrs.category`` ``hacking_tools`` from the
connectors' classification: keylogger and spyware vendors, password crackers, exploit kits).

On a company machine this is rarely work outside the security team, and it is the first step of the
sabotage and credential-theft cases (CERT scenario 3: a keylogger downloaded, carried on a thumb drive to the
supervisor's machine). Fires on any day with one such event; graded against the employee's own normal, so
someone whose work it is (a security analyst visiting these sites every week) is ``low``, and it stays at
``medium`` at most for someone not leaving.
"""

from typing import Any

from detectors.examples import daily, ev, hr
from detectors.rule import Example, Rule
from detectors.windows import OnEvent
from schemas import ActivityEvent


def hacking_tools(e: ActivityEvent) -> int:
    return int(e.kind == "web" and e.action in ("visit", "download") and e.attrs.get("category") == "hacking_tools")


_HR = [hr("2026-01-01T09:00:00Z")]
_KEYLOGGER: dict[str, Any] = dict(kind="web", action="visit", object="https://www.keylogger.example/download",
                  attrs={"category": "hacking_tools"})

RULE = Rule(
    staying_cap="medium",
    id="web.hacking_tools",
    version="1",
    title=(
        "{observed:.0f} visit(s) or download(s) of hacking tools or keyloggers on {day}, "
        "{ratio_to_own_normal}x the employee's usual; HR status {status}"
    ),
    description=__doc__,
    severity="medium",
    score=55,
    predicate=hacking_tools,
    window=OnEvent(when="always", min_value=1),
    runbook=(
        "Check whether the tool was downloaded and run (endpoint protection, the file on the machine and on "
        "removable media); ask whether the employee's role needs it; if not, isolate the machine and reset the "
        "credentials of everyone who used it since."
    ),
    false_positives=("Security staff testing tools", "A vendor site reached through a review article"),
    examples=(
        Example("a keylogger vendor's download page", True, [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)], _HR),
        Example("an ordinary site", False,
                [ev("2026-02-10T13:35:00Z", kind="web", action="visit", object="https://news.example/")], _HR),
        Example("an upload is not a download", False,
                [ev("2026-02-10T13:35:00Z", **{**_KEYLOGGER, "action": "upload"})], _HR),
        Example("an analyst who visits such sites daily still gets an alert, graded low", True,
                daily("2026-01-05", 30, per_day=1, **_KEYLOGGER) + [ev("2026-02-10T13:35:00Z", **_KEYLOGGER)], _HR),
    ),
)
