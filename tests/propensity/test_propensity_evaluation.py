"""The propensity's evaluation on a small generated company it was not fitted on (seed 5, not 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_each_hr_signal_alone_is_measured_per_person_within_the_period(tmp_path: Path) -> None:
    """Counts per 30 days (more ranks higher; nobody left out) and answer levels (lower ranks higher; people
    without an answer left out), leavers in their warning window within the period, stayers in the period."""
    from detectors.context import day_number
    from exitwatch.evaluate_propensity import signal_auc

    def sig(emp: str, day: str, name: str, value: object = 1) -> bytes:
        return orjson.dumps({"employee_id": emp, "ts": f"{day}T09:00:00Z", "signal": name, "value": value}) + b"\n"

    (tmp_path / "signals.jsonl").write_bytes(b"".join([
        sig("L1", "2026-02-10", "absence"), sig("L1", "2026-02-11", "absence"), sig("L1", "2026-02-20", "survey", 2),
        sig("L1", "2026-03-25", "absence"),  # 7 days before the notice: too late to count
        sig("L2", "2026-02-12", "absence"),
        sig("L2", "2026-01-10", "survey", 1),  # before the period: not an answer the comparison may use
        sig("S1", "2026-02-15", "absence"), sig("S1", "2026-03-01", "survey", 8),
        sig("S2", "2026-01-20", "absence"), sig("S2", "2026-01-21", "absence"),  # before the period: not counted
        sig("S2", "2026-03-01", "survey", 5), sig("S3", "2026-03-02", "late_arrival"),
    ]))
    n = day_number("2026-04-01")
    got = signal_auc(tmp_path / "signals.jsonl", {"L1": n, "L2": n}, ["S1", "S2", "S3"],
                     day_number("2026-02-01"), day_number("2026-04-30"))
    # absences per 30 d: L1 2 and L2 1 in 46 days; S1 1, S2 0, S3 0 in 89 days: every leaver above every stayer
    assert got["absence"] == {"auc": 1.0, "leavers": 2, "stayers": 3}
    # one leaver and two stayers answered in their windows; the lowest answer (L1's 2) ranks first
    assert got["survey"] == {"auc": 1.0, "leavers": 1, "stayers": 2}
    # lateness: only S3 has any, so the leavers tie with S1 and S2 (a half each) and lose to S3: 2 of 6 pairs
    assert got["late_arrival"]["auc"] == 0.3333
    assert got["performance_review"] == {"auc": None, "leavers": 0, "stayers": 0}


def test_no_signal_only_when_the_score_and_every_factor_are_near_chance() -> None:
    from exitwatch.evaluate_propensity import _verdict, no_signal

    assert no_signal(0.46, {"attendance": 0.46, "performance": 0.5, "leave": 0.5, "satisfaction": 0.5})
    assert not no_signal(0.52, {"attendance": 0.52, "performance": 0.61})  # one factor ranks: a signal
    assert not no_signal(0.56, {"attendance": 0.5})
    assert not no_signal(None, {"attendance": None})  # nothing measured is not "no signal"
    base = {"leaver_recall_14d": 0.0, "stayer_flag_rate": 0.0}
    assert _verdict({**base, "no_signal": True}) == "not met: no signal"
    assert _verdict({**base, "no_signal": False}) == "not met"
    assert _verdict({"leaver_recall_14d": 0.7, "stayer_flag_rate": 0.01, "no_signal": True}) == "met"


def test_a_company_already_in_work_is_reused_only_when_its_meta_matches(tmp_path: Path, capsys: Any) -> None:
    args = ["--company", "baseline:9", "--work", str(tmp_path / "w"), "--employees", "120", "--days", "60",
            "--out", str(tmp_path / "rep")]
    assert main(args) == 0
    sig = tmp_path / "w" / "baseline-9-default" / "signals.jsonl"
    first = sig.stat().st_mtime_ns
    capsys.readouterr()
    assert main(args) == 0
    assert "reused" in capsys.readouterr().err and sig.stat().st_mtime_ns == first
    # another size is another company: generated again, not reused
    assert main(args[:4] + ["--employees", "100"] + args[6:]) == 0
    assert "reused" not in capsys.readouterr().err
    assert orjson.loads((sig.parent / "meta.json").read_bytes())["employees"] == 100


def test_satisfaction_read_from_the_companys_answers_does_not_teach_the_weights() -> None:
    """Rows whose satisfaction is the answers' place among the company's (marked PLACE: no own history, e.g. the
    first weeks of a training company's history, when no notice can be within 90 days) do not pull the
    satisfaction weight down: the fit reads their satisfaction as 0, as it would the own fall's."""
    from exitwatch.evaluate_propensity import PLACE, fit_weights

    zero = {"attendance": 0.0, "performance": 0.0, "leave": 0.0, "satisfaction": 0.0, "absence": 0.0}
    rows: list[tuple[dict[str, float], bool]] = []
    for i in range(400):  # the own fall: predictive
        rows.append(({**zero, "satisfaction": 1.5}, i % 3 == 0))
        rows.append((dict(zero), i % 20 == 0))
    early = [({**zero, "satisfaction": 1.5, PLACE: 1.0}, False) for _ in range(600)]
    got = fit_weights([], rows=rows + early)
    as_zero = fit_weights([], rows=rows + [(dict(zero), False) for _ in range(600)])
    taught = fit_weights([], rows=rows + [({**zero, "satisfaction": 1.5}, False) for _ in range(600)])
    assert got == as_zero
    assert got["satisfaction"] > taught["satisfaction"] + 0.5, (got, taught)
