"""How replay holds an employee's state in memory (issue 15: replay's resident memory per tracked employee):
fewer and smaller objects for the same values. The values, their order and the alerts do not change (replay's
alert files before and after: reports/benchmarks/s7-perf, reports/benchmarks/s12-mem)."""

from __future__ import annotations

import random
import sys

from detectors.state import DAY_S, DayMap, EmployeeState, Series, day_of, intern_day


def test_a_day_number_is_one_object_wherever_a_state_holds_it() -> None:
    day = day_of(20500 * DAY_S + 3600.0)
    a, b = Series(), Series()
    a.add(int(str(day)), 1.0, "e1")  # a day number made elsewhere (a window's arithmetic, a decoded state)
    b.add(int(str(day)), 2.0, "e2")
    b.add(int(str(day + 2)), 1.0, "e3", learn=True)
    assert a.ev[0] is b.ev[0] is intern_day(day)
    assert b.folded is intern_day(day + 1) and b.base is not None and b.base[0] is intern_day(b.base[0])


def test_a_decoded_state_shares_its_day_numbers_and_keeps_its_values() -> None:
    st = EmployeeState()
    s = st.get_series("r:x")
    for d in (20500, 20501, 20503):
        s.add(d, 3.0 if d != 20501 else 0.5, f"e{d}", learn=True)
    back = EmployeeState.from_bytes(st.to_bytes())
    t = back.series["r:x"]
    assert t.days == s.days and list(t.days.items()) == list(s.days.items()) and t.ev == s.ev
    assert all(d is intern_day(d) for d, _ in t.evidence_pairs())
    assert back.to_bytes() == st.to_bytes()


def test_a_series_has_no_instance_dict_and_its_evidence_is_flat() -> None:
    s = Series()
    s.add(20500, 1.0, "e1")
    s.add(20501, 2.0, "e2")
    assert not hasattr(s, "__dict__")
    assert s.ev == [20500, "e1", 20501, "e2"] and s.evidence_pairs() == [(20500, "e1"), (20501, "e2")]


def test_a_month_of_daily_values_takes_a_few_hundred_bytes_not_kilobytes() -> None:
    d = {20500 + i: i % 7 for i in range(45) if i % 7}
    m = DayMap(d)
    assert m == d and sys.getsizeof(m) + sys.getsizeof(m.b) < 0.2 * sys.getsizeof(d)
    d[20510] = 2.5  # a fraction and a large number: kept beside the bytes, exactly
    d[20511] = 90000
    m = DayMap(d)
    size = sys.getsizeof(m) + sys.getsizeof(m.b) + sys.getsizeof(m.x)
    assert m == d and m.get(20510) is d[20510] and size < 0.4 * sys.getsizeof(d)


def test_a_day_map_behaves_as_the_dict_it_replaces_in_day_order() -> None:
    rnd = random.Random(11)
    for case in range(300):
        m, ref = DayMap(), {}
        for _ in range(rnd.randint(1, 80)):
            day = 20500 + rnd.randint(-40, 40) if rnd.random() < 0.97 else 20500 + rnd.choice([-5000, 5000])
            op = rnd.random()
            if op < 0.2 and ref:
                k = rnd.choice(list(ref))
                del m[k], ref[k]
            else:
                v = rnd.choice([0, 1, 5, 63, 64, 253, 254, 255, 900, -1, 2.5, 3.0, 0.001, True])
                m[day] = ref[day] = v
            assert list(m.items()) == sorted(ref.items()), case
            assert len(m) == len(ref) and bool(m) == bool(ref)
            for k in list(ref)[:5] + [day, day + 1, day - 100]:
                assert (k in m) == (k in ref) and m.get(k, "none") == ref.get(k, "none")
                got, want = m.get(k), ref.get(k)
                assert type(got) is type(want), (case, k, got, want)
            if ref:
                lo, hi = min(ref), max(ref)
                assert (m.first(), m.last()) == (lo, hi)
                for a, b in ((lo, hi), (lo + 3, hi - 3), (hi + 1, hi + 9), (lo - 9, lo)):
                    assert m.total(a, b) == sum(v for d, v in sorted(ref.items()) if a <= d <= b)
        assert m == ref and dict(m.items()) == {**m}
