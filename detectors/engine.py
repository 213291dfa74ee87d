"""The detection core: the one place events and HR news meet rules, models, state and alerts.

``exitwatch replay`` and the streaming worker are two thin drivers around :class:`Engine`; they differ only
in the :class:`StateStore` they hand it (a dict, or a Faust table backed by a changelog).

>>> from schemas import HRRecord, ActivityEvent
>>> eng = Engine()
>>> _ = eng.on_hr(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z",
...     "status": "notice", "last_day": "2026-03-31", "accounts": ["ann@corp.example"]}))
>>> alerts = []
>>> for i in range(11):
...     alerts += eng.on_event(ActivityEvent.model_validate({"event_id": f"e{i}",
...         "ts": f"2026-03-{10 + i:02d}T10:00:00Z", "kind": "file", "action": "download",
...         "actor": "ANN@corp.example", "source": "m365", "sensitivity": "restricted"}))
>>> [a.rule_id for a in alerts if a.rule_id.startswith("file.sensitive")]
['file.sensitive_downloads_before_departure']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from detectors import offboarding
from detectors.context import HRView, day_date, day_number
from detectors.dedupe import Floor, seen_or_add
from detectors.destinations import annotate as annotate_destination
from detectors.offboarding import HANDOVER_SIGNALS
from detectors.habits import MASS_RECIPIENTS, Habits
from detectors.hosts import HostUsers
from detectors.peerload import PeerLoad
from detectors.peerlargest import note_largest
from detectors.peerrates import PeerRates, peer_groups
from detectors.peers import PeerFirsts
from detectors.risk import RISK_RULE, rule_code, update_risk
from detectors.shared import SharedMemory
from detectors.rule import Finding, Rule
from detectors.state import LATE_DAYS, EmployeeState, Series, day_of
from detectors.windows import (FRESH, FRESH_MARK, FRESH_MARKS_CAP, THEN_MARK, THEN_MARKS_CAP, Sequence,
                               add_mark, first_time, fresh_since)
from detectors.windows import usual as usual_amount
from schemas import ActivityEvent, Alert, HRRecord, HRSignal
from schemas.models import ACTIONS_BY_KIND
from schemas.identity import AliasIndex

log = logging.getLogger("exitwatch.engine")

LEVELS = ("low", "medium", "high", "critical")


class StateStore(Protocol):
    def get(self, employee_id: str) -> EmployeeState | None: ...

    def put(self, employee_id: str, state: EmployeeState) -> None: ...


class DictStore:
    """State in a plain dict: replay, evaluation and unit tests."""

    def __init__(self) -> None:
        self.data: dict[str, EmployeeState] = {}

    def get(self, employee_id: str) -> EmployeeState | None:
        return self.data.get(employee_id)

    def put(self, employee_id: str, state: EmployeeState) -> None:
        self.data[employee_id] = state

    def __len__(self) -> int:
        return len(self.data)


@dataclass
class EngineStats:
    events: int = 0
    hr_records: int = 0
    signals: int = 0
    unresolved: int = 0
    stale_hr: int = 0
    duplicates: int = 0  # events whose event_id this employee's state had already applied
    alerts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class EngineConfig:
    lookback_days: int = 90
    risk_level: float = 80.0
    risk_half_life_days: float = 14.0
    risk: bool = True


#: Earlier HR versions kept per employee, to judge an event by the HR picture at its own time.
HR_HISTORY = 3

# Episodes. A rule that keeps firing for the same person is one ongoing episode, and one alert: an episode
# goes on while the rule fires again within EPISODE_GAP_DAYS of its last firing day (a real gap is a month
# of silence: a sporadic habit that returns every few weeks is one episode, not a new one each time). It is
# raised again only
# - when it grows: a day at least EPISODE_GROWTH times the episode's largest so far, graded at a higher
#   severity than the episode has been raised at (a doubling that changes nothing for the reader is not news),
# - or when the person's HR picture adds something it was not raised under (departing: notice, the last 30
#   days or after the last day; the watchlist), or a first-time rule finds another new thing. A provisional departure from the propensity
#   (``possibly_leaving_view``) starts an episode but adds nothing to one: its alerts are low anyway;
# and never more than ALERT_BUDGET times in any BUDGET_DAYS days, counted by the day each alert is sent, across
# episodes: one rule gives one person at most two alerts a month, whatever their work looks like. The budget
# holds for the rules without episodes too (departure-anchored windows: ``Engine._budget_allows``), and an alert
# under a provisional departure takes the budget only when the rule sent the person nothing in it. The risk
# score's alert is not budgeted: it is raised when the score crosses its level, which only the other rules'
# alerts (budgeted) move, and a budget on it would make its alerts depend on the order late events arrive in.
# The days of an episode do not teach the rule's baseline for its first ABSORB_DAYS days (a short
# burst stays unusual); after that a lasting change of normal is learned, unless the person is leaving or on
# the watchlist (those days are not learned at all).
EPISODE_GAP_DAYS = 30
EPISODE_GROWTH = 2.0
ABSORB_DAYS = 14
ALERT_BUDGET = 2
BUDGET_DAYS = 30
#: Codes of an episode (bits): raised while departing, while watched, raised again for growth.
DEPARTING, WATCHED, GREW = 1, 2, 4
#: An episode: ``[key of its last alert, first day, last day, largest observed, HR codes alerted, highest
#: severity alerted (index in LEVELS), days its alerts were sent (the last ALERT_BUDGET)]``; states written
#: before the last two fields read as raised once at ``low`` on the last day.
EP_KEY, EP_FIRST, EP_LAST, EP_PEAK, EP_CODES, EP_SEV, EP_SENT = range(7)


def hr_code(hr: HRView, day: int) -> int:
    """What the HR picture adds to an alert on ``day``: :data:`DEPARTING` and :data:`WATCHED` bits (nothing
    for a provisional departure from the propensity)."""
    departing = not hr.possibly_leaving and (hr.departing(day, 30) or hr.after_departure(day))
    return (DEPARTING if departing else 0) | (WATCHED if hr.watchlist else 0)


def _sent(ep: list[Any]) -> list[int]:
    if len(ep) < 7:  # an episode stored before the budget was kept
        ep[len(ep):] = [0, [ep[EP_LAST]]][len(ep) - 5:]
    return ep[EP_SENT]  # type: ignore[no-any-return]


def within_budget(ep: list[Any] | None, sent_day: int, limit: int = ALERT_BUDGET) -> bool:
    """Whether one more alert sent on ``sent_day`` keeps the rule within ``limit`` alerts in BUDGET_DAYS.

    >>> within_budget([None, 0, 0, 1, 0, 0, [10, 25]], 39), within_budget([None, 0, 0, 1, 0, 0, [10, 25]], 40)
    (False, True)
    """
    return ep is None or sum(1 for d in _sent(ep) if d > sent_day - BUDGET_DAYS) < limit


def budget_limit(hr: HRView) -> int:
    """Alerts a rule may send one person in BUDGET_DAYS: ALERT_BUDGET, and under a provisional departure (the
    propensity's, ``possibly_leaving_view``) only while it sent them nothing, so that a hint never takes the
    place of the alert their real notice may bring."""
    return 1 if hr.possibly_leaving else ALERT_BUDGET


#: Alerts sent by the rules whose findings form no episodes (``Window.episodic`` False: departure-anchored
#: windows, the risk score), by rule: ``st.extra[SENT] = {rule code: [days]}``, for the same budget.
SENT = "bg"


def episode_over(ep: list[Any], day: int) -> bool:
    """Whether ``day`` is past the episode's gap and its alerts' budget: it can be forgotten."""
    return day > max(ep[EP_LAST], *_sent(ep)) + max(EPISODE_GAP_DAYS, BUDGET_DAYS) + LATE_DAYS


def in_episode(ep: list[Any] | None, day: int, hr: HRView) -> bool:
    """Whether ``day`` is an episode day that must not teach the baseline (see ABSORB_DAYS)."""
    if ep is None or not ep[1] <= day <= ep[2]:
        return False
    return day - ep[1] < ABSORB_DAYS or hr.watchlist or hr.leaving


_HISTORY_FIELDS = ("_t", "status", "last_day", "notice_from", "watchlist", "department", "role")


def remember_hr_version(st: EmployeeState, version: dict[str, Any]) -> None:
    hist = st.extra.setdefault("hh", [])
    hist.append({k: version[k] for k in _HISTORY_FIELDS if version.get(k) not in (None, False)})
    hist.sort(key=lambda v: v.get("_t", 0.0))
    del hist[:-HR_HISTORY]


def hr_at(st: EmployeeState, t: float) -> dict[str, Any] | None:
    """The HR record that was true at epoch ``t`` (the latest one if nothing older is known)."""
    cur = st.hr
    if cur is None or cur.get("_t", float("-inf")) <= t:
        return cur
    best = None
    for v in st.extra.get("hh", ()):
        if v.get("_t", 0.0) <= t:
            best = v
    return best


def series_key(rule_id: str) -> str:
    """The short, stable key of a rule's series in the employee state.

    >>> series_key("file.sensitive_downloads_before_departure")
    'r:...'
    """
    return "r:" + hashlib.blake2s(rule_id.encode(), digest_size=4).hexdigest()


def alert_id(rule_id: str, employee_id: str, key: str) -> str:
    """Deterministic: the same rule, employee and window always give the same id."""
    return hashlib.sha256(f"{rule_id}|{employee_id}|{key}".encode()).hexdigest()[:32]


def grade(severity: str, score: float, ratio: float | None, hr: HRView, day: int,
          staying_cap: str | None = None) -> tuple[str, float]:
    """Severity and score from how unusual the behaviour is for this person and where they are in leaving.

    A threshold crossed by someone whose normal is far above it is ``low``; ten times their normal moves the
    rule's own severity up one level. Notice, the last two weeks and the watchlist add to the score.

    ``staying_cap``: the highest severity for an employee who is neither leaving nor on the watchlist (the
    rule's ``staying_cap``), however unusual the day: a ratio to the normal of someone with sporadic work
    (a few minutes a day on average, an hour on some days) reads "20x usual" on an ordinary busy day, so
    for people who stay one rule's finding is context, not an incident. Repeated low alerts still add up in
    the employee's risk score (``risk.employee``), and an episode is raised again when notice or the
    watchlist arrives.

    >>> grade("high", 70, 1.1, HRView(), 0), grade("high", 70, 12.0, HRView(), 0)
    (('low', 28.0), ('critical', 80.5))
    >>> grade("high", 70, 5.0, HRView(), 0, staying_cap="low"), grade("high", 70, 40.0, HRView(), 0, "low")
    (('low', 42.0), ('low', 48.3))
    """
    i = LEVELS.index(severity)
    mult = 1.0
    if ratio is not None:
        if ratio < 1.5:
            i, mult = 0, 0.4
        elif ratio < 3:
            i, mult = min(i, 1), 0.7
        elif ratio >= 10:
            i, mult = min(3, i + 1), 1.15
    s = score * mult
    departing = hr.departing(day, 30) or hr.after_departure(day)
    if departing:
        s += 10
        dtl = hr.days_to_last_day(day)
        if dtl is not None and -1 <= dtl <= 14:
            s += 5
    if hr.watchlist:
        s += 10
        if i > 0:
            i = min(3, i + 1)
    elif staying_cap is not None and not departing:
        cap = LEVELS.index(staying_cap)
        if i > cap:
            i = cap
            s *= 0.6
    return LEVELS[i], round(max(0.0, min(100.0, s)), 2)


#: ``st.extra`` key of the last day whose end the clocked (offboarding) rules were asked about (Engine.advance).
CLOSED = "lz"
#: Days a propensity alert keeps someone "possibly leaving", and the provisional last day it assumes after it.
POSSIBLY_LEAVING_DAYS = 30


def possibly_leaving_view(st: EmployeeState, hr: HRView, day: int) -> HRView | None:
    """The HR view that treats an employee the departure propensity flagged (``st.extra["pl"]``, within
    :data:`POSSIBLY_LEAVING_DAYS`) as possibly leaving: a provisional notice from the flag and a last day
    :data:`POSSIBLY_LEAVING_DAYS` after it. Departure-anchored rules then fire for them at severity ``low``
    (:meth:`Engine._emit`) and the risk score marks their contributions (:func:`detectors.risk.update_risk`).

    >>> st = EmployeeState(); st.extra["pl"] = [100, 0.4]
    >>> v = possibly_leaving_view(st, HRView(status="active"), 110)
    >>> v.possibly_leaving, v.last_day, v.departing(110), possibly_leaving_view(st, HRView(), 140)
    (0.4, 130, True, None)
    """
    pl = st.extra.get("pl")
    if not pl or not pl[0] <= day <= pl[0] + POSSIBLY_LEAVING_DAYS:
        return None
    return dataclasses.replace(hr, notice_from=pl[0], last_day=pl[0] + POSSIBLY_LEAVING_DAYS,
                               possibly_leaving=float(pl[1]))


def _iso(day: int | None) -> str | None:
    return None if day is None else day_date(day).isoformat()


class Engine:
    """Rules and models over events and HR records, with per-employee state in a :class:`StateStore`."""

    def __init__(
        self,
        rules: Iterable[Rule] | None = None,
        models: Iterable[Any] = (),
        store: StateStore | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        if rules is None:
            from detectors.catalogue import load_rules

            rules = load_rules()
        self.rules = self._share_first_marks([r for r in rules if r.enabled])
        self.models = list(models)
        self.store: StateStore = store if store is not None else DictStore()
        self.config = config or EngineConfig()
        self.aliases = AliasIndex()
        self.stats = EngineStats()
        for rid in [r.id for r in self.rules] + [getattr(m, "id", "") for m in self.models]:
            rule_code(rid)  # so that a state restored after a restart names its risk contributors
        # Series are stored under a short key of the rule id (state size: 12 rules x 40-character ids add up).
        self._skey = {r.id: series_key(r.id) for r in self.rules}
        # The rules each event kind can use (Rule.kinds), in catalogue order: an event runs only these.
        self._by_kind = {k: [r for r in self.rules if r.kinds is None or k in r.kinds] for k in ACTIONS_BY_KIND}
        self._horizon = {self._skey[r.id]: r.window.horizon(self.config.lookback_days) for r in self.rules}
        self._windows = {self._skey[r.id]: r.window for r in self.rules}
        self.hosts = HostUsers()  # a machine's usual users, from logon history (detectors.hosts)
        self.peer_firsts = PeerFirsts()  # how many of a department did a thing (detectors.peers)
        #: The partition an employee's state belongs to (the streaming worker sets it): the engine-wide
        #: memories above keep each partition's contribution apart, so that each has one writer
        #: (detectors.shared).
        self.partition_of: Callable[[str], int] = lambda emp: 0
        self.peer_load = PeerLoad()  # a department's day against its usual (detectors.peerload)
        self.peer_rates = PeerRates()  # each peer's rate, per role and department (detectors.peerrates)
        self.habits = Habits()  # own working hours, the company's own destinations (detectors.habits)
        self._seq_keep = {
            r.id: r.window.within_hours * 3600 for r in self.rules if isinstance(r.window, Sequence)
        }
        #: What the per-event loop asks of each rule, read once here instead of per rule per event: by event
        #: kind (and for an unknown kind), each rule with its series key, its marks' span, whether it keeps its
        #: own first-step marks, its window's ``peer_rates`` and ``peers``, whether it fires "always", and its
        #: window's ``peer_largest``.
        self._plan = {k: [self._plan_of(r) for r in rs] for k, rs in self._by_kind.items()}
        self._plan_all = [self._plan_of(r) for r in self.rules]
        #: peer group names by (series key, department, role) (:func:`detectors.peerrates.peer_groups`)
        self._pgroups: dict[tuple[str, str, str], tuple[str, ...]] = {}
        #: Rules asked after every input of a leaver, not only on matching events (detectors/offboarding.py).
        self._clocked = [r for r in self.rules if hasattr(r.window, "on_clock")]
        #: Leavers whose last day the event-time watermark has not passed yet: employee -> last day
        #: (:meth:`advance`); and the day the watermark is in.
        self.due: dict[str, int] = {}
        #: the day the watermark is in, per lane (a worker's input partition, or None: the whole stream)
        self.watermarks: dict[Any, int] = {}

    def _plan_of(self, rule: Rule) -> tuple[Any, ...]:
        """One rule's entry of :attr:`_plan` (everything in it is fixed once the rules are loaded)."""
        w, sk = rule.window, self._skey[rule.id]
        return (rule, sk, w, self._seq_keep.get(rule.id, 30 * 86400), not getattr(w, "_marks_key", ""),
                getattr(w, "peer_rates", False), getattr(w, "peers", False), getattr(w, "when", None) != "always",
                getattr(w, "peer_largest", False))

    def _peer_groups(self, sk: str, hr: dict[str, Any] | None) -> tuple[str, ...]:
        """:func:`detectors.peerrates.peer_groups`, each combination named once."""
        h = hr or {}
        key = (sk, str(h.get("department") or ""), str(h.get("role") or ""))
        g = self._pgroups.get(key)
        if g is None:
            if len(self._pgroups) > 65536:
                self._pgroups.clear()
            g = self._pgroups[key] = peer_groups(sk, hr)
        return g

    @staticmethod
    def _share_first_marks(rules: list[Rule]) -> list[Rule]:
        """Sequence rules with the same first step (the same function) and span share its marks: the first
        such rule keeps them, the others read them (``Sequence._marks_key``)."""
        import dataclasses

        owners: dict[Any, tuple[str, float]] = {}
        out = []
        for r in rules:
            if r.first is not None and isinstance(r.window, Sequence):
                key = (r.first, r.window.within_hours)
                if key in owners:
                    r = dataclasses.replace(r, window=dataclasses.replace(r.window, _marks_key=owners[key][0]))
                else:
                    owners[key] = (series_key(r.id), r.window.within_hours)
            out.append(r)
        return out

    # ------------------------------------------------------------------ state
    def _state(self, emp: str) -> EmployeeState:
        st = self.store.get(emp)
        return st if st is not None else EmployeeState()

    def resolve(self, event: ActivityEvent) -> str | None:
        return event.employee_id or self.aliases.resolve(event.actor)

    # ------------------------------------------------------------------ events
    def on_event(self, event: ActivityEvent, employee_id: str | None = None, *, seqs: tuple[int, ...] = (),
                 floor: Floor | None = None) -> list[Alert]:
        """Update the employee's windows with ``event`` and return the alerts it makes fire.

        An event whose ``event_id`` the employee's state has already applied changes nothing
        (:mod:`detectors.dedupe`; ``seqs`` and ``floor`` come from the streaming worker)."""
        self.stats.events += 1
        emp = employee_id or self.resolve(event)
        if emp is None:
            self.stats.unresolved += 1
            return []
        st = self._state(emp)
        if seen_or_add(st, event.event_id, seqs, floor):
            self.stats.duplicates += 1
            return []
        if st.hr is None:
            # an enriched event's snapshot (a plain event has none: getattr of a missing field on a pydantic
            # model raises and catches an AttributeError inside, a few microseconds on every event of an
            # employee without HR state)
            snap = vars(event).get("employee")
            if snap is not None and snap.status is not None:
                st.hr = snap.model_dump(mode="json", exclude={"resolved", "stale"}, exclude_none=True)
                if not st.hr.get("watchlist"):
                    st.hr.pop("watchlist", None)  # absent means False (state size)
        t = event.ts.timestamp()
        day = day_of(t)
        part = self.habits.part = self.partition_of(emp)
        if event.kind == "logon" and event.action == "logon" and event.host:
            usual = self.hosts.observe(event.host, emp, day, part)
            if usual is not None:  # someone else's machine: the rules read it from the event
                event = event.model_copy(update={"attrs": {**event.attrs, "host_usual_user": usual}})
        elif event.kind == "email" and event.host and len(event.recipients) >= MASS_RECIPIENTS:
            # a message to many sent from a machine whose usual user is someone else (email.mass_mail)
            usual = self.hosts.usual_of(event.host)
            if usual is not None and usual != emp:
                event = event.model_copy(update={"attrs": {**event.attrs, "machine_of": usual}})
        # The HR picture at the event's time, and the one known now. They differ only for an event older
        # than the latest HR change (a late event, or HR news processed first while streaming): then the
        # event is judged under both, so the order in which HR news and events arrive cannot hide an alert.
        hr_then_d = hr_at(st, t)
        hr = HRView.of(st.hr)
        hr_then = hr if hr_then_d is st.hr else HRView.of(hr_then_d)
        views = (hr,) if hr_then == hr else (hr_then, hr)
        closing = self._pass_last_day(emp, st, hr, day)  # the leaver's first news after the last day
        # possibly leaving (departure propensity): one more picture, with a provisional departure window
        pv = possibly_leaving_view(st, hr, day) if not hr.leaving and "pl" in st.extra else None
        extra_views: tuple[HRView, ...] = () if pv is None else (pv,)
        flagged = self._flagged(st)
        event = annotate_destination(event)  # a mail home the source did not mark personal (detectors.destinations)
        event = self.habits.annotate(st, emp, event, day, t, hr_then.learnable(day))
        group = str((st.hr or {}).get("department") or "")
        self.peer_firsts.part = part
        if "fs" not in st.extra:
            self.peer_firsts.joined(group, part)
        first_seen = st.extra.setdefault("fs", day)  # every rule's baseline starts when the employee is first seen

        def learn(d: int) -> bool:
            """A closed day teaches the baseline unless it was flagged or lay in the departure period as far as
            HR knew at the time (so the order in which HR news and events arrive does not change baselines)."""
            return hr_then.learnable(d) and d not in flagged

        alerts: list[Alert] = closing
        novel: dict[str, bool] = {}  # this event's first-time keys, the same for every rule
        plan = self._plan.get(event.kind)
        for rule, sk, window, keep, own_marks, prate, peers, gated, plargest in (
                self._plan_all if plan is None else plan):
            try:
                if rule.first is not None and rule.first(event):
                    if own_marks:  # else an earlier rule keeps them
                        add_mark(st, sk, t, event.event_id, keep)
                    for view in views:
                        f = window.on_late_first(st.series.get(sk), view, t, st, sk)
                        if f is not None:
                            alerts += self._emit(rule, emp, f, st, view, event.ts)
                if rule.observe is not None:  # context the rule keeps from every event (see Rule.observe)
                    rule.observe(event, st, hr_then, day, t)
                v = rule.predicate(event)
                if prate:  # every member's rate, for the peer fallback (detectors.peerrates)
                    pgroups = self._peer_groups(sk, st.hr)
                    self.peer_rates.member(st, sk, pgroups, day, first_seen, float(v), part)
                if not v:
                    continue
                if plargest:  # colleagues' largest single acts (peerlargest)
                    note_largest(self.peer_rates, st, sk, group, float(v), part)
                nk = None
                if rule.novelty is not None:  # counts only the first time this employee does the thing
                    nk = first_time(st, rule.novelty(event), day, first_seen, rule.window, novel,
                                    self.peer_firsts, group)
                    if nk is None:
                        continue
                    v = 1
                if rule.fresh is not None:  # what the employee first used recently: counted only, or marked
                    w = window
                    since = fresh_since(st, rule.fresh(event), day, first_seen, getattr(w, "warmup_days", 7),
                                        getattr(w, "fresh_memory", FRESH))
                    fresh_days = getattr(w, "fresh_days", 30)
                    new = since is not None and day - since <= fresh_days
                    if getattr(w, "fresh_only", True):
                        if not new:
                            continue
                    elif new:
                        add_mark(st, sk + FRESH_MARK, t, event.event_id, fresh_days * 86400, cap=FRESH_MARKS_CAP)
                s = st.series.get(sk)
                if s is None:
                    s = st.series[sk] = Series(folded=min(first_seen, day) - 1)
                ep = s.ep
                learn_day: Callable[[int], bool] = learn
                if ep is not None:
                    def learn_day(d: int, ep: Any = ep) -> bool:
                        return bool(learn(d)) and not in_episode(ep, d, hr_then)
                before = s.days.get(day, 0.0)
                s.add(day, float(v), event.event_id, learn=learn_day, agg=rule.agg, cap=window.evidence_cap)
                if rule.first is not None:
                    add_mark(st, sk + THEN_MARK, t, event.event_id, keep, cap=THEN_MARKS_CAP)
                if peers:  # the department's day (detectors.peerload)
                    self.peer_load.observe(group, sk, day, before, s.days.get(day, 0.0), usual_amount(s), part)
                # A window that fires whatever HR says ("always") finds the same under both pictures: it is
                # judged under the one at the event's time (the grade of the alert is that day's).
                for view in (views if gated else views[:1]) + extra_views:
                    f = (window.on_event(s, view, day, t, st, sk) if nk is None
                         else window.on_new(s, view, day, st, sk, nk[0], nk[1:]))
                    if prate:  # the peers': a fallback without own normal, context with it
                        f = window.with_peers(f, s, view, day, st, sk, self.peer_rates, pgroups)
                    if f is not None:
                        if peers:  # graded against the department's same day
                            f = self.peer_load.regrade(f, group, sk, day, s.days.get(day, 0.0), usual_amount(s))
                        alerts += self._emit(rule, emp, f, st, view, event.ts)
            except Exception:  # one bad rule never stops the stream
                self.stats.errors[rule.id] += 1
                log.exception("rule %s failed on event %s", rule.id, event.event_id)
        for model in self.models:
            try:
                for meta, f in model.observe(emp, st, hr_then, event, day, t):
                    alerts += self._emit(meta, emp, f, st, hr, event.ts)
            except Exception:
                self.stats.errors[getattr(model, "id", "model")] += 1
                log.exception("model %s failed on event %s", getattr(model, "id", "?"), event.event_id)
        if self._clocked and hr.leaving:
            alerts += self._clock(emp, st, hr, day, event.ts)
        self._maybe_prune(st, day)
        self.store.put(emp, st)
        return alerts

    # ------------------------------------------------------------------ HR
    def on_hr(self, record: HRRecord) -> list[Alert]:
        """Apply an HR record; if the departure picture changed, re-evaluate the employee's windows."""
        self.stats.hr_records += 1
        self.aliases.add(record.employee_id, record.accounts)
        emp = record.employee_id
        st = self._state(emp)
        old = st.hr or {}
        # Aliases live in the alias index (and Redis), not in the state; empty fields are left out.
        new = record.model_dump(mode="json", exclude={"accounts", "ts"}, exclude_none=True)
        new["_t"] = int(record.ts.timestamp())
        if not new.get("watchlist"):
            new.pop("watchlist", None)  # absent means False (state size); alerts still show it
        new.pop("employee_id", None)
        if old.get("_t", float("-inf")) > new["_t"]:
            # Older than what we know: it only fills in the history (what was true at the time).
            self.stats.stale_hr += 1
            remember_hr_version(st, new)
            self.store.put(emp, st)
            return []
        closing = self._pass_last_day(emp, st, HRView.of(old), day_number(record.ts.date())) if old else []
        new["notice_from"] = self._notice_from(old, record)
        if record.status == "departed" and record.last_day is None:
            new["last_day"] = old.get("last_day") or (record.ts.date() - dt.timedelta(days=1)).isoformat()
        if st.hr is not None:
            remember_hr_version(st, st.hr)
        st.hr = new
        alerts: list[Alert] = closing
        changed = any(old.get(k) != new.get(k) for k in ("status", "last_day", "watchlist", "notice_from"))
        if changed:
            hr = HRView.of(new)
            today = max([day_number(record.ts.date())] + [max(s.days) for s in st.series.values() if s.days])
            for rule in self.rules:
                s = st.series.get(self._skey[rule.id])
                if s is None:
                    continue
                try:
                    found = rule.window.lookback(s, hr, today, self.config.lookback_days, st, self._skey[rule.id])
                    if getattr(rule.window, "peer_rates", False):  # the peers' context or fallback, as on events
                        sk, groups = self._skey[rule.id], peer_groups(self._skey[rule.id], st.hr)
                        found = [g for g in (rule.window.with_peers(f, s, hr, today, st, sk, self.peer_rates, groups,
                                                                    gated=False) for f in (found or [None])) if g]
                    for f in found:
                        alerts += self._emit(rule, emp, looked_back_evidence(f, s, today), st, hr, record.ts)
                except Exception:
                    self.stats.errors[rule.id] += 1
                    log.exception("rule %s failed on HR lookback for %s", rule.id, emp)
            for model in self.models:
                if hasattr(model, "on_hr"):
                    try:
                        for meta, f in model.on_hr(emp, st, hr, record):
                            alerts += self._emit(meta, emp, f, st, hr, record.ts)
                    except Exception:
                        self.stats.errors[getattr(model, "id", "model")] += 1
                        log.exception("model %s failed on the HR record of %s", getattr(model, "id", "?"), emp)
        if self._clocked:
            hr_now = HRView.of(new)
            self.note_due(emp, hr_now)
            if hr_now.leaving:
                # a last day that lies in the past already (a departure recorded late): closed as of its end
                alerts += self._pass_last_day(emp, st, hr_now, day_number(record.ts.date()))
                alerts += self._clock(emp, st, hr_now, day_number(record.ts.date()), record.ts)
        self.store.put(emp, st)
        return alerts

    @staticmethod
    def _notice_from(old: dict[str, Any], record: HRRecord) -> str | None:
        if record.status == "active":
            return None
        if record.resignation_date is not None:
            return record.resignation_date.isoformat()
        if old.get("status") in ("notice", "departed") and old.get("notice_from"):
            return str(old["notice_from"])
        return record.ts.date().isoformat()

    def on_signal(self, signal: HRSignal) -> list[Alert]:
        """HR signals feed the departure-propensity models and the offboarding record (handover items,
        assets; :mod:`detectors.offboarding`); other rules do not use them."""
        self.stats.signals += 1
        alerts: list[Alert] = []
        emp = signal.employee_id
        st = self._state(emp)
        hr = HRView.of(st.hr)
        alerts += self._pass_last_day(emp, st, hr, day_of(signal.ts.timestamp()))
        for model in self.models:
            if hasattr(model, "on_signal"):
                try:
                    for meta, f in model.on_signal(emp, st, hr, signal):
                        alerts += self._emit(meta, emp, f, st, hr, signal.ts)
                except Exception:
                    self.stats.errors[getattr(model, "id", "model")] += 1
                    log.exception("model %s failed on a signal of %s", getattr(model, "id", "?"), emp)
        if signal.signal in HANDOVER_SIGNALS:
            offboarding.track(st, signal)
        if self._clocked and hr.leaving:
            alerts += self._clock(emp, st, hr, day_of(signal.ts.timestamp()), signal.ts)
        self.store.put(emp, st)
        return alerts

    def _clock(self, emp: str, st: EmployeeState, hr: HRView, day: int, ts: dt.datetime) -> list[Alert]:
        """Ask the clocked rules (offboarding) about a leaver after an input of theirs."""
        alerts: list[Alert] = []
        for rule in self._clocked:
            try:
                f = rule.window.on_clock(st, hr, day, st.series.get(self._skey[rule.id]))
                if f is not None:
                    alerts += self._emit(rule, emp, f, st, hr, ts)
            except Exception:
                self.stats.errors[rule.id] += 1
                log.exception("rule %s failed on the clock of %s", rule.id, emp)
        return alerts

    def note_due(self, emp: str, hr: HRView) -> None:
        """Remember a leaver whose last day the watermark has still to pass (a worker restoring its states
        calls it for the leavers it owns; the engine itself on every HR record)."""
        if hr.leaving and hr.last_day is not None:
            self.due[emp] = hr.last_day
        else:
            self.due.pop(emp, None)

    def advance(self, ts: dt.datetime | float, lane: Any = None, owns: Callable[[str], bool] | None = None,
                ) -> list[Alert]:
        """The event-time watermark: the stream (all employees' records) has reached ``ts``.

        When it enters a new day, the clocked rules (offboarding) are asked once about every leaver whose last
        day lies before that day, as of midnight UTC after their last day: the last-day summary is written
        without any news of the leaver's own. Replay and the workers call this before applying each record,
        so the leaver's state is their records up to the end of the last day, and the alert (its time is that
        midnight, not the record's) is the same whichever record moved the watermark. A watermark that goes
        back (a late record) changes nothing.

        ``lane``: a watermark of its own (a worker whose inputs are not merged in time keeps one per input
        partition) for the leavers ``owns`` accepts (those whose state belongs to that partition)."""
        t = ts if isinstance(ts, float) else ts.timestamp()
        day = day_of(t)
        wm = self.watermarks.get(lane)
        if wm is not None and day <= wm:
            return []
        self.watermarks[lane] = day
        if not self._clocked or not self.due:
            return []
        passed = sorted(e for e, last in self.due.items() if last < day and (owns is None or owns(e)))
        if not passed:
            return []
        alerts: list[Alert] = []
        for emp in passed:
            del self.due[emp]
            st = self.store.get(emp)
            if st is None:  # not this worker's any more (rebalanced) or purged
                continue
            hr = HRView.of(st.hr)
            if not hr.leaving or hr.last_day is None:
                continue
            if hr.last_day >= day:  # the last day moved later
                self.due[emp] = hr.last_day
                continue
            alerts += self._pass_last_day(emp, st, hr, day)
            self.store.put(emp, st)
        return alerts

    def _pass_last_day(self, emp: str, st: EmployeeState, hr: HRView, day: int) -> list[Alert]:
        """Once ``day`` (of a leaver's own input, or of the watermark) is past the last day: the clocked rules
        are asked once as of midnight UTC after it, before anything later is applied. Whichever comes first, the
        summary is made from the leaver's records up to the end of the last day and stamped with that midnight,
        so replay and every worker write the same alert. Remembered in the state (:data:`CLOSED`: the last day)."""
        if not self._clocked or not hr.leaving or hr.last_day is None or day <= hr.last_day:
            return []
        if st.extra.get(CLOSED) == hr.last_day:
            return []
        st.extra[CLOSED] = hr.last_day
        self.due.pop(emp, None)
        after = hr.last_day + 1
        return self._clock(emp, st, hr, after, dt.datetime.fromtimestamp(after * 86400, dt.timezone.utc))

    def finish(self, ts: dt.datetime) -> list[Alert]:
        """The end of the inputs (``exitwatch replay``): the clocked rules are asked about every leaver once
        more at ``ts``, so a leaver whose last day passed with no news since still gets the last-day summary.
        Needs a store that can list its employees (:class:`DictStore`); otherwise nothing."""
        data = getattr(self.store, "data", None)
        if not self._clocked or not isinstance(data, dict):
            return []
        day = day_of(ts.timestamp())
        alerts: list[Alert] = []
        for emp in sorted(data):
            st = data[emp]
            hr = HRView.of(st.hr)
            if hr.leaving and hr.last_day is not None and hr.last_day < day:
                alerts += self._pass_last_day(emp, st, hr, day)
                alerts += self._clock(emp, st, hr, day, ts)
                self.store.put(emp, st)
        return alerts

    # ------------------------------------------------------------------ alerts
    @staticmethod
    def _flagged(st: EmployeeState) -> list[int]:
        return st.extra.get("flagged", [])

    def _emit(self, rule: Any, emp: str, f: Finding, st: EmployeeState, hr: HRView, ts: dt.datetime) -> list[Alert]:
        """The alert for finding ``f`` (and a ``risk.employee`` alert if the employee's risk crossed the level);
        nothing if this rule already fired for this window."""
        if getattr(getattr(rule, "window", None), "peer_largest", False):  # graded against colleagues too
            graded = rule.window.with_peer_largest(f, st, self._skey[rule.id], self.peer_rates)
            if graded is None:  # the window's peers say it is no finding after all
                return []
            f = graded
        aid = alert_id(rule.id, emp, f.key)
        series = st.series.get(self._skey.get(rule.id, ""))
        if st.has_fired(aid) or (series is not None and series.last == f.key):
            self._episode_follows(series, st, rule.id, f)
            return []
        day = f.day if f.day is not None else day_of(ts.timestamp())
        episodic = getattr(getattr(rule, "window", None), "episodic", rule.id != RISK_RULE.id)
        if getattr(rule, "security", True) and rule.id != RISK_RULE.id and not (
                self._episode_raises(rule, series, st, f, hr, day, day_of(ts.timestamp())) if episodic
                else self._budget_allows(rule.id, st, hr, day_of(ts.timestamp()))):
            return []
        st.remember(aid)
        if series is not None:
            series.last = f.key  # this window has fired, even after its id leaves the short list above
        security = getattr(rule, "security", True)  # HR-side alerts (propensity, offboarding): no flag, no risk
        flagged = st.extra.setdefault("flagged", []) if security else [day]
        if day not in flagged:
            flagged.append(day)
            del flagged[:-6]
            for s in st.series.values():  # a day folded before it was flagged (a late event) stops teaching
                s.unlearn(day)
        severity, score = grade(rule.severity, rule.score, f.ratio, hr, day,
                                staying_cap=getattr(rule, "staying_cap", None))
        explanation: dict[str, Any] = {
            "observed": f.observed,
            "threshold": f.threshold,
            "baseline": f.baseline,
            "ratio_to_own_normal": None if f.ratio is None else round(f.ratio, 2),
            "window_start": _iso(f.window_start),
            "window_end": _iso(f.window_end),
            "day": _iso(day),
            "days_to_last_day": hr.days_to_last_day(day),
            "status": hr.status,
            "in_notice": hr.in_notice(day),
            "last_day": _iso(hr.last_day),
        }
        if hr.possibly_leaving:
            # a provisional departure window from the propensity: say so, at a lower severity
            severity = "low"
            explanation.update(last_day=None, days_to_last_day=None, in_notice=False, status=hr.status,
                               possibly_leaving={"propensity": hr.possibly_leaving,
                                                 "since": _iso(hr.notice_from),
                                                 "provisional_window_end": _iso(hr.last_day)})
        explanation.update(f.extra)
        try:
            title = rule.title.format(**{k: "not set" if v is None else v for k, v in explanation.items()})
        except (KeyError, ValueError, TypeError, IndexError):
            title = f"{rule.id}: observed {f.observed:g}"
        employee = {"employee_id": emp, **{k: v for k, v in (st.hr or {}).items()
                                           if k not in ("accounts", "ts", "notice_from") and k[0] != "_"}}
        if st.hr is not None:
            employee["watchlist"] = bool(st.hr.get("watchlist"))
        alert = Alert(
            alert_id=aid,
            ts=ts,
            employee_id=emp,
            rule_id=rule.id,
            rule_version=rule.version,
            severity=severity,  # type: ignore[arg-type]
            score=score,
            title=title,
            explanation=explanation,
            evidence=list(f.evidence),
            employee=employee,
        )
        self.stats.alerts[rule.id] += 1
        out = [alert]
        if self.config.risk and rule.id != RISK_RULE.id and security:
            rf = update_risk(st, hr, alert, day, self.config)
            if rf is not None:
                out += self._emit(RISK_RULE, emp, rf, st, hr, ts)
        return out

    @staticmethod
    def _episode_raises(rule: Any, series: Series | None, st: EmployeeState, f: Finding, hr: HRView,
                        day: int, sent_day: int) -> bool:
        """Whether finding ``f`` raises an alert or belongs to the rule's ongoing episode (see EPISODE_GAP_DAYS);
        updates the episode either way. ``sent_day``: the day the alert would be sent."""
        eps = None
        if series is not None:
            ep = series.ep
        else:
            eps = st.extra.setdefault("ep", {})
            ep = eps.get(rule_code(rule.id))
        code = hr_code(hr, day)
        sev = 0 if hr.possibly_leaving else LEVELS.index(
            grade(rule.severity, rule.score, f.ratio, hr, day, staying_cap=getattr(rule, "staying_cap", None))[0])
        limit = budget_limit(hr)
        if ep is not None and day < ep[EP_FIRST] - EPISODE_GAP_DAYS:
            # A day before the current episode (HR news re-evaluating stored days): its own episode was judged
            # when it happened; it is raised only for an HR picture that episode was not raised under.
            if not code & ~ep[EP_CODES] & (DEPARTING | WATCHED) or not within_budget(ep, sent_day, limit):
                return False
            ep[EP_CODES] |= code  # raised once under the new picture, not again for each older day
        elif ep is not None and (ep[EP_FIRST] - EPISODE_GAP_DAYS <= day <= ep[EP_LAST] + EPISODE_GAP_DAYS
                                 or not within_budget(ep, sent_day, limit)):
            _sent(ep)
            grows = f.observed >= EPISODE_GROWTH * ep[EP_PEAK] > 0 and sev > ep[EP_SEV]
            # something else new; a window whose observed amount is no measure of growth says itself what is
            # news (FirstTime: its next new thing, another machine or category; ConsecutiveDays: another run)
            again = getattr(getattr(rule, "window", None), "raises_again", None)
            news = code & ~ep[EP_CODES] or bool(again is not None and again(f.key, ep[EP_KEY], sev, ep[EP_SEV]))
            if day > ep[EP_LAST]:
                ep[EP_LAST] = day
            elif day < ep[EP_FIRST]:
                ep[EP_FIRST] = day
            ep[EP_PEAK] = max(ep[EP_PEAK], f.observed)
            if not (grows or news) or not within_budget(ep, sent_day, limit):
                if series is not None and in_episode(ep, day, hr):
                    series.unlearn(day)  # folded before it joined the episode (a late event)
                return False
            ep[EP_KEY] = f.key
            ep[EP_CODES] |= code | (GREW if grows else 0)
        else:  # a new episode (the old one's alerts still count in the budget; within it, see the elif)
            sent = [] if ep is None else [d for d in _sent(ep) if d > sent_day - BUDGET_DAYS]
            ep = [f.key, day, day, f.observed, code, sev, sent]
            if series is not None:
                series.ep = ep
            else:
                assert eps is not None
                eps[rule_code(rule.id)] = ep
        ep[EP_SEV] = max(ep[EP_SEV], sev)
        ep[EP_SENT] = (ep[EP_SENT] + [sent_day])[-ALERT_BUDGET:]
        return True

    @staticmethod
    def _budget_allows(rule_id: str, st: EmployeeState, hr: HRView, sent_day: int) -> bool:
        """The budget (ALERT_BUDGET in BUDGET_DAYS) for a rule without episodes; counts the alert if allowed."""
        sent_by = st.extra.setdefault(SENT, {})
        code = rule_code(rule_id)
        sent = [d for d in sent_by.get(code, ()) if d > sent_day - BUDGET_DAYS]
        if len(sent) >= budget_limit(hr):
            return False
        sent_by[code] = (sent + [sent_day])[-ALERT_BUDGET:]
        return True

    @staticmethod
    def _episode_follows(series: Series | None, st: EmployeeState, rule_id: str, f: Finding) -> None:
        """A window that already alerted found more (a later event of the same day): the episode's largest
        amount follows, so that growth is measured against the whole day, not the event that crossed the
        threshold."""
        ep = series.ep if series is not None else st.extra.get("ep", {}).get(rule_code(rule_id))
        if ep is not None and ep[EP_KEY] == f.key and f.observed > ep[EP_PEAK]:
            ep[EP_PEAK] = f.observed

    # ------------------------------------------------------------------ engine-wide memories
    @property
    def shared(self) -> tuple[SharedMemory, ...]:
        """The memories shared by every employee (detectors.shared), for a worker to persist."""
        return (self.hosts, self.peer_firsts, self.peer_load, *self.habits.memories, self.peer_rates)

    def shared_changes(self) -> list[tuple[str, int, bytes | None]]:
        """``(record key, partition, value)`` of every contribution changed since the last commit."""
        return [c for m in self.shared for c in m.changes()]

    def shared_committed(self) -> None:
        for m in self.shared:
            m.committed()

    def shared_rollback(self) -> None:
        for m in self.shared:
            m.rollback()

    def shared_load(self, key: str, value: bytes | None) -> None:
        """One record of the worker's topic of engine-wide memories (a restore, another worker's change)."""
        for m in self.shared:
            if m.load(key, value):
                return
        log.warning("engine-wide memory record %r names no memory; ignored", key[:40])

    def shared_clear(self) -> None:
        for m in self.shared:
            m.clear()

    # ------------------------------------------------------------------ model checkpoints
    def models_state(self) -> dict[str, bytes]:
        """The shared (not per-employee) state of every model, for a worker checkpoint."""
        return {m.id: m.state_dict() for m in self.models if hasattr(m, "state_dict")}

    def load_models_state(self, blobs: dict[str, bytes]) -> None:
        for m in self.models:
            if m.id in blobs and hasattr(m, "load_state_dict"):
                m.load_state_dict(blobs[m.id])

    def _maybe_prune(self, st: EmployeeState, day: int) -> None:
        if st.extra.get("pd") == day:
            return
        st.extra["pd"] = day
        windows = self._windows
        eps = st.extra.get("ep")
        if eps:
            for code in [c for c, e in eps.items() if episode_over(e, day)]:
                del eps[code]
            if not eps:
                del st.extra["ep"]
        sent_by = st.extra.get(SENT)
        if sent_by:
            for code in [c for c, days in sent_by.items() if day > max(days) + BUDGET_DAYS + LATE_DAYS]:
                del sent_by[code]
            if not sent_by:
                del st.extra[SENT]
        for rid, s in st.series.items():
            if s.ep is not None and episode_over(s.ep, day):
                s.ep = None  # over: only its key stays (as ``last``)
            s.prune(day - self._horizon.get(rid, self.config.lookback_days))
            w = windows.get(rid)
            if w is not None:
                w.compact(s, day)


def looked_back_evidence(f: Finding, s: Series, today: int) -> Finding:
    """A finding of the look-back after HR news, with evidence whatever the day it is about.

    A series keeps a few evidence ids (the most recent, and the latest of its largest earlier days:
    :meth:`detectors.state.Series.add`), so a day the look-back fires on, weeks back or among larger days, may
    have none left. Its alert then carries the rule's matching events from that day up to the HR news (the
    same behaviour, later in the same period), and says so in ``evidence_note``; an alert never goes out
    without evidence.
    """
    if f.evidence:
        return f
    first = f.window_start if f.window_start is not None else f.day
    lo = first if first is not None else today - 366
    later = [(d, eid) for d, eid in s.evidence_pairs() if lo <= d <= today]
    if not later:
        return f
    days = sorted({d for d, _ in later})
    note = (f"the events of {day_date(lo)} are no longer kept; these are the rule's matching events of "
            f"{', '.join(str(day_date(d)) for d in days)}, up to the HR news")
    return dataclasses.replace(f, evidence=[eid for _, eid in later], extra={**f.extra, "evidence_note": note})
