"""Fakes for the agent tests: broker sends recorded in memory, the changelog table as a dict."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

from schemas.settings import Settings
from streams.app import Worker, create_worker

SENT_TOPICS = ("activity_enriched", "rekey", "alerts_hr", "alerts_secops", "deadletter", "evidence_ledger")


class Sent:
    """Replaces a topic's ``send``: records what was sent and returns a delivered future."""

    def __init__(self) -> None:
        self.items: list[tuple[bytes, dict[str, Any]]] = []

    async def __call__(self, key: bytes, value: bytes, **kw: Any) -> asyncio.Future:
        self.items.append((key, orjson.loads(value)))
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


def offline_worker(tmp_path: Path) -> Worker:
    """A worker whose sends land in ``worker.sent[name].items`` and whose table is a plain dict."""
    w = create_worker(Settings(data_dir=str(tmp_path), store="memory://", topic_prefix="test."))
    w.app.finalize()
    w.store.table = {}  # the changelog table, as a plain dict
    w.store.shared = {}  # the engine-wide memories' table, too
    w.sent = {}  # type: ignore[attr-defined]
    for name in SENT_TOPICS:
        w.sent[name] = Sent()  # type: ignore[attr-defined]
        w.topics[name].send = w.sent[name]  # type: ignore[attr-defined]
    return w
