"""The engine-wide memories (a machine's usual users, what a department did first) survive a restart and do
not depend on how the employees are split into partitions (detectors/shared.py).

A "worker" here is an engine whose employees are spread over 4 partitions; it stops half-way, and a new
engine takes over from what a worker persists: each employee's state bytes and the memories' records. Its
alerts must be exactly those of one engine that never stopped (replay: one partition).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from detectors.engine import Engine
from detectors.examples import ev, hr
from detectors.state import EmployeeState
from schemas import ActivityEvent, HRRecord

PEOPLE = [f"E{i}" for i in range(1, 9)]


def _account(e: str) -> str:
    return f"{e.lower()}@corp.example"


def company() -> tuple[list[HRRecord], list[ActivityEvent]]:
    """8 people in one department, each on their own machine for 40 days. Five of them use thumb drives in
    the first weeks (common in the team: nobody's later first counts); on day 35 E8 connects one and E7 logs on
    at E1's machine (a logon on someone else's machine)."""
    hrs = [HRRecord.model_validate(hr("2026-01-01T08:00:00Z", employee_id=e, accounts=[_account(e)],
                                      department="Lab")) for e in PEOPLE]
    raw: list[dict[str, Any]] = []
    d0 = dt.date(2026, 1, 5)
    for i in range(40):
        day = (d0 + dt.timedelta(days=i)).isoformat()
        for n, e in enumerate(PEOPLE):
            raw.append(ev(f"{day}T08:{n:02d}:00Z", actor=_account(e), action="logon", host=f"PC-{e}"))
            raw.append(ev(f"{day}T10:{n:02d}:00Z", actor=_account(e), action="open"))
    for n, e in enumerate(PEOPLE[1:6]):
        raw.append(ev(f"2026-01-{6 + n:02d}T11:00:00Z", actor=_account(e), action="connect"))
    raw.append(ev("2026-02-09T11:00:00Z", actor=_account("E8"), action="connect"))
    raw.append(ev("2026-02-09T12:00:00Z", actor=_account("E7"), action="logon", host="PC-E1"))
    events = sorted((ActivityEvent.model_validate(r) for r in raw), key=lambda e: e.ts)
    return hrs, events


def _ids(alerts: list[Any]) -> list[tuple[str, str, str]]:
    return [(a.alert_id, a.rule_id, a.severity) for a in alerts]


def replay(make: Any = company) -> list[tuple[str, str, str]]:
    eng = Engine()
    hrs, events = make()
    out = []
    for r in hrs:
        out += eng.on_hr(r)
    for e in events:
        out += eng.on_event(e)
    return _ids(out)


def restarted(stop_at: int, nparts: int = 4, make: Any = company, memories: bool = True
              ) -> list[tuple[str, str, str]]:
    """The same inputs through a worker-like engine that stops after ``stop_at`` events and restarts from what
    it persisted (state bytes, memory records unless not ``memories``), with an aborted batch of 50 events just
    before the stop."""
    hrs, events = make()
    part = {r.employee_id: (int(r.employee_id[1:]) * 7) % nparts for r in hrs}
    eng = Engine()
    eng.partition_of = part.__getitem__
    out = []
    for r in hrs:
        out += eng.on_hr(r)
    for e in events[: stop_at - 50]:
        out += eng.on_event(e)
    records = {k: v for k, _, v in eng.shared_changes()}
    eng.shared_committed()
    states = {emp: st.to_bytes() for emp, st in eng.store.data.items()}  # type: ignore[attr-defined]
    for e in events[stop_at - 50 : stop_at]:  # a batch whose transaction aborts: nothing of it persists
        eng.on_event(e)
    eng.shared_rollback()
    assert {k: v for k, _, v in eng.shared_changes()} == {}
    # A new process: the states from the changelog, the memories from their topic, aliases from HR.
    new = Engine()
    new.partition_of = part.__getitem__
    for r in hrs:
        new.aliases.add(r.employee_id, r.accounts)
    for emp, raw in states.items():
        new.store.put(emp, EmployeeState.from_bytes(raw))
    for k, v in records.items() if memories else ():
        new.shared_load(k, v)
    for e in events[stop_at - 50 :]:
        out += new.on_event(e)
    return _ids(out)


def test_replay_finds_the_shared_memory_alerts() -> None:
    rules = {r for _, r, _ in replay()}
    assert "logon.other_users_machine" in rules
    assert "device.first_removable_media" not in rules  # five of eight did it before: common in the team


def test_restart_and_partitions_give_replays_alerts() -> None:
    want = replay()
    for stop_at in (120, 400, 600):
        assert restarted(stop_at) == want, stop_at


def test_memories_lost_at_a_restart_would_change_alerts() -> None:
    """Without the memories' records the restarted engine differs (the test above can fail)."""
    hrs, events = company()
    eng = Engine()
    for r in hrs:
        eng.on_hr(r)
    for e in events[:400]:
        eng.on_event(e)
    new = Engine()
    for r in hrs:
        new.aliases.add(r.employee_id, r.accounts)
    for emp, st in eng.store.data.items():  # type: ignore[attr-defined]
        new.store.put(emp, EmployeeState.from_bytes(st.to_bytes()))
    out = []
    for e in events[400:]:
        out += new.on_event(e)
    # the department's firsts forgotten: E8's first thumb drive now looks unusual
    assert "device.first_removable_media" in {r for _, r, _ in _ids(out)}


# ------------------------------------------------------------------ habits (detectors/habits.py)
def habits_company() -> tuple[list[HRRecord], list[ActivityEvent]]:
    """30 days of 12 engineers who push to github.com (a domain listed as personal) every day, a security team
    of five who read hacking-tool sites in their first week, and a sixth analyst who reads one on day 25
    (a team habit: not counted), besides everyone's daily logon."""
    eng = [f"E{i}" for i in range(1, 13)]
    sec = [f"S{i}" for i in range(1, 7)]
    hrs = [HRRecord.model_validate(hr("2026-01-01T08:00:00Z", employee_id=e, accounts=[_account(e)],
                                      department="Eng" if e[0] == "E" else "Security")) for e in eng + sec]
    raw: list[dict[str, Any]] = []
    d0 = dt.date(2026, 1, 5)
    for i in range(30):
        day = (d0 + dt.timedelta(days=i)).isoformat()
        for n, e in enumerate(eng + sec):
            raw.append(ev(f"{day}T08:{n:02d}:00Z", actor=_account(e), action="logon", host=f"PC-{e}"))
        for n, e in enumerate(eng):
            raw.append(ev(f"{day}T14:{n:02d}:00Z", actor=_account(e), kind="web", action="upload",
                          destination="github.com", object="https://github.com/acme/app", personal=True,
                          bytes=40_000))
        for n, e in enumerate(sec[:5] if i < 7 else sec[5:] if i == 25 else []):
            raw.append(ev(f"{day}T11:{n:02d}:00Z", actor=_account(e), kind="web", action="visit",
                          object="https://exploit-db.example/x", attrs={"category": "hacking_tools"}))
    events = sorted((ActivityEvent.model_validate(r) for r in raw), key=lambda e: e.ts)
    return hrs, events


def test_habits_survive_a_restart_and_partitions() -> None:
    """The company's own destinations, the team habits and the employees seen are engine-wide memories: a
    worker that restarts from what it persisted (and splits employees over partitions) alerts as replay; one
    that learned them again would alert on the engineers' pushes and the analyst's visit."""
    want = replay(habits_company)
    rules = {r for _, r, _ in want}
    assert "web.hacking_tools" not in rules  # the sixth analyst's visit is the team's habit
    n_events = len(habits_company()[1])
    for stop_at in (n_events // 3, 2 * n_events // 3):
        assert restarted(stop_at, make=habits_company) == want, stop_at
        forgot = restarted(stop_at, make=habits_company, memories=False)
        assert forgot != want, stop_at
    assert "web.hacking_tools" in {r for _, r, _ in forgot} - rules


def test_habits_records_restore_every_answer() -> None:
    """What a worker persists of the habits (its memories' records) gives a new engine the same answers: the
    company's own destination, the team's habit, the company's size."""
    hrs, events = habits_company()
    eng = Engine()
    eng.partition_of = lambda emp: int(emp[1:]) % 3
    for r in hrs:
        eng.on_hr(r)
    for e in events:
        eng.on_event(e)
    records = eng.shared_changes()
    assert {k[0] for k, _, _ in records} >= {"d", "o", "t", "m"}
    new = Engine()
    for k, _, v in records:
        new.shared_load(k, v)
    for m, n in zip(eng.habits.memories, new.habits.memories):
        assert m.parts == n.parts
    assert new.habits.employees == eng.habits.employees == 18
    assert new.habits.destinations.routine_users("github.com") == 12
    for h in (eng.habits, new.habits):
        h.part = 1
        assert h.destination_routine("github.com", "E1", 40) == 12  # the company's own: not personal
    st = EmployeeState(hr={"department": "Security"}, extra={"fs": 0})
    assert new.habits.routine(st, "S9", "hacking_tools", 40) == "team"
    assert Engine().habits.routine(st, "S9", "hacking_tools", 40) is None  # what a restart without them says
