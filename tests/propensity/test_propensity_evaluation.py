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
