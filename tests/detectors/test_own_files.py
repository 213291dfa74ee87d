"""The memory of an employee's own files (``detectors/rules/file/_ownfiles.py``) and the records it changed:
its false "own" rate as measured against the rate it states, and states written before it still read."""

from __future__ import annotations

import random

from detectors.context import HRView, day_number
from detectors.rules.file import _handover as H
from detectors.rules.file import _ownfiles as O
from detectors.rules.file import mass_deletion_before_departure as M
from detectors.state import EmployeeState
from detectors.windows import unexplained_share
from schemas import ActivityEvent


def _paths(prefix: str, n: int) -> list[str]:
    rnd = random.Random(prefix)
    return [f"/sites/{prefix}/{rnd.getrandbits(40):x}/doc {i}.docx" for i in range(n)]


def test_every_remembered_file_reads_as_own_and_none_untested() -> None:
    st = EmployeeState()
    mine = _paths("mine", 300)
    for p in mine:
        O.remember(st, p)
    got = [O.is_own(st, p) for p in mine]
    tested = [g for g in got if g is not None]
    assert all(tested)  # no false "not own"
    assert 0.15 < len(tested) / len(mine) < 0.35  # a quarter is in the sample
    assert O.is_own(st, mine[0].upper()) == O.is_own(st, mine[0])  # paths are case-insensitive


def test_the_false_own_rate_is_what_the_filter_states() -> None:
    for n, most in ((100, 0.02), (300, 0.09), (600, 0.25)):
        st = EmployeeState()
        for p in _paths(f"own{n}", n):
            O.remember(st, p)
        others = [O.is_own(st, p) for p in _paths(f"never{n}", 40000)]
        tested = [g for g in others if g is not None]
        measured = sum(tested) / len(tested)
        stated = O.false_rate(st)
        assert stated < most, (n, stated)
        assert abs(measured - stated) < 0.01 + 0.15 * stated, (n, measured, stated)


def test_a_saturated_filter_says_nothing() -> None:
    st = EmployeeState()
    for p in _paths("busy", 3000):
        O.remember(st, p)
    assert O.false_rate(st) > O.MAX_FALSE
    assert O.own_share(100, 100, O.false_rate(st)) is None
    assert not M.own_cleanup(100, 100, O.false_rate(st))


def _delete(ts: str, obj: str, sensitivity: str = "confidential") -> ActivityEvent:
    return ActivityEvent.model_validate({"event_id": f"d:{ts}:{obj}", "ts": ts, "kind": "file", "action": "delete",
                                         "actor": "ann@corp.example", "source": "synthetic", "object": obj,
                                         "sensitivity": sensitivity})


def test_a_version_5_deletion_record_is_read_and_continued() -> None:
    st = EmployeeState()
    st.extra["fs"] = day_number("2026-01-05")
    st.extra[M.KEY] = [300, 120.0]  # version 5: weight judged, weight not explained
    leaver = HRView(status="notice", notice_from=day_number("2026-03-01"), last_day=day_number("2026-03-31"))
    assert unexplained_share(st, M.KEY) == 0.4
    e = _delete("2026-03-30T10:00:00Z", "\\\\srv\\archive\\x.docx")
    M.observe(e, st, leaver, int(e.ts.timestamp() // 86400), e.ts.timestamp())
    rec = st.extra[M.KEY]
    assert len(rec) == M.FIELDS and rec[-2:] == [303, 123.0]
    assert rec[M.T_NOVEL] == 3.0  # a share never worked in (version 8)


def test_a_version_7_deletion_record_is_read_and_continued() -> None:
    st = EmployeeState()
    st.extra["fs"] = day_number("2026-01-05")
    st.extra[M.KEY] = [10, 0, 30, 45.0, 100, 60.0]  # version 7: six fields, no weight in new places
    leaver = HRView(status="notice", notice_from=day_number("2026-03-01"), last_day=day_number("2026-03-31"))
    assert unexplained_share(st, M.KEY) == 0.6
    assert not M.in_new_places(st)
    e = _delete("2026-03-30T10:00:00Z", "\\\\srv\\archive\\x.docx", sensitivity="internal")
    M.observe(e, st, leaver, int(e.ts.timestamp() // 86400), e.ts.timestamp())
    assert st.extra[M.KEY] == [10, 0, 30, 46.0, 1, 101, 76.0]  # the labelled 30 are no clean-up: weigh fully


def test_a_handover_record_with_its_marks_as_a_list_is_read_as_the_packed_one() -> None:
    def run(unpack: bool) -> list[object]:
        st = EmployeeState()
        st.extra["fs"] = day_number("2026-01-05")
        leaver = HRView(status="notice", notice_from=day_number("2026-03-01"), last_day=day_number("2026-03-31"))
        for i in range(31):  # 30 downloads on one day, one the next day (the first day's session is over)
            ts = f"2026-03-10T{9 + i // 6:02d}:{i * 7 % 60:02d}:00Z" if i < 30 else "2026-03-11T09:00:00Z"
            e = ActivityEvent.model_validate({
                "event_id": f"dl{i}", "ts": ts, "kind": "file",
                "action": "download", "actor": "ann@corp.example", "source": "synthetic",
                "object": f"/sites/board/m/{i}.pdf", "sensitivity": "restricted"})
            H.observe(e, st, leaver, int(e.ts.timestamp() // 86400), e.ts.timestamp(), counts=lambda x: True,
                      key="hs")
            rec = st.extra["hs"]
            assert isinstance(rec[H.R_MARKS], str)  # stored packed
            if unpack:  # as a state written before the packing holds it
                rec[H.R_MARKS] = H._unpack(rec[H.R_MARKS])
        return st.extra["hs"]

    packed, listed = run(False), run(True)
    assert isinstance(listed[H.R_MARKS], list) and H._unpack(packed[H.R_MARKS]) == listed[H.R_MARKS]
    assert packed[: H.R_MARKS] == listed[: H.R_MARKS] and packed[H.R_MARKS + 1 :] == listed[H.R_MARKS + 1 :]
    assert packed[-2:] == [30, 90]  # 30 novel restricted downloads, none passed on
