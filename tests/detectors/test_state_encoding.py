"""The compact encodings of the per-employee state (detectors/state.py) lose nothing: dense runs of small whole
numbers as one character a day, evidence ids as their prefix and bytes."""

from __future__ import annotations

import random
import uuid

from detectors.state import EmployeeState, Series, pack_id, unpack_id


def test_ids_round_trip_and_shrink() -> None:
    rnd = random.Random(3)
    ids = [f"file:{uuid.UUID(int=rnd.getrandbits(128))}" for _ in range(50)]
    ids += [f"syn-{rnd.getrandbits(64):016x}" for _ in range(50)]
    ids += ["~odd", "~~odder", "a|b:00112233445566778899", "m365:ABCDEF", "E1-0123456789abcdef0", "x:" + "ab" * 40,
            "mde:31C33857-D804-8250-E921-200C84001663", "", "~", "-0011223344556677"]
    for x in ids:
        assert unpack_id(pack_id(x)) == x, x
    guids = ids[:50]
    assert sum(map(len, map(pack_id, guids))) < 0.75 * sum(map(len, guids))


def test_series_runs_round_trip() -> None:
    rnd = random.Random(5)
    for case in range(200):
        s = Series()
        lo = 20000 + rnd.randint(0, 50)
        for d in range(lo, lo + rnd.randint(1, 60)):
            if rnd.random() < 0.7:
                v = rnd.choice([rnd.randint(0, 63), rnd.randint(0, 5), rnd.randint(64, 900), round(rnd.random() * 9, 3)])
                if v:
                    s.days[d] = v
        st = EmployeeState(series={"r:x": s})
        back = EmployeeState.from_bytes(st.to_bytes())
        assert back.series["r:x"].days == s.days, case
        assert back.to_bytes() == st.to_bytes()


def test_small_whole_runs_take_a_character_a_day() -> None:
    s = Series(days={20000 + i: i % 50 + 1 for i in range(90)})
    obj = s.to_obj({})
    assert isinstance(obj[0][1], str) and len(obj[0][1]) == 90
