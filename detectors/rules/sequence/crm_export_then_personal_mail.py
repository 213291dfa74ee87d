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

Version 4 (issue 14): HR news that arrives after the sequence re-judges it. Someone dismissed, or whose
resignation HR records a day or two late, exported and mailed the list home while still "active": the alert went
out low (the grading keeps people who stay calm), and nothing raised it when HR then set a last day two days
later (outside_a seed 2, main e692452: NW-20306's export of 350 records mailed home 1.8 h later, two days before
the last day, stayed low). Now, when the HR picture changes to leaving, a sequence completed in the
:data:`DEPARTING_DAYS` days before the last day (or in the notice) is judged again under it, once, as its own
alert (the crm bulk-export rule has done the same for its stored days since version 1). The findings of the
last :data:`KEPT` completed sequences are kept for that (``st.extra["sq"]``: day, count, ratio, first day,
evidence, baseline, steps and hours), as the marks of the steps themselves last only the window's 2 hours.

Version 5 (issue 14): judged under a leaving picture, the mail home is graded against the employee's own habit
of mailing home, as ``email.attachments_to_personal`` v4 grades its count. Someone who mails a file to their
own private address every few weeks will sooner or later do so within 2 hours of one of their routine exports;
the sequence then says little. The rule keeps the days of its last step (mail home that carries something) for
:data:`REF_DAYS` days and reads the employee's pace before the departure period (30 days before the last day,
or the notice if earlier; at least ``MIN_HISTORY_DAYS`` of history, days that alerted left out, as for the
baselines, and so are the days of sequences completed before). When as many mails home as the departure
period holds so far have a chance of at least
:data:`HABIT_CHANCE` under a Poisson of that pace, the sequence is the employee's habit: graded low, under its
own key (``S<day>H``), so that mail home the habit no longer explains is still raised. No mail home before the
departure period is a pace of 0 and no habit: a first mail home right after an export keeps its grade. In the
18 evaluation companies (400 employees, 100 days, seeds 1 and 2, main 50d7dbb) the three honest leavers this
rule flagged at medium or higher (churn seed 1: a 23-48 record routine export, then one internal file mailed
to their own address 0.3-1 h later) had mailed home 1-3 times in the 18-53 days before; the thieves it alone
catches (outside_a seed 2) had never mailed home before.

Version 6 (issue 14): judged under a leaving picture, the export is graded against the employee's own exports. The
sequence says "a customer list was taken home"; when the day's largest export is no larger than the largest the
employee exported before the departure period (the bulk-export rule's reference,
:meth:`detectors.windows.OnEvent.largest_before`, read from that rule's series: never below half its 100-record
floor), it is their routine report, and what is left is a mail home, which the mail rules judge on its own
(``email.attachments_to_personal``, ``email.sensitive_to_personal``). Such a sequence is graded low, under its own
key (``S<day>R``), unless the mail home demonstrably carried the export: an attachment or subject named like an
export of the 2 hours before (the names' hashes: the bulk-export rule keeps its exports', :data:`MAIL_NAMES` the
latest mail home's). An export larger than before, a first export ever (no export before the departure period),
and a rule set without the bulk-export rule keep the grade. Of the honest leavers this rule flagged at medium or
higher on the 36 evaluation companies (seeds 1-4, main dcc21c4), two had exported 15 and 24 records, no more than
before (churn s4 E00308, sales_org s3 E00175; a third, subtle s3 E00200, 57 records against a largest of 48,
stays); the thieves it caught had exported 7-60 times their largest before, or nothing before, or (outside
companies) mailed home a file named like the export.
"""

import dataclasses
from dataclasses import dataclass

from detectors.context import HRView
from detectors.examples import ev, hr
from detectors.rule import Example, Finding, Rule
from detectors.rules.crm import bulk_export_before_departure as bulk
from detectors.rules.email.attachments_to_personal import poisson_tail
from detectors.state import EmployeeState, Series
from detectors.windows import LOW_BELOW, MIN_HISTORY_DAYS, Sequence, when_ok
from schemas import ActivityEvent

EXPORTS = frozenset({"export", "report_export", "bulk_query"})
SENDS = frozenset({"send", "forward", "auto_forward"})
#: A sequence completed this many days before the last working day (or in the notice) is judged again when HR
#: news makes the employee a leaver (version 4).
DEPARTING_DAYS = 30
#: Completed sequences kept for HR news (``st.extra[DONE]``), the latest.
DONE, KEPT = "sq", 3
#: Version 5: days of mail home kept to read the employee's habit (the departure period and the 60 days before it).
REF_DAYS = 90
#: ... read over at most this many days before the departure period.
HABIT_DAYS = 60
#: As many mails home in the departure period so far with at least this chance at the employee's own pace before
#: it (Poisson) are their habit (asked at every sequence: 1 in 1,000, as ``email.attachments_to_personal`` v4).
HABIT_CHANCE = 0.001
#: Version 6: the latest mail home that carries something, ``[time, name hash, ...]`` (its attachments' and its
#: subject's names, at most NAMES_PER_MAIL).
MAIL_NAMES, NAMES_PER_MAIL = "sqn", 4


@dataclass(frozen=True)
class SequenceOnHRNews(Sequence):
    """A :class:`Sequence` whose completed sequences are judged again when HR news makes the person a leaver."""

    def horizon(self, lookback_days: int) -> int:
        # version 5: the days of mail home are kept to read the employee's habit before the departure period
        return max(super().horizon(lookback_days), REF_DAYS)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        return self._keyed(super().on_event(s, hr, day, t, st, rid), hr, day, s, st)

    def on_late_first(self, s: Series | None, hr: HRView, t: float, st: EmployeeState, rid: str) -> Finding | None:
        f = super().on_late_first(s, hr, t, st, rid)
        return None if f is None or f.day is None or s is None else self._keyed(f, hr, f.day, s, st)

    @staticmethod
    def _keyed(f: Finding | None, hr: HRView, day: int, s: Series, st: EmployeeState) -> Finding | None:
        """Judged under a picture in which the person is leaving: the key of a re-judged sequence, so that the
        alert is the same whether HR news came before the sequence or after it (streams arrive in any order);
        graded against the employee's habit of mailing home (version 5) and their own exports (version 6)."""
        if f is not None and when_ok("departing", hr, day, DEPARTING_DAYS):
            f = habit_graded(dataclasses.replace(f, key=f"{f.key}D"), s, hr, day, st)
            return routine_graded(f, hr, day, st)
        return f

    def _check_at(self, s: Series, t: float, day: int, st: EmployeeState, rid: str) -> Finding | None:
        f = super()._check_at(s, t, day, st, rid)
        if f is not None:
            size, carried = export_seen(st, t, day)
            f = dataclasses.replace(f, extra={**f.extra, "habit": "", "routine": "", "export_records": size,
                                              "carried": carried})
            done = [d for d in st.extra.get(DONE, []) if d[0] != day and d[0] >= day - DEPARTING_DAYS]
            done.append([day, f.observed, f.ratio, f.window_start, f.evidence[-3:], f.baseline,
                         f.extra["first_steps"], f.extra["hours_since_first"], size, int(carried)])
            st.extra[DONE] = sorted(done)[-KEPT:]
        return f

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        if not hr.leaving:
            return []
        found: list[Finding] = []
        for entry in st.extra.get(DONE, []):
            day, observed, ratio, start, evidence, baseline, steps, hours = entry[:8]
            size, carried = (entry[8], bool(entry[9])) if len(entry) >= 10 else (0.0, False)  # v5 state: no size
            if day < today - min(lookback_days, DEPARTING_DAYS) or not when_ok("departing", hr, day,
                                                                                 DEPARTING_DAYS):
                continue
            # its own alert: the one sent at the time (key S<day>) was judged under the picture of then
            f = Finding(key=f"S{day}D", observed=observed, threshold=self.then_min, window_start=start,
                        window_end=day, evidence=list(evidence), baseline=baseline, ratio=ratio, day=day,
                        extra={"first_steps": steps, "hours_since_first": hours, "habit": "", "routine": "",
                               "export_records": size, "carried": carried})
            found.append(routine_graded(habit_graded(f, s, hr, day, st), hr, day, st))
        return found


def observe(e: ActivityEvent, st: EmployeeState, hr: object, day: int, t: float) -> None:
    """Version 6: the names of the latest mail home that carries something (its attachments and its subject), to
    tell whether it carried an export (:data:`MAIL_NAMES`)."""
    if not crm_export_then_personal_mail(e):
        return
    names = [str(x) for x in ((e.attrs or {}).get("attachments") or []) if x][: NAMES_PER_MAIL - 1]
    if e.object:
        names.append(e.object)
    st.extra[MAIL_NAMES] = [int(t)] + sorted({bulk.name_hash(x) for x in names})


def export_seen(st: EmployeeState, t: float, day: int) -> tuple[float, bool]:
    """The day's largest export so far (the bulk-export rule's series; 0 without it) and whether the mail home at
    ``t`` is named like an export of the hours before it."""
    from detectors.engine import series_key  # the engine is loaded by the time it asks

    sb = st.series.get(series_key(bulk.RULE.id))
    size = 0.0 if sb is None else float(sb.days.get(day, 0.0))
    mail = st.extra.get(MAIL_NAMES) or [None]
    carried = mail[0] == int(t) and bool(set(mail[1:]) & bulk.export_names(st, t))
    return size, carried


def routine_graded(f: Finding, hr: HRView, day: int, st: EmployeeState) -> Finding:
    """Version 6: the sequence graded low, under its own key, when the day's largest export is no larger than the
    employee's largest before the departure period and the mail home is not named like it."""
    from detectors.engine import series_key

    size = float(f.extra.get("export_records") or 0.0)
    sb = st.series.get(series_key(bulk.RULE.id))
    if f.extra.get("carried") or size <= 0 or sb is None or f.key.endswith("R"):
        return f
    w = bulk.RULE.window
    ref = w.largest_before(sb, hr, day)  # type: ignore[attr-defined]
    if sb.top <= 0 and ref <= w.min_value / 2:  # type: ignore[attr-defined]
        return f  # nothing exported before: a first export is no routine
    if size > ref:
        return f
    routine = (f"; the day's largest export ({size:.0f} records) was no larger than their usual before the departure "
               f"period ({ref:.0f}: their largest export, at least {w.min_value / 2:.0f}), and the mail home is not "  # type: ignore[attr-defined]
               f"named like it: a routine report (graded low)")
    ratio = min(f.ratio if f.ratio is not None else LOW_BELOW, LOW_BELOW * 0.99)
    return dataclasses.replace(f, key=f"{f.key}R", ratio=ratio, extra={**f.extra, "routine": routine})


def habit_before(s: Series, hr: HRView, day: int, st: EmployeeState) -> tuple[float, int, int] | None:
    """Mails home a day before the departure period (30 days before the last day, or the notice if earlier), read
    from the kept days (at most :data:`HABIT_DAYS`; days that alerted and days of earlier sequences left out), the
    mails home of the period up
    to ``day`` and the period's days so far; None without a last day or with under ``MIN_HISTORY_DAYS`` of
    history before the period."""
    if hr.last_day is None:
        return None
    dep = hr.departure_start()
    lo = max(int(st.extra.get("fs", dep)), dep - HABIT_DAYS, day - REF_DAYS + 1)
    if dep - lo < MIN_HISTORY_DAYS:
        return None
    # a day that alerted is no normal (as for the baselines), nor is an earlier export mailed home: the act the
    # rule looks for is no innocent habit, though a low alert while HR said active may have left the short list
    # of flagged days
    flagged = set(st.extra.get("flagged", ())) | {int(x[0]) for x in st.extra.get(DONE, ())}
    before = sum(v for d, v in s.days.items() if lo <= d < dep and d not in flagged) / (dep - lo)
    period = sum(v for d, v in s.days.items() if dep <= d <= day)
    return before, int(period), max(1, day - dep + 1)


def habit_graded(f: Finding, s: Series, hr: HRView, day: int, st: EmployeeState) -> Finding:
    """Version 5: the sequence graded low, under its own key, when the mails home of the departure period so far
    have a chance of at least :data:`HABIT_CHANCE` at the employee's own pace before it."""
    f = dataclasses.replace(f, extra={**f.extra, "habit": ""})
    got = habit_before(s, hr, day, st)
    if got is None or got[0] <= 0:
        return f
    before, period, elapsed = got
    chance = poisson_tail(max(1, period), before * elapsed)
    if chance < HABIT_CHANCE:
        return f
    habit = (f"; they mailed home {before * 30:.1f} times a month before the departure, and {max(1, period)} "
             f"in its {elapsed} days so far has a chance of {chance:.2f} at that pace: a habit (graded low)")
    ratio = min(f.ratio if f.ratio is not None else LOW_BELOW, LOW_BELOW * 0.99)
    return dataclasses.replace(f, key=f"{f.key}H", ratio=ratio, extra={**f.extra, "habit": habit})


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
    version="6",
    title=(
        "CRM export followed {hours_since_first} h later by {observed:.0f} message(s) to a personal address "
        "on {day}; HR status {status}{habit}{routine}"
    ),
    description=__doc__,
    severity="high",
    score=65,
    predicate=crm_export_then_personal_mail,
    kinds=("crm", "email"),
    first=crm_export,
    observe=observe,
    window=SequenceOnHRNews(within_hours=2, min_first=1, then_min=1, then_factor=0.0),
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
