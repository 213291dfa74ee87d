"""Who makes their first use of removable media ever with work files on it, and when? The study behind
``device.first_copies_before_departure``; it reads the company files only (no alerts, no replay).

    PYTHONPATH=. python reports/evaluation/studies/first_removable_copies.py COMPANY [COMPANY ...]

COMPANY is a company folder as ``exitwatch generate`` writes it (labels, HR, events). An employee counts when
their first use of removable media (a device connected or a file copied, on the day of the first copy or
before) comes after at least 28 days of their own history and that day's copies of work files (not personal
media, :func:`detectors.content.personal_media`) number at least F; the table gives thieves and honest leavers
whose first use lies within the 30 days up to their last day (their final HR record), for several F, and how
many of them had contact with a competitor or a job site in the 30 days before (context, not a condition).
Accounts are resolved with the HR records' ``accounts``, case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

import orjson

from detectors.content import personal_media
from detectors.rules.sequence._lists import is_job_site

MIN_HISTORY = 28
DAYS = 30
FLOORS = (1, 5, 10, 20, 50)


def day(ts: str) -> int:
    return dt.date.fromisoformat(ts[:10]).toordinal()


def company(data: Path) -> list[tuple[str, str, bool, int, int]]:
    """(employee, class, contact before, files on the first day, days from the first use to the last day)."""
    labels = {o["employee_id"]: o["scenario"] for o in map(orjson.loads, (data / "labels.jsonl").read_bytes().splitlines())}
    accounts: dict[str, str] = {}
    last: dict[str, int | None] = {}
    for o in map(orjson.loads, (data / "hr.jsonl").read_bytes().splitlines()):
        last[o["employee_id"]] = day(o["last_day"]) if o.get("last_day") else None
        for a in o.get("accounts") or ():
            accounts[a.lower()] = o["employee_id"]
    seen: dict[str, int] = {}
    used: dict[str, int] = {}
    copies: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    contact: dict[str, set[int]] = defaultdict(set)
    with open(data / "events.jsonl", "rb") as fh:
        for line in fh:
            e = orjson.loads(line)
            emp = accounts.get(e["actor"].lower())
            if emp is None:
                continue
            d = day(e["ts"])
            seen[emp] = min(d, seen.get(emp, d))
            kind, action, attrs = e["kind"], e["action"], e.get("attrs") or {}
            if (kind == "device" and action == "connect") or action == "copy_to_removable":
                used[emp] = min(d, used.get(emp, d))
            if action == "copy_to_removable" and not personal_media(e.get("object")):
                copies[emp][d] += e.get("count") or 1
            if kind == "email" and "competitor" in (attrs.get("recipient_categories") or ()):
                contact[emp].add(d)
            if kind == "web" and action == "visit" and (
                    attrs.get("category") in ("job_search", "competitor")
                    or is_job_site(e.get("destination"), e.get("object"))):
                contact[emp].add(d)
    out = []
    for emp, by_day in copies.items():
        first = min(by_day)
        if used[emp] < first or first - seen[emp] < MIN_HISTORY or last.get(emp) is None:
            continue
        scenario = labels.get(emp, "benign_leaver")
        cls = "honest" if scenario == "benign_leaver" else "thief"
        near = any(first - DAYS <= c <= first for c in contact[emp])
        out.append((emp, cls, near, by_day[first], last[emp] - first))
    return out


def main(argv: list[str]) -> None:
    rows = [(p.name, *r) for p in map(Path, argv) for r in company(p)]
    print(f"{len(argv)} companies; first use of removable media with work files, within {DAYS} days up to the "
          f"last day (honest: leavers without a scenario)")
    print("| files on the first day, at least | thieves | honest leavers | of them with competitor or job-site "
          "contact in the 30 days before (thieves / honest) |")
    print("|---|---|---|---|")
    for floor in FLOORS:
        hit = [r for r in rows if r[4] >= floor and 0 <= r[5] < DAYS]
        th = [r for r in hit if r[2] == "thief"]
        ho = [r for r in hit if r[2] == "honest"]
        print(f"| {floor} | {len(th)} | {len(ho)} | {sum(r[3] for r in th)} / {sum(r[3] for r in ho)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
