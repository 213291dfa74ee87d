"""What counts as a *first time*: the novelty keys shared by the first-time rules.

A key names a behaviour (``after_hours``, ``removable``, a site category from the connectors'
classification such as ``leak_site``, ``mail_to_competitor``), or a behaviour and its object (``host:PC-1``:
the part before ``:`` is the kind of behaviour, which ``activity.firsts_together`` counts once). The first-time rules remember the keys
an employee produced and count only a key never seen before (``detectors.windows.FirstTime``).

>>> from schemas import ActivityEvent
>>> e = ActivityEvent.model_validate({"event_id": "a", "ts": "2026-03-02T22:15:00Z", "kind": "device",
...     "action": "connect", "actor": "ann", "source": "cert", "attrs": {"off_hours": True}})
>>> after_hours(e), removable(e), web_category(e)
('after_hours', 'removable', None)
"""

from __future__ import annotations

from schemas import ActivityEvent

#: Actions a person does not cause themselves (a rule, a sync client).
AUTOMATIC = frozenset({"auto_forward", "sync_download"})
#: Site categories whose first visit is worth telling (``[categories]`` in connectors/classification.toml).
FLAGGED_CATEGORIES = frozenset({"leak_site", "hacking_tools", "job_search", "competitor"})
SENDS = frozenset({"send", "forward"})


def is_after_hours(e: ActivityEvent) -> bool:
    """Outside the employee's own working hours, caused by a person: the engine marks such events
    ``attrs.off_hours`` from the hours and weekdays the employee is usually active in (``detectors.habits``:
    learned per person, so a time zone or a shift is part of their normal; nothing is marked before a warm-up
    of active days)."""
    return e.action not in AUTOMATIC and e.attrs.get("off_hours") is True


def after_hours(e: ActivityEvent) -> str | None:
    return "after_hours" if is_after_hours(e) else None


def removable(e: ActivityEvent) -> str | None:
    """Any use of removable media: a device connected or a file copied to it."""
    if (e.kind == "device" and e.action == "connect") or e.action == "copy_to_removable":
        return "removable"
    return None


def web_category(e: ActivityEvent) -> str | None:
    cat = e.attrs.get("category") if e.kind == "web" else None
    return str(cat) if cat in FLAGGED_CATEGORIES else None


def competitor_mail(e: ActivityEvent) -> str | None:
    if e.kind == "email" and e.action in SENDS and "competitor" in (e.attrs.get("recipient_categories") or ()):
        return "mail_to_competitor"
    return None


def other_users_machine(e: ActivityEvent) -> str | None:
    """The first logon on a machine whose usual user is someone else (``attrs.host_usual_user``, set by the
    engine from logon history on the first logon there only)."""
    if e.kind == "logon" and e.action == "logon" and e.host and e.attrs.get("host_usual_user"):
        return f"host:{e.host.lower()}"
    return None


def any_first(e: ActivityEvent) -> str | None:
    """The behaviours whose first time counts towards a cluster of firsts. What the engine marked routine
    (``attrs.routine``, :mod:`detectors.habits`: a helpdesk technician's logon on a colleague's machine, a
    security analyst's exploit database) is nobody's first: it is their work (or the team's, for someone who
    is not leaving)."""
    if e.attrs.get("routine"):
        return removable(e) or competitor_mail(e) or after_hours(e)
    return removable(e) or web_category(e) or competitor_mail(e) or other_users_machine(e) or after_hours(e)
