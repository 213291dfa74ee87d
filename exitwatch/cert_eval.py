"""``exitwatch evaluate-cert``: the CMU CERT r4.2 insider scenarios through ``exitwatch connect cert`` and
``exitwatch replay``, from the public copies on this machine.

    exitwatch evaluate-cert --cert-dir /work/data/cert --out reports/evaluation/cert

``--cert-dir`` holds ``r4.2/`` (the public truncated heads of ``logon``, ``device``, ``file``, ``email`` and
``http.csv`` and the monthly ``LDAP/YYYY-MM.csv``) and ``answers/`` (the public answer key:
``insiders.csv`` and ``r4.2-1/``, ``r4.2-2/``, ``r4.2-3/`` with each insider's rows). Without it the command
says so and exits 0. CERT rows are never written into the repository: the converted input goes to
``--work`` (a temporary folder by default); ``--out`` gets aggregate figures only (``cert.md``,
``cert.json``).

How the input is built (the heads cover only the first weeks: logon 19 days, device 39, file 6, email 3,
http 2):

- **Ordinary activity over the whole period for everyone.** Each user's rows of each head are repeated in
  cycles of whole weeks (so weekdays stay weekdays) from the first day of the data until their last day. A
  user listed in the last LDAP file works to its end; a user missing from month M+1's file left during M+1:
  an insider's last day is their last answer-key day (CERT stops a leaver's activity on their termination
  day), any other leaver's a day of M+1 drawn from a hash of their id. Nobody falls silent before the
  departure, so nothing after a silence looks new.
- **The scenarios** are the answer key's rows, added as they are (the rows of other users in them, such as a
  scenario-3 supervisor's own logons, included).
- **Classification**: the shipped ``connectors/classification.toml`` plus DTAA's competitors (the
  defence contractors the data set names), as a security team would configure its own.

Then ``exitwatch connect cert`` (LDAP read by the connector: departures and manager ids) and
``exitwatch replay`` (rules and models). An insider is *caught* by an alert of severity medium or higher
naming them between the start of their scenario and the day after their last day; *early* when the first
such alert came before the last day. The other users are everyone else in LDAP; their figure is the share
with any medium+ alert over the whole period. Offboarding checks (rules with ``security=False``, such as
assets not returned) are process reminders every leaver gets here, not detection: they count for nobody.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

KINDS = ("logon", "device", "file", "email", "http")
TIME = "%m/%d/%Y %H:%M:%S"
_TIME_RX = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")
LEVELS = ("low", "medium", "high", "critical")
#: DTAA's competitors as the data set names them (mail and job-site visits of scenario 2 go to them).
COMPETITORS = ["lockheedmartin.com", "boeing.com", "raytheon.com", "northropgrumman.com", "harris.com", "hp.com"]


def _ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s.strip(), TIME)


def _month_end(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def available(cert_dir: str | Path) -> str | None:
    """None when ``cert_dir`` has what the evaluation needs, else what is missing."""
    root = Path(cert_dir)
    need = [root / "r4.2" / f"{k}.csv" for k in KINDS] + [root / "r4.2" / "LDAP", root / "answers" / "insiders.csv"]
    missing = [str(p) for p in need if not p.exists()]
    return ", ".join(missing) if missing else None


def read_ldap(root: Path) -> tuple[list[dt.date], dict[str, list[dt.date]]]:
    months: list[dt.date] = []
    listed: dict[str, list[dt.date]] = defaultdict(list)
    for p in sorted((root / "r4.2" / "LDAP").glob("*.csv")):
        m = re.search(r"(\d{4})-(\d{2})", p.name)
        if not m:
            continue
        month = dt.date(int(m.group(1)), int(m.group(2)), 1)
        months.append(month)
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                listed[r["user_id"]].append(month)
    return months, listed


def read_answers(root: Path) -> dict[str, dict[str, Any]]:
    """insider -> scenario, start, end, rows (kind, row)."""
    out: dict[str, dict[str, Any]] = {}
    with open(root / "answers" / "insiders.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["dataset"] != "4.2":
                continue
            rows = []
            p = root / "answers" / f"r4.2-{r['scenario']}" / r["details"]
            if p.exists():
                with open(p, newline="") as g:
                    rows = [row for row in csv.reader(g) if row]
            out[r["user"]] = {"scenario": int(r["scenario"]), "start": _ts(r["start"]), "end": _ts(r["end"]),
                              "rows": rows}
    return out


def last_days(months: list[dt.date], listed: dict[str, list[dt.date]],
              answers: dict[str, dict[str, Any]]) -> dict[str, dt.date]:
    """Each user's last working day as the input is built (see the module's docstring)."""
    final = months[-1]
    out = {}
    for uid, ms in listed.items():
        last_m = max(ms)
        if last_m == final:
            out[uid] = _month_end(final)
            continue
        nxt = _month_end(last_m) + dt.timedelta(days=1)  # the month they left in
        if uid in answers:
            out[uid] = max(answers[uid]["end"].date(), _month_end(last_m))
        else:
            n = calendar.monthrange(nxt.year, nxt.month)[1]
            out[uid] = nxt + dt.timedelta(days=int(hashlib.sha256(uid.encode()).hexdigest(), 16) % n)
    return out


def build_input(root: Path, work: Path, answers: dict[str, dict[str, Any]], last: dict[str, dt.date],
                first_day: dt.date) -> dict[str, int]:
    """The connector's input under ``work``: one CSV per kind (in time order) and the LDAP files."""
    counts = {}
    extra: dict[str, list[list[str]]] = defaultdict(list)
    for a in answers.values():
        for row in a["rows"]:
            extra[row[0]].append(row[1:])
    for kind in KINDS:
        with open(root / "r4.2" / f"{kind}.csv", newline="") as f:
            rd = csv.reader(f)
            header = next(rd)
            head = [r for r in rd if len(r) == len(header) and _TIME_RX.match(r[1])]  # the heads end mid-row
        if not head:
            continue
        days = sorted({_ts(r[1]).date() for r in head})
        span = (days[-1] - days[0]).days + 1
        period = 7 * -(-span // 7)
        rows: list[tuple[dt.datetime, list[str]]] = []
        seen_ids = set()
        by_user: dict[str, list[tuple[dt.datetime, list[str]]]] = defaultdict(list)
        for r in head:
            by_user[r[2].split("/")[-1]].append((_ts(r[1]), r))
        for uid, urows in by_user.items():
            end = last.get(uid)
            if end is None:
                continue
            cycle = 0
            while True:
                shift = dt.timedelta(days=period * cycle)
                if days[0] + shift > end:
                    break
                for t, r in urows:
                    t2 = t + shift
                    if t2.date() > end or t2.date() < first_day:
                        continue
                    rid = r[0] if cycle == 0 else f"{r[0].rstrip('}')}-C{cycle}}}"
                    rows.append((t2, [rid, t2.strftime(TIME), *r[2:]]))
                cycle += 1
        for r in extra.get(kind, []):
            r = r + [""] * (len(header) - len(r))
            rows.append((_ts(r[1]), r[: len(header)]))
        rows.sort(key=lambda x: x[0])
        with open(work / f"{kind}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            n = 0
            for _, r in rows:
                if r[0] in seen_ids:
                    continue
                seen_ids.add(r[0])
                w.writerow(r)
                n += 1
        counts[kind] = n
    ldap = work / "LDAP"
    ldap.mkdir(exist_ok=True)
    for p in sorted((root / "r4.2" / "LDAP").glob("*.csv")):
        (ldap / p.name).write_bytes(p.read_bytes())
    (work / "classification.toml").write_text(
        "[categories.competitor]\ndomains = [" + ", ".join(f'"{d}"' for d in COMPETITORS) + "]\n")
    return counts


def split_events(events: Path, work: Path) -> list[str]:
    """The connector's output, one file per kind (each CSV was in time order, so each file is too)."""
    outs: dict[str, Any] = {}
    with open(events, "rb") as f:
        for line in f:
            m = re.search(rb'"kind":"(\w+)"', line)
            k = m.group(1).decode() if m else "other"
            if k not in outs:
                outs[k] = open(work / f"events.{k}.jsonl", "wb")
            outs[k].write(line)
    for o in outs.values():
        o.close()
    return [str(work / f"events.{k}.jsonl") for k in sorted(outs)]


def score(alerts_path: Path, hr_path: Path, answers: dict[str, dict[str, Any]], users: set[str]) -> dict[str, Any]:
    departed: dict[str, dt.date] = {}
    with open(hr_path, "rb") as f:
        for line in f:
            r = json.loads(line)
            if r.get("status") == "departed" and r.get("last_day"):
                departed[r["employee_id"]] = dt.date.fromisoformat(r["last_day"])
    from detectors.catalogue import load_rules

    # Offboarding checks (assets not returned, a last-day summary) are process, not detection: every leaver
    # without an asset register gets one. They are counted apart and catch nobody.
    process = {r.id for r in load_rules(include_disabled=True) if not getattr(r, "security", True)}
    med: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_rule_all: Counter[str] = Counter()
    n_alerts = 0
    with open(alerts_path, "rb") as f:
        for line in f:
            a = json.loads(line)
            n_alerts += 1
            by_rule_all[a["rule_id"]] += 1
            if LEVELS.index(a["severity"]) >= 1 and a["rule_id"] not in process:
                med[a["employee_id"]].append(a)
    per: dict[int, dict[str, Any]] = {}
    rules_catching: Counter[str] = Counter()
    for uid, a in sorted(answers.items()):
        sc = per.setdefault(a["scenario"], {"insiders": 0, "caught": 0, "early": 0, "missed": [],
                                            "days_before_last_day": []})
        sc["insiders"] += 1
        ld = departed.get(uid, a["end"].date())
        lo, hi = a["start"].date(), ld + dt.timedelta(days=1)
        hits = []
        for al in med.get(uid, []):
            day = dt.date.fromisoformat((al.get("explanation") or {}).get("day") or al["ts"][:10])
            if lo <= day <= hi:
                hits.append((dt.datetime.fromisoformat(al["ts"].replace("Z", "+00:00")).date(), al["rule_id"]))
        if hits:
            sc["caught"] += 1
            first = min(hits)[0]
            if first < ld:
                sc["early"] += 1
            sc["days_before_last_day"].append((ld - first).days)
            for r in {h[1] for h in hits}:
                rules_catching[f"{a['scenario']}:{r}"] += 1
        else:
            sc["missed"].append(uid)
    others = users - set(answers)
    flagged = {u for u in others if med.get(u)}
    other_rules: Counter[str] = Counter()
    for u in flagged:
        for r in {al["rule_id"] for al in med[u]}:
            other_rules[r] += 1
    supervisors = set()
    for a in answers.values():
        if a["scenario"] == 3:
            supervisors |= {row[3] for row in a["rows"] if len(row) > 3} - set(answers)
    for sc in per.values():
        d = sorted(sc.pop("days_before_last_day"))
        sc["median_days_first_alert_before_last_day"] = d[len(d) // 2] if d else None
        sc["missed_count"] = len(sc.pop("missed"))
    return {
        "scenarios": {str(k): v for k, v in sorted(per.items())},
        "others": {"users": len(others), "flagged_medium_plus": len(flagged),
                   "share": round(len(flagged) / max(1, len(others)), 4),
                   "of_them_scenario3_supervisors_whose_account_was_used": len(flagged & supervisors),
                   "by_rule": dict(other_rules.most_common())},
        "rules_catching": dict(sorted(rules_catching.items())),
        "alerts": n_alerts,
        "alerts_by_rule": dict(by_rule_all.most_common()),
        "process_rules_not_counted": sorted(process),
    }


def evaluate_cert(cert_dir: str | Path, out: str | Path, work: str | Path | None = None,
                  rules_config: str | None = None) -> dict[str, Any]:
    from exitwatch.cli import main as cli

    root = Path(cert_dir)
    t0 = time.monotonic()
    months, listed = read_ldap(root)
    answers = read_answers(root)
    last = last_days(months, listed, answers)
    tmp = None
    if work is None:
        tmp = tempfile.TemporaryDirectory(prefix="exitwatch-cert-")
        work = tmp.name
    w = Path(work)
    w.mkdir(parents=True, exist_ok=True)
    counts = build_input(root, w, answers, last, months[0])
    files = [str(w / f"{k}.csv") for k in KINDS if (w / f"{k}.csv").exists()] + [str(w / "LDAP")]
    ev = w / "events.jsonl"
    rc = cli(["connect", "cert", *files, "--to-file", str(ev), "--classification", str(w / "classification.toml"),
              "--quiet"])
    if rc != 0:
        raise RuntimeError(f"exitwatch connect cert failed with status {rc}")
    hr = w / "events.hr.jsonl"
    hr_sorted = w / "hr.jsonl"
    recs = [json.loads(x) for x in hr.read_bytes().splitlines() if x.strip()]
    recs.sort(key=lambda r: r["ts"])
    hr_sorted.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in recs))
    parts = split_events(ev, w)
    alerts = w / "alerts.jsonl"
    args = ["replay", "--hr", str(hr_sorted), "--alerts", str(alerts), "--no-progress"]
    for p in parts:
        args += ["--events", p]
    if rules_config:
        args += ["--rules-config", rules_config]
    rc = cli(args)
    if rc != 0:
        raise RuntimeError(f"exitwatch replay failed with status {rc}")
    res = score(alerts, hr_sorted, answers, set(listed))
    res["input"] = {"events_by_kind": counts, "users": len(listed), "insiders": len(answers),
                    "months": f"{months[0].isoformat()[:7]} to {months[-1].isoformat()[:7]}",
                    "departures": sum(1 for r in recs if r["status"] == "departed"),
                    "competitors": COMPETITORS}
    res["runtime_s"] = round(time.monotonic() - t0, 1)
    write_report(res, Path(out))
    if tmp is not None:
        tmp.cleanup()
    return res


def write_report(res: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "cert.json").write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    names = {"1": "1: after hours, thumb drive, leak site, leaves", "2": "2: job search, competitor mail, thumb "
             "drive far more than before, leaves", "3": "3: keylogger, supervisor's machine and account, mass "
             "mail, leaves"}
    targets = {"1": 27, "2": 27, "3": 9}
    lines = ["# CERT r4.2 insider scenarios", "",
             "Built locally by `exitwatch evaluate-cert --cert-dir DIR` from the public copies (truncated heads of",
             "the activity files, monthly LDAP, the public answer key); aggregate figures only, no CERT rows. How the",
             "input is made: `exitwatch/cert_eval.py`.", "",
             f"Input: {res['input']['users']} users, {res['input']['months']}, "
             f"{sum(res['input']['events_by_kind'].values()):,} activity rows "
             f"({', '.join(f'{k} {v:,}' for k, v in res['input']['events_by_kind'].items())}), "
             f"{res['input']['departures']} departures read from LDAP.", "",
             "| scenario | insiders | caught at medium+ (start .. day after the last day) | target | first alert "
             "before the last day | median days before the last day |", "|---|---|---|---|---|---|"]
    for k, sc in res["scenarios"].items():
        lines.append(f"| {names.get(k, k)} | {sc['insiders']} | **{sc['caught']}** | {targets.get(k, '')} | "
                     f"{sc['early']} | {sc['median_days_first_alert_before_last_day']} |")
    o = res["others"]
    lines += ["", f"Other users with a medium+ alert over the whole period: **{o['flagged_medium_plus']} of "
              f"{o['users']} ({o['share']:.1%})**, of them {o['of_them_scenario3_supervisors_whose_account_was_used']}"
              " scenario-3 supervisors whose account the insider used.", "",
              "| rule | other users flagged medium+ |", "|---|---|"]
    lines += [f"| `{r}` | {n} |" for r, n in o["by_rule"].items()]
    lines += ["", "Rules behind the catches (scenario: rule, insiders):", ""]
    lines += [f"- {k}: {v}" for k, v in res["rules_catching"].items()]
    lines += ["", f"Alerts of any severity: {res['alerts']:,}; run time {res['runtime_s']} s. Offboarding checks "
              f"(not detection, counted for nobody): {', '.join(f'`{r}`' for r in res['process_rules_not_counted'])}"
              ".", ""]
    (out / "cert.md").write_text("\n".join(lines))


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("evaluate-cert", help="the CERT r4.2 insider scenarios from local public copies",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cert-dir", default=os.environ.get("EXITWATCH_CERT_DIR", "/work/data/cert"), metavar="DIR")
    p.add_argument("--out", default="reports/evaluation/cert", metavar="DIR")
    p.add_argument("--work", metavar="DIR", help="keep the converted input and alerts here (outside the repo)")
    p.add_argument("--rules-config", metavar="FILE")
    return p


def run(args: argparse.Namespace) -> int:
    missing = available(args.cert_dir)
    if missing:
        print(f"evaluate-cert: skipped, the CERT r4.2 copy is not on this machine (missing: {missing}); fetch the "
              "public copies named in exitwatch/cert_eval.py and pass --cert-dir", file=sys.stderr)
        return 0
    res = evaluate_cert(args.cert_dir, args.out, args.work, args.rules_config)
    for k, sc in res["scenarios"].items():
        print(f"scenario {k}: {sc['caught']}/{sc['insiders']} caught at medium+, {sc['early']} before the last day",
              file=sys.stderr)
    o = res["others"]
    print(f"other users flagged medium+: {o['flagged_medium_plus']}/{o['users']} ({o['share']:.1%}); report in "
          f"{args.out}", file=sys.stderr)
    return 0
