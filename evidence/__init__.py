"""Evidence that holds up and pseudonyms that hold (issue 17).

- :mod:`evidence.keys`: the Ed25519 key that signs the evidence ledger and case bundles;
- :mod:`evidence.ledger`: the append-only, per-employee hash-chained, signed ledger (``evidence.ledger``);
- :mod:`evidence.recorder`: keeps the events an alert may cite (the engine keeps only their ids) and turns
  alerts into ledger entries, the same way in ``exitwatch replay`` and in the worker;
- :mod:`evidence.privacy`: the ``alerts.secops`` form (keyed ids, k-anonymous HR leftovers);
- :mod:`evidence.bundle`: ``exitwatch evidence export`` / ``verify``;
- :mod:`evidence.audit`: the audit trail of the system's own use (re-identification, case export, rules).

Imports point one way: ``evidence -> detectors -> schemas``; ``streams`` and ``exitwatch`` use it.
"""
