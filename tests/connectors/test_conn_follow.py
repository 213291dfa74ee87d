"""Follow mode and checkpoints: stop after N, append, restart -> every record exactly once."""

from __future__ import annotations

import json
import os
import threading
import time

from connectors.producer import FileSink
from connectors.runner import iter_source, run


def ev_line(i: int) -> str:
    return json.dumps({"event_id": f"e{i}", "ts": "2026-03-02T09:15:00Z", "kind": "file", "action": "open",
                       "actor": "ann@corp.example", "source": "synthetic", "object": f"/f/{i}"}) + "\n"


def ids(path) -> list[str]:
    return [json.loads(x)["event_id"] for x in open(path).read().splitlines()]


def test_stop_after_n_append_restart_exactly_once(tmp_path):
    log, out, cp = tmp_path / "a.jsonl", tmp_path / "out.jsonl", tmp_path / "cp.json"
    log.write_text("".join(ev_line(i) for i in range(10)) + "garbage\n")
    with FileSink(str(out), append=True) as s:
        st = run("synthetic", [str(log)], s, checkpoint=str(cp), max_records=4)
    assert st.events == 4 and ids(out) == ["e0", "e1", "e2", "e3"]
    saved = json.loads(cp.read_text())["files"][str(log)]
    assert saved["inode"][1] == os.stat(log).st_ino and saved["offset"] == len("".join(ev_line(i) for i in range(4)))
    with open(log, "a") as f:
        f.write("".join(ev_line(i) for i in range(10, 15)))
    for _ in range(2):  # the second restart finds nothing new
        with FileSink(str(out), append=True) as s:
            run("synthetic", [str(log)], s, checkpoint=str(cp))
    assert ids(out) == [f"e{i}" for i in range(15)]
    assert len(open(str(out) + ".deadletter").read().splitlines()) == 1


def test_follow_tails_growing_file_and_partial_lines(tmp_path):
    log, cp = tmp_path / "b.jsonl", tmp_path / "cp.json"
    log.write_text(ev_line(0) + ev_line(1))
    got: list[str] = []
    stop = threading.Event()

    def consume():
        for v, dl in iter_source("synthetic", [str(log)], follow=True, checkpoint=str(cp), poll_interval=0.02,
                                 stop=stop.is_set):
            got.append(v.event_id if v else "DL")

    t = threading.Thread(target=consume)
    t.start()
    try:
        deadline = time.time() + 10
        while len(got) < 2 and time.time() < deadline:
            time.sleep(0.02)
        with open(log, "a") as f:
            half = ev_line(2)
            f.write(half[:20])
            f.flush()
            time.sleep(0.15)
            assert got == ["e0", "e1"]  # a partial line is not read
            f.write(half[20:] + ev_line(3))
        while len(got) < 4 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        t.join(10)
    assert got == ["e0", "e1", "e2", "e3"]
    # restart: nothing repeated, new lines read
    with open(log, "a") as f:
        f.write(ev_line(4))
    again = [v.event_id for v, _ in iter_source("synthetic", [str(log)], follow=True, checkpoint=str(cp),
                                                poll_interval=0.02, idle_timeout=0.2)]
    assert again == ["e4"]


def test_rotation_starts_new_file_from_zero(tmp_path):
    log, cp = tmp_path / "c.jsonl", tmp_path / "cp.json"
    log.write_text(ev_line(0) + ev_line(1))
    first = [v.event_id for v, _ in iter_source("synthetic", [str(log)], checkpoint=str(cp))]
    os.rename(log, tmp_path / "c.jsonl.1")
    log.write_text(ev_line(2))
    second = [v.event_id for v, _ in iter_source("synthetic", [str(log)], checkpoint=str(cp))]
    assert first == ["e0", "e1"] and second == ["e2"]


def test_folder_in_follow_mode_picks_up_new_files(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    (d / "1.jsonl").write_text(ev_line(0))
    got: list[str] = []
    stop = threading.Event()

    def consume():
        for v, _ in iter_source("synthetic", [str(d)], follow=True, poll_interval=0.02, stop=stop.is_set):
            got.append(v.event_id)

    t = threading.Thread(target=consume)
    t.start()
    try:
        deadline = time.time() + 10
        while not got and time.time() < deadline:
            time.sleep(0.02)
        (d / "2.jsonl").write_text(ev_line(1))
        while len(got) < 2 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        t.join(10)
    assert got == ["e0", "e1"]
