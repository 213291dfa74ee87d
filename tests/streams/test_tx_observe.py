"""The transactional worker's HR gauges and its HR population refreshes scan Redis on a thread of their own,
never on the loop's thread (a Redis shared with other applications may hold millions of keys: the scan must not
stall the loop)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import orjson

from streams import metrics
from streams.tx.observe import TxObservability


class _BlockingRedis:
    """A Redis whose SCAN waits until ``release`` is set; remembers the thread that scanned."""

    def __init__(self, records: dict[bytes, dict[str, Any]]) -> None:
        self.records = records
        self.release = threading.Event()
        self.scanning = threading.Event()
        self.threads: list[threading.Thread] = []

    def scan_iter(self, match: str, count: int) -> Any:
        self.threads.append(threading.current_thread())
        self.scanning.set()
        self.release.wait(30)  # (on the loop thread, the old way, the test fails after this wait)
        return iter(list(self.records))

    def pipeline(self, transaction: bool = False) -> Any:
        redis, keys = self, []

        class _Pipe:
            def hget(self, key: bytes, field: str) -> None:
                keys.append(key)

            def execute(self) -> list[bytes]:
                return [orjson.dumps(redis.records[k]) for k in keys]

        return _Pipe()


def test_the_hr_scan_runs_off_the_loop_thread_one_at_a_time() -> None:
    redis = _BlockingRedis({b"t.hr:E1": {"status": "notice", "department": "obs-test", "last_day": "2999-01-01"},
                            b"t.hr:E2": {"status": "active", "department": "obs-test", "watchlist": True}})
    worker = SimpleNamespace(hr=SimpleNamespace(redis=redis), settings=SimpleNamespace(topic_prefix="t."))
    obs = TxObservability(worker)
    obs.heartbeat_now()  # due at once: starts the scan, which blocks, and returns to the loop
    assert redis.scanning.wait(60)
    assert obs.heartbeat is not None
    first = obs._hr_thread
    assert first is not None and first.is_alive()
    assert obs.hr_gauges_in_background() is None  # the last scan still runs: no second one
    redis.release.set()
    first.join(60)
    assert redis.threads == [first] and first is not threading.main_thread()
    assert metrics.HR_EMPLOYEES.labels("notice", metrics.bounded("department", "obs-test"))._value.get() == 1.0
    assert metrics.LEAVING.labels("later")._value.get() >= 1.0
    again = obs.hr_gauges_in_background()  # finished: the next period scans again
    assert again is not None
    again.join(60)
    assert len(redis.threads) == 2


class _SlowHR:
    """An HR store whose ``all_records`` waits for ``release`` from its second call on."""

    def __init__(self) -> None:
        self.calls: list[threading.Thread] = []
        self.release = threading.Event()
        self.records = [{"employee_id": "E1", "status": "active", "department": "x"}]

    def all_records(self) -> list[dict[str, Any]]:
        self.calls.append(threading.current_thread())
        if len(self.calls) > 1:
            self.release.wait(30)
        return [dict(r) for r in self.records]


def test_the_hr_population_is_read_at_start_then_refreshed_off_the_loop_thread() -> None:
    from streams.tx import upkeep

    seen: list[dict[str, Any]] = []
    hr = _SlowHR()
    worker = SimpleNamespace(hr=hr, proc=SimpleNamespace(outputs=SimpleNamespace(on_hr_population=seen.append)),
                             _population_at=0.0, _population_job=None)
    upkeep.refresh_population(worker)  # the first read: here, before any record is processed
    assert [r["employee_id"] for r in seen] == ["E1"] and hr.calls == [threading.current_thread()]
    worker._population_at = 1.0  # due again
    hr.records.append({"employee_id": "E2", "status": "notice", "department": "x"})
    upkeep.refresh_population(worker)  # starts the read on a thread, which blocks, and returns
    job = worker._population_job
    assert job is not None and job.is_alive() and len(seen) == 1
    upkeep.refresh_population(worker)  # still reading: nothing applied, no second read
    assert len(seen) == 1 and len(hr.calls) == 2
    hr.release.set()
    job.join(60)
    assert hr.calls[1] is job and job is not threading.current_thread()
    upkeep.refresh_population(worker)  # applied on the loop's thread at its next idle step
    assert [r["employee_id"] for r in seen] == ["E1", "E1", "E2"] and worker._population_job is None


class _BlockingHR:
    """An HR store whose ``all_records`` waits for ``release``; remembers the threads that read."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.release = threading.Event()
        self.calls: list[threading.Thread] = []

    def all_records(self) -> list[dict[str, Any]]:
        self.calls.append(threading.current_thread())
        self.release.wait(30)
        return [dict(r) for r in self.records]


def test_the_leavers_of_new_partitions_are_read_off_the_loop_thread_and_noted_before_their_records() -> None:
    """The assignment starts the HR store's SCAN for the leavers on a thread and returns; the loop applies what
    it read at its next step, and waits for it only when records are about to be processed."""
    from streams.tx import upkeep

    part = {"E1": 0, "E2": 1, "E3": 0, "E4": 2}
    hr = _BlockingHR([
        {"employee_id": "E1", "status": "notice", "last_day": "2999-01-10"},  # leaver, partition 0
        {"employee_id": "E2", "status": "notice", "last_day": "2999-01-10"},  # leaver, partition 1: not this one
        {"employee_id": "E3", "status": "active"},  # partition 0, not leaving
        {"employee_id": "E4", "status": "notice", "last_day": "2999-01-10"},  # partition 2: revoked meanwhile
    ])
    due: dict[str, Any] = {}
    worker = SimpleNamespace(hr=hr, owned={0, 2}, _leavers_jobs=[], partition_of=part.__getitem__,
                             engine=SimpleNamespace(note_due=lambda emp, view: due.__setitem__(emp, view.last_day)))
    upkeep.read_leavers(worker, {0, 2})  # the assignment: starts the read, which blocks, and returns
    [(job, parts)] = worker._leavers_jobs
    assert parts == {0, 2} and job.is_alive() and not due
    assert upkeep.note_leavers(worker, wait=False) == 0  # an idle step: nothing to apply yet, nothing waited for
    assert job.is_alive() and worker._leavers_jobs and not due
    worker.owned.discard(2)  # partition 2 revoked before the read ended
    threading.Timer(0.1, hr.release.set).start()
    assert upkeep.note_leavers(worker, wait=True) == 1  # records to process: waits for the read, then notes
    assert list(due) == ["E1"] and worker._leavers_jobs == []
    assert hr.calls == [job] and job is not threading.current_thread()
    upkeep.read_leavers(worker, set())  # nothing new owned: no read
    assert worker._leavers_jobs == [] and len(hr.calls) == 1


def test_a_failed_leavers_read_is_reported_and_dropped() -> None:
    from streams.tx import upkeep

    class _Down:
        def all_records(self) -> list[dict[str, Any]]:
            raise ConnectionError("redis down")

    worker = SimpleNamespace(hr=_Down(), owned={0}, _leavers_jobs=[], partition_of=lambda e: 0,
                             engine=SimpleNamespace(note_due=lambda emp, view: None))
    upkeep.read_leavers(worker, {0})
    assert upkeep.note_leavers(worker, wait=True) == 0 and worker._leavers_jobs == []
