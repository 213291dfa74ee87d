"""Offboarding: each leaver's handover items, returned assets and CRM customers, tracked from the signals.

HR signals (CONTRACT.md 4) ``handover_item_open`` / ``handover_item_done`` (value: the item's name) and
``asset_returned`` (value: the asset id) are kept per employee in ``st.extra["ob"]`` (:func:`track`); an item
named ``customer:<account>`` is a customer to hand to someone else. The CRM customers the leaver worked on in
their notice (exports and access) are counted by the rule ``offboarding.customers_not_handed_over``.

The offboarding rules (``detectors/rules/offboarding/``) declare a window from this module. These windows are
*clocked*: the engine asks them after every input of the employee, an event, a signal or an HR record
(:meth:`ClockWindow.on_clock`), and once more as of midnight UTC after the last day, from the leaver's records
up to the end of it, when the first of these passes it: an input of the leaver's own, or the event-time
watermark of everyone's records (:meth:`detectors.engine.Engine.advance`, which replay and the workers call
before each record). So the last-day summary is written for every leaver, one never heard of again too, and
replay and the workers write the same alert.

Each fires once per employee and last day (the engine's duplicate suppression by alert id). Offboarding
alerts are not security findings (``security = False`` on their rules): they add nothing to the
risk score and flag no day for the baselines. They go to both alert topics (no HR-only data in them).

>>> from detectors.state import EmployeeState
>>> st = EmployeeState()
>>> class S: signal = "handover_item_open"; value = "customer:Account/1"; ts = __import__("datetime").datetime(2026, 3, 2, tzinfo=__import__("datetime").timezone.utc)
>>> track(st, S()); open_items(st)
['customer:Account/1']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detectors.context import HRView, day_date
from detectors.rule import Finding
from detectors.state import EmployeeState, Series
from detectors.risk import rule_name
from detectors.windows import Window

KEY = "ob"
ITEMS_CAP = 24
ASSETS_CAP = 8
NAME_CAP = 80
CUSTOMER = "customer:"
HANDOVER_SIGNALS = frozenset({"handover_item_open", "handover_item_done", "asset_returned"})


def signal_ref(signal: Any) -> str:
    """The evidence entry naming an HR signal (signals have no event id): ``signal:<name>:<ts>``."""
    ts = signal.ts.isoformat().replace("+00:00", "Z")
    return f"signal:{signal.signal}:{ts}"


def _ob(st: EmployeeState) -> dict[str, Any]:
    ob = st.extra.get(KEY)
    if ob is None:
        ob = st.extra[KEY] = {"o": {}, "d": {}, "a": []}
    return ob


def track(st: EmployeeState, signal: Any) -> None:
    """Apply a handover or asset signal to the employee's offboarding record."""
    if signal.signal not in HANDOVER_SIGNALS:
        return
    ob = _ob(st)
    name = str(signal.value if signal.value is not None else "(unnamed)")[:NAME_CAP]
    ref = signal_ref(signal)
    if signal.signal == "handover_item_open":
        if name not in ob["d"]:
            ob["o"][name] = ref
    elif signal.signal == "handover_item_done":
        ob["o"].pop(name, None)
        ob["d"][name] = ref
    else:
        ob["a"].append([name, ref])
        del ob["a"][:-ASSETS_CAP]
    for k in ("o", "d"):
        while len(ob[k]) > ITEMS_CAP:
            ob[k].pop(next(iter(ob[k])))


def open_items(st: EmployeeState) -> list[str]:
    return list(st.extra.get(KEY, {}).get("o", {}))


@dataclass(frozen=True)
class ClockWindow(Window):
    """A window asked after every input of an employee who is leaving (and at the end of a replay)."""

    when: str = "departing"

    def horizon(self, lookback_days: int) -> int:
        return 45  # the notice period (the customers rule counts its CRM work there)

    def on_event(self, s: Series, hr: HRView, day: int, t: float, st: EmployeeState, rid: str) -> Finding | None:
        return None

    def lookback(self, s: Series, hr: HRView, today: int, lookback_days: int, st: EmployeeState,
                 rid: str) -> list[Finding]:
        return []

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        """A finding for this employee now (``s``: the rule's own daily series, if its predicate matched)."""
        raise NotImplementedError


@dataclass(frozen=True)
class OpenHandover(ClockWindow):
    """Handover items still open within ``days_before`` days of the last working day (or after it)."""

    days_before: int = 3

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        if hr.last_day is None or day < hr.last_day - self.days_before:
            return None
        ob = st.extra.get(KEY)
        if not ob or not ob["o"]:
            return None
        items = list(ob["o"])
        return Finding(key=f"H{hr.last_day}", observed=len(items), threshold=0, evidence=list(ob["o"].values())[-12:],
                       day=day, window_end=hr.last_day,
                       extra={"open_items": items, "items_done": len(ob["d"]),
                              "open_list": ", ".join(items[:8]) + (" ..." if len(items) > 8 else "")})


@dataclass(frozen=True)
class AssetsNotReturned(ClockWindow):
    """No asset returned by the end of the last working day (asked once an input past it arrives)."""

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        if hr.last_day is None or day <= hr.last_day:
            return None
        ob = st.extra.get(KEY) or {"o": {}, "d": {}, "a": []}
        if ob["a"]:
            return None
        ev = list(ob["d"].values())[-3:] + list(ob["o"].values())[-3:]
        return Finding(key=f"A{hr.last_day}", observed=0, threshold=1, evidence=ev or [f"hr:last_day:{day_date(hr.last_day)}"],
                       day=day, window_end=hr.last_day, extra={"assets_returned": 0})


@dataclass(frozen=True)
class CustomersNotHandedOver(ClockWindow):
    """A leaver who worked on CRM customers in their notice and whose customers are not all handed over
    (``customer:`` handover items open, or none at all) within ``days_before`` days of the last day."""

    days_before: int = 5
    sources: tuple[str, ...] = ("crm.bulk_export_before_departure", "crm.access_time_spike")

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        if hr.last_day is None or day < hr.last_day - self.days_before:
            return None
        start = hr.notice_from if hr.notice_from is not None else hr.last_day - 30
        # The CRM work the crm rules already count (no second copy in the state): exports of any size, and
        # time in the customer database on the days still kept.
        from detectors.engine import series_key

        touched, evidence = 0.0, []
        for rid in self.sources:
            src = st.series.get(series_key(rid))
            if src is not None:
                n = sum(1 for d, v in src.days.items() if start <= d <= hr.last_day and v)
                if n:
                    touched += n
                    evidence += src.evidence(start, hr.last_day)
        if touched <= 0:
            return None
        ob = st.extra.get(KEY) or {"o": {}, "d": {}}
        open_c = [k for k in ob["o"] if k.startswith(CUSTOMER)]
        done_c = [k for k in ob["d"] if k.startswith(CUSTOMER)]
        if done_c and not open_c:
            return None
        return Finding(key=f"C{hr.last_day}", observed=touched, threshold=0, evidence=evidence[-6:],
                       window_start=start, window_end=hr.last_day, day=day,
                       extra={"customers_open": open_c, "customers_handed_over": len(done_c),
                              "customers_open_text": ", ".join(x[len(CUSTOMER):] for x in open_c[:6])
                              or "no customer handed over to anyone"})


@dataclass(frozen=True)
class LastDaySummary(ClockWindow):
    """The summary of a leaver's offboarding, once, as of the end of the last working day."""

    def on_clock(self, st: EmployeeState, hr: HRView, day: int, s: Series | None) -> Finding | None:
        if hr.last_day is None or day <= hr.last_day:
            return None
        ob = st.extra.get(KEY) or {"o": {}, "d": {}, "a": []}
        # what the security rules saw: the latest alerts behind the risk score (rule, score), and the score
        seen: dict[str, list[Any]] = {}
        for code, score, *_ in st.extra.get("rc", []):
            v = seen.setdefault(rule_name(code), [0, 0])
            v[0] += 1
            v[1] = max(v[1], score)
        ev = list(ob["d"].values())[-4:] + list(ob["o"].values())[-4:] + [r for _, r in ob["a"]][-2:]
        security = {k: {"alerts": v[0], "highest_score": v[1]} for k, v in seen.items()}
        return Finding(
            key=f"S{hr.last_day}", observed=len(ob["o"]), threshold=0,
            evidence=ev or [f"hr:last_day:{day_date(hr.last_day)}"], day=day, window_end=hr.last_day,
            extra={
                "handed_over": list(ob["d"]), "handed_over_count": len(ob["d"]),
                "open_items": list(ob["o"]), "open_count": len(ob["o"]),
                "assets_returned": [a for a, _ in ob["a"]],
                "security_alerts": security,
                "security_text": ", ".join(f"{k} x{v[0]} (score {v[1]})" for k, v in seen.items())
                or "no security alert",
                "risk_score": round(st.risk[0], 1),
            },
        )
