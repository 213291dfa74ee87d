"""Which alert goes to which alert topic: HR data stay with HR.

Every alert goes to ``alerts.hr``; every alert except the HR-only ones also goes, pseudonymized, to
``alerts.secops``. HR-only are the departure-propensity alerts (CONTRACT.md 7: a ``rule_id`` containing
``propensity``): they are built from attendance, performance, leave and survey data, which security operations
must not see. Every writer of ``alerts.secops`` (the workers, ``exitwatch replay --alerts-secops``) asks
:func:`for_secops` first.

>>> class A: rule_id = "hr.departure_propensity"
>>> class B: rule_id = "file.sensitive_downloads_before_departure"
>>> for_secops(A()), for_secops(B())
(False, True)
"""

from __future__ import annotations

from typing import Any

#: A rule id containing this goes to ``alerts.hr`` only.
HR_ONLY_MARK = "propensity"


def for_secops(alert: Any) -> bool:
    """Whether ``alert`` (an Alert or its dict form) may be written to ``alerts.secops``."""
    rule_id = alert["rule_id"] if isinstance(alert, dict) else alert.rule_id
    return HR_ONLY_MARK not in str(rule_id)


#: Rule ids of HR-side alerts (offboarding process, departure propensity): not security findings.
HR_SIDE_PREFIXES = ("offboarding.", "hr.")


def security_finding(alert: Any) -> bool:
    """Whether ``alert`` is a security finding (what the security evaluation counts): not an offboarding
    reminder or summary, not the departure propensity.

    >>> class C: rule_id = "offboarding.last_day_summary"
    >>> security_finding(C()), security_finding({"rule_id": "crm.bulk_export_before_departure"})
    (False, True)
    """
    rule_id = str(alert["rule_id"] if isinstance(alert, dict) else alert.rule_id)
    return not rule_id.startswith(HR_SIDE_PREFIXES) and HR_ONLY_MARK not in rule_id
