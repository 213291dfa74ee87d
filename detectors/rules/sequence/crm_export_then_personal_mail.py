"""A CRM export followed within 2 hours by mail to a personal address.

First step (``crm_export``): a CRM ``export``, ``report_export`` or ``bulk_query`` (any size; an export that
reports 0 records is left out). Last step: mail sent, forwarded or auto-forwarded to a personal address that
carries something (attachments counted in ``count``, or confidential/restricted content), whatever its
label: exported files are often unlabelled. Fires for anyone, one alert per day; the engine's grading raises
the score in notice and near the last day, and keeps it low for someone staying (version 2: a plain mail
without attachments no longer completes the sequence: it flagged 22 honest people per 1,000 in evaluation).

Version 3 (issue 14): a mail *labelled* public does not complete it. Customer records exported from the CRM are
never public, and a message that carries them is not labelled so; a mail to one's private address labelled public
is a private errand (a payslip, a photo) that happened to fall within 2 hours of an export. On the own profiles
(seeds 1 and 2, main 07e039e) three of the four honest leavers flagged at medium or higher by this rule had mailed
a public-labelled message home 2 minutes to 2 hours after a routine export (27-772 records); the thieves' mails
it caught were labelled internal or not labelled at all, and still complete it (most companies label little or
nothing: an unlabelled mail may carry anything).
"""

from detectors.examples import ev, hr
from detectors.rule import Example, Rule
from detectors.windows import Sequence
from schemas import ActivityEvent

EXPORTS = frozenset({"export", "report_export", "bulk_query"})
SENDS = frozenset({"send", "forward", "auto_forward"})


def crm_export(e: ActivityEvent) -> bool:
    return e.kind == "crm" and e.action in EXPORTS and e.count != 0


def crm_export_then_personal_mail(e: ActivityEvent) -> bool:
    return (e.kind == "email" and e.personal is True and e.action in SENDS and e.sensitivity != "public"
            and (bool(e.count) or e.sensitive or e.action == "auto_forward"))


_HR = [hr("2026-01-01T09:00:00Z")]
_EXPORT = ev("2026-02-10T10:00:00Z", action="report_export", count=350, object="Pipeline by account")


def _mail(ts: str, personal: bool = True, attachments: int = 1, **kw: object) -> dict:
    return ev(ts, action="send", personal=personal, recipients=["ann.lee@mail.example"], count=attachments, **kw)


RULE = Rule(
    id="sequence.crm_export_then_personal_mail",
    version="3",
    title=(
        "CRM export followed {hours_since_first} h later by {observed:.0f} message(s) to a personal address "
        "on {day}; HR status {status}"
    ),
    description=__doc__,
    severity="high",
    score=65,
    predicate=crm_export_then_personal_mail,
    kinds=("crm", "email"),
    first=crm_export,
    window=Sequence(within_hours=2, min_first=1, then_min=1, then_factor=0.0),
    runbook=(
        "Compare the export (object, record count) with the mail's attachments and size; if the export left by "
        "mail, treat it as a customer-data incident: ask the employee to delete it, record the answer, and "
        "involve the data-protection officer if personal data of customers is in it."
    ),
    false_positives=(
        "Mail to a personal address that is unrelated to the export (a private errand in the same hour)",
        "Sales staff who use a personal address for a customer with no business mail",
    ),
    examples=(
        Example("an export, then mail to a private address 90 minutes later", True,
                [_EXPORT, _mail("2026-02-10T11:30:00Z")], _HR),
        Example("an export, then an auto-forward to a private address", True,
                [_EXPORT, ev("2026-02-10T10:05:00Z", action="auto_forward", personal=True)], _HR),
        Example("the mail leaves 3 hours after the export", False,
                [_EXPORT, _mail("2026-02-10T13:00:00Z")], _HR),
        Example("a mail with nothing attached does not complete it", False,
                [_EXPORT, _mail("2026-02-10T10:30:00Z", attachments=0)], _HR),
        Example("a mail home labelled public (a payslip, a photo) carries no customer records", False,
                [_EXPORT, _mail("2026-02-10T10:30:00Z", sensitivity="public")], _HR),
        Example("one labelled internal may carry them", True,
                [_EXPORT, _mail("2026-02-10T10:30:00Z", sensitivity="internal")], _HR),
        Example("the mail goes to a work address", False,
                [_EXPORT, _mail("2026-02-10T10:30:00Z", personal=False)], _HR),
        Example("the mail went before the export", False,
                [_mail("2026-02-10T09:30:00Z"), _EXPORT], _HR),
        Example("a record view is not an export", False,
                [ev("2026-02-10T10:00:00Z", action="view"), _mail("2026-02-10T10:30:00Z")], _HR),
    ),
)
