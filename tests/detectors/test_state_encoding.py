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


#: A state as the code before DayMap (6c37865) wrote it: a run of small whole numbers, a run with a fraction and a
#: large number, sparse pairs, evidence in the id table, the base's days-behind and mask.
OLD_STATE = (
    b'{"hr":null,"s":{"r:a":[[20500,"3102501"],[[20500,0],[20501,1],[20503,2],[20504,3],[20506,4]],3,1.3333,1.5556,'
    b'20505,2.881,115],"r:b":[[20500,[2.5,0,701,0,0,12]],[[20500,5],[20502,6],[20502,6],[20505,7]],2,1.25,1.5625,'
    b'20504,2.45,115],"r:c":[[[20400,1],[20505,4.25]],[],0,0.0,0.0,20504,0.0,3]},"i":["~file:|uAABQFNgEglDpISAMhAAWYw",'
    b'"~file:|uAABQFdgEglDpISAMhAAWYw","~file:|uAABQF9gEglDpISAMhAAWYw","~file:|uAABQGNgEglDpISAMhAAWYw",'
    b'"~file:|uAABQGtgEglDpISAMhAAWYw","~syn-|hAAAAAAAAUBQ","~syn-|hAAAAAAAAUBY","~syn-|hAAAAAAAAUBk"],"m":{},"f":[],'
    b'"r":[0.0,0.0],"x":{}}'
)


def test_a_state_written_before_the_compact_days_decodes_to_the_same_values_and_bytes() -> None:
    st = EmployeeState.from_bytes(OLD_STATE)
    assert {k: list(s.days.items()) for k, s in st.series.items()} == {
        "r:a": [(20500, 3), (20501, 1), (20503, 2), (20504, 5), (20506, 1)],
        "r:b": [(20500, 2.5), (20502, 701), (20505, 12)],
        "r:c": [(20400, 1), (20505, 4.25)],
    }
    assert st.series["r:b"].evidence(20502, 20502) == ["syn-0000000000005016"] * 2
    assert st.series["r:a"].evidence_pairs()[0] == (20500, "file:00005014-d804-8250-e921-200c84001663")
    assert st.to_bytes() == OLD_STATE
