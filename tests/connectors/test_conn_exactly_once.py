"""`exitwatch connect --follow --checkpoint` survives ``kill -9`` and a restart: no record lost, none repeated.

The connector runs as a subprocess on a growing file and is killed while records it produced are not yet
covered by a checkpoint. To Kafka (a transaction per sync point, checkpoint on ``connect.checkpoints``),
a ``read_committed`` reader then sees every input event exactly once; to a file, the output is cut back to
its size at the checkpoint. ``--no-transactions`` (the old at-least-once behaviour) repeats records in the
same scenario, which shows the check can fail.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kafka_reading import read_topics

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def ev_line(i: int) -> str:
    return json.dumps({"event_id": f"x{i}", "ts": "2026-03-02T09:15:00Z", "kind": "file", "action": "open",
                       "actor": f"u{i % 7}@corp.example", "source": "synthetic", "object": f"/f/{i}"}) + "\n"


def append(path: Path, lo: int, hi: int) -> None:
    with open(path, "a") as f:
        f.write("".join(ev_line(i) for i in range(lo, hi)))


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_connector_left_behind():
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def start(log: Path, cp: Path, *extra: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "connectors", "synthetic", str(log), "--follow", "--checkpoint", str(cp),
           "--poll-interval", "0.05", *extra]
    if stderr is subprocess.PIPE:
        cmd.append("--quiet")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    _STARTED.append(proc)
    return proc


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the connector ended before it was killed"


def wait_for(cond, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"connector exited {proc.returncode} while waiting for {what}: "
                                 f"{proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def checkpointed(cp: Path, log: Path) -> int:
    """The byte offset of ``log`` in the checkpoint file (-1 when there is none yet)."""
    try:
        return int(json.loads(cp.read_text())["files"][str(log)]["offset"])
    except (OSError, ValueError, KeyError):
        return -1


def stop_when_caught_up(proc: subprocess.Popen, cp: Path, log: Path) -> None:
    """Wait until the checkpoint covers the whole input, then stop the connector cleanly (SIGTERM)."""
    wait_for(lambda: checkpointed(cp, log) == log.stat().st_size, 90, "the checkpoint to reach the end", proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]


def produced(bootstrap: str, topic: str) -> int:
    """Messages on ``topic`` so far, committed or not (sum of the high watermarks)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks", "isolation.level": "read_uncommitted"})
    try:
        meta = c.list_topics(topic, timeout=10).topics[topic]
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions)
    except KafkaException:  # a topic just created may have no leader yet
        return 0
    finally:
        c.close()


def event_ids(bootstrap: str, topic: str, isolation: str) -> collections.Counter:
    got = read_topics(bootstrap, [topic], None, timeout=60, isolation=isolation, to_end=True)
    return collections.Counter(v["event_id"] for v in got[topic])


def kafka_args(bootstrap: str, prefix: str) -> list[str]:
    return ["--bootstrap", bootstrap, "--topic-prefix", prefix]


def _kill_before_checkpoint_then_restart(tmp_path, bootstrap, prefix, kafka_admin, extra: list[str]):
    topic = prefix + "activity.file"
    kafka_admin.create_topics([topic, prefix + "deadletter"], partitions=3)
    log, cp = tmp_path / "follow.jsonl", tmp_path / "cp.json"
    append(log, 0, 300)
    # a long sync interval: the first 300 records are produced, then no checkpoint for 40 s
    proc = start(log, cp, *kafka_args(bootstrap, prefix), "--sync-interval", "40", *extra)
    wait_for(lambda: produced(bootstrap, topic) >= 300, 60, "300 records produced", proc)
    kill9(proc)
    assert checkpointed(cp, log) in (-1, 0)  # nothing of them was checkpointed
    proc = start(log, cp, *kafka_args(bootstrap, prefix), "--sync-interval", "0.2", *extra)
    append(log, 300, 500)
    with open(log, "a") as f:
        f.write("not json\n")  # a dead letter goes in the same transaction
    stop_when_caught_up(proc, cp, log)
    return topic


def test_kill9_before_checkpoint_restart_exactly_once(tmp_path, kafka_bootstrap, unique_prefix, kafka_admin):
    topic = _kill_before_checkpoint_then_restart(tmp_path, kafka_bootstrap, unique_prefix, kafka_admin, [])
    seen = event_ids(kafka_bootstrap, topic, "read_committed")
    expected = {f"x{i}" for i in range(500)}
    assert set(seen) == expected, f"missing {sorted(expected - set(seen))[:5]}, extra {sorted(set(seen) - expected)[:5]}"
    assert [k for k, n in seen.items() if n > 1] == []
    # the killed run's 300 records are in the log, aborted: the kill did land before their checkpoint
    assert sum(event_ids(kafka_bootstrap, topic, "read_uncommitted").values()) == 800
    dls = read_topics(kafka_bootstrap, [unique_prefix + "deadletter"], None, timeout=30, to_end=True,
                      isolation="read_committed")
    assert [d["raw"] for d in dls[unique_prefix + "deadletter"]] == ["not json"]
    cps = read_topics(kafka_bootstrap, [unique_prefix + "connect.checkpoints"], None, timeout=30, to_end=True,
                      keys=True, isolation="read_committed")[unique_prefix + "connect.checkpoints"]
    assert cps and cps[-1][1]["files"] == json.loads((tmp_path / "cp.json").read_text())["files"]


def test_without_transactions_the_same_kill_repeats_records(tmp_path, kafka_bootstrap, unique_prefix, kafka_admin):
    """The control: the at-least-once mode sends the 300 unchecked records again, and the check sees it."""
    topic = _kill_before_checkpoint_then_restart(tmp_path, kafka_bootstrap, unique_prefix, kafka_admin,
                                                 ["--no-transactions"])
    seen = event_ids(kafka_bootstrap, topic, "read_committed")
    assert set(seen) == {f"x{i}" for i in range(500)}
    assert sorted(k for k, n in seen.items() if n > 1) == sorted(f"x{i}" for i in range(300))


def test_kill9_at_random_moments_while_the_file_grows(tmp_path, kafka_bootstrap, unique_prefix, kafka_admin):
    topic = unique_prefix + "activity.file"
    kafka_admin.create_topics([topic, unique_prefix + "deadletter"], partitions=3)
    log, cp = tmp_path / "grow.jsonl", tmp_path / "cp.json"
    rng = random.Random(int(os.environ.get("EXACTLY_ONCE_SEED", "5")))
    written = [0]
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            n = rng.randint(5, 60)
            append(log, written[0], written[0] + n)
            written[0] += n
            time.sleep(0.02)

    log.touch()
    t = threading.Thread(target=writer)
    t.start()
    args = [*kafka_args(kafka_bootstrap, unique_prefix), "--sync-interval", "0.3"]
    try:
        for round_ in range(4):
            proc = start(log, cp, *args)
            before = produced(kafka_bootstrap, topic) if round_ else 0
            wait_for(lambda: produced(kafka_bootstrap, topic) > before, 60, "records produced", proc)
            time.sleep(rng.uniform(0.0, 0.6))
            kill9(proc)
    finally:
        done.set()
        t.join(10)
    proc = start(log, cp, *args)
    stop_when_caught_up(proc, cp, log)
    seen = event_ids(kafka_bootstrap, topic, "read_committed")
    expected = {f"x{i}" for i in range(written[0])}
    assert set(seen) == expected, f"missing {sorted(expected - set(seen))[:5]}, extra {sorted(set(seen) - expected)[:5]}"
    assert [k for k, n in seen.items() if n > 1] == []


def test_file_output_is_cut_back_to_the_checkpoint_on_restart(tmp_path):
    log, cp, out = tmp_path / "f.jsonl", tmp_path / "cp.json", tmp_path / "out.jsonl"
    append(log, 0, 3000)
    # a sync interval longer than the test (a file sink allows it): the only sync point before the kill is the
    # count's (every 2,000 outputs), however slow the machine; with 40 s a loaded machine could reach a timed sync
    # after the last record before the kill, and nothing would be left after the checkpoint
    proc = start(log, cp, "--to-file", str(out), "--sync-interval", "600")
    # past the first sync point (every 2,000 outputs), and more written after it
    wait_for(lambda: checkpointed(cp, log) > 0 and out.exists() and out.stat().st_size > 2500 * 150, 60,
             "output after the first checkpoint", proc)
    kill9(proc)
    lines_checkpointed = checkpointed(cp, log) // len(ev_line(0))
    assert out.read_text().count("\n") > lines_checkpointed  # records after the checkpoint are in the output
    proc = start(log, cp, "--to-file", str(out), "--sync-interval", "0.2")
    append(log, 3000, 3100)
    stop_when_caught_up(proc, cp, log)
    assert [json.loads(x)["event_id"] for x in out.read_text().splitlines()] == [f"x{i}" for i in range(3100)]
    assert json.loads(cp.read_text())["outputs"][str(out)] == out.stat().st_size


def test_second_connector_on_the_same_checkpoint_fences_the_first(tmp_path, kafka_bootstrap, unique_prefix,
                                                                  kafka_admin):
    topic = unique_prefix + "activity.file"
    kafka_admin.create_topics([topic, unique_prefix + "deadletter"], partitions=3)
    log, cp = tmp_path / "two.jsonl", tmp_path / "cp.json"
    append(log, 0, 100)
    args = [*kafka_args(kafka_bootstrap, unique_prefix), "--sync-interval", "0.2"]
    first = start(log, cp, *args)
    wait_for(lambda: checkpointed(cp, log) == log.stat().st_size, 60, "the first connector's checkpoint", first)
    second_log = tmp_path / "second.err"
    with open(second_log, "wb") as err_file:
        second = start(log, cp, *args, stderr=err_file)
    # once it has started its transactions, the first connector is fenced: it learns so when it next sends
    wait_for(lambda: "resuming from the checkpoint committed on" in second_log.read_text(), 60,
             "the second connector's start", second)
    append(log, 100, 200)
    first.wait(60)
    err = first.stderr.read().decode()
    assert first.returncode == 1 and "another connector with the same checkpoint is running" in err, err
    wait_for(lambda: checkpointed(cp, log) == log.stat().st_size, 60, "the second connector's checkpoint", second)
    second.send_signal(signal.SIGTERM)
    assert second.wait(60) == 0, second_log.read_text()[-2000:]
    seen = event_ids(kafka_bootstrap, topic, "read_committed")
    assert set(seen) == {f"x{i}" for i in range(200)} and max(seen.values()) == 1
