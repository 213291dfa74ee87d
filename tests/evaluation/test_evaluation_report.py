"""exitwatch evaluate: report files, metrics in range, and a detector that never fires scores recall 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from detectors.catalogue import load_rules
from detectors.context import day_number
from exitwatch.evaluate import DETECTORS, Hit, Truth, evaluate, load_labels, load_population, score_detector
from exitwatch.generate import SCENARIOS
from exitwatch.naive import NaiveDetector
from schemas import ActivityEvent, HRRecord


def test_report_files_and_numbers(small_report: tuple[Path, dict[str, Any]]) -> None:
    out, rep = small_report
    for name in ("report.json", "report.md", "risk.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "risk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(rep["detectors"]) == set(DETECTORS)
    for name, d in rep["detectors"].items():
        if not d["available"]:
            assert name == "models" and "not available" in d["note"]
            continue
        assert 0.0 <= d["recall"] <= 1.0
        assert d["honest_flagged_per_1000_per_30d"] >= 0
        assert set(d["scenarios"]) == set(SCENARIOS)
        for s in d["scenarios"].values():
            assert s["employees"] >= 1 and 0.0 <= s["recall"] <= 1.0
    md = (out / "report.md").read_text()
    assert "## Headline" in md and "naive" in md and "risk.png" in md
    assert rep["headline"]["text"]


def test_alerts_are_written_per_detector(small_company: Path, small_report: tuple[Path, dict[str, Any]]) -> None:
    assert (small_company / "alerts-rules.jsonl").exists()


def _truth(data: Path) -> Truth:
    return Truth(load_labels(data / "labels.jsonl"), load_population(data / "hr.jsonl"),
                 day_number("2026-01-05"), 60)


def test_a_detector_that_never_fires_gets_recall_zero(small_company: Path) -> None:
    truth = _truth(small_company)
    s = score_detector([], truth)
    assert s["recall"] == 0.0 and s["caught"] == 0 and s["honest_flagged"] == 0
    assert all(x["recall"] == 0.0 for x in s["scenarios"].values())
    # one that fires only on honest people, and one too late, catch nobody either
    honest = sorted(truth.honest)[:3]
    late = [Hit(e, lab.last_day + 30, "r", "critical", 100) for e, lab in truth.malicious.items()]
    low = [Hit(e, lab.end, "r", "low", 10) for e, lab in truth.malicious.items()]
    s = score_detector([Hit(e, truth.day0 + 5, "r", "high", 80) for e in honest] + late + low, truth)
    assert s["recall"] == 0.0 and s["honest_flagged"] == 3 and s["precision"] == 0.0
    # and a perfect one catches everyone
    s = score_detector([Hit(e, lab.end, "r", "high", 80) for e, lab in truth.malicious.items()], truth)
    assert s["recall"] == 1.0 and s["precision"] == 1.0


def test_rules_all_disabled_end_to_end(small_company: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "off.json"
    cfg.write_text(json.dumps({"rules": {r.id: {"enabled": False} for r in load_rules()}}))
    rep = evaluate(small_company, tmp_path / "rep", rules_config=str(cfg), alerts_dir=tmp_path)
    assert rep["detectors"]["rules"]["recall"] == 0.0
    assert rep["detectors"]["rules"]["alerts"] == 0
    assert rep["detectors"]["naive"]["recall"] > 0


def test_naive_thresholds() -> None:
    n = NaiveDetector()
    n.on_hr(HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T00:00:00Z", "status": "active",
                                     "accounts": ["CORP\\ann"]}))

    def ev(i: int, day: int, **kw: Any) -> ActivityEvent:
        return ActivityEvent.model_validate({"event_id": f"e{i}", "ts": f"2026-03-{day:02d}T10:00:00Z",
                                             "actor": "corp\\ANN", "source": "s", **kw})

    i = 0
    for day in range(2, 13):  # 11 sensitive downloads over 11 days: > 10 in 30 days on the 11th
        i += 1
        n.on_event(ev(i, day, kind="file", action="download", sensitivity="confidential"))
    for _ in range(50):  # exactly 50 deletions: not more than 50
        i += 1
        n.on_event(ev(i, 20, kind="file", action="delete"))
    got = [(a.rule_id, a.day) for a in n.alerts()]
    assert got == [("naive.sensitive_downloads_30d", day_number("2026-03-12"))]
    assert n.alerts(scale=2.0) == []
