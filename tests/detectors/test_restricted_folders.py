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
    eng = Engine(rules=[RULE], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-02T08:00:00Z")))
    notice = hr("2026-03-02T09:00:00Z", status="notice", last_day="2026-03-31", resignation_date="2026-03-02")
    alerts: list = []
    d0 = dt.date(2026, 1, 5)
    for i in range(0, 66):  # 5 January .. 11 March
        d = d0 + dt.timedelta(days=i)
        if d == dt.date(2026, 3, 2) and not hr_late:
            alerts += eng.on_hr(HRRecord.model_validate(notice))
        alerts += eng.on_event(_ev(f"{d}T09:00:00Z", action="open", object=f"/sites/engineering/notes/n{i}.docx",
                                   sensitivity="internal"))
        if d < dt.date(2026, 3, 2) and i % before_every == 0:
            alerts += eng.on_event(_ev(f"{d}T10:00:00Z", action="download", object=f"{OWN}/doc-{i:04d}.pdf",
                                       sensitivity="restricted"))
        if d >= dt.date(2026, 3, 9):
            k = (d - dt.date(2026, 3, 9)).days
            for j in range(3 if k == 0 else 1):
                alerts += eng.on_event(_ev(f"{d}T11:0{j}:00Z", action="download", sensitivity="restricted",
                                           object=f"{folders[(k + j) % len(folders)]}/doc-{100 + 10 * k + j}.pdf"))
    if hr_late:
        alerts += eng.on_hr(HRRecord.model_validate({**notice, "ts": "2026-03-12T09:00:00Z"}))
    return [a for a in alerts if a.rule_id == RULE.id]


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
