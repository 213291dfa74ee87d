"""Company profiles in the generator, and the sweep that reports the worst profile."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from exitwatch.evaluate import Hit, max_rule_alerts_30d, misses, pool, worst
from exitwatch.generate import PROFILES, Profile, profile_of, workforce


def test_profiles_differ_in_role_mix_and_habits() -> None:
    mixes = {}
    for name in ("baseline", "sales_org", "rnd_lab"):
        hr, events, labels = workforce(employees=80, days=45, seed=2, profile=name)
        first = {}
        for r in hr:
            first.setdefault(r["employee_id"], r["department"])
        mixes[name] = Counter(first.values())
        assert labels and events
    assert mixes["sales_org"]["sales"] + mixes["sales_org"]["support"] > \
        mixes["baseline"]["sales"] + mixes["baseline"]["support"]
    assert mixes["rnd_lab"]["engineering"] > mixes["sales_org"]["engineering"]


def test_sporadic_users_are_heavy_tailed() -> None:
    """A sporadic CRM user: most days nothing, some days a lot (the issue's mean ~170 s, sd ~600 s)."""
    prof = Profile(name="t", sporadic=1.0)
    _, events, _ = workforce(employees=30, days=60, seed=4, profile=prof)
    from exitwatch.generate import Company

    c = Company(30, 60, 4, __import__("datetime").date(2026, 1, 5), prof)
    c.build()
    crm_sporadic = {e.crm for e in c.emps if e.sporadic and e.sporadic[0] == "crm" and e.dept not in
                    ("sales", "support", "finance", "marketing", "operations")}
    per: dict[tuple[str, str], float] = {}
    for ev in events:
        if ev["actor"] in crm_sporadic and ev["kind"] == "crm":
            k = (ev["actor"], ev["ts"][:10])
            per[k] = per.get(k, 0.0) + ev["duration_s"]
    assert crm_sporadic and per
    import statistics

    for actor in crm_sporadic:
        days = [per.get((actor, f"2026-{m:02d}-{d:02d}"), 0.0) for m in (1, 2) for d in range(5, 28)]
        if sum(1 for x in days if x) >= 3:
            assert statistics.pstdev(days) > statistics.fmean(days)  # heavy-tailed: sd above the mean


def test_unknown_profile_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: baseline"):
        profile_of("nope")
    assert set(PROFILES) >= {"baseline", "sales_org", "rnd_lab", "churn", "shifts", "subtle"}


def test_max_alerts_from_one_rule_counts_any_severity_in_30_days() -> None:
    hits = [Hit("E1", d, "a", "low", 1) for d in (0, 10, 20, 29)] + [Hit("E1", d, "b", "low", 1) for d in (0, 40)]
    assert max_rule_alerts_30d(hits, {"E1"})["alerts"] == 4
    assert max_rule_alerts_30d(hits, {"E2"})["alerts"] == 0


def test_worst_profile_is_the_headline() -> None:
    def run(caught: int, pairs: int, leads: list[int], burst: int) -> dict:
        return {"caught": caught, "malicious": 10, "honest_pairs": pairs, "honest_units": 2.0, "leads": leads,
                "max_rule_alerts_honest_30d": {"alerts": burst, "rule_id": "r", "employee_id": "E", "first_day": 0},
                "honest_flagged_by_rule": {}, "alerts_per_day": 1.0, "scenarios": {}, "honest_flagged": pairs,
                "honest_employees": 100, "seed": 1}
    good = pool([run(10, 1, [9, 10], 1)])
    bad = pool([run(9, 6, [3, 4], 5)])
    assert misses(good) == [] and misses(bad) == ["recall", "honest flagged", "lead", "alerts from one rule"]
    h = worst({"good": good, "bad": bad})
    assert h["profile"] == "bad" and h["recall"] == {"profile": "bad", "value": 0.9}
    assert h["honest_flagged_per_1000_per_30d"]["value"] == 3.0


def test_sweep_from_the_cli(tmp_path: Path) -> None:
    from exitwatch.cli import main

    out = tmp_path / "rep"
    assert main(["evaluate", "--profiles", "baseline,subtle", "--seeds", "1", "--employees", "40", "--days", "45",
                 "--work", str(tmp_path / "w"), "--out", str(out), "--no-progress"]) == 0
    rep = orjson.loads((out / "profiles.json").read_bytes())
    assert set(rep["profiles"]) == {"baseline", "subtle"}
    assert rep["headline"]["profile"] in rep["profiles"]
    for p in rep["profiles"].values():
        assert p["malicious"] == 9 and 0 <= p["recall"] <= 1
    assert "worst profile" in (out / "profiles.md").read_text()
    # the companies are reused on a second run
    before = (tmp_path / "w" / "baseline-40x45-s1" / "events.jsonl").stat().st_mtime
    assert main(["evaluate", "--profiles", "baseline", "--seeds", "1", "--employees", "40", "--days", "45",
                 "--work", str(tmp_path / "w"), "--out", str(out), "--no-progress"]) == 0
    assert (tmp_path / "w" / "baseline-40x45-s1" / "events.jsonl").stat().st_mtime == before


def test_every_company_and_the_worst_single_one() -> None:
    """Pooled over seeds a bad company hides behind a good one; the report also names the worst single one."""
    from exitwatch.evaluate import render_companies

    def run(seed: int, caught: int, pairs: int) -> dict:
        return {"caught": caught, "malicious": 10, "honest_pairs": pairs, "honest_units": 2.0, "leads": [9, 10],
                "max_rule_alerts_honest_30d": {"alerts": 1, "rule_id": "r", "employee_id": "E", "first_day": 0},
                "honest_flagged_by_rule": {}, "alerts_per_day": 1.0, "scenarios": {}, "honest_flagged": pairs,
                "honest_employees": 100, "seed": seed}
    runs = {"a": [run(1, 10, 0), run(2, 7, 8)], "b": [run(1, 10, 1), run(2, 10, 1)]}
    single = {f"{n} s{r['seed']}": pool([r]) for n, rs in runs.items() for r in rs}
    rep = {"profiles": {n: pool(rs) for n, rs in runs.items()}, "worst_company": worst(single),
           "companies": {c: {**p, "misses": misses(p)} for c, p in single.items()}}
    md = "\n".join(render_companies(rep))
    assert rep["profiles"]["a"]["recall"] == 0.85 and "Worst single company: **a s2**" in md
    assert "recall 0.700 (a s2)" in md and md.count("| a s") == 2 and md.count("| b s") == 2
    assert render_companies({**rep, "companies": {"a s1": rep["companies"]["a s1"]}}) == []


def test_a_stopped_sweep_resumes_with_the_same_figures(tmp_path: Path, monkeypatch) -> None:
    """``resume``: a company whose alerts were written by the same detection code is read back, not run again,
    and gives the figures the run gave; another code (fingerprint) runs it again."""
    import exitwatch.evaluate as ev

    work, out = tmp_path / "w", tmp_path / "rep"
    first = ev.evaluate_profiles(out, ["baseline"], seeds=[1], employees=30, days=45, work=work)
    done = orjson.loads((work / "baseline-30x45-s1" / ev.PRODUCT_DONE).read_bytes())
    assert done["code"] == ev.code_fingerprint()

    def must_not_run(*a, **k):
        raise AssertionError("the product ran again")

    monkeypatch.setattr(ev, "run_product", must_not_run)
    again = ev.evaluate_profiles(out, ["baseline"], seeds=[1], employees=30, days=45, work=work, resume=True)
    keep = ("recall", "caught", "malicious", "honest_flagged", "honest_flagged_per_1000_per_30d", "lead_days_median",
            "max_rule_alerts_honest_30d", "misses")
    assert {k: again["companies"]["baseline s1"][k] for k in keep} == \
        {k: first["companies"]["baseline s1"][k] for k in keep}
    assert again["per_seed"]["baseline"][0]["hr_side_alerts"] == first["per_seed"]["baseline"][0]["hr_side_alerts"]
    real = ev.code_fingerprint
    monkeypatch.setattr(ev, "code_fingerprint", lambda rules_config=None: "other code")
    with pytest.raises(AssertionError, match="ran again"):  # other code: runs again
        ev.evaluate_profiles(out, ["baseline"], seeds=[1], employees=30, days=45, work=work, resume=True)
    (work / "baseline-30x45-s1" / ev.PRODUCT_DONE).write_bytes(orjson.dumps(done))
    monkeypatch.setattr(ev, "code_fingerprint", real)
    with pytest.raises(AssertionError, match="ran again"):  # without resume it runs
        ev.evaluate_profiles(out, ["baseline"], seeds=[1], employees=30, days=45, work=work)


def test_the_fingerprint_follows_the_rules_config(tmp_path: Path) -> None:
    from exitwatch.evaluate import code_fingerprint

    cfg = tmp_path / "r.toml"
    cfg.write_text('[rules."file.sensitive_downloads_before_departure"]\nthreshold = 15\n')
    a = code_fingerprint(str(cfg))
    cfg.write_text('[rules."file.sensitive_downloads_before_departure"]\nthreshold = 16\n')
    assert code_fingerprint(str(cfg)) != a != code_fingerprint() == code_fingerprint()
