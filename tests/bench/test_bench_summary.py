"""The summary table of ``exitwatch bench`` (unit: no broker)."""

from __future__ import annotations


def test_a_failed_pipeline_variant_is_a_row_not_a_lost_section() -> None:
    from exitwatch.bench import summary

    ok = {"events_per_s": 100, "events_per_cpu_s": 400}
    ratios = {"tx_worker_vs_passthrough": 0.01, "tx_worker_vs_passthrough_cpu": 0.02,
              "enrich_detect_overhead_vs_noop_agent": 1.0, "enrich_detect_overhead_vs_noop_agent_cpu": 1.0}
    rows = summary({"pipeline": {"drivers": {"tx_worker": ok, "passthrough": ok,
                                             "faust_worker_two_pass": {"error": "faust_worker_two_pass: stalled"}},
                                 "ratios": ratios}})
    by = {r["figure"]: r for r in rows}
    assert by["pipeline: faust_worker_two_pass, events/s"]["measured"] == "failed"
    assert "stalled" in by["pipeline: faust_worker_two_pass, events/s"]["note"]
    assert by["pipeline: passthrough, events/s"]["measured"] == 100
