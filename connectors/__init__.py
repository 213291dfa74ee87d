"""Connectors: audit logs of many products turned into contract records (CONTRACT.md 2-4).

Python API: :func:`connectors.runner.iter_source`, :func:`connectors.runner.run`, the sinks in
:mod:`connectors.producer`; the command line in :mod:`connectors.cli`. Imports only ``schemas``.
"""
