"""The naive reference: literal SIEM thresholds, no baselines, no departure anchoring.

What a team writes in a SIEM in an afternoon, and what ``exitwatch evaluate`` measures the detectors
against. Every rule is a fixed number compared with a per-employee count; nobody's normal is learned and
nobody's last day matters (except that a departed account is, literally, departed). Every alert is
``medium``. The thresholds, as written down:

=====================================  ==============================================================
rule                                   fires for an employee on a day when
=====================================  ==============================================================
naive.sensitive_downloads_30d          more than 10 confidential/restricted downloads in the 30 days
                                       ending that day
naive.restricted_downloads_day         more than 5 restricted downloads that day
naive.crm_export_100                   one CRM export, report export or bulk query of 100+ records
naive.crm_time_4h                      more than 4 hours (14,400 s) of CRM access time that day
naive.removable_copy_20                more than 20 copies to removable media that day
naive.personal_mail_sensitive          any mail (send/forward) to a personal address with
                                       confidential or restricted content
naive.personal_cloud_upload            any upload to a personal cloud
naive.after_hours_10                   more than 10 events between 20:00 and 06:00 UTC that day
naive.deletion_50                      more than 50 deletions that day
naive.departed_account                 any activity while the HR status is ``departed``
=====================================  ==============================================================

``alerts(scale)`` multiplies every threshold by ``scale`` (``any`` becomes "at least ``scale``"), which is
how the evaluation draws the naive detector's trade-off curve.

>>> from schemas import ActivityEvent, HRRecord
>>> n = NaiveDetector()
>>> _ = n.on_hr(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z",
...     "status": "active", "accounts": ["ann@corp.example"]}))
>>> _ = n.on_event(ActivityEvent.model_validate({"event_id": "a", "ts": "2026-03-02T10:00:00Z",
...     "kind": "crm", "action": "report_export", "actor": "ANN@corp.example", "source": "s", "count": 150}))
>>> [(a.employee_id, a.rule_id, a.observed) for a in n.alerts()]
[('E1', 'naive.crm_export_100', 150.0)]
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from detectors.state import day_of
from schemas import ActivityEvent, HRRecord, HRSignal
from schemas.identity import AliasIndex

DOWNLOADS = frozenset({"download", "sync_download"})
EXPORTS = frozenset({"export", "report_export", "bulk_query"})
SENSITIVE = frozenset({"confidential", "restricted"})


@dataclass(frozen=True)
class NaiveRule:
    id: str
    feature: str  # the per-employee daily counter it reads
    threshold: float
    op: str  # ">" or ">="
    window_days: int = 1  # 30: the sum over the 30 days ending that day
    description: str = ""


RULES: tuple[NaiveRule, ...] = (
    NaiveRule("naive.sensitive_downloads_30d", "sdl", 10, ">", 30, ">10 sensitive downloads in any 30 days"),
    NaiveRule("naive.restricted_downloads_day", "rdl", 5, ">", 1, ">5 restricted downloads in a day"),
    NaiveRule("naive.crm_export_100", "export_max", 100, ">=", 1, "a CRM export of 100+ records"),
    NaiveRule("naive.crm_time_4h", "crm_s", 14400, ">", 1, ">4 h of CRM access time in a day"),
    NaiveRule("naive.removable_copy_20", "usb", 20, ">", 1, ">20 removable-media copies in a day"),
    NaiveRule("naive.personal_mail_sensitive", "pmail", 1, ">=", 1, "any sensitive mail to a personal address"),
    NaiveRule("naive.personal_cloud_upload", "cloud", 1, ">=", 1, "any upload to a personal cloud"),
    NaiveRule("naive.after_hours_10", "night", 10, ">", 1, ">10 events between 20:00 and 06:00 in a day"),
    NaiveRule("naive.deletion_50", "dele", 50, ">", 1, ">50 deletions in a day"),
    NaiveRule("naive.departed_account", "departed", 1, ">=", 1, "any activity by a departed account"),
)


@dataclass(frozen=True)
class NaiveAlert:
    employee_id: str
    day: int  # UTC day number
    rule_id: str
    observed: float
    threshold: float
    severity: str = "medium"
    score: float = 50.0


class NaiveDetector:
    """Per-employee daily counters, fed like the engine (``on_hr``, ``on_signal``, ``on_event``)."""

    def __init__(self) -> None:
        self.aliases = AliasIndex()
        self.status: dict[str, str] = {}
        # feature -> employee -> day -> value
        self.days: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))

    def on_hr(self, record: HRRecord) -> list[Any]:
        self.aliases.add(record.employee_id, record.accounts)
        self.status[record.employee_id] = record.status
        return []

    def on_signal(self, signal: HRSignal) -> list[Any]:
        return []

    def _add(self, feature: str, emp: str, day: int, v: float, agg: str = "sum") -> None:
        d = self.days[feature][emp]
        d[day] = max(d.get(day, 0.0), v) if agg == "max" else d.get(day, 0.0) + v

    def on_event(self, e: ActivityEvent) -> list[Any]:
        emp = e.employee_id or self.aliases.resolve(e.actor)
        if emp is None:
            return []
        t = e.ts.timestamp()
        day = day_of(t)
        hour = int(t % 86400 // 3600)
        if hour >= 20 or hour < 6:
            self._add("night", emp, day, 1)
        if self.status.get(emp) == "departed":
            self._add("departed", emp, day, 1)
        k, a = e.kind, e.action
        sens = e.sensitivity in SENSITIVE
        if k == "file":
            if a in DOWNLOADS and sens:
                self._add("sdl", emp, day, 1)
                if e.sensitivity == "restricted":
                    self._add("rdl", emp, day, 1)
            elif a == "copy_to_removable":
                self._add("usb", emp, day, 1)
            elif a == "delete":
                self._add("dele", emp, day, max(1, e.count or 1))
        elif k == "crm":
            if a in EXPORTS and e.count:
                self._add("export_max", emp, day, e.count, "max")
            if e.duration_s:
                self._add("crm_s", emp, day, e.duration_s)
        elif k == "email":
            if e.personal and sens:
                self._add("pmail", emp, day, 1)
        elif k == "web":
            if a == "upload" and e.personal:
                self._add("cloud", emp, day, 1)
        return []

    def alerts(self, scale: float = 1.0) -> list[NaiveAlert]:
        """Every (rule, employee, day) over its threshold times ``scale``."""
        out: list[NaiveAlert] = []
        for r in RULES:
            thr = r.threshold * scale
            if r.op == ">=":
                thr = max(1.0, math.ceil(thr))
            for emp, days in self.days.get(r.feature, {}).items():
                order = sorted(days)
                lo, run = 0, 0.0
                for day in order:  # a sliding sum over the window ending at ``day``
                    run += days[day]
                    while order[lo] <= day - r.window_days:
                        run -= days[order[lo]]
                        lo += 1
                    if (run >= thr) if r.op == ">=" else (run > thr):
                        out.append(NaiveAlert(emp, day, r.id, run, thr))
        return out
