"""The connector benchmark runs (quick mode) and reports a rate for every format."""

from connectors import sources
from connectors.bench import bench_connectors


def test_bench_quick_covers_every_format():
    res = bench_connectors(quick=True)
    assert set(res) == set(sources.names())
    for name, r in res.items():
        assert r["lines"] >= 3000 and r["outputs"] > 0 and r["lines_per_s"] > 0, name
