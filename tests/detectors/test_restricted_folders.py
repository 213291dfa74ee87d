"""file.restricted_downloads_consecutive_days v3 (issue 14): a run of restricted downloads from the restricted
folders of the employee's own work before the departure is graded low; from folders new to them it keeps its
grade (churn s1 E00116, subtle s2 E00372: honest, own folder; subtle s2 E00311: thief, board papers, accounts)."""

from __future__ import annotations

import datetime as dt

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.file.restricted_downloads_consecutive_days import RULE
from schemas import ActivityEvent, HRRecord

ANN = "ann@corp.example"
OWN = "/sites/engineering/specs/rest"


def _ev(ts: str, **kw) -> ActivityEvent:
    return ActivityEvent.model_validate(ev(ts, actor=ANN, **kw))


def _run(folders: list[str], hr_late: bool = False, before_every: int = 1) -> list:
    """Ann downloads a restricted spec from her own folder every ``before_every`` days (default: daily) from 5 January, and
    ordinary internal files every day; notice on 2 March (last day 31 March); on 9-11 March one restricted
    download a day from ``folders`` (one per day, cycled), three on the first day."""
    plan = {str(dt.date(2026, 3, 9) + dt.timedelta(days=k)): [folders[(k + j) % len(folders)]
                                                             for j in range(3 if k == 0 else 1)] for k in range(3)}
    return _days(plan, before_every, hr_late=hr_late, n_days=66)


def test_a_run_from_the_own_restricted_folder_is_low() -> None:
    alerts = _run([OWN])
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]
    assert "restricted folders of their own work" in alerts[0].title


def test_far_more_than_usual_from_the_own_folder_keeps_its_grade() -> None:
    """One restricted download every 4 days before; 3, 1 and 1 in the run: 6.7 times the usual day."""
    alerts = _run([OWN], before_every=4)
    assert len(alerts) == 1 and alerts[0].severity in ("high", "critical"), [a.title for a in alerts]
    assert "own work before the departure" in alerts[0].title and "graded low" not in alerts[0].title


def test_a_run_from_folders_new_to_the_employee_keeps_its_grade() -> None:
    alerts = _run(["/sites/exec/board/rest", "/sites/sales/accounts/rest", "/sites/hr/personnel/rest"])
    assert len(alerts) == 1 and alerts[0].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    assert "own work" not in alerts[0].title


def test_one_new_folder_in_the_run_is_enough_to_keep_the_grade() -> None:
    alerts = _run([OWN, OWN, "/sites/exec/board/rest"])
    assert alerts and alerts[-1].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    assert "own work" not in alerts[-1].title


def test_a_late_resignation_does_not_make_the_runs_new_folders_familiar() -> None:
    """HR records the notice after the run: the run's folders were first seen in the departure period."""
    own = _run([OWN], hr_late=True)
    assert [a.severity for a in own] == ["low"], [a.title for a in own]
    new = _run(["/sites/exec/board/rest", "/sites/sales/accounts/rest"], hr_late=True)
    assert len(new) == 1 and new[0].severity in ("medium", "high", "critical"), [a.title for a in new]


def _days(plan: dict[str, list[str]], before_every: int = 1, hr_late: bool = False, n_days: int = 75) -> list:
    """Ann as in :func:`_run` (her own restricted folder before the notice of 2 March), then in the notice the
    restricted downloads of ``plan``: day -> folders, one download from each; ``n_days`` days from 5 January
    (75: to 20 March); ``hr_late``: the notice recorded only after them, on 12 March."""
    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    notice = hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-02")
    alerts: list = []
    d0 = dt.date(2026, 1, 5)
    for i in range(0, n_days):
        d = d0 + dt.timedelta(days=i)
        if d == dt.date(2026, 3, 2) and not hr_late:
            alerts += eng.on_hr(HRRecord.model_validate(notice))
        alerts += eng.on_event(_ev(f"{d}T09:00:00Z", action="open", object=f"/sites/engineering/notes/n{i}.docx",
                                   sensitivity="internal"))
        if d < dt.date(2026, 3, 2) and i % before_every == 0:
            alerts += eng.on_event(_ev(f"{d}T10:00:00Z", action="download", object=f"{OWN}/doc-{i:04d}.pdf",
                                       sensitivity="restricted"))
        for j, f in enumerate(plan.get(str(d), ())):
            alerts += eng.on_event(_ev(f"{d}T11:{j:02d}:00Z", action="download", sensitivity="restricted",
                                       object=f"{f}/doc-{1000 + 10 * i + j}.pdf"))
    if hr_late:
        alerts += eng.on_hr(HRRecord.model_validate({**notice, "ts": "2026-03-12T09:00:00Z"}))
    return [a for a in alerts if a.rule_id == RULE.id]


BOARD, HRF = "/sites/exec/board/rest", "/sites/hr/personnel/rest"


def test_a_familiar_run_that_turns_to_new_folders_is_raised_at_its_grade() -> None:
    """Churn s3 E00398 (v4): a controller's run of their own restricted reports was alerted low on its third day;
    on its fourth and fifth days came board papers and another department's folders. The episode of the low
    alert held the run's new finding (a run's length never doubles): it is raised at its grade now."""
    alerts = _days({"2026-03-09": [OWN], "2026-03-10": [OWN], "2026-03-11": [OWN],
                    "2026-03-12": [BOARD, HRF, OWN], "2026-03-13": [BOARD, OWN]})
    assert [a.severity for a in alerts][:1] == ["low"], [a.title for a in alerts]
    assert len(alerts) == 2 and alerts[1].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    assert "own work" not in alerts[1].title and "2026-03-09" in alerts[1].title


def test_a_later_run_from_new_folders_is_raised_after_a_familiar_low_one() -> None:
    """Subtle s3 E00071 (v4): a familiar run alerted low early in the notice; three weeks later, within the
    episode's 30 days, a run from HR's, the board's and research's folders got no alert at all."""
    alerts = _days({"2026-03-03": [OWN], "2026-03-04": [OWN], "2026-03-05": [OWN],
                    "2026-03-16": [HRF, BOARD, OWN], "2026-03-17": [BOARD, OWN], "2026-03-18": [HRF]})
    assert [a.severity for a in alerts][:1] == ["low"], [a.title for a in alerts]
    assert len(alerts) == 2 and alerts[1].severity in ("medium", "high", "critical"), [a.title for a in alerts]
    assert "2026-03-16" in alerts[1].title


def test_a_later_familiar_run_adds_nothing_to_the_episode() -> None:
    """Two runs of the own restricted work in the notice: one low alert (the episode's), not two."""
    alerts = _days({"2026-03-03": [OWN], "2026-03-04": [OWN], "2026-03-05": [OWN],
                    "2026-03-16": [OWN], "2026-03-17": [OWN], "2026-03-18": [OWN]})
    assert [a.severity for a in alerts] == ["low"], [a.title for a in alerts]


def test_a_second_run_at_the_same_grade_is_raised_again() -> None:
    """Version 5 (subtle s5 E00004): a run alerted high early in the notice, then, days later, another run from
    other departments' folders, graded as high: version 4 raised a later run only above the episode's grade, so
    the theft joined the first run's episode unseen. The budget (two a month) still holds."""
    b3, h3 = [BOARD] * 3, [HRF] * 3
    alerts = _days({"2026-03-03": b3, "2026-03-04": b3, "2026-03-05": b3,
                    "2026-03-09": h3, "2026-03-10": h3, "2026-03-11": h3})
    assert [a.severity for a in alerts] == ["high", "high"], [(a.severity, a.title) for a in alerts]
    assert "2026-03-09" in alerts[1].title
    three = _days({"2026-03-03": b3, "2026-03-04": b3, "2026-03-05": b3, "2026-03-09": h3, "2026-03-10": h3,
                   "2026-03-11": h3, "2026-03-16": b3, "2026-03-17": h3, "2026-03-18": b3})
    assert len(three) == 2, [(a.severity, a.title) for a in three]  # the budget
