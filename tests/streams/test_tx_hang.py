"""Unit tests of the bounded transaction calls (streams/tx/txn.py: Calls, Transaction) and of taking up the
committed state after a failed or hung transaction (streams/tx/resume.py), with fake clients. The same on the
real broker: tests/integration/test_tx_worker.py (a commit that hangs before or after it reached the broker)."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from schemas.settings import Settings
from streams.tx import resume, txn
from streams.tx.txn import Calls, Fenced, Hung, Transaction


class FakeProducer:
    """A transactional producer whose calls can be made to block until ``gate`` is set."""

    instances: list["FakeProducer"] = []

    def __init__(self, conf: dict[str, Any]) -> None:
        self.conf = conf
        self.calls: list[str] = []
        self.block: set[str] = set()
        self.gate = threading.Event()
        self.raise_on: dict[str, BaseException] = {}
        self.freed_on: list[str] = []
        FakeProducer.instances.append(self)

    def _do(self, name: str) -> None:
        self.calls.append(name)
        if name in self.raise_on:
            raise self.raise_on[name]
        if name in self.block:
            self.gate.wait(30)

    def init_transactions(self, timeout: float) -> None:
        self._do("init_transactions")

    def begin_transaction(self) -> None:
        self._do("begin_transaction")

    def produce(self, topic: str, **kw: Any) -> None:
        self.calls.append(f"produce {topic}")

    def poll(self, timeout: float = 0) -> int:
        return 0

    def send_offsets_to_transaction(self, offsets: Any, meta: Any, timeout: float) -> None:
        self._do("send_offsets_to_transaction")

    def commit_transaction(self, timeout: float) -> None:
        self._do("commit_transaction")

    def abort_transaction(self, timeout: float) -> None:
        self._do("abort_transaction")

    def flush(self, timeout: float) -> int:
        self._do("flush")
        return 0

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


@pytest.fixture
def fake(monkeypatch: Any) -> type[FakeProducer]:
    FakeProducer.instances = []
    monkeypatch.setattr(txn, "Producer", FakeProducer)
    monkeypatch.setattr(txn, "GRACE_S", 0.05)
    return FakeProducer


# ------------------------------------------------------------------------------------------------ Calls
def test_calls_return_values_and_raise_the_calls_own_errors() -> None:
    c = Calls("t")
    assert c.run(lambda a, b: a * b, 6, 7, deadline=10) == 42
    with pytest.raises(ZeroDivisionError):
        c.run(lambda: 1 / 0, deadline=10)
    assert c.run(str.upper, "ok", deadline=10) == "OK"  # the thread still serves after an error
    c.retire(None)


def test_a_call_past_its_deadline_raises_hung_and_later_calls_are_refused_at_once() -> None:
    c = Calls("t")
    gate, ran = threading.Event(), []
    with pytest.raises(Hung, match="wait did not return"):
        c.run(gate.wait, 30, deadline=0.05)
    with pytest.raises(Hung, match="never returned"):
        c.run(ran.append, 1, deadline=10)
    assert ran == []  # refused, not queued behind the hung call
    gate.set()
    c.retire(None)


def test_retired_object_is_released_on_the_helper_thread_once_the_hung_call_returns() -> None:
    class Held:
        freed_on: list[str] = []

        def __del__(self) -> None:
            Held.freed_on.append(threading.current_thread().name)

    c = Calls("retire")
    gate = threading.Event()
    with pytest.raises(Hung):
        c.run(gate.wait, 30, deadline=0.05)
    c.retire(Held())
    assert Held.freed_on == []  # still held while the call hangs
    gate.set()
    for t in threading.enumerate():
        if t.name == "tx-calls-retire":
            t.join(10)
    gc.collect()
    assert Held.freed_on == ["tx-calls-retire"]


# ------------------------------------------------------------------------------------------------ Transaction
def test_a_hung_commit_abandons_the_producer_and_nothing_more_is_asked_of_it(fake: type[FakeProducer]) -> None:
    tx = Transaction({}, "tid", timeout_s=0.05)
    p = fake.instances[0]
    assert p.calls == ["init_transactions"] and p.conf["transactional.id"] == "tid"
    tx.send("out", b"v")
    p.block.add("commit_transaction")
    with pytest.raises(Hung):
        tx.commit([TopicPartition("in", 0, 5)], object())
    assert tx.abandoned and not tx.open and tx.producer is None
    for call in (tx.begin, lambda: tx.send("out", b"w")):
        with pytest.raises(Hung):
            call()
    tx.abort()  # nothing open any more: no call
    tx.close()  # no call on an abandoned producer: no flush, no abort
    assert p.calls == ["init_transactions", "begin_transaction", "produce out", "send_offsets_to_transaction",
                       "commit_transaction"]
    p.gate.set()


def test_a_hung_init_leaves_no_usable_transaction(fake: type[FakeProducer]) -> None:
    orig = FakeProducer.__init__

    def blocking_init(self: FakeProducer, conf: dict[str, Any]) -> None:
        orig(self, conf)
        self.block.add("init_transactions")

    fake.__init__ = blocking_init  # type: ignore[method-assign]
    try:
        with pytest.raises(Hung):
            Transaction({}, "tid", timeout_s=0.05)
    finally:
        fake.__init__ = orig  # type: ignore[method-assign]
    p = fake.instances.pop()
    freed = p.freed_on
    p.gate.set()
    del p
    for t in threading.enumerate():
        if t.name == "tx-calls-tid":
            t.join(10)
    gc.collect()
    assert freed == ["tx-calls-tid"]  # released on its helper thread once init returned, not kept


def test_fatal_errors_of_bounded_calls_are_fenced_others_are_raised(fake: type[FakeProducer]) -> None:
    tx = Transaction({}, "tid", timeout_s=1)
    p = fake.instances[0]
    p.raise_on["commit_transaction"] = KafkaException(KafkaError(KafkaError._TIMED_OUT))
    with pytest.raises(KafkaException):
        tx.commit([], object())
    assert not tx.abandoned  # a plain failure: the producer still answers
    p.raise_on["abort_transaction"] = KafkaException(KafkaError(KafkaError._FENCED))
    with pytest.raises(Fenced):
        tx.abort()


# ------------------------------------------------------------------------------------------------ resume
class FakeTx:
    def __init__(self, log: list[str]) -> None:
        self.log, self.abandoned, self.open = log, False, True

    def abandon(self) -> None:
        self.log.append("abandon")
        self.abandoned, self.open = True, False


class FakeConsumer:
    def __init__(self, log: list[str], committed: dict[tuple[str, int], int]) -> None:
        self.log, self.offsets, self.sought = log, committed, []

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.offsets]

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        self.log.append("committed")
        return [TopicPartition(tp.topic, tp.partition, self.offsets[(tp.topic, tp.partition)]) for tp in tps]

    def seek(self, tp: TopicPartition) -> None:
        self.sought.append((tp.topic, tp.partition, tp.offset))


class FakeWorker:
    def __init__(self, log: list[str]) -> None:
        from streams.tx.merge import TimeMerge
        from streams.tx.store import StateStore

        self.log = log
        self.settings = Settings(tx_call_timeout_s=1.0)
        self.instance, self.changelog, self.owned = "tid", "changelog", {0}
        self.tx: Any = FakeTx(log)
        self.consumer = FakeConsumer(log, {("in", 0): 7, ("in", 1): -1001})
        self.store = StateStore(lambda emp: 0)
        self.merge = TimeMerge(idle=0.05)
        self.merge.add(("in", 0))
        self.sealer = type("Sealer", (), {"open": staticmethod(lambda v, _: v)})()
        self.resume_due: str | None = None
        self.committed_offsets: dict[tuple[str, int], int] = {}
        self.unheard: set[tuple[str, int]] = set()
        self.loop_at = 0.0
        self.models = type("Models", (), {"restore": lambda _, factory, timeout=120: log.append("models restored")})()
        self.shared = type("Shared", (), {"reload": lambda _, timeout=120: log.append("memories reloaded")})()

    def rollback(self) -> None:
        self.log.append("rollback")

    def _restore_consumer(self) -> None:
        raise AssertionError("restore is faked")


def test_after_a_hung_commit_a_new_producer_fences_the_old_before_the_committed_state_is_read(monkeypatch: Any) -> None:
    from detectors.state import EmployeeState
    from streams.tx.merge import Rec

    log: list[str] = []
    made: list[str] = []

    def new_tx(conf: Any, tid: str, timeout_s: float) -> FakeTx:
        log.append("new producer")
        made.append(tid)
        t = FakeTx(log)
        t.open = False
        return t

    def fake_restore(factory: Any, topic: str, parts: Any, store: Any, unseal: Any, timeout: float = 120) -> int:
        log.append(f"restore {topic} {sorted(parts)}")
        store.load("E1", 0, EmployeeState().to_bytes())
        return 1

    monkeypatch.setattr(resume, "Transaction", new_tx)
    monkeypatch.setattr(resume, "restore", fake_restore)
    w = FakeWorker(log)
    w.store.put("E9", EmployeeState())  # an uncommitted change of the hung transaction
    w.merge.push(Rec("in", 0, 9, 1.0, 2))
    resume.failed(w, Hung("commit_transaction did not return"))
    assert log == ["abandon", "rollback", "new producer", "committed", "restore changelog [0]", "models restored",
                   "memories reloaded"]
    assert made == ["tid"]  # the same transactional id: the new producer fences the old one
    assert w.resume_due is None and not w.tx.abandoned
    assert w.store.get("E1") is not None and w.store.get("E9") is None and w.merge.buffered() == 0
    assert sorted(w.consumer.sought) == [("in", 0, 7), ("in", 1, -2)]  # committed offset, or the start
    assert w.committed_offsets == {("in", 0): 7, ("in", 1): -1001}


def test_while_the_broker_is_away_resume_is_retried_and_nothing_is_consumed(monkeypatch: Any) -> None:
    log: list[str] = []
    attempts = []

    def no_broker(conf: Any, tid: str, timeout_s: float) -> FakeTx:
        attempts.append(tid)
        raise KafkaException(KafkaError(KafkaError._TRANSPORT))

    monkeypatch.setattr(resume, "Transaction", no_broker)
    monkeypatch.setattr(resume, "RETRY_S", 0.0)
    w = FakeWorker(log)
    resume.failed(w, Hung("commit_transaction did not return"))
    assert w.resume_due and w.tx.abandoned and "committed" not in log
    assert resume.resume(w) is False and len(attempts) == 2 and "committed" not in log


def test_a_consumer_error_with_the_fatal_code_renews_the_clients() -> None:
    """librdkafka reports a fatal consumer error (a static member fenced after a broker restart) as a message
    error with the code _FATAL, without the fatal flag; it must not be taken for a passing warning."""
    from streams.tx.assign import ClientFailed
    from streams.tx.worker import TxWorker

    class Event:  # a message that carries an error, as the consumer returns it
        def __init__(self, err: KafkaError) -> None:
            self.err = err

        def error(self) -> KafkaError:
            return self.err

    err = KafkaError(KafkaError._FATAL, "Static consumer fenced by other consumer with same group.instance.id")
    assert not err.fatal()
    with pytest.raises(ClientFailed):
        TxWorker._consume_error(object(), Event(err))  # type: ignore[arg-type]
    TxWorker._consume_error(object(), Event(KafkaError(KafkaError._TRANSPORT)))  # type: ignore[arg-type]  # passing


def test_a_resumption_that_keeps_failing_makes_the_clients_anew(monkeypatch: Any) -> None:
    """A consumer fenced while the broker was away answers "unknown partition" to everything and reports its fatal
    error only through consume, which a failing resumption never reaches: after RENEW_AFTER attempts in a row the
    worker renews its clients instead of retrying for ever (fault run 4 of the thirteenth session)."""
    log: list[str] = []

    class DeadConsumer(FakeConsumer):
        def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
            log.append("committed")
            raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION, "Failed to get watermark offsets"))

    monkeypatch.setattr(resume, "RETRY_S", 0.0)
    w = FakeWorker(log)
    w.consumer = DeadConsumer(log, {("in", 0): 7})
    w._renew_due = None
    w.resume_due = "commit hung"
    for _ in range(resume.RENEW_AFTER - 1):
        assert resume.resume(w) is False
        assert w.resume_due == "commit hung" and w._renew_due is None  # retried
    assert resume.resume(w) is False
    assert w.resume_due is None and w._renew_due and "resumption failed" in w._renew_due
    assert log.count("committed") == resume.RENEW_AFTER and w.resume_failures == 0


def test_a_resumption_that_succeeds_starts_the_count_again(monkeypatch: Any) -> None:
    log: list[str] = []
    monkeypatch.setattr(resume, "RETRY_S", 0.0)
    monkeypatch.setattr(resume, "restore", lambda *a, **k: 0)
    w = FakeWorker(log)
    w.resume_failures = resume.RENEW_AFTER - 1
    w.resume_due = "commit hung"
    assert resume.resume(w) is True and w.resume_failures == 0 and w.resume_due is None
