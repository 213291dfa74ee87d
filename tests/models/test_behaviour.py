"""The learned model: warm-up, score-then-learn, spikes, steady heavy users, protected baselines, persistence."""

from __future__ import annotations

import ast
import pathlib
from typing import Any

import orjson

from detectors.context import HRView, day_number
from detectors.models import BehaviourModel, default_models
from detectors.models import features as F
from detectors.models.behaviour import ID
from tests.models.conftest import SMALL, Stream, day_str, hr, replace, run

SPIKE_DAY = 35  # a Tuesday in week 6
USB = {"kind": "file", "action": "copy_to_removable", "object": "/sites/eng/specs/x.pdf", "bytes": 4_000_000,
       "sensitivity": "confidential", "destination": "usb9"}


def spike_stream(emp: str = "E03", n: int = 40) -> Stream:
    s = Stream()
    s.add(emp, SPIKE_DAY, USB, n)
    return s


def test_default_models_are_fresh_instances() -> None:
    a, b = default_models(), default_models()
    assert [m.id for m in a] == ["model.behaviour_anomaly", "hr.departure_propensity"]
    assert a[0] is not b[0] and a[0].hst is not b[0].hst
    assert a[1] is not b[1] and a[1].peer_att is not b[1].peer_att


def test_no_alert_before_warm_up() -> None:
    s = Stream(days=9)
    s.add("E03", 7, USB, 60)  # a blatant spike, but the model has seen too few employee-days
    _, model, alerts = run(s.items())
    assert not model.warmed_up()
    assert alerts == []


def test_warm_up_needs_the_tree_window_too() -> None:
    _, model, _ = run(Stream(days=42).items(), config=replace(SMALL, warmup_days=1, window_size=10_000))
    assert model.learned_days > 1 and not model.warmed_up()


def test_removable_copy_spike_fires_with_top_feature_and_baselines() -> None:
    _, model, alerts = run(spike_stream().items())
    assert model.warmed_up()
    mine = [a for a in alerts if a.rule_id == ID]
    assert [(a.employee_id, a.explanation["day"]) for a in mine] == [("E03", day_str(SPIKE_DAY))]
    a = mine[0]
    x = a.explanation
    assert x["top_feature"] in ("removable_copies", "sensitive_out")
    names = [t["feature"] for t in x["top_features"]]
    assert "removable_copies" in names
    usb = x["top_features"][names.index("removable_copies")]
    # it fired while the day was open, as soon as the copies stood out (not only when the day closed)
    assert 5 <= usb["observed"] <= 40 and usb["usual_own"] == 0 and usb["usual_peers"] is not None
    assert usb["z"] >= 4
    assert x["anomaly_score"] >= SMALL.threshold
    assert a.severity == "low"  # not leaving: low unless the evidence is overwhelming
    assert a.evidence and all(e.startswith("ev") for e in a.evidence)
    assert "{" not in a.title and "removable" in a.title or "sensitive" in a.title
    assert a.alert_id and a.explanation["in_notice"] is False


def test_the_same_spike_fires_while_the_day_is_still_open() -> None:
    s = spike_stream()
    items = [it for it in s.items() if it[1].ts.date().isoformat() <= day_str(SPIKE_DAY)]  # stream ends that day
    _, _, alerts = run(items)
    assert [a.explanation["day"] for a in alerts] == [day_str(SPIKE_DAY)]


def test_a_leaver_gets_a_higher_severity() -> None:
    s = spike_stream()
    s.hr.append(hr("E03", SPIKE_DAY - 5, "notice", resignation_date=day_str(SPIKE_DAY - 5),
                   last_day=day_str(SPIKE_DAY + 10)))
    _, _, alerts = run(s.items())
    assert len(alerts) == 1 and alerts[0].severity in ("medium", "high", "critical")
    assert alerts[0].explanation["threshold"] == SMALL.threshold_departing
    assert alerts[0].explanation["in_notice"] is True


def test_heavy_but_steady_user_does_not_fire() -> None:
    s = Stream(days=56)  # E11 copies ~40 files to USB every day
    _, model, alerts = run(s.items())
    assert model.warmed_up()
    assert [a for a in alerts if a.employee_id == "E11"] == []
    assert alerts == []  # nobody in a steady workforce


def test_score_then_learn() -> None:
    seen: list[tuple[int, int, float]] = []
    model = BehaviourModel(SMALL)
    model.sink = lambda emp, day, sc, flagged: seen.append((day, sc.own_days, sc.score)) if emp == "E00" and sc else None
    eng, _, _ = run(Stream(days=21).items(), model=model)
    days = [d for d, _, _ in seen]
    own = [n for _, n, _ in seen]
    # each closed day was scored against the baseline *before* it was learned: every scored day saw exactly one
    # more learned day than the previous one, and the last one was learned after its scoring.
    assert len(own) > 5 and own == list(range(own[0], own[0] + len(own)))
    assert days == sorted(days)
    st = eng.store.get("E00")
    assert st.extra[ID]["n"] == own[-1] + 1


def test_notice_days_are_not_learned() -> None:
    s = Stream(days=42)
    s.hr.append(hr("E02", 21, "notice", resignation_date=day_str(21), last_day=day_str(60)))
    eng, model, _ = run(s.items())
    n_leaver = eng.store.get("E02").extra[ID]["n"]
    n_stayer = eng.store.get("E01").extra[ID]["n"]
    assert n_stayer == 29  # weekdays closed (the last one is still open)
    assert n_leaver == 15  # only the weekdays before notice
    # the peer group and the tree model did not learn them either
    assert model.learned_days < 12 * 29


def test_flagged_days_are_not_learned() -> None:
    eng, _, alerts = run(spike_stream().items())
    assert alerts
    s = eng.store.get("E03").extra[ID]
    assert s["p"][F.F_USB] == 0.0 and s["m"][F.F_USB] == 0.0  # the spike never became normal


def test_suspicious_day_before_notice_alerts_when_the_notice_arrives() -> None:
    s = Stream(days=49)
    s.add("E04", 36, USB, 6)  # below the threshold of someone not leaving ...
    s.hr.append(hr("E04", 44, "notice", resignation_date=day_str(43), last_day=day_str(70)))  # ... then notice
    eng, model, alerts = run(s.items())
    quiet, _, _ = run(Stream(days=49).items())
    assert [a for a in alerts if a.employee_id == "E04"], "the pre-notice day came back through the HR lookback"
    a = next(a for a in alerts if a.employee_id == "E04")
    assert a.explanation["day"] == day_str(36) and a.severity in ("medium", "high")
    assert a.ts.date().isoformat() == day_str(44)  # fired when the HR news came


def test_the_hr_lookback_tells_a_day_as_a_live_day_in_the_notice_would_be() -> None:
    """Version 6: a kept-aside day is told when the notice arrives only if the same day in the notice would be
    (a feature far from normal, ``min_top_z``): 4 files to removable media are neither; 6 are both. Version 5
    told the 4 files before the notice on the score alone (medium), not in the notice."""
    def told(n: int, before_notice: bool) -> list:
        s = Stream(days=49)
        if before_notice:
            s.add("E04", 36, USB, n)
            s.hr.append(hr("E04", 44, "notice", resignation_date=day_str(43), last_day=day_str(70)))
        else:
            s.hr.append(hr("E04", 30, "notice", resignation_date=day_str(30), last_day=day_str(70)))
            s.add("E04", 36, USB, n)
        _, _, alerts = run(s.items())
        return [a.severity for a in alerts if a.employee_id == "E04" and a.rule_id == ID]

    assert told(4, before_notice=True) == told(4, before_notice=False) == []
    assert told(6, before_notice=True) == told(6, before_notice=False) == ["medium"]


def test_state_dict_round_trip_scores_identically() -> None:
    items = spike_stream().items()
    cut = next(i for i, (k, o) in enumerate(items) if k == 2 and o.ts.date().isoformat() >= day_str(28))
    eng, model, first = run(items[:cut])
    blob = model.state_dict()
    restored = BehaviourModel(SMALL)
    restored.load_state_dict(blob)
    assert restored.state_dict() == blob
    # continue both: the original, and a restarted worker with the state store re-read from bytes
    from detectors.engine import DictStore, Engine, EngineConfig

    store = DictStore()
    for emp, st in eng.store.data.items():
        store.put(emp, type(st).from_bytes(st.to_bytes()))
    eng2 = Engine(rules=[], models=[restored], config=EngineConfig(risk=False), store=store)
    eng2.aliases = eng.aliases
    scores_a: list[float] = []
    scores_b: list[float] = []
    model.sink = lambda e, d, sc, f: scores_a.append(sc.score if sc else -1)
    restored.sink = lambda e, d, sc, f: scores_b.append(sc.score if sc else -1)
    out_a, out_b = [], []
    for kind, obj in items[cut:]:
        out_a += eng.on_event(obj) if kind == 2 else eng.on_hr(obj)
        out_b += eng2.on_event(obj) if kind == 2 else eng2.on_hr(obj)
    assert scores_a and scores_a == scores_b
    assert [a.model_dump() for a in out_a] == [b.model_dump() for b in out_b]
    assert out_a  # the spike after the restart still fires


def test_deterministic_across_runs() -> None:
    items = spike_stream().items()
    e1, m1, a1 = run(items)
    e2, m2, a2 = run(items)
    assert [a.model_dump() for a in a1] == [a.model_dump() for a in a2]
    assert m1.state_dict() == m2.state_dict()
    assert {k: v.to_bytes() for k, v in e1.store.data.items()} == {k: v.to_bytes() for k, v in e2.store.data.items()}


def test_per_employee_state_stays_small() -> None:
    s = spike_stream()
    for d in range(20, 40, 3):  # a few suspicious days kept aside, the heaviest case
        s.add("E05", d, USB, 6)
    eng, _, _ = run(s.items())
    sizes = {emp: len(orjson.dumps(st.extra[ID])) for emp, st in eng.store.data.items()}
    assert max(sizes.values()) < 1500, sizes


def test_after_hours_share_is_shrunk_and_weekends_count() -> None:
    acc = F.new_acc()
    F.accumulate(acc, kind="logon", action="logon", hour=10, weekday=5)
    assert F.raw(acc, F.F_AH) == 1 / 5


def test_departing_context_covers_the_month_before_notice() -> None:
    m = BehaviourModel()
    h = HRView.of({"status": "notice", "notice_from": "2026-03-01", "last_day": "2026-05-30"})
    assert m._departing(h, day_number("2026-02-10")) and not m._departing(h, day_number("2026-01-10"))


def test_models_package_imports_no_broker_code() -> None:
    root = pathlib.Path(__file__).resolve().parents[2] / "detectors" / "models"
    for p in root.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert not n.startswith(("faust", "kafka", "confluent_kafka", "aiokafka", "streams")), (p, n)


SENSITIVE_DL = {"kind": "file", "action": "download", "object": "/sites/eng/specs/b.pdf", "bytes": 300_000,
                "sensitivity": "confidential"}


MAIL_OUT = {"kind": "email", "action": "send", "recipients": ["buyer@client.example"], "external": True, "count": 1,
            "bytes": 90_000}


class JoinedLate(Stream):
    """The workforce of :class:`Stream`, but ``newcomer`` has no activity (and no HR record) before ``joined``."""

    def __init__(self, newcomer: str, joined: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.hr = [h for h in self.hr if h["employee_id"] != newcomer] + [hr(newcomer, joined)]
        self.newcomer, self.joined = newcomer, joined

    def events(self) -> list[dict[str, Any]]:
        actor = f"{self.newcomer.lower()}@corp"
        out = [e for e in super().events() if e["actor"] != actor or e["ts"] >= day_str(self.joined)]
        for e in out:  # a mail out goes first thing in the morning, before the day's downloads
            if e.get("external") is True:
                e["ts"] = e["ts"][:11] + "08:00:00Z"
        return sorted(out, key=lambda e: e["ts"])


def test_a_single_inside_feature_is_low_for_a_leaver_with_history_but_not_for_a_newcomer() -> None:
    """A leaver's day whose only feature far from normal keeps the data inside is its rule's to judge (low) when
    the rules have the employee's own baseline; a newcomer has none yet, so the model keeps the leaver's
    severity (subtle seed 1: a thief with a week of history lost his only catch to the downgrade)."""
    seen = {}
    for emp in ("E05", "E04"):  # E05 joins on day 30; E04 has been there from the start
        s = JoinedLate("E05", 30, days=49)
        s.add(emp, 44, SENSITIVE_DL, 20)
        s.add(emp, 44, MAIL_OUT, 1)  # something left the company that day (else version 3 grades it low anyway)
        s.hr.append(hr(emp, 40, "notice", resignation_date=day_str(40), last_day=day_str(70)))
        _, model, alerts = run(s.items())
        mine = [a for a in alerts if a.rule_id == ID and a.employee_id == emp]
        assert [a.explanation["day"] for a in mine] == [day_str(44)], emp
        x = mine[0].explanation
        assert x["top_feature"] == "sensitive_downloads" and x["n_deviating"] == 1 and x["own_gate"] == []
        assert x["anomaly_score"] < model.config.strong
        seen[emp] = (mine[0].severity, x["own_days"])
    assert seen["E04"][1] >= SMALL.own_full_days and seen["E04"][0] == "low"
    assert seen["E05"][1] < SMALL.own_full_days and seen["E05"][0] in ("medium", "high")


def test_nothing_left_the_company_is_low_only_with_own_history() -> None:
    """Version 4: a leaver's day on which nothing left the company is low (version 3) only for someone with
    ``own_full_days`` of own history; a newcomer's keeps the leaver's severity (subtle seed 1)."""
    seen = {}
    for emp in ("E05", "E04"):
        s = JoinedLate("E05", 30, days=49)
        s.add(emp, 44, SENSITIVE_DL, 20)  # no mail out: nothing left the company that day
        s.hr.append(hr(emp, 40, "notice", resignation_date=day_str(40), last_day=day_str(70)))
        _, model, alerts = run(s.items())
        mine = [a for a in alerts if a.rule_id == ID and a.employee_id == emp]
        assert [a.explanation["day"] for a in mine] == [day_str(44)], emp
        assert mine[0].explanation["anomaly_score"] < model.config.strong
        seen[emp] = (mine[0].severity, mine[0].explanation["own_days"])
    assert seen["E04"][1] >= SMALL.own_full_days and seen["E04"][0] == "low"
    assert seen["E05"][1] < SMALL.own_full_days and seen["E05"][0] in ("medium", "high")


def test_after_hours_are_the_employees_own() -> None:
    """The after-hours share counts what the engine marked outside the employee's own hours
    (``attrs.off_hours``, detectors.habits), not a UTC clock: a night shift's nights are their normal, and a
    day worker's night is after hours."""
    acc = F.new_acc()
    F.accumulate(acc, kind="logon", action="logon", hour=23, weekday=2, off_hours=False)
    F.accumulate(acc, kind="logon", action="logon", hour=11, weekday=2, off_hours=True)
    assert acc[F.F_AH] == 1
    night = Stream(employees=12, days=30)
    events = night.events()
    for e in events:  # E05 works nights: every event of theirs twelve hours later
        if e["actor"] == "e05@corp":
            h = int(e["ts"][11:13])
            e["ts"] = e["ts"][:11] + f"{(h + 12) % 24:02d}" + e["ts"][13:]
    night.events = lambda: sorted(events, key=lambda e: e["ts"])  # type: ignore[method-assign]
    eng, _, _ = run(night.items())
    share = {emp: eng.store.get(emp).extra[ID]["m"][F.F_AH] for emp in ("E05", "E06")}
    assert share["E05"] < 0.02 and share["E06"] < 0.02, share  # their own hours: nobody works after hours


UNFAMILIAR_DL = {"kind": "file", "action": "download", "object": "/sites/finance/ledger/q.xlsx", "bytes": 300_000,
                 "sensitivity": "internal"}


def test_someone_not_leaving_needs_two_acts_far_from_normal_for_medium() -> None:
    """Version 8: for someone not leaving, the step to medium (a score of ``strong`` or more and the engine's "ten
    times the normal") needs two ACTS far from normal, not two features. 80 confidential files to a thumb drive
    make removable copies and sensitive items out (and megabytes) far from normal: one act, low (version 7:
    medium; rnd_lab and sales_org seed 3, four honest stayers). The same copies with downloads from folders the
    employee never used are two acts: medium."""
    cfg = replace(SMALL, strong=0.8)  # the small workforce's scores stay under the default strong

    def alert(extra: list[tuple[dict[str, Any], int]]) -> Any:
        s = Stream()
        for fields, n in extra:
            s.add("E03", SPIKE_DAY, fields, n)
        _, _, alerts = run(s.items(), config=cfg)
        mine = [a for a in alerts if a.rule_id == ID]
        assert [(a.employee_id, a.explanation["day"]) for a in mine] == [("E03", day_str(SPIKE_DAY))]
        return mine[0]

    one = alert([(USB, 80)])
    x = one.explanation
    assert x["status"] == "active" and x["anomaly_score"] >= cfg.strong and x["n_deviating"] >= 2
    assert one.severity == "low" and x["ratio_to_own_normal"] is None
    assert x["n_acts"] == 1
    two = alert([(USB, 80), (UNFAMILIAR_DL, 60)])
    x = two.explanation
    far = {t["feature"] for t in x["top_features"] if t["z"] >= cfg.min_top_z}
    assert {"removable_copies", "unfamiliar_folder_downloads"} <= far
    assert x["anomaly_score"] >= cfg.strong and x["n_acts"] == 2 and two.severity == "medium"


def test_acts_group_the_features_one_act_feeds() -> None:
    """Describing features (sensitive items out, megabytes, after-hours share, destinations) join a counting
    feature they can come from; alone they are one act (data moved inside the company, a night's work)."""
    assert F.acts(set()) == 0
    assert F.acts({F.F_USB, F.F_SOUT, F.F_MB, F.F_AH}) == 1
    assert F.acts({F.F_DL, F.F_SDL, F.F_NEWDIR, F.F_MB}) == 1
    assert F.acts({F.F_DEL, F.F_SDEL}) == 1
    assert F.acts({F.F_DEL, F.F_MB}) == 2  # a clean-up and files moved inside the company
    assert F.acts({F.F_MB, F.F_AH}) == 1
    assert F.acts({F.F_SOUT}) == 1 and F.acts({F.F_SOUT, F.F_MAIL, F.F_USB}) == 2
    assert F.acts({F.F_CRM, F.F_CRMT}) == 2
    assert len(F.ACT) == F.N and all(F.ACT[i] is None for i in F.FROM)
    assert all(a is not None for i, a in enumerate(F.ACT) if i not in F.FROM)


DELETE = {"kind": "file", "action": "delete", "object": "/sites/eng/old/notes.docx"}
TAKE_HOME = {"kind": "web", "action": "upload", "object": "https://onedrive.live.com/index", "bytes": 150_000_000,
             "personal": True, "external": True, "destination": "onedrive.live.com"}


def test_the_last_day_far_from_normal_only_inside_is_low_data_leaving_is_not() -> None:
    """Version 9: a leaver's last working day (or the UTC day after it) whose features far from normal all keep
    the work inside (here 40 deletions and the megabytes of one take-home upload) is low: the rules that know
    what each act was judge it. The same day ten days before the last day keeps the leaver's severity, and so
    does a last day on which work files went to a thumb drive (data leaving)."""
    def alert(last: int, extra: list[tuple[dict[str, Any], int]]) -> Any:
        s = Stream(days=49)
        for fields, n in extra:
            s.add("E04", 44, fields, n)
        s.hr.append(hr("E04", 36, "notice", resignation_date=day_str(36), last_day=day_str(last)))
        _, model, alerts = run(s.items())
        mine = [a for a in alerts if a.rule_id == ID and a.employee_id == "E04"]
        assert [a.explanation["day"] for a in mine] == [day_str(44)], [a.explanation for a in mine]
        x = mine[0].explanation
        assert x["anomaly_score"] < model.config.strong and x["own_days"] >= SMALL.own_full_days
        return mine[0], {t["feature"] for t in x["top_features"] if t["z"] >= model.config.min_top_z}

    tidy = [(DELETE, 40), (TAKE_HOME, 1)]
    for last in (44, 43):  # the last day itself, and the evening after it (a UTC day later)
        a, far = alert(last, tidy)
        assert far == {"deletions", "mb_moved"} and a.explanation["n_deviating"] == 2, a.explanation
        assert a.severity == "low" and a.explanation["ratio_to_own_normal"] is None, (last, a.explanation)
    a, _ = alert(54, tidy)
    assert a.severity in ("medium", "high"), a.explanation  # ten days before the last day: v8's grade
    a, far = alert(44, [(TAKE_HOME, 1), (USB, 30)])
    assert "removable_copies" in far and a.severity in ("medium", "high"), a.explanation
