"""Taking up the last committed state again after a transaction whose outcome is not known.

A transaction call can fail (the broker restarted, the coordinator moved) or hang past its deadline
(:class:`streams.tx.txn.Hung`). Either way the worker cannot tell whether the transaction committed: a commit
may have reached the broker before its answer was lost. So it does not guess:

1. the producer is abandoned, unasked (:meth:`~streams.tx.txn.Transaction.abandon`), and everything processed
   since the last commit is forgotten (the store's uncommitted changes, the merge's buffers);
2. a new producer with the same ``transactional.id`` is made: its ``init_transactions`` fences the old one
   and settles the transaction it left (a commit already prepared is completed, anything else aborted);
3. the committed offsets of the assignment are fetched (read_committed: once the old transaction is
   settled), the states of the owned partitions are restored from the changelog, the models' shared state
   from its topic (streams/tx/models.py), the engine-wide memories from theirs (streams/tx/shared.py), and
   every partition is sought to its committed offset.

States, outputs and offsets were committed together, so the worker then stands exactly where the last
committed transaction left it, whichever way the uncertain one went: nothing it wrote is lost or repeated.
While the broker cannot be reached (step 2 or 3 fails), :func:`resume` is retried at every loop step and
nothing is consumed meanwhile.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaException

from schemas.transport import kafka_config
from streams.tx.assign import restore
from streams.tx.txn import Transaction

log = logging.getLogger("exitwatch.tx.resume")

#: Seconds between attempts while the broker does not answer.
RETRY_S = 1.0
#: Failed attempts in a row to read the committed state after which the clients are made anew
#: (``Rebalancing.renew``). A consumer whose static membership was fenced while the broker was away is dead: it
#: says so only through ``consume``, which is not called while the resumption fails, and it answers every
#: metadata question with "unknown partition" (quick fault run 4 of the thirteenth session, seed 26: ten
#: minutes of such attempts until the harness gave up). The renewed consumer's assignment restores the state.
RENEW_AFTER = 4


def failed(w: Any, exc: BaseException) -> None:
    """A transaction call failed or hung: abandon the producer, forget what is not committed, and resume."""
    log.warning("transaction failed or hung (%s): abandoning the producer and taking up the last committed "
                "state again", exc)
    w.tx.abandon()
    w.rollback()
    w.merge.clear()
    w.resume_due = str(exc)
    resume(w)


def new_producer(w: Any) -> bool:
    """A new transactional producer under the worker's id (it fences the old one); False if not yet."""
    try:
        w.tx = Transaction(kafka_config(w.settings), w.instance, timeout_s=w.settings.tx_call_timeout_s)
        return True
    except Exception as exc:  # noqa: BLE001 - the broker is not back yet: the next step tries again
        log.warning("transactional producer not ready (%s); retrying", exc)
        w.resume_due = w.resume_due or str(exc)
        return False


def resume(w: Any) -> bool:
    """Steps 2 and 3 above; True when done, False to be tried again at the next loop step."""
    t0 = time.monotonic()
    if w.tx.abandoned and not new_producer(w):
        time.sleep(RETRY_S)
        return False
    w.loop_at = time.monotonic()  # progress: the watchdog waits for the next stage
    try:
        tps = w.consumer.assignment()
        committed = w.consumer.committed(tps, timeout=w.settings.tx_call_timeout_s) if tps else []
        w.store.drop_all()
        n = restore(w._restore_consumer, w.changelog, w.owned, w.store, w.sealer.open)  # (as on assignment)
        w.loop_at = time.monotonic()
        w.models.restore(w._restore_consumer)
        w.shared.reload()  # engine-wide memories (streams/tx/shared.py)
    except (KafkaException, TimeoutError) as exc:
        w.store.drop_all()
        w.resume_failures = getattr(w, "resume_failures", 0) + 1
        if w.resume_failures >= RENEW_AFTER:
            log.warning("committed state still not readable after %d attempts (%s): making the Kafka clients anew",
                        w.resume_failures, exc)
            w.resume_failures = 0
            w.resume_due = None  # the renewal drops every state; the new assignment restores it
            w._renew_due = f"resumption failed {RENEW_AFTER} times: {exc}"
            return False
        log.warning("committed state not readable yet (%s); retrying", exc)
        time.sleep(RETRY_S)
        return False
    w.resume_failures = 0
    w.committed_offsets = {(tp.topic, tp.partition): tp.offset for tp in committed}
    w.merge.clear()
    for tp in committed:
        tp.offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
        try:
            w.consumer.seek(tp)
        except KafkaException as exc:  # not fetching yet: it starts from the committed offset anyway
            log.debug("seek %s[%d] skipped: %s", tp.topic, tp.partition, exc)
        w.unheard.add((tp.topic, tp.partition))  # not caught up before the client has fetched from it again
    w.resume_due = None
    log.warning("resumed from the last committed state: %d partitions sought back, %d states restored, in %.1f s",
                len(committed), n, time.monotonic() - t0)
    return True
