"""``exitwatch faults``: stream a generated company through the real broker, Redis and worker while breaking
things, then check that the alerts on ``alerts.hr`` are exactly those ``exitwatch replay`` finds.

The harness starts its own Kafka broker and Redis (``ops/kafka/kafka.sh``, ``ops/redis.sh``) on their own
ports and data folders under a temporary folder, and stops them at the end; it never touches the shared
services. It then

1. generates a company (``exitwatch generate``) and runs ``exitwatch replay --no-models`` over it: the
   expected alert ids;
2. starts ``exitwatch worker`` (rules only: ``EXITWATCH_MODELS=off``; RocksDB store, own ``--data-dir``) and
   produces HR records, signals and events in ``ts`` order with :class:`connectors.producer.KafkaSink`. An HR
   record that follows events waits until the worker has caught up (committed offsets at the end of every
   input topic) and the events after it wait for it, so that the worker applies HR changes in the same
   order as replay (see ``docs/faults.md``, *Comparing with replay*);
3. meanwhile injects the faults of :func:`plan`: SIGKILL of the worker at random moments (restarted at
   once), SIGTERM (graceful stop, timed), a broker stop and restart, Redis stopped for a while, a second
   worker started and the first one killed (its partitions move, state comes back from the changelog), and
   hostile records (broken JSON, wrong types, huge records, integers past 64 bits, deep nesting, bytes that
   are not UTF-8, control characters, unknown kinds, timestamps far in the past or future) produced
   straight into the activity and HR topics with a raw producer;
4. waits until the worker has caught up, reads ``alerts.hr``, ``alerts.secops`` and ``deadletter`` to the
   end, and compares: every expected id delivered, none twice, none unexpected; every hostile record in
   ``deadletter`` with a reason; every employee's newest HR record in Redis.

Results go to ``OUT/results.json`` and ``OUT/results.md``; the exit status is 0 when every check passed.

    exitwatch faults --quick --out /tmp/faults     # the CI form, about 3 minutes on 2 cores
    exitwatch faults --out reports/faults          # 10 kills, Redis down 60 s, 10,000 hostile records
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from schemas.transport import kafka_config

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "fz."
APP_ID = "fz-worker"
INPUT_TOPICS = [f"activity.{k}" for k in ("file", "email", "crm", "device", "logon", "web")] + [
    "exitwatch.activity.rekeyed", "hr.status", "hr.signals"]  # (the worker detects inline; activity.enriched is its output)
MARK = re.compile(rb"fz-bad-(\d{6})")
STALL_EXIT_CODE = 3  # streams.app.STALL_EXIT_CODE (not imported: the harness must not load faust)


@dataclasses.dataclass
class Profile:
    """Sizes and fault counts of one run."""

    employees: int
    days: int
    kills: int
    redis_down_s: float
    broker_down_s: float
    bad_records: int
    huge_every: int  # one hostile record in this many is a 1.5 MB record
    burst: int  # events of unknown accounts produced while the worker is stopped (SIGSTOP), then drained
    seed: int = 23
    guarantee: str = "at_least_once"


QUICK = Profile(employees=40, days=45, kills=3, redis_down_s=10, broker_down_s=4, bad_records=1000, huge_every=200,
                burst=15000)
FULL = Profile(employees=200, days=45, kills=10, redis_down_s=60, broker_down_s=10, bad_records=10000,
               huge_every=500, burst=60000)


#: The worker's report of records its merge applied after records of a later event time (TxWorker._log_late).
LATE_LINE = re.compile(r"(\d+) records applied after records of a later event time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(msg: str) -> None:
    sys.stderr.write(f"[faults {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------------------------------------ services
class Services:
    """The harness's own broker and Redis (never the shared ones)."""

    def __init__(self, root: Path, kafka_port: int, redis_port: int) -> None:
        self.root = root
        self.kafka_port, self.controller_port, self.redis_port = kafka_port, kafka_port + 1, redis_port
        self.kafka_data, self.redis_dir = root / "kafka", root / "redis"
        self.bootstrap = f"127.0.0.1:{kafka_port}"
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"

    def _run(self, *cmd: str) -> float:
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
        return time.monotonic() - t0

    def kafka_start(self) -> float:
        return self._run("ops/kafka/kafka.sh", "start", "--port", str(self.kafka_port), "--controller-port",
                         str(self.controller_port), "--data", str(self.kafka_data))

    def kafka_stop(self) -> float:
        return self._run("ops/kafka/kafka.sh", "stop", "--data", str(self.kafka_data))

    def redis_start(self) -> float:
        # Append-only file on: a Redis restart keeps the HR records (as a production Redis would).
        return self._run("ops/redis.sh", "start", "--port", str(self.redis_port), "--dir", str(self.redis_dir),
                         "--appendonly")

    def redis_stop(self) -> float:
        return self._run("ops/redis.sh", "stop", "--port", str(self.redis_port), "--dir", str(self.redis_dir))


# ------------------------------------------------------------------------------------------------ workers
class WorkerProc:
    """One ``exitwatch worker`` slot (its own data folder); restarted by the harness after each kill."""

    def __init__(self, name: str, root: Path, services: Services, guarantee: str = "at_least_once") -> None:
        self.name = name
        self.guarantee = guarantee
        self.data_dir = root / f"worker-{name}"
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.services = services
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.expected_exit = False
        self.unexpected_exits: list[dict[str, Any]] = []
        self.watchdog_exits = 0
        self.peak_rss_mb = 0.0

    def start(self) -> None:
        self.starts += 1
        env = {**os.environ, "EXITWATCH_MODELS": "off", "PYTHONUNBUFFERED": "1",
               "EXITWATCH_PROCESSING_GUARANTEE": self.guarantee}
        cmd = [sys.executable, "-m", "exitwatch.cli", "worker", "--bootstrap", self.services.bootstrap,
               "--redis", self.services.redis_url, "--topic-prefix", PREFIX, "--app-id", APP_ID,
               "--data-dir", str(self.data_dir), "--store", "rocksdb://", "--metrics-port", "0",
               "--loglevel", "warning"]
        out = open(self.log_dir / f"{self.name}-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.expected_exit = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            self.expected_exit = True
            assert self.proc is not None
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(30)

    def check(self) -> bool:
        """Record an exit nobody asked for; True when the process died on its own."""
        if self.proc is not None and not self.expected_exit and self.proc.poll() is not None:
            if self.proc.returncode == STALL_EXIT_CODE:  # the worker's own stall watchdog: a designed restart
                self.watchdog_exits += 1
                self.expected_exit = True
                return True
            self.unexpected_exits.append({"worker": self.name, "start": self.starts, "code": self.proc.returncode,
                                          "log": str(self.log_dir / f"{self.name}-{self.starts}.log")})
            self.expected_exit = True
            return True
        return False

    def sample_rss(self) -> float:
        if not self.alive:
            return 0.0
        assert self.proc is not None
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        mb = int(line.split()[1]) / 1024
                        self.peak_rss_mb = max(self.peak_rss_mb, mb)
                        return mb
        except OSError:
            pass
        return 0.0


# ------------------------------------------------------------------------------------------------ lag
class LagMonitor:
    """The worker group's committed offsets against the end of every input partition (confluent-kafka; a
    consumer that never subscribes, so it does not join the group)."""

    def __init__(self, bootstrap: str, partitions: int = 4, transactional: bool = False) -> None:
        from confluent_kafka import TopicPartition

        self.bootstrap = bootstrap
        # With exactly_once the worker writes the rekey topic in transactions: the commit marker after the
        # last record takes an offset the consumer never commits past until another record follows.
        self.slack = {PREFIX + "exitwatch.activity.rekeyed"} if transactional else set()
        self.tps = [TopicPartition(PREFIX + t, p) for t in INPUT_TOPICS for p in range(partitions)]
        self.lock = threading.Lock()
        self.failures = 0
        self.last_error = ""
        self._connect()

    def _connect(self) -> None:
        from confluent_kafka import Consumer
        from confluent_kafka.admin import AdminClient

        self.c = Consumer({**kafka_config(bootstrap=self.bootstrap), "group.id": APP_ID, "enable.auto.commit": False,
                           "log_level": 0, "socket.timeout.ms": 5000})
        self.admin = AdminClient({**kafka_config(bootstrap=self.bootstrap), "log_level": 0})

    def positions(self) -> dict[tuple[str, int], tuple[int, int]] | None:
        """(committed, end) of every input partition, or None when the broker does not answer. Two requests:
        the group's committed offsets, and the end offsets of all partitions in one batch. After a few
        failures in a row (a broker restart) the clients are made anew."""
        from confluent_kafka.admin import OffsetSpec

        with self.lock:
            try:
                ends = {(tp.topic, tp.partition): f for tp, f in
                        self.admin.list_offsets({tp: OffsetSpec.latest() for tp in self.tps},
                                                request_timeout=5).items()}
                committed = self.c.committed(self.tps, timeout=5)
                out = {(tp.topic, tp.partition): (max(tp.offset, 0), ends[(tp.topic, tp.partition)].result(5).offset
                                                  - (1 if tp.topic in self.slack and tp.offset > 0 else 0))
                       for tp in committed}
                self.failures = 0
                return out
            except Exception as exc:  # noqa: BLE001
                self.failures += 1
                self.last_error = repr(exc)
                if self.failures % 3 == 0:
                    try:
                        self.c.close()
                    except Exception:  # noqa: BLE001
                        pass
                    self._connect()
                return None

    def snapshot(self) -> tuple[int, int] | None:
        """(total lag, total committed) or None when the broker does not answer."""
        pos = self.positions()
        if pos is None:
            return None
        return sum(max(0, h - c) for c, h in pos.values()), sum(c for c, _ in pos.values())

    def wait_caught_up(self, timeout: float, on_tick: Any = None) -> float | None:
        """Seconds until lag is 0 twice in a row (None on timeout)."""
        t0 = time.monotonic()
        zeros = 0
        while time.monotonic() - t0 < timeout:
            snap = self.snapshot()
            zeros = zeros + 1 if snap is not None and snap[0] == 0 else 0
            if zeros >= 2:
                return time.monotonic() - t0
            if on_tick is not None:
                on_tick()
            time.sleep(0.25)
        return None

    def close(self) -> None:
        self.c.close()


# ------------------------------------------------------------------------------------------------ inputs
def ordered_inputs(data: Path) -> list[tuple[str, Any]]:
    """HR records, signals and events of ``data`` merged in replay's order: by ``ts``, HR first at equal ts."""
    from detectors.replay import merged

    counters = {"hr": 0, "signals": 0, "events": 0}

    def bad(*_: Any) -> None:
        raise ValueError("generated data must be valid")

    names = {0: "hr", 1: "signal", 2: "event"}
    return [(names[k], obj) for k, obj in merged([data / "hr.jsonl"], [data / "signals.jsonl"],
                                                 [data / "events.jsonl"], bad, counters)]


def segments(records: list[tuple[str, Any]]) -> list[list[tuple[str, Any]]]:
    """Runs of records after each of which the worker must catch up before the next is produced:

    - each group of HR records is a run of its own (the events before it are processed first, the events
      after it wait for it), as replay applies an HR record from its ``ts`` on;
    - events are cut at each day boundary (UTC), as live traffic arrives: an employee's events come in on
      several source partitions (keyed by employee id or by the actor's alias, CONTRACT.md 1), and a backlog
      of many days drains those partitions at different speeds, so without the cut a day's late event can
      reach detection after the rule has closed that day into its baseline (see docs/faults.md).
    """
    out: list[list[tuple[str, Any]]] = [[]]
    has_hr = False
    day = None
    for kind, obj in records:
        cur = out[-1]
        d = obj.ts.date() if kind == "event" else day
        if cur and ((kind == "hr" and not has_hr) or (kind == "event" and (has_hr or d != day))):
            out.append([])
            has_hr = False
        has_hr = has_hr or kind == "hr"
        day = d
        out[-1].append((kind, obj))
    return [s for s in out if s]


def is_hr_segment(seg: list[tuple[str, Any]]) -> bool:
    return any(k == "hr" for k, _ in seg)


# ------------------------------------------------------------------------------------------------ hostile
_FUTURE = ("2999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2100-06-01T12:00:00+02:00")
_PAST = ("1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00Z")


def hostile_record(i: int, rng: random.Random, huge: bool) -> tuple[str, bytes, str]:
    """(topic kind, raw bytes, category) of the i-th hostile record; the raw carries ``fz-bad-<i>``."""
    mark = f"fz-bad-{i:06d}"
    base = {"event_id": mark, "ts": "2026-02-02T10:00:00Z", "kind": "file", "action": "download",
            "actor": f"{mark}@corp.example", "source": "synthetic"}
    hr = {"employee_id": mark, "ts": "2026-02-02T10:00:00Z", "status": "notice", "accounts": [mark]}
    if huge:
        d = dict(base, object="A" * 1_500_000)
        return "activity.file", orjson.dumps(d), "huge record"
    cat = rng.randrange(15)
    if cat == 0:
        raw = orjson.dumps(base)
        keep = raw.index(mark.encode()) + len(mark)  # the mark stays in what is left
        return "activity.file", raw[: rng.randrange(keep, len(raw) - 1)], "truncated JSON"
    if cat == 1:
        return "activity.email", mark.encode() + bytes(rng.randrange(256) for _ in range(40)), "binary garbage"
    if cat == 2:
        d = dict(base, ts=rng.choice([12345, None, "yesterday", "2026-13-45T99:00:00Z"]))
        return "activity.logon", orjson.dumps(d), "bad timestamp"
    if cat == 3:
        d = dict(base, bytes=rng.choice(["many", -5, 1.5e300, [1]]), count={"x": 1})
        return "activity.file", orjson.dumps(d), "wrong types"
    if cat == 4:
        raw = orjson.dumps(dict(base, object="ctl")).replace(b'"ctl"', b'"a\x00b\x07c\x1bd\nX"')
        return "activity.web", raw, "control characters"
    if cat == 5:
        return "activity.device", orjson.dumps(dict(base, kind=rng.choice(["teleport", "", "FILE", 7]))), "unknown kind"
    if cat == 6:
        return "activity.crm", orjson.dumps(dict(base, ts=rng.choice(_FUTURE))), "far future"
    if cat == 7:
        return "activity.crm", orjson.dumps(dict(base, ts=rng.choice(_PAST))), "far past"
    if cat == 8:
        return "activity.file", orjson.dumps(dict(base, action="exfiltrate", extra_field=True)), "unknown action"
    if cat == 9:
        d = dict(hr, status=rng.choice(["gone", None, 3]), last_day="not a date")
        return "hr.status", orjson.dumps(d), "invalid HR record"
    if cat == 10:
        return "hr.status", orjson.dumps(dict(hr, ts=rng.choice(_FUTURE + _PAST))), "HR far future/past"
    if cat == 12:  # integers no 64-bit field holds, and more digits than int() parses by default
        big = rng.choice([b"18446744073709551616", b"1" + b"0" * 30, b"9" * 5000])
        raw = orjson.dumps(dict(base, bytes=0)).replace(b'"bytes":0', b'"bytes":' + big)
        return "activity.email", raw, "huge number"
    if cat == 13:  # nested past any sensible depth
        raw = orjson.dumps(dict(base, attrs="D")).replace(b'"D"', b'{"a":' * 300 + b"1" + b"}" * 300)
        return "activity.file", raw, "deep JSON"
    if cat == 14:  # bytes that are not UTF-8 inside an id
        return "activity.logon", orjson.dumps(base).replace(b"@corp", b"\xff\xfe@corp"), "bad bytes"
    d = {"employee_id": mark, "ts": rng.choice(_FUTURE), "signal": "survey", "value": 3}
    return "hr.signals", rng.choice([orjson.dumps(d), b'{"employee_id": "' + mark.encode() + b'", "ts": ']), "bad signal"


class Hostile:
    """Produces the hostile records with a raw confluent-kafka producer, spread over the run."""

    def __init__(self, bootstrap: str, total: int, huge_every: int, seed: int) -> None:
        from confluent_kafka import Producer

        self.p = Producer({**kafka_config(bootstrap=bootstrap), "message.max.bytes": 8 << 20, "linger.ms": 20,
                           "message.timeout.ms": 180000, "log_level": 0})
        self.total, self.huge_every = total, huge_every
        self.rng = random.Random(seed)
        self.sent = 0
        self.categories: Counter[str] = Counter()
        self.failed = 0

    def _report(self, err: Any, msg: Any) -> None:
        if err is not None:
            self.failed += 1

    def send(self, n: int) -> None:
        for _ in range(min(n, self.total - self.sent)):
            i = self.sent
            topic, raw, cat = hostile_record(i, self.rng, huge=(i % self.huge_every == self.huge_every - 1))
            while True:
                try:
                    self.p.produce(PREFIX + topic, value=raw, key=f"fz-bad-{i % 97}".encode(), on_delivery=self._report)
                    break
                except BufferError:
                    self.p.poll(0.1)
            self.categories[cat] += 1
            self.sent += 1
        self.p.poll(0)

    def flush(self) -> None:
        self.p.flush(180)


# ------------------------------------------------------------------------------------------------ plan
@dataclasses.dataclass
class Fault:
    kind: str  # sigkill | sigterm | broker | redis | second_worker | kill_first
    at: float  # fraction of the good records produced
    result: dict[str, Any] = dataclasses.field(default_factory=dict)


def plan(profile: Profile, rng: random.Random) -> list[Fault]:
    """The faults of a run, in order, each at a fraction of the input stream."""
    faults = [Fault("sigkill", rng.uniform(0.04 + 0.36 * i / profile.kills, 0.04 + 0.36 * (i + 0.8) / profile.kills))
              for i in range(profile.kills)]
    faults += [Fault("sigterm", 0.43), Fault("broker", 0.50), Fault("redis", 0.58),
               Fault("second_worker", 0.70), Fault("kill_first", 0.78)]
    return faults


# ------------------------------------------------------------------------------------------------ run
class Run:
    def __init__(self, profile: Profile, root: Path, out: Path, kafka_port: int, redis_port: int) -> None:
        self.p = profile
        self.root, self.out = root, out
        self.services = Services(root, kafka_port, redis_port)
        self.workers: dict[str, WorkerProc] = {}
        self.rng = random.Random(profile.seed)
        self.produced = 0
        self.total = 0
        self.done_producing = threading.Event()
        self.producer_error: BaseException | None = None
        self.barrier_waits: list[float] = []
        self.rss: list[tuple[float, float, int]] = []  # (t, MB of all workers, lag)
        self.t0 = time.monotonic()
        self.lag: LagMonitor | None = None

    # -------------------------------------------------------------- supervision
    def supervise(self) -> None:
        """Restart a worker that died on its own (counted as an unexpected exit); sample RSS."""
        total = 0.0
        for w in self.workers.values():
            if w.check():
                code = w.proc.returncode if w.proc else "?"
                why = "stall watchdog" if code == STALL_EXIT_CODE else "unexpectedly"
                log(f"worker {w.name} exited ({why}, code {code}); restarting")
                w.start()
            total += w.sample_rss()
        self.rss.append((round(time.monotonic() - self.t0, 1), round(total, 1), -1))

    def wait_progress(self, frac: float) -> None:
        while self.produced < frac * self.total and not self.done_producing.is_set():
            self.supervise()
            time.sleep(0.2)

    def wait_backlog(self, minimum: int = 200, timeout: float = 20.0) -> int:
        assert self.lag is not None
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            snap = self.lag.snapshot()
            if snap is not None and snap[0] >= minimum:
                return snap[0]
            self.supervise()
            time.sleep(0.1)
        snap = self.lag.snapshot()
        return snap[0] if snap else -1

    def time_to_resume(self, timeout: float = 300.0) -> float | None:
        """Seconds until every input partition that had a backlog when the fault ended has committed progress
        (or has none left): all of the group's work moves again, not just that of a surviving worker."""
        assert self.lag is not None
        t0 = time.monotonic()
        base = None
        while time.monotonic() - t0 < timeout:
            pos = self.lag.positions()
            if pos is not None:
                if not base:  # (nothing waiting yet: the clock runs until there is work and it moves)
                    base = {tp: c for tp, (c, h) in pos.items() if h > c}
                elif all(pos[tp][0] > c or pos[tp][0] >= pos[tp][1] for tp, c in base.items()):
                    return round(time.monotonic() - t0, 2)
            self.supervise()
            time.sleep(0.2)
        return None

    # -------------------------------------------------------------- producing
    def produce_all(self, segs: list[list[tuple[str, Any]]], hostile: Hostile) -> None:
        from connectors.producer import KafkaSink

        assert self.lag is not None
        try:
            sink = KafkaSink(self.services.bootstrap, PREFIX, config={"log_level": 0, "linger.ms": 50})
            bad_per_record = hostile.total / max(1, self.total)
            for i, seg in enumerate(segs):
                is_hr = is_hr_segment(seg)
                for j in range(0, len(seg), 2000):
                    for kind, obj in seg[j:j + 2000]:
                        if kind == "event":
                            sink.send_event(obj)
                        elif kind == "hr":
                            sink.send_hr(obj)
                        else:
                            sink.send_signal(obj)
                    self.produced += len(seg[j:j + 2000])
                    hostile.send(int(self.produced * bad_per_record) - hostile.sent)
                    # Keep the backlog within reach: the faults are meant to hit a busy worker, not a queue of
                    # a hundred thousand messages.
                    while True:
                        snap = self.lag.snapshot()
                        if snap is None or snap[0] < 20000:
                            break
                        time.sleep(0.5)
                sink.flush()
                self.barrier(f"after {'HR ' if is_hr else ''}segment {i}")
            hostile.send(hostile.total - hostile.sent)
            hostile.flush()
            sink.flush()
            if sink.failures:
                raise RuntimeError(f"{sink.failures} records not delivered: {sink.errors[:3]}")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.producer_error = exc
        finally:
            self.done_producing.set()

    def barrier(self, what: str) -> None:
        assert self.lag is not None
        t = self.lag.wait_caught_up(600)
        if t is None:
            raise RuntimeError(f"worker did not catch up within 600 s ({what})")
        self.barrier_waits.append(t)

    # -------------------------------------------------------------- faults
    def inject(self, f: Fault) -> None:
        backlog = self.wait_backlog()
        f.result["backlog"] = backlog
        f.result["t"] = round(time.monotonic() - self.t0, 1)
        first = self.workers["a"]
        if f.kind == "sigkill":
            time.sleep(self.rng.uniform(0.0, 0.5))
            first.kill()
            first.start()
            f.result["recovery_s"] = self.time_to_resume()
        elif f.kind == "sigterm":
            t0 = time.monotonic()
            first.signal(signal.SIGTERM)
            code = first.wait(120)
            f.result["shutdown_s"] = round(time.monotonic() - t0, 2)
            f.result["exit_code"] = code
            if code is None:
                first.kill()
            first.start()
            f.result["recovery_s"] = self.time_to_resume()
        elif f.kind == "broker":
            f.result["stop_s"] = round(self.services.kafka_stop(), 2)
            time.sleep(self.p.broker_down_s)
            f.result["start_s"] = round(self.services.kafka_start(), 2)
            f.result["recovery_s"] = self.time_to_resume()
        elif f.kind == "redis":
            self.services.redis_stop()
            t0 = time.monotonic()
            while time.monotonic() - t0 < self.p.redis_down_s:
                self.supervise()
                time.sleep(0.5)
            f.result["down_s"] = round(time.monotonic() - t0, 1)
            self.services.redis_start()
            f.result["recovery_s"] = self.time_to_resume()
        elif f.kind == "second_worker":
            b = self.workers["b"] = WorkerProc("b", self.root, self.services, self.p.guarantee)
            b.start()
            f.result["recovery_s"] = self.time_to_resume()
        elif f.kind == "kill_first":
            first.kill()  # not restarted: worker b takes over its partitions after the session timeout
            f.result["recovery_s"] = self.time_to_resume()
        log(f"fault {f.kind}: {f.result}")

    # -------------------------------------------------------------- main
    def execute(self) -> dict[str, Any]:
        from exitwatch.generate import generate

        res: dict[str, Any] = {"profile": dataclasses.asdict(self.p), "started": dt.datetime.now(dt.timezone.utc)
                               .isoformat(timespec="seconds")}
        data = self.root / "company"
        meta = generate(data, employees=self.p.employees, days=self.p.days, seed=self.p.seed)
        res["company"] = {k: meta[k] for k in ("employees", "new_hires", "days", "events", "hr_records", "signals",
                                                "leavers", "malicious")}
        log(f"company: {res['company']}")
        t = time.monotonic()
        expected_file = self.root / "replay-alerts.jsonl"
        subprocess.run([sys.executable, "-m", "exitwatch.cli", "replay", "--no-models", "--hr", str(data / "hr.jsonl"),
                        "--signals", str(data / "signals.jsonl"), "--events", str(data / "events.jsonl"),
                        "--alerts", str(expected_file), "--no-progress"], cwd=ROOT, check=True,
                       capture_output=True)
        expected = [orjson.loads(x) for x in expected_file.read_bytes().splitlines() if x.strip()]
        res["replay_s"] = round(time.monotonic() - t, 1)
        records = ordered_inputs(data)
        segs = segments(records)
        self.total = len(records)
        res["records"] = self.total
        res["hr_segments"] = sum(1 for s in segs if is_hr_segment(s))
        res["segments"] = len(segs)
        log(f"replay: {len(expected)} alerts; {self.total} records in {len(segs)} segments")

        self.services.kafka_start()
        self.services.redis_start()
        self.create_topics()
        self.lag = LagMonitor(self.services.bootstrap, transactional=self.p.guarantee == "exactly_once")
        hostile = Hostile(self.services.bootstrap, self.p.bad_records, self.p.huge_every, self.p.seed)
        a = self.workers["a"] = WorkerProc("a", self.root, self.services, self.p.guarantee)
        a.start()
        t_stream = time.monotonic()
        producer = threading.Thread(target=self.produce_all, args=(segs, hostile), name="produce", daemon=True)
        producer.start()
        faults = plan(self.p, self.rng)
        for f in faults:
            self.wait_progress(f.at)
            if self.done_producing.is_set():
                f.result["skipped"] = "stream ended first"
                continue
            self.inject(f)
        while not self.done_producing.is_set():
            self.supervise()
            time.sleep(0.2)
        if self.producer_error is not None:
            raise RuntimeError(f"producing failed: {self.producer_error!r}")
        caught = self.lag.wait_caught_up(600, on_tick=self.supervise)
        res["stream_s"] = round(time.monotonic() - t_stream, 1)
        res["final_catch_up_s"] = caught
        time.sleep(2.0)  # the last commits of alert and dead-letter producers
        res["redis_hr_check"] = self.check_redis(records)
        res["burst"] = self.burst()
        # graceful stop of whatever still runs, timed
        stops = []
        for w in self.workers.values():
            if w.alive:
                t0 = time.monotonic()
                w.signal(signal.SIGTERM)
                code = w.wait(120)
                stops.append({"worker": w.name, "shutdown_s": round(time.monotonic() - t0, 2), "exit_code": code})
                if code is None:
                    w.kill()
        res["final_shutdown"] = stops
        got = self.read_outputs()
        res.update(self.compare(expected, got, hostile))
        res["faults"] = [{"kind": f.kind, "at": round(f.at, 3), **f.result} for f in faults]
        res["worker_starts"] = {w.name: w.starts for w in self.workers.values()}
        res["unexpected_exits"] = [e for w in self.workers.values() for e in w.unexpected_exits]
        res["watchdog_restarts"] = sum(w.watchdog_exits for w in self.workers.values())
        res["tx_recoveries"] = self.tx_recoveries()
        res["peak_rss_mb"] = {w.name: round(w.peak_rss_mb, 1) for w in self.workers.values()}
        res["barrier_wait_s"] = {"count": len(self.barrier_waits), "total": round(sum(self.barrier_waits), 1)}
        res["hostile"]["categories"] = dict(hostile.categories)
        res["hostile"]["produce_failures"] = hostile.failed
        res["checks"] = self.checks(res)
        res["ok"] = all(res["checks"].values())
        res["total_s"] = round(time.monotonic() - self.t0, 1)
        self.lag.close()
        return res

    def tx_recoveries(self) -> dict[str, int]:
        """From the workers' logs: transaction calls given up as hung (the producer abandoned), resumptions
        from the last committed state (after a hung or failed transaction call; streams/tx/resume.py), and
        records the time-ordered merge applied after records of a later event time (streams/tx/merge.py)."""
        out = {"hung_calls": 0, "resumed": 0, "applied_late": 0}
        for f in (self.root / "logs").glob("*.log"):
            text = f.read_text(errors="replace")
            out["hung_calls"] += text.count("hung; abandoning it")
            out["resumed"] += text.count("resumed from the last committed state")
            out["applied_late"] += sum(int(n) for n in LATE_LINE.findall(text))
        return out

    def burst(self) -> dict[str, Any]:
        """Back-pressure: stop the workers (SIGSTOP), produce a burst of events of accounts nobody has (valid,
        unresolved: no alert, no dead letter), let the workers go and sample their memory while they drain it."""
        from connectors.producer import KafkaSink
        from schemas import ActivityEvent

        assert self.lag is not None
        alive = [w for w in self.workers.values() if w.alive]
        rss_before = sum(w.sample_rss() for w in alive)
        for w in alive:
            assert w.proc is not None
            w.proc.send_signal(signal.SIGSTOP)
        sink = KafkaSink(self.services.bootstrap, PREFIX, config={"log_level": 0, "linger.ms": 50})
        base = dt.datetime(2026, 2, 2, 10, tzinfo=dt.timezone.utc)
        for i in range(self.p.burst):
            sink.send_event(ActivityEvent(
                event_id=f"burst-{i}", ts=base + dt.timedelta(seconds=i), kind="file", action="open",
                actor=f"burst-{i % 400}@elsewhere.example", source="synthetic",
                object=f"/share/burst/{i:08d}/" + "x" * 600, bytes=i))
        sink.flush()
        backlog = (self.lag.snapshot() or (-1, 0))[0]
        t0 = time.monotonic()
        for w in alive:
            assert w.proc is not None
            w.proc.send_signal(signal.SIGCONT)
        peak = 0.0
        caught = None
        while time.monotonic() - t0 < 600:
            peak = max(peak, sum(w.sample_rss() for w in alive))
            snap = self.lag.snapshot()
            if snap is not None and snap[0] == 0:
                caught = time.monotonic() - t0
                break
            time.sleep(0.2)
        out = {"events": self.p.burst, "backlog": backlog, "rss_before_mb": round(rss_before, 1),
               "rss_peak_mb": round(peak, 1), "drain_s": None if caught is None else round(caught, 1),
               "drain_events_per_s": None if not caught else round(self.p.burst / caught)}
        log(f"burst: {out}")
        return out

    def create_topics(self) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        from schemas.topics import topic_names

        admin = AdminClient(kafka_config(bootstrap=self.services.bootstrap))
        new = []
        for key, name in topic_names(PREFIX).items():
            cfg = {"max.message.bytes": str(4 << 20)}
            if key == "hr_status":
                cfg["cleanup.policy"] = "compact"
            new.append(NewTopic(name, num_partitions=4, replication_factor=1, config=cfg))
        for fut in admin.create_topics(new, operation_timeout=30).values():
            fut.result(30)

    def read_outputs(self) -> dict[str, list[tuple[bytes | None, bytes]]]:
        """Everything on the alert and dead-letter topics, read to the end with isolation.level=read_committed."""
        from confluent_kafka import Consumer, TopicPartition

        topics = [PREFIX + t for t in ("alerts.hr", "alerts.secops", "deadletter")]
        c = Consumer({**kafka_config(bootstrap=self.services.bootstrap), "group.id": f"fz-reader-{time.time_ns()}",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "isolation.level": "read_committed", "log_level": 0, "fetch.max.bytes": 8 << 20})
        md = c.list_topics(timeout=10)
        ends: dict[tuple[str, int], int] = {}
        assign = []
        for t in topics:
            for p in md.topics[t].partitions:
                lo, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)
                if hi > lo:
                    ends[(t, p)] = hi
                    assign.append(TopicPartition(t, p, lo))
        c.assign(assign)
        out: dict[str, list[tuple[bytes | None, bytes]]] = {t: [] for t in topics}
        deadline = time.monotonic() + 120
        while ends and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out[m.topic()].append((m.key(), m.value()))
            if m.offset() + 1 >= ends.get((m.topic(), m.partition()), 0):
                ends.pop((m.topic(), m.partition()), None)
        c.close()
        for t, msgs in out.items():  # kept with --keep, for a look at what differed
            with open(self.root / f"streamed-{t[len(PREFIX):]}.jsonl", "wb") as fh:
                fh.write(b"".join(v + b"\n" for _, v in msgs))
        return {t[len(PREFIX):]: v for t, v in out.items()}

    def check_redis(self, records: list[tuple[str, Any]]) -> dict[str, Any]:
        """Every employee's newest HR record (by ts) is the one Redis holds."""
        import redis

        newest: dict[str, float] = {}
        for kind, obj in records:
            if kind == "hr":
                newest[obj.employee_id] = max(newest.get(obj.employee_id, 0.0), obj.ts.timestamp())
        from schemas.transport import redis_kwargs

        r = redis.Redis.from_url(self.services.redis_url, **redis_kwargs(url=self.services.redis_url))
        wrong = []
        for emp, e in newest.items():
            v = r.hget(f"{PREFIX}hr:{emp}", "e")
            if v is None or abs(float(v) - e) > 1e-3:
                wrong.append(emp)
        r.close()
        return {"employees": len(newest), "wrong_or_missing": len(wrong), "examples": wrong[:5]}

    def compare(self, expected: list[dict[str, Any]], got: dict[str, list[tuple[bytes | None, bytes]]],
                hostile: Hostile) -> dict[str, Any]:
        exp = Counter(a["alert_id"] for a in expected)
        hr = Counter(orjson.loads(v)["alert_id"] for _, v in got["alerts.hr"])
        # alerts.secops carries keyed alert ids (evidence.privacy): map them back with the key the workers use
        from evidence.privacy import secops_alert_id
        from schemas.settings import Settings

        pkey = Settings().pseudonym_key.get_secret_value().encode()
        back = {secops_alert_id(i, pkey): i for i in exp}
        sec = Counter(back.get(orjson.loads(v)["alert_id"], orjson.loads(v)["alert_id"]) for _, v in got["alerts.secops"])
        rules = {a["alert_id"]: a["rule_id"] for a in expected}
        marks: Counter[int] = Counter()
        no_reason = 0
        other_dl = 0
        for _, v in got["deadletter"]:
            d = orjson.loads(v)
            m = MARK.search(d.get("raw", "").encode("utf-8", "replace"))
            if m is None:
                other_dl += 1
                continue
            marks[int(m.group(1))] += 1
            if not d.get("reason"):
                no_reason += 1
        return {
            "alerts": {
                "expected": len(exp),
                "expected_messages": sum(exp.values()),
                "expected_by_rule": dict(Counter(rules.values())),
                "delivered_unique": len(hr),
                "delivered_messages": sum(hr.values()),
                # A sequence rule (A then B within hours) depends on the order A and B *arrive* in, and they
                # come from different topics: see docs/faults.md. Reported apart, not counted as lost.
                "missing": sorted(i for i in set(exp) - set(hr) if not rules[i].startswith("sequence.")),
                "missing_order_sensitive": sorted(i for i in set(exp) - set(hr) if rules[i].startswith("sequence.")),
                "unexpected": sorted(set(hr) - set(exp)),
                "duplicated": {k: n for k, n in hr.items() if n > max(1, exp.get(k, 0))},
                "replay_repeats": {k: n for k, n in exp.items() if n > 1},
                "fewer_than_replay": {k: hr.get(k, 0) for k, n in exp.items() if 0 < hr.get(k, 0) < n},
                "secops_unique": len(sec),
                "secops_duplicated": {k: n for k, n in sec.items() if n > max(1, exp.get(k, 0))},
                "secops_missing": len({i for i in set(exp) - set(sec) if not rules[i].startswith("sequence.")}),
            },
            "hostile": {
                "tried": hostile.sent,
                "dead_lettered": len(marks),
                "dead_lettered_twice": sum(1 for n in marks.values() if n > 1),
                "missing": sorted(set(range(hostile.sent)) - set(marks))[:20],
                "without_reason": no_reason,
                "other_dead_letters": other_dl,
            },
        }

    def checks(self, res: dict[str, Any]) -> dict[str, bool]:
        a, h = res["alerts"], res["hostile"]
        return {
            "no_alert_missing": not a["missing"] and not a["fewer_than_replay"],
            "no_unexpected_alert": not a["unexpected"],
            "no_alert_twice": not a["duplicated"],
            "secops_complete_no_duplicates": a["secops_missing"] == 0 and not a["secops_duplicated"],
            "every_hostile_record_dead_lettered": h["dead_lettered"] == h["tried"] and h["without_reason"] == 0,
            "no_unexpected_worker_exit": not res["unexpected_exits"],
            "redis_has_newest_hr": res["redis_hr_check"]["wrong_or_missing"] == 0,
            "caught_up": res["final_catch_up_s"] is not None and res["burst"]["drain_s"] is not None,
        }

    def cleanup(self) -> None:
        for w in self.workers.values():
            if w.alive:
                w.kill()
        for stop in (self.services.redis_stop, self.services.kafka_stop):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001
                log(f"cleanup: {exc}")


# ------------------------------------------------------------------------------------------------ report
def write_report(res: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_bytes(orjson.dumps(res, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    a, h = res["alerts"], res["hostile"]
    lines = [
        f"# Fault run: {'quick' if res['profile']['kills'] < 10 else 'full'} form ({res['started']})",
        "",
        f"Company: {res['company']['employees']} employees, {res['company']['days']} days, "
        f"{res['company']['events']:,} events, {res['company']['hr_records']} HR records, "
        f"{res['company']['signals']:,} signals, {res['company']['leavers']} leavers "
        f"({res['company']['malicious']} malicious). Regenerate: `exitwatch faults"
        f"{' --quick' if res['profile']['kills'] < 10 else ''} --out DIR` (seed {res['profile']['seed']}).",
        "",
        "| check | result |", "|---|---|",
        *[f"| {k.replace('_', ' ')} | {'pass' if v else '**FAIL**'} |" for k, v in res["checks"].items()],
        "",
        "| figure | value |", "|---|---|",
        f"| records streamed (events + HR + signals) | {res['records']:,} |",
        f"| alerts expected (replay): ids / messages (an id repeats when an alert is updated) | {a['expected']} / "
        f"{a['expected_messages']} |",
        f"| alerts delivered on alerts.hr: ids / messages | {a['delivered_unique']} / {a['delivered_messages']} |",
        f"| alerts missing / unexpected / duplicated | {len(a['missing'])} / {len(a['unexpected'])} / "
        f"{len(a['duplicated'])} |",
        f"| sequence alerts not made because their two events arrived in the other order (see docs) | "
        f"{len(a['missing_order_sensitive'])} |",
        f"| hostile records tried / dead-lettered / twice | {h['tried']:,} / {h['dead_lettered']:,} / "
        f"{h['dead_lettered_twice']} |",
        f"| worker starts / unexpected exits / stall-watchdog restarts | {sum(res['worker_starts'].values())} / "
        f"{len(res['unexpected_exits'])} / {res['watchdog_restarts']} |",
        f"| transaction calls given up as hung / resumptions from the last committed state | "
        f"{res.get('tx_recoveries', {}).get('hung_calls', '-')} / {res.get('tx_recoveries', {}).get('resumed', '-')} |",
        f"| records applied after records of a later event time (the worker's merge; replay has none) | "
        f"{res.get('tx_recoveries', {}).get('applied_late', '-')} |",
        f"| peak worker RSS (MB) | {', '.join(f'{k}: {v}' for k, v in res['peak_rss_mb'].items())} |",
        f"| burst of {res['burst']['events']:,} events while stopped: backlog, drain s (events/s), RSS before / "
        f"peak MB | {res['burst']['backlog']:,}, {res['burst']['drain_s']} ({res['burst']['drain_events_per_s']}), "
        f"{res['burst']['rss_before_mb']} / {res['burst']['rss_peak_mb']} |",
        f"| stream time / final catch-up (s) | {res['stream_s']} / {res['final_catch_up_s']} |",
        f"| catch-up barriers (count, total wait s) | {res['barrier_wait_s']['count']}, {res['barrier_wait_s']['total']} |",
        f"| Redis holds newest HR record | {res['redis_hr_check']['employees'] - res['redis_hr_check']['wrong_or_missing']}"
        f" / {res['redis_hr_check']['employees']} employees |",
        f"| whole run (s) | {res['total_s']} |",
        "",
        "| fault | at (share of stream) | backlog then | recovery (s) | details |", "|---|---|---|---|---|",
    ]
    for f in res["faults"]:
        det = {k: v for k, v in f.items() if k not in ("kind", "at", "backlog", "recovery_s", "t")}
        lines.append(f"| {f['kind']} | {f['at']:.2f} | {f.get('backlog', '')} | {f.get('recovery_s', '')} | "
                     f"{', '.join(f'{k} {v}' for k, v in det.items())} |")
    lines += ["", "Final graceful stops: " + ", ".join(f"{s['worker']} {s['shutdown_s']} s (exit {s['exit_code']})"
                                                      for s in res["final_shutdown"]),
              "", "Hostile records by category: " + ", ".join(f"{k} {v}" for k, v in sorted(h["categories"].items())),
              "", "Recovery: seconds from the end of the fault (worker restarted, service back) until every input "
              "partition that had a backlog has committed progress. See docs/faults.md for what each fault "
              "checks.", ""]
    (out / "results.md").write_text("\n".join(lines))


# ------------------------------------------------------------------------------------------------ CLI
def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("faults", help="fault-injection run: kills, broker and Redis outages, hostile records",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the small CI form (3 kills, Redis down 10 s, 1,000 hostile)")
    p.add_argument("--out", default="reports/faults", help="folder of results.json and results.md")
    p.add_argument("--employees", type=int, help="override the profile's company size")
    p.add_argument("--days", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--kafka-port", type=int, default=29092, help="port of the harness's own broker (0 = any free)")
    p.add_argument("--redis-port", type=int, default=26379, help="port of the harness's own Redis (0 = any free)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    p.add_argument("--exactly-once", action="store_true",
                   help="run the workers with Faust processing_guarantee=exactly_once (Kafka transactions)")
    p.add_argument("--trace", action="store_true",
                   help="workers log every commit, seek, offset jump and applied event (EXITWATCH_TRACE_OFFSETS; "
                        "with --keep, to find where a missing alert's events went); slows them down")
    p.add_argument("--repeat", type=int, default=1,
                   help="N consecutive runs (seeds SEED, SEED+1, ...) into OUT/run-01 ... and their summary in "
                        "OUT/summary.md and summary.json; a failing run keeps its temporary folder")
    return p


def run(args: argparse.Namespace) -> int:
    if args.repeat <= 1:
        return run_once(args)
    out = Path(args.out)
    base = args.seed if args.seed is not None else (QUICK if args.quick else FULL).seed
    runs: list[dict[str, Any]] = []
    for i in range(args.repeat):
        sub = argparse.Namespace(**{**vars(args), "repeat": 1, "seed": base + i, "out": str(out / f"run-{i + 1:02d}")})
        log(f"run {i + 1} of {args.repeat} (seed {base + i})")
        try:
            run_once(sub)
            runs.append(orjson.loads((out / f"run-{i + 1:02d}" / "results.json").read_bytes()))
        except Exception as exc:  # noqa: BLE001 - a run that could not finish is a failed run, the next goes on
            log(f"run {i + 1} failed: {exc!r}")
            runs.append({"ok": False, "error": repr(exc), "profile": {"seed": base + i}})
        write_summary(runs, out, args.repeat)
    return 0 if all(r["ok"] for r in runs) else 1


def write_summary(runs: list[dict[str, Any]], out: Path, planned: int) -> None:
    """One line per run and the totals: ``OUT/summary.md`` and ``OUT/summary.json``."""
    rows: list[str] = []
    tot: Counter[str] = Counter()
    for i, r in enumerate(runs, 1):
        if "alerts" not in r:
            rows.append(f"| {i} | {r['profile']['seed']} | **error**: {r.get('error', '?')} | | | | | | | |")
            continue
        a, h, rec = r["alerts"], r["hostile"], r.get("tx_recoveries", {})
        kills = [f["recovery_s"] for f in r["faults"] if f["kind"] == "sigkill" and f.get("recovery_s") is not None]
        broker = [f.get("recovery_s") for f in r["faults"] if f["kind"] == "broker"]
        bad = len(a["missing"]) + len(a["unexpected"]) + len(a["duplicated"])
        tot.update({"expected": a["expected"], "delivered": a["delivered_unique"], "missing": len(a["missing"]),
                    "unexpected": len(a["unexpected"]), "duplicated": len(a["duplicated"]),
                    "secops_duplicated": len(a["secops_duplicated"]), "hostile": h["tried"],
                    "dead_lettered": h["dead_lettered"], "unexpected_exits": len(r["unexpected_exits"]),
                    "watchdog": r["watchdog_restarts"], "hung": rec.get("hung_calls", 0),
                    "resumed": rec.get("resumed", 0), "ok": int(r["ok"]), "bad": int(bad > 0)})
        rows.append(f"| {i} | {r['profile']['seed']} | {'pass' if r['ok'] else '**FAIL**'} | "
                    f"{a['delivered_unique']} of {a['expected']} | {len(a['missing'])} / {len(a['unexpected'])} / "
                    f"{len(a['duplicated'])} | {h['dead_lettered']:,} of {h['tried']:,} | "
                    f"{len(r['unexpected_exits'])} / {r['watchdog_restarts']} | {rec.get('hung_calls', '-')} / "
                    f"{rec.get('resumed', '-')} | {min(kills, default='-')}-{max(kills, default='-')} / "
                    f"{broker[0] if broker else '-'} | {rec.get('applied_late', '-')} |")
    lines = [f"# {planned} consecutive fault runs: {len(runs)} done, {tot['ok']} passed every check", "",
             "| run | seed | checks | alert ids delivered | missing / unexpected / twice | hostile dead-lettered | "
             "unexpected exits / watchdog restarts | hung calls / resumptions | recovery after a kill / broker "
             "restart (s) | records applied after later ones |", "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
             f"Totals: {tot['delivered']} of {tot['expected']} alert ids delivered; {tot['missing']} missing, "
             f"{tot['unexpected']} unexpected, {tot['duplicated']} sent twice on alerts.hr "
             f"({tot['secops_duplicated']} on alerts.secops); {tot['dead_lettered']:,} of {tot['hostile']:,} hostile "
             f"records dead-lettered; {tot['unexpected_exits']} unexpected worker exits, {tot['watchdog']} watchdog "
             f"restarts; {tot['hung']} transaction calls given up as hung, {tot['resumed']} resumptions from the "
             "last committed state.", "", "Each run's report: `run-NN/results.md`.", ""]
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text("\n".join(lines))
    (out / "summary.json").write_bytes(orjson.dumps({"planned": planned, "runs": [
        {k: r.get(k) for k in ("ok", "checks", "error", "alerts", "tx_recoveries", "watchdog_restarts",
                               "unexpected_exits", "faults", "started", "total_s")} | {"seed": r["profile"]["seed"]}
        for r in runs], "totals": dict(tot)}, option=orjson.OPT_INDENT_2))


def run_once(args: argparse.Namespace) -> int:
    from schemas.secrets import declare_dev_mode

    declare_dev_mode()  # a generated company with the development keys; the workers the harness starts inherit it
    prof = dataclasses.replace(QUICK if args.quick else FULL)
    for k in ("employees", "days", "seed"):
        if getattr(args, k) is not None:
            setattr(prof, k, getattr(args, k))
    if args.exactly_once:
        prof.guarantee = "exactly_once"
    if args.trace:
        os.environ["EXITWATCH_TRACE_OFFSETS"] = "1"  # inherited by the workers the harness starts
    kport = args.kafka_port or free_port()
    rport = args.redis_port or free_port()
    for port in (kport, kport + 1, rport):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                raise ValueError(f"port {port} is in use; pick others with --kafka-port / --redis-port")
    root = Path(tempfile.mkdtemp(prefix="exitwatch-faults-"))

    def _term(signum: int, frame: Any) -> None:  # SIGTERM: stop the broker, Redis and workers we started
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    r = Run(prof, root, Path(args.out), kport, rport)
    res: dict[str, Any] = {"ok": False}
    try:
        res = r.execute()
        res["workdir"] = str(root) if args.keep or not res["ok"] else None
        write_report(res, Path(args.out))
    finally:
        r.cleanup()
        if not args.keep and res["ok"]:  # a failing run keeps its folder (logs, data) to be looked at
            shutil.rmtree(root, ignore_errors=True)
    log(f"{'PASS' if res['ok'] else 'FAIL'}: results in {args.out}/results.md")
    print(json.dumps({"ok": res["ok"], "checks": res["checks"]}, indent=1))
    return 0 if res["ok"] else 1
