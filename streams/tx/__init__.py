"""The default worker engine: confluent-kafka with Kafka transactions, records taken in time order.

Read top-down, one module per concern::

    worker.py    the loop: consume -> time-ordered merge -> process -> one transaction; rebalances
    intake.py    the loop's input: take what is at hand, else wait for the first record to come (no longer
                 than the merge or the open transaction allow); pause partitions with too much buffered
    assign.py    partition assignment: restore from the changelog on assign, rebalances, client renewal
    store.py     the per-employee state store, with transactional changes
    upkeep.py    work while idle: positions to commit, the HR population, retention
    merge.py     the time-ordered merge of the input partitions (Kafka Streams' timestamp synchronisation)
    process.py   one record at a time: validate, enrich, detect, and what it writes
    txn.py       the transaction: outputs, state changes and consumer offsets committed together
    topics.py    topic names, the worker instance id, creating missing topics
    hr.py        HR records and account aliases in Redis with an in-process cache (synchronous)
    observe.py   metrics, /healthz and /readyz, as the Faust worker exposes them
    trace.py     stage times of chosen events (EXITWATCH_TX_TRACE_PREFIX), for latency measurements

One loop iteration::

    consume (read_committed) ──► decode into per-partition buffers ──► merge by event time
      ──► enrich (activity.enriched), detect (alerts.hr, alerts.secops), dead letters; forward events whose
          employee's state another worker owns to the rekey topic
      ──► once everything at hand is processed (not sooner than EXITWATCH_TX_COMMIT_MIN_MS, 0), and at least
          every EXITWATCH_TX_INTERVAL_MS: changed states to the changelog, consumer offsets, commit

Everything a batch writes (outputs, state changes, offsets) is committed in one Kafka transaction, so a crash
or a fenced zombie leaves nothing of an unfinished batch visible to ``read_committed`` readers, and the next
owner starts from the committed offsets with the state committed with them.
"""
