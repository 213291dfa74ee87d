"""``watch_drain``: the rate and CPU figures of a driver from its group's commits and its processes' CPU clock.

The broker and the processes are scripted here (a unit test: no timing, no Kafka); the figures follow from the
script exactly."""

from __future__ import annotations

import os
from typing import Any

import pytest

from exitwatch import bench


class Script:
    """Committed offsets and CPU seconds, one pair per poll, and a clock that moves one poll per sleep."""

    def __init__(self, committed: list[int], cpu: list[float]) -> None:
        self.committed, self.cpu, self.i, self.now = committed, cpu, -1, 100.0

    # the Kafka side
    def committed_of(self, group: str, topics: list[str]) -> int:
        self.i = min(self.i + 1, len(self.committed) - 1)
        return self.committed[self.i]

    # the time module's side
    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(committed: list[int], cpu: list[float], run_s: float = 4.0) -> Script:
        sc = Script(committed, cpu)
        monkeypatch.setattr(bench, "time", sc)
        monkeypatch.setattr(bench, "cpu_seconds", lambda pid: sc.cpu[max(sc.i, 0)])
        monkeypatch.setattr(bench, "run_seconds", lambda pid: run_s)
        return sc
    return make


class FakeKafka:
    def __init__(self, sc: Script) -> None:
        self.sc = sc

    def committed(self, group: str, topics: list[str]) -> int:
        return self.sc.committed_of(group, topics)


def test_a_drain_over_several_polls_is_measured_in_its_window(script: Any) -> None:
    sc = script([0, 0, 500, 1000, 1500, 2000], [1.0, 1.0, 1.1, 1.2, 1.3, 1.4])
    res = bench.watch_drain(FakeKafka(sc), "g", ["t"], 2000, [1], "x")  # type: ignore[arg-type]
    assert res["cpu_basis"] == "window"
    # from the poll before the first commit (t=100.2, cpu 1.0) to 1,800 committed (t=100.0+0.2*4.6, cpu 1.36)
    assert res["measured_seconds"] == pytest.approx(0.72)
    assert res["events_per_s"] == round(1800 / 0.72)
    assert res["cpu_share"] == 0.5
    assert res["events_per_cpu_s"] == round(1800 / 0.36)


def test_a_drain_in_one_batch_takes_the_whole_run_cpu(script: Any) -> None:
    # The driver consumed and processed the whole backlog before its only commit: the CPU rose before the
    # window, and the window holds none of it (the quick benchmark's scale-out saw a share of 0.0).
    sc = script([0, 0, 0, 2000], [0.9, 1.2, 1.3, 1.3], run_s=4.0)
    res = bench.watch_drain(FakeKafka(sc), "g", ["t"], 2000, [1], "x")  # type: ignore[arg-type]
    assert res["cpu_basis"] == "whole_run"
    assert res["cpu_share"] == round(1.3 / 4.0, 2) > 0
    assert res["events_per_cpu_s"] == round(1800 / 1.3)


def test_the_cpu_clock_never_runs_back(script: Any) -> None:
    # a thread that ends takes its nanoseconds out of the finer clock; the window must not see a negative CPU
    sc = script([0, 0, 500, 1000, 1500, 2000], [1.0, 1.0, 1.2, 1.1, 1.3, 1.4])
    res = bench.watch_drain(FakeKafka(sc), "g", ["t"], 2000, [1], "x")  # type: ignore[arg-type]
    assert res["cpu_basis"] == "window" and res["cpu_share"] > 0


def test_cpu_seconds_and_run_seconds_read_this_process() -> None:
    t0 = bench.cpu_seconds(os.getpid())
    x = 0
    while bench.cpu_seconds(os.getpid()) == t0:  # spins until the clock moves
        x += 1
    step = bench.cpu_seconds(os.getpid()) - t0
    assert 0 < step
    assert bench.run_seconds(os.getpid()) > 0
