"""The ``alerts.secops`` form: pseudonyms that hold without the key.

What an ``alerts.hr`` alert becomes for security operations (CONTRACT.md 5: identity removed):

- ``employee_id``: the keyed pseudonym (HMAC-SHA256 of the id, :func:`schemas.pseudonym.pseudonymize`);
- ``alert_id``: HMAC-SHA256 of the ``alerts.hr`` id under the same key (32 hex digits). The ``alerts.hr`` id is
  an unkeyed hash of rule, employee and window, so enumerating employee ids against it names the person;
  the keyed id is just as deterministic (same key, same alert, same id) and reveals nothing without the key;
- ``evidence``: each event id keyed the same way (``x-``...): raw event ids carry actors and host names and
  join back to the raw logs;
- ``ts``: the UTC day the alert fired (an exact event time joins back to the one raw event it was);
- ``employee``: only the quasi-identifiers department, role, status, resignation date, last day and watch-list
  flag, generalised until at least ``k`` employees of the HR population the detector knows share the
  values (:class:`Population`): exact, then dates to their ISO week, then role dropped and dates to their
  month, then department and status only, then status only, then nothing. ``generalised`` names the level.
  An alert of someone leaving is counted among the leavers whatever is left (its rule or score says so).
  Alerts of one pseudonym can be intersected, so the candidates of earlier alerts count too; when fewer than
  ``k`` would be left, the alert goes out under a pseudonym of its own (``u-``..., ``linkable: false``);
- ``explanation``: the HR-derived fields (``last_day``, ``days_to_last_day``, ``status``, ``in_notice``) follow
  the employee's level; any other string that is not a date, a number or a plain name (rule and feature
  names) is keyed; the ``title`` is rendered again from the rule's template with these values.
  ``possibly_leaving`` (the departure propensity behind a provisional departure window,
  :func:`detectors.engine.possibly_leaving_view`) is left out altogether: HR data stay with HR, and naming it
  as withheld would say it was there.

Re-identification needs the key (``exitwatch reidentify``, which writes an audit record).

>>> pop = Population(k=2)
>>> for e in ("E1", "E2", "E3"):
...     pop.update({"employee_id": e, "department": "Sales", "role": "AE", "status": "active"})
>>> pop.level({"department": "Sales", "role": "AE", "status": "active"})
'exact'
>>> pop.level({"department": "Sales", "role": "AE", "status": "notice", "last_day": "2026-03-13"})
'none'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import sys
from collections import Counter
from typing import Any

from schemas import Alert
from schemas.pseudonym import pseudonymize

DEFAULT_K = 5
LEAVING = ("notice", "departed")
QI = ("department", "role", "status", "resignation_date", "last_day", "watchlist")
#: Generalisation levels, most exact first: field -> "keep" or the precision of a date.
LEVELS: list[tuple[str, dict[str, str]]] = [
    ("exact", {"department": "keep", "role": "keep", "status": "keep", "resignation_date": "day",
               "last_day": "day", "watchlist": "keep"}),
    ("week", {"department": "keep", "role": "keep", "status": "keep", "resignation_date": "week",
              "last_day": "week"}),
    ("month", {"department": "keep", "status": "keep", "resignation_date": "month", "last_day": "month"}),
    ("department", {"department": "keep", "status": "keep"}),
    ("status", {"status": "keep"}),
    ("none", {}),
]
_LEVEL = dict(LEVELS)
#: Explanation fields derived from the HR record, and what they need to be shown.
_HR_EXPLANATION = {"last_day": "last_day", "status": "status", "in_notice": "status"}
#: Explanation fields that never reach alerts.secops, not even as withheld (the departure propensity).
_HR_ONLY_EXPLANATION = frozenset({"possibly_leaving"})
_SAFE_STRING = re.compile(r"^(?:\d{4}-\d\d-\d\d(?:T[\d:.]+(?:Z|[+-]\d\d:\d\d))?|-?[\d.]+)$")


def _date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def coarsen_date(v: Any, precision: str) -> str | None:
    """A date at ``precision``: ``day``, ``week`` (its ISO week's Monday) or ``month`` (its first day).

    >>> coarsen_date("2026-03-13", "week"), coarsen_date("2026-03-13", "month")
    ('2026-03-09', '2026-03-01')
    """
    d = _date(v)
    if d is None:
        return None
    if precision == "week":
        d = d - dt.timedelta(days=d.weekday())
    elif precision == "month":
        d = d.replace(day=1)
    return d.isoformat()


def generalise(rec: dict[str, Any], level: str) -> tuple[Any, ...]:
    """The quasi-identifier values of ``rec`` at ``level`` (None for a field the level drops)."""
    spec = _LEVEL[level]
    out: list[Any] = []
    for f in QI:
        how = spec.get(f)
        v = rec.get(f)
        if how is None:
            out.append(None)
        elif how == "keep":
            out.append(bool(v) if f == "watchlist" else v)
        else:
            out.append(coarsen_date(v, how))
    return tuple(out)


_QI_TS = (*QI, "ts")


def _shared(v: Any) -> Any:
    """One string object for every employee with the same department, role, status or date."""
    return sys.intern(v) if type(v) is str else v


class Population:
    """The HR population the detector knows (the latest record per employee), with the members of every
    generalised group, kept up to date one HR record at a time.

    Alerts of one employee share a pseudonym, so a reader can intersect what each of them discloses. The
    population therefore remembers, per employee alerted, the candidates its earlier alerts left a reader
    (:attr:`linked`), and a new alert is only as exact as keeps at least ``k`` of them.
    """

    def __init__(self, k: int = DEFAULT_K) -> None:
        self.k = k
        #: employee -> their latest record's quasi-identifiers and ``ts`` (:data:`QI` order, then ``ts``): a
        #: tuple of shared strings, not a dict holding the record's own (a tenth of the memory, 100,000 employees)
        self.latest: dict[str, tuple[Any, ...]] = {}
        self.members: dict[str, dict[tuple[Any, ...], set[str]]] = {name: {} for name, _ in LEVELS}
        self.linked: dict[str, frozenset[str]] = {}
        #: employees who are leaving or have left (the group a departure-anchored alert is counted in)
        self.leavers: set[str] = set()

    def update(self, rec: dict[str, Any]) -> None:
        """Apply one HR record (a dict with ``employee_id`` and HR fields; an older ``ts`` than known is ignored)."""
        emp = rec["employee_id"]
        known = self.latest.get(emp)
        old = None if known is None else dict(zip(_QI_TS, known))
        if old is not None and rec.get("ts") is not None and old.get("ts") is not None and str(rec["ts"]) < str(old["ts"]):
            return
        q = {f: _shared(rec.get(f)) for f in QI}
        q["ts"] = rec.get("ts")
        if q.get("status") in LEAVING or q.get("resignation_date"):
            self.leavers.add(emp)
        else:
            self.leavers.discard(emp)
        for name, _ in LEVELS:
            groups = self.members[name]
            if old is not None:
                g = generalise(old, name)
                groups[g].discard(emp)
                if not groups[g]:
                    del groups[g]
            groups.setdefault(generalise(q, name), set()).add(emp)
        self.latest[emp] = tuple(q.values())

    def __len__(self) -> int:
        return len(self.latest)

    def level(self, snapshot: dict[str, Any], who: str | None = None) -> str:
        """The most exact level at which at least ``k`` known employees share ``snapshot``'s values (and, for
        ``who``, also fit every earlier alert of theirs); remembers what it disclosed about ``who``."""
        return self.choose(snapshot, who)[0]

    def choose(self, snapshot: dict[str, Any], who: str | None = None) -> tuple[str, bool]:
        """``(level, linkable)``. An alert of someone leaving says so whatever fields are left (its rule fires
        for leavers only, its score counts the notice), so their group is always counted among the leavers.
        When no level keeps ``k`` candidates together with ``who``'s earlier alerts, the alert is not linkable:
        it goes out under a pseudonym of its own (:func:`secops_view`), so it cannot be intersected with them."""
        leaving = snapshot.get("status") in LEAVING
        prev = self.linked.get(who) if who is not None else None

        def group(name: str) -> set[str]:
            g = self.members[name].get(generalise(snapshot, name), set())
            return g & self.leavers if leaving else g

        for name, _ in LEVELS:
            g = group(name)
            cand = g if prev is None else g & prev
            if len(cand) >= self.k:
                if who is not None:
                    self.linked[who] = frozenset(cand)
                return name, True
        for name, _ in LEVELS:
            if len(group(name)) >= self.k:
                return name, False
        return "none", False


def keyed(value: str, key: bytes, purpose: str, n: int = 32) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, separated by ``purpose``, as ``n`` hex digits.

    >>> keyed("a", b"k", "alert") != keyed("a", b"k", "evidence")
    True
    """
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()[:n]


def secops_alert_id(alert_id: str, key: bytes) -> str:
    """The keyed alert id of ``alerts.secops`` for the ``alerts.hr`` id ``alert_id``."""
    return keyed(alert_id, key, "alert")


def evidence_ref(event_id: str, key: bytes) -> str:
    return "x-" + keyed(event_id, key, "evidence", 24)


_TEMPLATES: dict[str, str] | None = None


def _templates() -> dict[str, str]:
    global _TEMPLATES
    if _TEMPLATES is None:
        t: dict[str, str] = {}
        try:
            from detectors.catalogue import discover

            t.update({r.id: r.title for r in discover()})
            from detectors.models.behaviour import META
            from detectors.risk import RISK_RULE

            t[META.id] = META.title
            t[RISK_RULE.id] = RISK_RULE.title
        except Exception:  # pragma: no cover - a template missing only costs a generic title
            pass
        _TEMPLATES = t
    return _TEMPLATES


_WORDS: frozenset[str] | None = None


def _safe_words() -> frozenset[str]:
    """Strings that name no one: rule and model ids, model feature names, HR statuses and signal names."""
    global _WORDS
    if _WORDS is None:
        words = set(_templates()) | {"active", "notice", "departed"}
        try:
            from detectors.models import features

            words |= set(features.NAMES)
        except Exception:  # pragma: no cover
            pass
        words |= {"late_arrival", "early_leave", "absence", "leave_request", "performance_review", "survey",
                  "handover_item_open", "handover_item_done", "asset_returned"}
        _WORDS = frozenset(words)
    return _WORDS


def _safe(v: str) -> bool:
    """A date, a number, or a list of known names (``"rule.a, rule.b"``): anything else may name someone (a host,
    a file, a domain the first-time rules call new) and is keyed."""
    if _SAFE_STRING.match(v):
        return True
    words = _safe_words()
    return all(p in words for p in v.split(", "))


def _scrub(v: Any, key: bytes) -> Any:
    if isinstance(v, str):
        return v if _safe(v) else "k-" + keyed(v, key, "text", 16)
    if isinstance(v, dict):
        return {k: _scrub(x, key) for k, x in v.items()}
    if isinstance(v, list):
        return [_scrub(x, key) for x in v]
    return v


def secops_view(alert: Alert, key: bytes, population: Population | None = None, k: int = DEFAULT_K) -> dict[str, Any]:
    """The ``alerts.secops`` form of ``alert`` (see the module docstring). Without a ``population`` the HR
    leftovers are dropped entirely (level ``none``)."""
    snap = alert.employee or {}
    level, linkable = (population.choose(snap, alert.employee_id) if population is not None and len(population)
                       else ("none", True))
    spec = _LEVEL[level]
    employee: dict[str, Any] = {}
    for f, v in zip(QI, generalise(snap, level)):
        if f in spec:
            employee[f] = v
    employee["generalised"] = level
    employee["k"] = population.k if population is not None else k
    if not linkable:
        employee["linkable"] = False

    expl: dict[str, Any] = {}
    withheld: list[str] = []
    for name, v in alert.explanation.items():
        if name in _HR_ONLY_EXPLANATION:
            continue
        need = _HR_EXPLANATION.get(name)
        if name == "days_to_last_day":
            need = "last_day"
            if spec.get("last_day") != "day":
                withheld.append(name)
                continue
            expl[name] = v
        elif need is not None:
            how = spec.get(need)
            if how is None:
                withheld.append(name)
                continue
            expl[name] = coarsen_date(v, how) if name == "last_day" and v is not None else v
        else:
            expl[name] = _scrub(v, key)
    if withheld:
        expl["withheld"] = withheld

    template = _templates().get(alert.rule_id)
    title = None
    if template:
        fill = {kk: "not set" if vv is None else vv for kk, vv in expl.items()}
        for w in withheld:
            fill[w] = "withheld"
        try:
            title = template.format(**fill)
        except (KeyError, ValueError, TypeError, IndexError):
            title = None
    if title is None:
        obs = expl.get("observed")
        title = f"{alert.rule_id}: observed {obs:g}" if isinstance(obs, (int, float)) else alert.rule_id
    day = alert.ts.astimezone(dt.timezone.utc).date()
    return {
        "alert_id": secops_alert_id(alert.alert_id, key),
        "ts": f"{day.isoformat()}T00:00:00Z",
        "employee_id": pseudonymize(alert.employee_id, key) if linkable else "u-" + keyed(alert.alert_id, key, "unlinked", 20),
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "severity": alert.severity,
        "score": alert.score,
        "title": title,
        "explanation": expl,
        "evidence": [evidence_ref(e, key) for e in alert.evidence],
        "employee": employee,
    }
