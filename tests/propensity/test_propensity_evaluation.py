"""The propensity's evaluation on a small generated company it was not fitted on (seed 5, not 7)."""

from __future__ import annotations

from pathlib import Path

import orjson

from exitwatch.evaluate_propensity import auc, evaluate_propensity, main
from exitwatch.generate_signals import write_hr_only


def test_hr_only_company_has_history_noise_and_drift(tmp_path: Path) -> None:
    meta = write_hr_only(tmp_path, employees=300, days=120, seed=5)
    sigs = [orjson.loads(x) for x in (tmp_path / "signals.jsonl").read_bytes().splitlines()]
    kinds = {s["signal"] for s in sigs}
    assert {"late_arrival", "early_leave", "absence", "leave_request", "performance_review", "survey",
            "handover_item_open", "handover_item_done"} <= kinds
    assert min(s["ts"] for s in sigs) < meta["start"], "signals have history before the activity data"
    assert meta["leavers"] >= 10


def test_ranks_leavers_above_stayers_on_an_unseen_seed(tmp_path: Path) -> None:
    write_hr_only(tmp_path, employees=500, days=120, seed=5)
    r = evaluate_propensity(tmp_path, level=0.2)
    assert r["leavers"] >= 15 and r["stayers"] > 400
    assert r["auc_weekly"] is not None and r["auc_weekly"] > 0.65
    assert r["stayer_flag_rate"] < 0.1
    assert r["leaver_recall_14d"] > 2 * r["stayer_flag_rate"]
    assert r["alerts"] >= r["leavers_flagged_14d_before_notice"] > 0
    # a level nobody reaches flags nobody: the figures come from the model, not from the labels
    r2 = evaluate_propensity(tmp_path, level=0.9999, stayer_rate=0.0)  # above the scorecard's largest value
    assert r2["leavers_flagged_14d_before_notice"] == 0 and r2["stayers_flagged"] == 0 and r2["alerts"] == 0


def test_report_files(tmp_path: Path) -> None:
    data = tmp_path / "c"
    write_hr_only(data, employees=200, days=90, seed=9)
    assert main(["--data", str(data), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "propensity.md").read_text()
    assert "AUC" in md and "| baseline | default | 9 |" in md
    assert orjson.loads((tmp_path / "rep" / "propensity.json").read_bytes())[0]["seed"] == 9


def test_auc_edges() -> None:
    assert auc([1.0], [0.0]) == 1.0 and auc([0.0], [1.0]) == 0.0 and auc([0.5], [0.5]) == 0.5
    assert auc([], [0.1]) is None


def test_coverage_counts_what_a_model_could_see(tmp_path: Path) -> None:
    """Signals in the leavers' warning window (120 to 14 days before notice) and the stayers' period, and the
    leavers with a survey or review there: a survey 10 days before the notice is too late to count."""
    from detectors.context import day_number
    from exitwatch.evaluate_propensity import coverage, goal_met

    def sig(emp: str, day: str, name: str, value: object = 1) -> bytes:
        return orjson.dumps({"employee_id": emp, "ts": f"{day}T09:00:00Z", "signal": name, "value": value}) + b"\n"

    (tmp_path / "signals.jsonl").write_bytes(b"".join([
        sig("L1", "2026-01-01", "late_arrival"),  # the history's first day
        sig("L1", "2026-03-01", "survey", 3), sig("L1", "2026-03-05", "absence"),
        sig("L2", "2026-03-22", "survey", 2),  # 10 days before L2's notice: too late
        sig("L2", "2026-03-02", "handover_item_open", "x"),  # not read by the propensity
        sig("S1", "2026-02-10", "late_arrival"), sig("S1", "2026-02-11", "late_arrival"),
        sig("S1", "2026-01-15", "late_arrival"),  # before the period: not counted for a stayer
    ]))
    n = day_number("2026-04-01")
    notice = {"L1": n, "L2": n}
    cov = coverage(tmp_path / "signals.jsonl", notice, ["S1", "S2"], day_number("2026-02-01"), day_number("2026-04-30"))
    assert cov["leavers_scored_in_window"] == 1
    # the window starts at the HR history's first day (2026-01-01), later than 120 days before the notice
    window = 2 * (n - 14 - day_number("2026-01-01") + 1)
    assert cov["leaver_signals_per_30d"] == round(30 * 3 / window, 2) == 0.58
    assert cov["stayer_signals_per_30d"] == round(30 * 2 / (2 * 89), 2)
    assert goal_met({"leaver_recall_14d": 0.6, "stayer_flag_rate": 0.05})
    assert not goal_met({"leaver_recall_14d": 0.59, "stayer_flag_rate": 0.01})
    assert not goal_met({"leaver_recall_14d": None, "stayer_flag_rate": 0.0})


def test_hindsight_recall_is_the_best_level_for_the_stayer_share() -> None:
    """The hindsight level flags at most the share of stayers; ties at the level flag nobody."""
    from exitwatch.evaluate_propensity import hindsight_recall

    stayers = [0.1] * 95 + [0.5] * 5
    assert hindsight_recall([0.6, 0.5, 0.4], stayers, 0.05) == 1.0  # above 0.1: the 5 stayers at 0.5 are 5%
    assert hindsight_recall([0.6, 0.5, 0.4], stayers, 0.04) == 0.3333  # above 0.5 only: the 5 tied ones are too many
    assert hindsight_recall([0.6, 0.5, 0.4], [0.1] * 100, 0.05) == 1.0
    assert hindsight_recall([0.05], [0.1] * 100, 0.05) == 0.0
    assert hindsight_recall([], [0.1], 0.05) is None
