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
- **future leavers**: three in four drift before their notice, from 30 to 110 days before it, on a random
  subset of attendance (interviews, lateness), performance, leave and satisfaction, each at its own strength;
  one in four shows nothing (an offer out of the blue);
- **handover of customers**: leavers who work in the CRM get ``customer:<account>`` handover items;
  benign leavers close them all, malicious ones leave some open.

Nothing here looks at a detector; the drift sizes are what HR literature names (absence and lateness before
resignation, disengagement in surveys), not what a threshold needs.
"""

from __future__ import annotations

import math
import random
from typing import Any

HISTORY_DAYS = 180
ONSET = (30, 110)  # days before the notice at which a leaver's drift begins
DRIFTERS = 0.75
ROUGH = {"attendance": 0.08, "performance": 0.05, "satisfaction": 0.06, "leave": 0.04}


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
        if leaver and rng.random() < DRIFTERS:
            onset = e.notice - rng.randint(*ONSET)
            kinds = [k for k in ("attendance", "performance", "leave", "satisfaction") if rng.random() < 0.55]
            if not kinds:
                kinds = [rng.choice(("attendance", "performance", "leave", "satisfaction"))]
            for k in kinds:
                eps.append((k, onset + rng.randint(0, 20), e.last_day, rng.uniform(0.6, 1.4)))
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
            if rng.random() < min(0.9, late_rate * (1 + 4 * a) + 0.05 * a):
                c.sig(e, c.t(d, e.start_h + rng.uniform(0.25, 1.5)), "late_arrival", round(rng.uniform(10, 80)))
            if rng.random() < min(0.9, early_rate * (1 + 3 * a) + 0.04 * a):
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
        while d < hi:
            if _working(c, d):
                p = e.perf * (1 - 0.3 * strength("performance", d))
                c.sig(e, c.t(d, rng.uniform(9, 17)), "performance_review",
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
