"""sequence.crm_export_then_personal_mail v3 (issue 14): a mail home labelled public after an export does not
complete the sequence (a private errand); one labelled internal, confidential or not labelled still does."""

from __future__ import annotations

from detectors.engine import Engine, EngineConfig
from detectors.examples import ev, hr
from detectors.rules.sequence.crm_export_then_personal_mail import RULE as SEQ
from schemas import ActivityEvent, HRRecord


def _alerts(label: str | None) -> list:
    eng = Engine(rules=[SEQ], config=EngineConfig(risk=False))
    eng.on_hr(HRRecord.model_validate(hr("2026-01-01T09:00:00Z", status="notice", last_day="2026-02-20")))
    out = eng.on_event(ActivityEvent.model_validate(ev("2026-02-10T14:29:00Z", action="report_export", count=27,
                                                       object="Renewals", sensitivity="confidential")))
    mail = ev("2026-02-10T14:31:00Z", action="send", personal=True, external=True, count=1,
              recipients=["quinn85@proton.me"], **({"sensitivity": label} if label else {}))
    out += eng.on_event(ActivityEvent.model_validate(mail))
    return [a for a in out if a.rule_id == SEQ.id]


def test_a_public_mail_home_after_an_export_is_no_exfiltration() -> None:
    assert _alerts("public") == []


def test_other_labels_and_no_label_still_complete_it() -> None:
    for label in ("internal", "confidential", None):
        alerts = _alerts(label)
        assert len(alerts) == 1 and alerts[0].severity != "low", (label, alerts)
