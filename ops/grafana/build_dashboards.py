"""Writes the Grafana dashboards of exitwatch (``ops/grafana/dashboards/*.json``) from the panel lists below.

    .venv/bin/python ops/grafana/build_dashboards.py            # rewrite the JSON files
    .venv/bin/python ops/grafana/build_dashboards.py --markdown # the panel list for docs/operations.md

The JSON files are what Grafana loads (provisioned by ``ops/grafana/provisioning``); edit the lists here and
re-run, or edit a dashboard in Grafana, export it and drop the JSON in place. ``tests/ops/test_dashboards.py``
checks that every query names only metrics the code exports, and that the files match this script.
Each panel's description says which question it answers; no panel shows an identity.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "exitwatch-prometheus"}
RI = "$__rate_interval"


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> dict[str, Any]:
    t: dict[str, Any] = {"refId": ref, "expr": expr, "legendFormat": legend or "__auto", "datasource": DATASOURCE}
    if instant:
        t["instant"] = True
        t["range"] = False
    return t


def panel(kind: str, title: str, answers: str, targets: list[dict[str, Any]], w: int = 12, h: int = 8,
          unit: str = "short", **options: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "type": kind, "title": title, "description": answers, "datasource": DATASOURCE,
        "targets": [dict(t, refId=chr(65 + i)) for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"w": w, "h": h},
        "options": options or {},
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1}
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}, **(options or {})}
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto", **(options or {})}
    if kind == "bargauge":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True,
                        **(options or {})}
    return p


def row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"w": 24, "h": 1}}


def ts(title: str, answers: str, *targets: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return panel("timeseries", title, answers, list(targets), **kw)


def stat(title: str, answers: str, *targets: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("w", 6)
    kw.setdefault("h", 4)
    return panel("stat", title, answers, list(targets), **kw)


def bars(title: str, answers: str, *targets: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return panel("bargauge", title, answers, list(targets), **kw)


def quantiles(metric: str, by: str) -> list[dict[str, Any]]:
    return [target(f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket[{RI}])))",
                   f"p{int(q * 100)} {{{{{by}}}}}") for q in (0.5, 0.95, 0.99)]


def layout(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids and positions: panels flow left to right in rows of 24 columns."""
    x = y = row_h = 0
    for i, p in enumerate(panels, 1):
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if p["type"] == "row" or x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["id"] = i
        p["gridPos"] = {"x": x, "y": y, "w": w, "h": h}
        x += w
        row_h = max(row_h, h)
        if p["type"] == "row":
            x, y, row_h = 0, y + h, 0
    return panels


def dashboard(uid: str, title: str, description: str, panels: list[dict[str, Any]],
              variables: list[dict[str, Any]] | None = None, time_from: str = "now-6h") -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["exitwatch"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": time_from, "to": "now"}, "timezone": "browser",
        "templating": {"list": variables or []}, "annotations": {"list": []}, "links": [],
        "panels": layout(panels),
    }


def query_var(name: str, label: str, query: str) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
            "query": {"query": query, "refId": "V"}, "definition": query, "refresh": 2,
            "includeAll": True, "multi": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"},
            "sort": 1}


# ------------------------------------------------------------------------------------------ pipeline
PIPELINE = dashboard("exitwatch-pipeline", "exitwatch: pipeline health",
                     "Throughput, consumer lag, dead letters, errors and latency of the worker and connectors.", [
    row("Status"),
    stat("Workers up", "How many worker processes Prometheus can scrape right now?",
         target('sum(up{job="exitwatch-worker"})')),
    stat("Workers ready", "How many workers have partitions assigned and their table recovery done?",
         target("sum(exitwatch_worker_ready)")),
    stat("Consumer lag", "How many messages are the workers behind, in total?",
         target("sum(exitwatch_consumer_lag_messages)")),
    stat("Dead letters (range)", "How many records did the worker dead-letter in the selected time range?",
         target("sum(increase(exitwatch_deadletter_records_total[$__range]))")),
    row("Throughput"),
    ts("Events in, by kind", "How many activity events per second does the enrich stage read, per kind?",
       target(f"sum by (kind) (rate(exitwatch_events_in_total[{RI}]))", "{{kind}}"), unit="ops"),
    ts("Events in, by source", "Which sources deliver events, and did one of them stop?",
       target(f"sum by (source) (rate(exitwatch_events_in_total[{RI}]))", "{{source}}"), unit="ops"),
    ts("Detect stage, by topic", "How many enriched events, HR records and signals per second does detection process?",
       target(f"sum by (topic) (rate(exitwatch_detect_messages_total[{RI}]))", "{{topic}}"), unit="ops"),
    ts("Connector output, by source and kind", "What do the running connectors produce per second?",
       target(f"sum by (source, kind) (rate(exitwatch_connector_events_total[{RI}]))", "{{source}} {{kind}}"),
       target(f"sum by (source) (rate(exitwatch_connector_hr_records_total[{RI}]))", "{{source}} HR records"),
       unit="ops"),
    row("Consumer lag and state"),
    ts("Consumer lag, by topic", "Is the worker keeping up? Lag that only grows means it falls behind.",
       target("sum by (topic) (exitwatch_consumer_lag_messages)", "{{topic}}")),
    ts("Consumer lag, by partition", "Is one partition (one hot employee key) behind while the others are not?",
       target("sum by (topic, partition) (exitwatch_consumer_lag_messages)", "{{topic}}/{{partition}}")),
    ts("Seconds since last processed", "When did each topic last deliver a message the worker finished?",
       target("time() - max by (topic) (exitwatch_last_processed_timestamp_seconds)", "{{topic}}"), unit="s"),
    ts("State and partitions", "How many employees have detection state, how many partitions are assigned, rebalances?",
       target("sum(exitwatch_employees_tracked)", "employees tracked"),
       target("sum(exitwatch_assigned_partitions)", "assigned partitions"),
       target("sum(increase(exitwatch_rebalances_total[1h]))", "rebalances / 1h")),
    row("Dead letters and errors"),
    ts("Worker dead letters, by stage and reason", "Which stage rejects records, and why (reason category)?",
       target(f"sum by (stage, reason) (rate(exitwatch_deadletter_records_total[{RI}]))", "{{stage}} {{reason}}"),
       unit="ops"),
    ts("Connector dead letters, by source and reason", "Which source's records cannot be parsed, and why?",
       target(f"sum by (source, reason) (rate(exitwatch_connector_deadletter_records_total[{RI}]))",
              "{{source}} {{reason}}"), unit="ops"),
    ts("Unresolved actors, by source", "Which sources name accounts that HR does not know (missing aliases)?",
       target(f"sum by (source) (rate(exitwatch_unresolved_actors_total[{RI}]))", "{{source}}"), unit="ops"),
    ts("Rule and model errors", "Which rule or model raises errors (contained, but it misses events)?",
       target(f"sum by (rule_id) (increase(exitwatch_detector_errors_total[{RI}]))", "{{rule_id}}")),
    ts("HR store errors and delivery failures", "Is Redis reachable? Do connectors fail to deliver to Kafka?",
       target(f"sum by (op) (rate(exitwatch_hr_store_errors_total[{RI}]))", "redis {{op}}"),
       target(f"sum by (source) (rate(exitwatch_connector_delivery_failures_total[{RI}]))", "delivery {{source}}"),
       unit="ops"),
    ts("Enrichment cache hit ratio", "How often does enrichment find HR data in process, without Redis?",
       target(f'sum(rate(exitwatch_hr_cache_lookups_total{{result=~".*_hit"}}[{RI}])) / '
              f"sum(rate(exitwatch_hr_cache_lookups_total[{RI}]))", "cache hits"),
       target(f"sum(rate(exitwatch_redelivered_skipped_total[{RI}])) / sum(rate(exitwatch_detect_messages_total[{RI}]))",
              "redelivered share"), unit="percentunit"),
    ts("Records read again", "How often does the worker read records again: dropped by the stream and sought "
       "back to (drop repair), or fetched again below the commit after a seek (not delivered)?",
       target(f"sum by (topic) (increase(exitwatch_partition_rereads_total[{RI}]))", "sought back {{topic}}"),
       target(f"sum by (topic) (rate(exitwatch_redelivered_committed_total[{RI}]))", "below commit {{topic}}")),
    row("Latency"),
    ts("Ingest to processed", "How long from a message reaching Kafka to the worker finishing it (p50/p95/p99)?",
       *quantiles("exitwatch_ingest_to_processed_seconds", "topic"), unit="s"),
    ts("Processing time per stage", "How long does one enrich batch or one detect message take?",
       *quantiles("exitwatch_processing_seconds", "stage"), unit="s"),
    ts("Event time to alert", "How long after the activity happened was the alert out (includes source delay)?",
       *[target(f"histogram_quantile({q}, sum by (le) (rate(exitwatch_event_to_alert_seconds_bucket[{RI}])))",
                f"p{int(q * 100)}") for q in (0.5, 0.95)], unit="s"),
    ts("Connector freshness", "How long since each connector last produced a record?",
       target("time() - max by (source) (exitwatch_connector_last_output_timestamp_seconds)", "{{source}}"),
       unit="s"),
])

# ------------------------------------------------------------------------------------------ alerts
DEPT = 'department=~"$department"'
ALERTS = dashboard("exitwatch-alerts", "exitwatch: alerts overview",
                   "Alerts by rule, severity and department. No identities: open alerts.hr for who.", [
    stat("Alerts", "How many alerts in the selected time range?",
         target("sum(increase(exitwatch_alerts_total[$__range]))")),
    stat("High and critical", "How many of them are high or critical?",
         target('sum(increase(exitwatch_alerts_total{severity=~"high|critical"}[$__range]))')),
    stat("On leavers", "Which share of alerts concern employees in notice or departed?",
         target('sum(increase(exitwatch_department_alerts_total{status=~"notice|departed"}[$__range])) / '
                "sum(increase(exitwatch_department_alerts_total[$__range]))"), unit="percentunit"),
    stat("Rules firing", "How many distinct rules fired in the range?",
         target("count(sum by (rule_id) (increase(exitwatch_alerts_total[$__range])) > 0)")),
    ts("Alerts per hour, by severity", "Is the alert volume steady, and how severe?",
       target("sum by (severity) (increase(exitwatch_alerts_total[1h]))", "{{severity}}"), w=24),
    bars("Alerts by rule", "Which rules fire most in the range (tune or review the noisy ones)?",
         target("sort_desc(sum by (rule_id) (increase(exitwatch_alerts_total[$__range])))", "{{rule_id}}",
                instant=True)),
    bars("Alerts by department", "Which departments raise most alerts in the range?",
         target(f"sort_desc(sum by (department) (increase(exitwatch_department_alerts_total{{{DEPT}}}[$__range])))",
                "{{department}}", instant=True)),
    ts("Alerts per hour, by rule", "When did each rule fire?",
       target("sum by (rule_id) (increase(exitwatch_alerts_total[1h]))", "{{rule_id}}")),
    ts("Alerts per hour, by department and severity", "Is one department's alert volume changing?",
       target(f"sum by (department, severity) (increase(exitwatch_department_alerts_total{{{DEPT}}}[1h]))",
              "{{department}} {{severity}}")),
    bars("Alerts by rule and severity", "How do the rules split over severities?",
         target("sort_desc(sum by (rule_id, severity) (increase(exitwatch_alerts_total[$__range])))",
                "{{rule_id}} {{severity}}", instant=True), w=24, h=10),
], variables=[query_var("department", "Department", "label_values(exitwatch_department_alerts_total, department)")],
   time_from="now-7d")

# ------------------------------------------------------------------------------------------ departures
DEPARTURES = dashboard("exitwatch-departures", "exitwatch: departures being watched",
                       "Employees in notice, their last days, and the alerts about leavers. Counts only; "
                       "every worker reports the same HR figures, so panels take the max over workers.", [
    stat("In notice", "How many employees are in notice (resigned or termination announced)?",
         target('max(sum by (instance) (exitwatch_hr_employees{status="notice"}))')),
    stat("Leaving within 7 days", "How many of them have their last day within a week?",
         target('max(exitwatch_employees_leaving{window="7d"})')),
    stat("On the watchlist", "How many employees (not departed) are manually on watch?",
         target("max(exitwatch_watchlist_employees)")),
    stat("Employees tracked", "How many employees have detection state (windows, baselines) in the workers?",
         target("sum(exitwatch_employees_tracked)")),
    bars("Leavers by days to last day", "How close to their last day are the employees in notice?",
         target("max by (window) (exitwatch_employees_leaving)", "{{window}}", instant=True)),
    bars("In notice, by department", "Which departments are losing people?",
         target(f'sort_desc(max by (department) (exitwatch_hr_employees{{status="notice",{DEPT}}}))',
                "{{department}}", instant=True)),
    ts("Employees by HR status", "How does the number of employees in notice and departed change?",
       target('max by (status) (sum by (instance, status) (exitwatch_hr_employees{status=~"notice|departed"}))',
              "{{status}}")),
    ts("Alerts on leavers per day", "How many alerts concern employees in notice or departed, per day?",
       target('sum by (status, severity) (increase(exitwatch_department_alerts_total{status=~"notice|departed"}[1d]))',
              "{{status}} {{severity}}")),
    bars("Alerts on leavers, by department", "In which departments do leavers raise alerts?",
         target('sort_desc(sum by (department) (increase(exitwatch_department_alerts_total'
                f'{{status=~"notice|departed",{DEPT}}}[$__range])))', "{{department}}", instant=True)),
    bars("Alerts by days before the last day", "How early before their last day are leavers caught (upper bound, "
         "cumulative)?",
         target("sum by (le) (increase(exitwatch_alert_days_to_last_day_bucket[$__range]))", "<= {{le}} days",
                instant=True)),
], variables=[query_var("department", "Department", "label_values(exitwatch_hr_employees, department)")],
   time_from="now-30d")

DASHBOARDS = {"pipeline.json": PIPELINE, "alerts.json": ALERTS, "departures.json": DEPARTURES}


def render(d: dict[str, Any]) -> str:
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def markdown() -> str:
    out = []
    for name, d in DASHBOARDS.items():
        out.append(f"### {d['title']} (`ops/grafana/dashboards/{name}`)\n")
        out.append("| panel | answers |\n|---|---|")
        for p in d["panels"]:
            if p["type"] != "row":
                out.append(f"| {p['title']} | {p['description']} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if "--markdown" in argv:
        print(markdown())
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, d in DASHBOARDS.items():
        (OUT / name).write_text(render(d))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
