"""How replay holds an employee's state in memory (issue 15: replay's resident memory per tracked employee):
fewer objects for the same values. The values, their order and the alerts do not change (replay's alert file
before and after: reports/benchmarks/s7-perf)."""

from __future__ import annotations

import sys

from detectors.state import DAY_S, EmployeeState, Series, day_of, intern_day


def test_a_day_number_is_one_object_wherever_a_state_holds_it() -> None:
    day = day_of(20500 * DAY_S + 3600.0)
    a, b = Series(), Series()
    a.add(int(str(day)), 1.0, "e1")  # a day number made elsewhere (a window's arithmetic, a decoded state)
    b.add(int(str(day)), 2.0, "e2")
    b.add(int(str(day + 2)), 1.0, "e3", learn=True)
    ka, kb = next(iter(a.days)), next(iter(b.days))
    assert ka == day and ka is kb is intern_day(day)
    assert a.ev[0][0] is b.ev[0][0] is intern_day(day)
    assert b.folded is intern_day(day + 1) and b.base is not None and b.base[0] is intern_day(b.base[0])


def test_a_decoded_state_shares_its_day_numbers_and_keeps_its_values() -> None:
    st = EmployeeState()
    s = st.get_series("r:x")
    for d in (20500, 20501, 20503):
        s.add(d, 3.0 if d != 20501 else 0.5, f"e{d}", learn=True)
    back = EmployeeState.from_bytes(st.to_bytes())
    t = back.series["r:x"]
    assert t.days == s.days and list(t.days) == list(s.days) and t.ev == s.ev
    assert all(k is intern_day(k) for k in t.days) and all(d is intern_day(d) for d, _ in t.ev)
    assert back.to_bytes() == st.to_bytes()


def test_a_series_has_no_instance_dict_and_its_evidence_entries_are_pairs() -> None:
    s = Series()
    s.add(20500, 1.0, "e1")
    assert not hasattr(s, "__dict__")
    assert s.ev == [(20500, "e1")] and sys.getsizeof(s.ev[0]) < sys.getsizeof([20500, "e1"])
