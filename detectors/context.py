"""The departure context of an employee at a given day, from the HR record the engine holds.

>>> hr = {"employee_id": "E1", "status": "notice", "last_day": "2026-03-31", "notice_from": "2026-03-01"}
>>> v = HRView.of(hr)
>>> v.days_to_last_day(day_number("2026-03-21")), v.in_notice(day_number("2026-03-05"))
(10, True)
>>> v.departing(day_number("2026-03-02"), within_days=30), v.departing(day_number("2026-01-02"), within_days=30)
(True, False)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date | str) -> int:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return (d - EPOCH).days


def day_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=day)


@dataclass(frozen=True)
class HRView:
    """What the rules need to know of an employee's HR state."""

    status: str | None = None
    last_day: int | None = None
    notice_from: int | None = None
    watchlist: bool = False
    #: Not leaving on record, but the departure propensity marked them as possibly leaving (its probability):
    #: a view with a provisional departure window (:func:`detectors.engine.possibly_leaving_view`).
    possibly_leaving: float = 0.0
    department: str | None = None
    role: str | None = None

    @classmethod
    def of(cls, hr: dict[str, Any] | None) -> "HRView":
        """The view of an HR record (the engine's ``st.hr`` form); equal records share one (frozen) view, built
        once: the engine asks for it on every event."""
        if not hr:
            return NO_HR
        key = (hr.get("status"), hr.get("last_day"), hr.get("notice_from"), bool(hr.get("watchlist")),
               hr.get("department"), hr.get("role"))
        v = _VIEWS.get(key)
        if v is None:
            if len(_VIEWS) >= _VIEWS_CAP:
                _VIEWS.clear()
            status, ld, nf, watchlist, department, role = key
            v = _VIEWS[key] = cls(
                status=status,
                last_day=day_number(ld) if ld else None,
                notice_from=day_number(nf) if nf else None,
                watchlist=watchlist,
                department=department,
                role=role,
            )
        return v

    @property
    def leaving(self) -> bool:
        """Notice given, departed, or a last day on record."""
        return self.status in ("notice", "departed") or self.last_day is not None

    def departure_start(self, days: int = 30) -> int:
        """First day of the departure period: the last ``days`` days up to the last working day, or the notice if
        it began earlier (the period the departure rules judge; its days teach no "before"). Needs a last day.

        >>> HRView(last_day=100, notice_from=60).departure_start(), HRView(last_day=100, notice_from=90).departure_start()
        (60, 71)
        >>> HRView(status="departed", last_day=100).departure_start(7)
        94
        """
        assert self.last_day is not None
        return min(self.last_day - days + 1, self.notice_from if self.notice_from is not None else self.last_day)

    def in_notice(self, day: int) -> bool:
        """Between the start of the notice and the last day (inclusive) on ``day``."""
        if self.status not in ("notice", "departed") and self.last_day is None:
            return False
        start = self.notice_from
        if start is None:
            return self.status in ("notice", "departed") and (self.last_day is None or day <= self.last_day)
        return day >= start and (self.last_day is None or day <= self.last_day)

    def within_days_of_last_day(self, day: int, days: int) -> bool:
        """``day`` lies in the ``days`` days up to and including the last working day."""
        return self.last_day is not None and self.last_day - days < day <= self.last_day

    def departing(self, day: int, within_days: int = 30) -> bool:
        """In notice, or within ``within_days`` of the last day: the departure context of most rules."""
        return self.in_notice(day) or self.within_days_of_last_day(day, within_days)

    def after_departure(self, day: int, grace_days: int = 0) -> bool:
        return self.last_day is not None and day > self.last_day + grace_days

    def days_to_last_day(self, day: int) -> int | None:
        return None if self.last_day is None else self.last_day - day

    def learnable(self, day: int) -> bool:
        """Whether ``day`` may teach the baseline what is normal (not in notice, not near the last day, not
        while on the watchlist)."""
        return not self.departing(day, 30) and not self.after_departure(day) and not self.watchlist


NO_HR = HRView()
#: Views by HR record content (:meth:`HRView.of`); emptied when full (a view is cheap to build again).
_VIEWS: dict[tuple[Any, ...], HRView] = {}
_VIEWS_CAP = 65_536
