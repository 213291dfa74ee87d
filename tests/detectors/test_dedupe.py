"""A repeated source record (same event_id) counts once: replay and the worker share this in the engine."""

from __future__ import annotations

import datetime as dt

from detectors.dedupe import RING, fingerprint, seen_or_add, seq_of, unseq
from detectors.engine import Engine
from detectors.state import EmployeeState
from schemas import ActivityEvent, HRRecord

HR = HRRecord.model_validate({"employee_id": "E1", "ts": "2026-03-01T09:00:00Z", "status": "notice",
                              "last_day": "2026-03-31", "accounts": ["ann@corp.example"]})


def download(i: int) -> ActivityEvent:
    return ActivityEvent.model_validate({
        "event_id": f"m365:{i}", "ts": (dt.datetime(2026, 3, 10, 10, tzinfo=dt.timezone.utc)
                                        + dt.timedelta(hours=5 * i)).isoformat(),
        "kind": "file", "action": "download", "actor": "ann@corp.example", "source": "m365",
        "sensitivity": "restricted"})


def alerts_of(events: list[ActivityEvent]) -> list[tuple[str, str, float]]:
    eng = Engine()
    eng.on_hr(HR)
    out = []
    for e in events:
        out += [(a.rule_id, a.alert_id, a.explanation["observed"]) for a in eng.on_event(e)]
    return out


RULE = "file.sensitive_downloads_before_departure"  # more than 10 in the 30 days before the last day


def test_each_record_twice_gives_the_alerts_of_once() -> None:
    once = [download(i) for i in range(11)]
    twice = [e for e in once for _ in (0, 1)]
    assert RULE in {r for r, _, _ in alerts_of(once)}
    assert alerts_of(twice) == alerts_of(once)


def test_ten_records_repeated_do_not_count_as_more() -> None:
    ten = [download(i) for i in range(10)]
    assert [x for x in alerts_of(ten + ten[::-1] + ten) if x[0] == RULE] == []


def test_ring_keeps_the_newest_and_forgets_the_oldest() -> None:
    st = EmployeeState()
    for i in range(RING + 5):
        assert not seen_or_add(st, f"e{i}")
    assert len(st.extra["d"]) == RING * 6
    assert seen_or_add(st, f"e{RING + 4}") and seen_or_add(st, f"e{5}")
    assert not seen_or_add(st, "e0")  # forgotten: older than the ring


def test_pending_entries_stay_until_the_commit_passes_them() -> None:
    st = EmployeeState()
    committed = {"floor": 0}

    def floor(_idx: int, _part: int) -> int | None:
        return committed["floor"]

    for i in range(100):
        seen_or_add(st, f"e{i}", (seq_of(0, 2, i),), floor)
    assert len(st.extra["dq"]) == 100 and all(seen_or_add(st, f"e{i}", (seq_of(0, 2, i),), floor) for i in range(100))
    committed["floor"] = 60
    seen_or_add(st, "e100", (seq_of(0, 2, 100),), floor)
    assert [unseq(e[1])[2] for e in st.extra["dq"]] == list(range(60, 101))
    assert st.extra["d"].endswith(fingerprint("e59"))


def test_unknown_floor_counts_as_committed() -> None:
    st = EmployeeState()
    for i in range(3):
        seen_or_add(st, f"e{i}", (seq_of(1, 0, i),), lambda _idx, _part: None)
    # each add moves the entries before it to the committed ring: only the newest waits
    assert st.extra["d"] == fingerprint("e0") + fingerprint("e1")
    assert [e[0] for e in st.extra["dq"]] == [fingerprint("e2")]


def test_an_entry_with_two_messages_waits_for_both_commits() -> None:
    """An event detected from the rekey topic: pending until both its source record and its rekeyed copy are
    committed (the enrich stage may send it again, the detect stage may read it again)."""
    st = EmployeeState()
    floors = {(1, 3): 0, (0, 1): 0}

    def floor(idx: int, part: int) -> int | None:
        return floors.get((idx, part))

    seen_or_add(st, "a", (seq_of(1, 3, 50), seq_of(0, 1, 7)), floor)
    floors[(1, 3)] = 51  # the source record is committed, its copy not yet
    seen_or_add(st, "b", (seq_of(1, 3, 51), seq_of(0, 1, 8)), floor)
    assert [e[0] for e in st.extra["dq"]] == [fingerprint("a"), fingerprint("b")]
    floors[(0, 1)] = 8
    seen_or_add(st, "c", (seq_of(1, 3, 52), seq_of(0, 1, 9)), floor)
    assert st.extra["d"] == fingerprint("a") and [e[0] for e in st.extra["dq"]] == [fingerprint("b"), fingerprint("c")]


def test_a_copy_detected_after_both_messages_were_committed_is_still_recognised() -> None:
    """An event detected from a copy (the rekey topic, seq index 0) whose source record (index 6) was read
    again before its commit has a second copy further on in the copy's partition. Seen in the quick fault
    run: the second copy was detected after both the first copy and the source were committed, the entry had
    gone to the ring, 16 newer events pushed it out, and the event counted twice. Now the entry waits until
    detection has passed the end of the copy's partition as it was when both were committed."""
    committed = {(0, 1): 3413, (6, 3): 1277}

    class Floors:
        def __call__(self, idx: int, part: int) -> int | None:
            return committed.get((idx, part))

        def end(self, idx: int, part: int) -> int | None:
            return 3501 if idx == 0 else None  # the second copy sits at 3500

    floors = Floors()
    st = EmployeeState()
    first = (seq_of(0, 1, 3412), seq_of(6, 3, 1216))
    assert not seen_or_add(st, "web:upload-1", first, floors)
    for i in range(RING + 4):  # newer events of the employee, detected inline after both commits
        assert not seen_or_add(st, f"file:{i}", (seq_of(1, 1, 2600 + i),), floors)
    committed[(1, 1)] = 2700
    assert seen_or_add(st, "web:upload-1", (seq_of(0, 1, 3500), seq_of(6, 3, 1216)), floors)  # the 2nd copy
    committed[(0, 1)] = 3501  # detection passed the copy's end: the entry leaves the pending list
    seen_or_add(st, "file:late", (seq_of(1, 1, 2700),), floors)
    assert all(e[0] != fingerprint("web:upload-1") for e in st.extra.get("dq", []))


def test_without_the_partition_end_a_committed_copy_leaves_the_pending_list() -> None:
    """The same without ``end`` (a plain floor function): the entry goes to the ring once both messages are
    committed, as before (an event detected in place has no copies)."""
    committed = {(0, 1): 3413, (6, 3): 1277}
    st = EmployeeState()
    floor = lambda i, p: committed.get((i, p))  # noqa: E731
    seen_or_add(st, "web:upload-1", (seq_of(0, 1, 3412), seq_of(6, 3, 1216)), floor)
    seen_or_add(st, "file:0", (seq_of(1, 1, 2600),), floor)
    assert fingerprint("web:upload-1") in st.extra["d"]
