"""HR signals for the generated company: attendance, leave, performance and surveys, with history and noise.

Called by ``exitwatch generate`` once the people and the leavers are planned (:func:`add_hr_signals`). It
replaces the company's plain survey and performance signals with these and adds to its sick days, leave
requests and handover items:

- **history**: signals start up to ``HISTORY_DAYS`` before the activity data (an HR system has years of them),
  from the hire date on;
- **everyone**: a personal rate of late arrivals and early leaves (log-normal, some people are never late),
  sick days, four to eight leave requests a year, a pulse survey on the first Wednesday of the month (answered
  60-90% of the time) around the person's mood, a performance check-in every six weeks around their level;
- **honest noise**: people who stay but have a rough patch: a month or more of lateness (a move, a new baby,
  caring for someone), a bad quarter (performance down 20-35%), a reorganisation that sours two surveys,
  a year's leave taken in a few months. About one stayer in five has one of these, some have two;
- **future leavers** (:data:`DRIFT`): four in five drift before their notice, from 45 to 150 days before it
  (while they look for a job), on a random subset of attendance (interviews, lateness), performance, leave and
  satisfaction, each at its own strength; one in five shows nothing (an offer out of the blue). The
  ``subtle`` drift is fewer, later and weaker;
- **handover of customers**: leavers who work in the CRM get ``customer:<account>`` handover items;
  benign leavers close them all, malicious ones leave some open.

Nothing here looks at a detector; the drift sizes are what HR literature names (absence and lateness before
resignation, disengagement in surveys), not what a threshold needs.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

HISTORY_DAYS = 180
ROUGH = {"attendance": 0.08, "performance": 0.05, "satisfaction": 0.06, "leave": 0.04}
#: How future leavers drift. ``default``: most people search for a new job for two to five months before
#: they resign and withdraw on one or more fronts meanwhile; ``subtle``: fewer drift, later and weaker (a
#: harder company, for measuring what the propensity does when the signals are faint).
DRIFT: dict[str, dict[str, Any]] = {
    "default": {"drifters": 0.8, "onset": (45, 150), "channel": 0.6, "strength": (0.7, 1.5)},
    "subtle": {"drifters": 0.65, "onset": (30, 100), "channel": 0.5, "strength": (0.5, 1.2)},
}


def _first_wednesdays(c: Any, lo: int, hi: int) -> list[int]:
    import datetime as dt

    out = []
    for i in range(lo, hi):
        d = c.start + dt.timedelta(days=i)
        if d.day <= 7 and d.weekday() == 2:
            out.append(i)
    return out


def _working(c: Any, i: int) -> bool:
    if 0 <= i < len(c.working):
        return bool(c.working[i])
    import datetime as dt

    return (c.start + dt.timedelta(days=i)).weekday() < 5


def add_hr_signals(c: Any) -> None:
    """Replace ``c.signals``' surveys and performance reviews and add the signals described above."""
    rng = random.Random(c.seed * 7919 + 18)
    drift = DRIFT[getattr(c, "signal_drift", "default")]
    c.signals = [s for s in c.signals if s[1]["signal"] not in ("survey", "performance_review")]
    wednesdays = _first_wednesdays(c, -HISTORY_DAYS, c.days)
    for e in c.emps:
        lo = max(e.hired, -HISTORY_DAYS)
        hi = c.days if e.last_day is None else min(c.days, e.last_day + 1)
        late_rate = 0.0 if rng.random() < 0.25 else rng.lognormvariate(math.log(0.25), 0.8)  # per working day
        early_rate = 0.0 if rng.random() < 0.4 else rng.lognormvariate(math.log(0.08), 0.8)
        leave_per_year = rng.uniform(4, 8)
        answer = rng.uniform(0.6, 0.9)
        # episodes: (kind, start, end, strength)
        eps: list[tuple[str, int, int, float]] = []
        leaver = e.last_day is not None and e.notice is not None
        if leaver and rng.random() < drift["drifters"]:
            onset = e.notice - rng.randint(*drift["onset"])
            kinds = [k for k in ("attendance", "performance", "leave", "satisfaction") if rng.random() < drift["channel"]]
            if not kinds:
                kinds = [rng.choice(("attendance", "performance", "leave", "satisfaction"))]
            for k in kinds:
                eps.append((k, onset + rng.randint(0, 14), e.last_day, rng.uniform(*drift["strength"])))
        if leaver:
            c.__dict__.setdefault("drift_plan", {})[e.id] = [(k, s0, st) for k, s0, _, st in eps]
        for k, p in ROUGH.items():  # honest rough patches, leavers too (unrelated to leaving)
            if rng.random() < p:
                s0 = rng.randint(lo, max(lo, c.days - 30))
                length = rng.randint(28, 70)
                eps.append((k, s0, s0 + length, rng.uniform(0.6, 1.4)))

        def strength(kind: str, day: int) -> float:
            v = 0.0
            for k, s0, s1, st in eps:
                if k == kind and s0 <= day <= s1:
                    v = max(v, st * min(1.0, (day - s0 + 7) / 28))  # builds up over about three weeks
            return v

        for d in range(lo, hi):
            if not _working(c, d) or d in e.off:
                continue
            a = strength("attendance", d)
            if rng.random() < min(0.9, late_rate * (1 + 3 * a) + 0.12 * a):
                c.sig(e, c.t(d, e.start_h + rng.uniform(0.25, 1.5)), "late_arrival", round(rng.uniform(10, 80)))
            if rng.random() < min(0.9, early_rate * (1 + 3 * a) + 0.08 * a):
                c.sig(e, c.t(d, e.start_h + rng.uniform(5, 7.5)), "early_leave", round(rng.uniform(30, 150)))
            if d < 0 and rng.random() < 0.012:  # sick days before the activity data (the generator has the rest)
                c.sig(e, c.t(d, rng.uniform(7, 10)), "absence", 1)
            if a > 0 and rng.random() < 0.06 * a:  # interviews, appointments
                c.sig(e, c.t(d, rng.uniform(7, 10)), "absence", 1)
            lv = strength("leave", d)
            # (the generator plans everyone's vacations in the data; here: the history, and the extra requests)
            per_day = leave_per_year / 250 * ((1 + 2.5 * lv) if d < 0 else 2.5 * lv)
            if per_day and rng.random() < per_day:
                c.sig(e, c.t(d, rng.uniform(9, 17)), "leave_request", rng.randint(1, 3))
        for d in wednesdays:
            if lo <= d < hi and rng.random() < answer:
                m = e.mood - 3.0 * strength("satisfaction", d)
                c.sig(e, c.t(d, rng.uniform(9, 17)), "survey", int(min(10, max(0, round(rng.gauss(m, 0.9))))))
        d = lo + rng.randint(0, 41)
        while d < hi:  # a check-in every six weeks, on the next working day
            w = d
            while not _working(c, w):
                w += 1
            if w < hi:
                p = e.perf * (1 - 0.3 * strength("performance", w))
                c.sig(e, c.t(w, rng.uniform(9, 17)), "performance_review",
                      round(min(5.0, max(1.0, rng.gauss(p, 0.12))), 1))
            d += 42
        if leaver and e.crm:
            _customer_handover(c, e, rng)


def _customer_handover(c: Any, e: Any, rng: random.Random) -> None:
    from exitwatch.generate import BENIGN

    accounts = [f"Account/{rng.randint(10000, 99999)}" for _ in range(rng.randint(2, 5))]
    for a in accounts:
        c.sig(e, c.t(e.notice + rng.randint(1, 3), rng.uniform(9, 17)), "handover_item_open", f"customer:{a}")
    done = accounts if e.scenario == BENIGN else accounts[: rng.randint(0, len(accounts) - 1)]
    for a in done:
        c.sig(e, c.t(rng.randint(e.notice + 3, e.last_day), rng.uniform(9, 17)), "handover_item_done", f"customer:{a}")


def write_hr_only(out: str | Path, employees: int = 1000, days: int = 120, seed: int = 7,
                  start: str = "2026-01-05", profile: str = "baseline", signal_drift: str = "default") -> dict[str, Any]:
    """The HR side of a generated company only (``hr.jsonl``, ``signals.jsonl``, ``meta.json``): the same
    people, leavers and signals as ``exitwatch generate`` with the same arguments (``profile``: one of
    ``exitwatch.generate.PROFILES``), without the activity (what the propensity's evaluation and tests need, in
    seconds). ``signal_drift``: how future leavers drift (:data:`DRIFT`)."""
    import datetime as dt

    import orjson

    from exitwatch.generate import Company, profile_of

    if signal_drift not in DRIFT:
        raise ValueError(f"unknown signal drift {signal_drift!r}; known: {sorted(DRIFT)}")
    prof = profile_of(profile)
    c = Company(employees, days, seed, dt.date.fromisoformat(start), profile=prof)
    c.signal_drift = signal_drift  # type: ignore[attr-defined]
    c.build()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    end_t = c.t(c.days, 0)
    for name, rows in (("hr.jsonl", c.hr), ("signals.jsonl", [s for s in c.signals if s[0] < end_t])):
        rows.sort(key=lambda r: r[0])
        (out / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for _, r in rows))
    meta = {"employees": c.n, "days": c.days, "seed": seed, "start": c.start.isoformat(), "end": c.date(c.days - 1),
            "profile": prof.name, "signal_drift": signal_drift, "leavers": len(c.labels), "hr_only": True}
    (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return meta
