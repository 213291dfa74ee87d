"""A small, seeded synthetic workforce for model tests and measurements when no generated data set is at hand.

Employees in a few departments and roles work weekdays at their own rates (a few heavy-but-steady users among
them), with busy days and rare benign bulk days; some resign (HR ``notice`` with a last day), and some of those
exfiltrate (removable copies, personal mail, CRM exports, cloud uploads) or delete files on a few days of a
scenario window near their departure, at strengths from blatant to subtle. ``labels`` uses the shape
``{"employee_id", "scenario", "start", "end"}`` (dates inclusive).

>>> hr, events, labels = workforce(employees=6, days=10, seed=1)
>>> len(hr) >= 6, events[0]["kind"], sorted(labels[0]) if labels else []
(True, 'logon', [])
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

START = dt.date(2026, 1, 5)  # a Monday
DEPARTMENTS = (("sales", ("rep", "manager")), ("engineering", ("developer", "lead")), ("finance", ("analyst",)))
#: Mean daily counts per action on a workday (before personal and day factors).
RATES = {
    "open": 10.0, "download": 4.0, "upload": 0.5, "delete": 1.0, "copy_to_removable": 0.05,
    "mail": 8.0, "crm_view": 3.0, "crm_export": 0.2, "print": 0.4,
}
ROLE_FACTOR = {"rep": {"crm_view": 3.0, "crm_export": 2.0}, "manager": {"mail": 1.5}, "developer": {"download": 2.0},
               "lead": {"upload": 2.0}, "analyst": {"crm_export": 1.5, "print": 2.0}}


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, lam**0.5) + 0.5))
    import math

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def workforce(employees: int = 60, days: int = 90, seed: int = 7, leavers: float = 0.25,
              malicious: float = 0.5, heavy: float = 0.1) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                   list[dict[str, Any]]]:
    """``(hr_records, events, labels)`` as contract dicts, events in ``ts`` order."""
    rng = random.Random(seed)
    hr: list[dict[str, Any]] = []
    events: list[tuple[str, dict[str, Any]]] = []
    labels: list[dict[str, Any]] = []
    seq = 0
    for k in range(employees):
        emp = f"E{k:04d}"
        dept, roles = DEPARTMENTS[k % len(DEPARTMENTS)]
        role = roles[(k // len(DEPARTMENTS)) % len(roles)]
        acct = f"u{k:04d}@corp.example"
        hr.append({"employee_id": emp, "ts": f"{START.isoformat()}T00:00:00Z", "status": "active",
                   "accounts": [acct], "department": dept, "role": role})
        personal = {a: rng.lognormvariate(0, 0.5) for a in RATES}
        if rng.random() < heavy:
            for a in ("download", "copy_to_removable", "upload", "crm_export"):
                personal[a] *= 8 if a != "copy_to_removable" else 200
        rates = {a: RATES[a] * personal[a] * ROLE_FACTOR.get(role, {}).get(a, 1.0) for a in RATES}
        leaving = rng.random() < leavers and days >= 40
        last = notice = None
        bad_days: set[int] = set()
        scenario = None
        if leaving:
            last = rng.randint(days // 2 + 10, days - 3)
            notice = last - rng.randint(14, 28)
            hr.append({"employee_id": emp, "ts": f"{(START + dt.timedelta(days=notice)).isoformat()}T09:00:00Z",
                       "status": "notice", "accounts": [acct], "department": dept, "role": role,
                       "resignation_date": (START + dt.timedelta(days=notice)).isoformat(),
                       "last_day": (START + dt.timedelta(days=last)).isoformat()})
            if rng.random() < malicious:
                scenario = rng.choice(["usb", "mail", "crm", "cloud", "sabotage"])
                w0 = max(5, notice - rng.randint(0, 10))
                w1 = last
                bad_days = set(rng.sample(range(w0, w1 + 1), k=min(3, w1 - w0 + 1)))
                strength = rng.choice([0.5, 1.0, 2.0])
                labels.append({"employee_id": emp, "scenario": scenario,
                               "start": (START + dt.timedelta(days=min(bad_days))).isoformat(),
                               "end": (START + dt.timedelta(days=max(bad_days))).isoformat(),
                               "days": sorted((START + dt.timedelta(days=b)).isoformat() for b in bad_days)})
        for d in range(days):
            if last is not None and d > last:
                break
            date = START + dt.timedelta(days=d)
            weekend = date.weekday() >= 5
            if weekend and rng.random() > 0.1:
                continue
            f = rng.lognormvariate(0, 0.35) * (0.3 if weekend else 1.0)
            if rng.random() < 0.01:  # a benign bulk day (project deadline, migration)
                f *= 4
            counts = {a: _poisson(rng, r * f) for a, r in rates.items()}
            if notice is not None and d >= notice:  # handover: benign sharing goes up a little
                counts["upload"] += _poisson(rng, 1.0)
            extra: dict[str, int] = {}
            if d in bad_days and scenario:
                mult = {0.5: 0.4, 1.0: 1.0, 2.0: 2.5}[strength]
                if scenario == "usb":
                    extra["usb"] = int(30 * mult) + 2
                elif scenario == "mail":
                    extra["pmail"] = int(8 * mult) + 2
                elif scenario == "crm":
                    extra["crmx"] = int(3 * mult) + 1
                elif scenario == "cloud":
                    extra["cloud"] = int(20 * mult) + 2
                else:
                    extra["del"] = int(80 * mult) + 5

            def put(hour: int, minute: int, **e: Any) -> None:
                nonlocal seq
                seq += 1
                ts = f"{date.isoformat()}T{hour:02d}:{minute:02d}:{rng.randint(0, 59):02d}Z"
                events.append((ts, {"event_id": f"s{seq}", "ts": ts, "actor": acct, "source": "synthetic", **e}))

            def hour() -> int:
                return rng.randint(19, 23) if rng.random() < 0.05 else rng.randint(8, 17)

            put(8, 0, kind="logon", action="logon", host=f"pc{k}")
            for _ in range(counts["open"]):
                put(hour(), rng.randint(0, 59), kind="file", action="open", object="/docs/x")
            for _ in range(counts["download"]):
                put(hour(), rng.randint(0, 59), kind="file", action="download", bytes=rng.randint(10_000, 5_000_000),
                    sensitivity=rng.choice(["internal", "internal", "internal", "confidential", "public"]))
            for _ in range(counts["upload"]):
                put(hour(), rng.randint(0, 59), kind="file", action="upload", bytes=rng.randint(10_000, 2_000_000),
                    destination="sharepoint.corp.example", external=False)
            for _ in range(counts["delete"]):
                put(hour(), rng.randint(0, 59), kind="file", action="delete", object="/docs/old")
            for _ in range(counts["copy_to_removable"]):
                put(hour(), rng.randint(0, 59), kind="file", action="copy_to_removable", bytes=rng.randint(10_000, 3_000_000),
                    destination="usb")
            for _ in range(counts["mail"]):
                ext = rng.random() < 0.2
                att = rng.random() < 0.3
                put(hour(), rng.randint(0, 59), kind="email", action="send",
                    recipients=[f"p{rng.randint(0, 30)}@{'client.example' if ext else 'corp.example'}"],
                    external=ext, personal=False, count=1 if att else 0, bytes=rng.randint(20_000, 900_000) if att else 0)
            for _ in range(counts["crm_view"]):
                put(hour(), rng.randint(0, 59), kind="crm", action="view", duration_s=rng.uniform(30, 400))
            for _ in range(counts["crm_export"]):
                put(hour(), rng.randint(0, 59), kind="crm", action="report_export", count=rng.randint(20, 400),
                    bytes=rng.randint(50_000, 2_000_000))
            for _ in range(counts["print"]):
                put(hour(), rng.randint(0, 59), kind="print", action="print")
            for _ in range(extra.get("usb", 0)):
                put(rng.randint(17, 21), rng.randint(0, 59), kind="file", action="copy_to_removable",
                    bytes=rng.randint(500_000, 20_000_000), sensitivity="confidential", destination="usb")
            for _ in range(extra.get("pmail", 0)):
                put(hour(), rng.randint(0, 59), kind="email", action="send", recipients=[f"me{k}@gmail.com"],
                    external=True, personal=True, count=rng.randint(1, 4), bytes=rng.randint(1_000_000, 9_000_000))
            for _ in range(extra.get("crmx", 0)):
                put(hour(), rng.randint(0, 59), kind="crm", action="bulk_query", count=rng.randint(3000, 20000),
                    bytes=rng.randint(2_000_000, 30_000_000), duration_s=rng.uniform(300, 1500))
            for _ in range(extra.get("cloud", 0)):
                put(hour(), rng.randint(0, 59), kind="web", action="upload", destination=f"drive{rng.randint(0, 2)}.example",
                    external=True, personal=True, bytes=rng.randint(1_000_000, 20_000_000))
            for _ in range(extra.get("del", 0)):
                put(hour(), rng.randint(0, 59), kind="file", action="delete", object="/projects/x")
    events.sort(key=lambda x: x[0])
    return hr, [e for _, e in events], labels
