"""Where do leavers delete files in their last two weeks, and whose places are they? The study behind
``file.mass_deletion_before_departure`` v8; it reads the company files only (no alerts, no replay).

    PYTHONPATH=. python reports/evaluation/studies/deletions_in_new_places.py COMPANY [COMPANY ...]

COMPANY is a company folder as ``exitwatch generate`` writes it (labels, HR, events). For every leaver (an HR
record with a last day) and every day from 14 days before their last day to the day after it, the files deleted
that day (each event's ``count``, else 1) are split by container (the host and first folders of the path:
:func:`detectors.rules.file._handover.container`) into those in a container the person had a file event in
before the 30 days up to their last day ("worked in") and the rest ("never worked in"). The table counts
leaver-days by class (honest leaver, saboteur: ``sabotaging_admin`` or ``mass_deletion``, other thief), by the
day's files and by whether three quarters or more of them lay in places never worked in. Accounts are resolved
with the HR records' ``accounts``, case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter, defaultdict
from pathlib import Path

import orjson

from detectors.rules.file._handover import container

SABOTAGE = ("sabotaging_admin", "mass_deletion")
BANDS = ((20, 60), (60, 100), (100, 150), (150, 10**9))
NEW_SHARE = 0.75


def day(ts: str) -> int:
    return dt.date.fromisoformat(ts[:10]).toordinal()


def company(data: Path) -> list[tuple[str, str, int, float]]:
    """(employee, class, files deleted that day, share of them in places never worked in), per leaver-day."""
    labels = {o["employee_id"]: o["scenario"]
              for o in map(orjson.loads, (data / "labels.jsonl").read_bytes().splitlines())}
    accounts: dict[str, str] = {}
    last: dict[str, int] = {}
    for o in map(orjson.loads, (data / "hr.jsonl").read_bytes().splitlines()):
        for a in o.get("accounts") or ():
            accounts[a.lower()] = o["employee_id"]
        if o.get("last_day"):
            last[o["employee_id"]] = day(o["last_day"])
    known: dict[str, set[str]] = defaultdict(set)
    deleted: dict[tuple[str, int], Counter[str | None]] = defaultdict(Counter)
    with open(data / "events.jsonl", "rb") as fh:
        for line in fh:
            if b'"file"' not in line:
                continue
            e = orjson.loads(line)
            emp = accounts.get(str(e.get("actor", "")).lower())
            if e.get("kind") != "file" or emp not in last:
                continue
            d, place = day(e["ts"]), container(e.get("object"))
            if d < last[emp] - 30 and place:
                known[emp].add(place)
            if e.get("action") == "delete" and last[emp] - 14 <= d <= last[emp] + 1:
                deleted[(emp, d)][place] += int(e.get("count") or 1)
    rows = []
    for (emp, _d), places in deleted.items():
        n = sum(places.values())
        new = sum(k for p, k in places.items() if p is not None and p not in known[emp])
        scenario = labels.get(emp, "benign_leaver")
        cls = "honest" if scenario == "benign_leaver" else ("saboteur" if scenario in SABOTAGE else "other thief")
        rows.append((emp, cls, n, new / n))
    return rows


def main(paths: list[str]) -> None:
    rows = [r for p in paths for r in company(Path(p))]
    print(f"{len(paths)} companies, {len({(r[0]) for r in rows})} leavers with deletions in their last 14 days")
    print("| files deleted that day | places | honest leaver-days | saboteur days | other thieves' days |")
    print("|---|---|---|---|---|")
    for lo, hi in BANDS:
        for new in (False, True):
            c = Counter(r[1] for r in rows if lo <= r[2] < hi and (r[3] >= NEW_SHARE) == new)
            band = f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo} or more"
            where = "mostly never worked in" if new else "mostly worked in"
            print(f"| {band} | {where} | {c['honest']} | {c['saboteur']} | {c['other thief']} |")
    honest_new = sorted(r[2] for r in rows if r[1] == "honest" and r[3] >= NEW_SHARE)
    print(f"honest leaver-days mostly in places never worked in: files {honest_new}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
