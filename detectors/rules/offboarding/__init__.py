"""Offboarding rules: handover, assets, customers and the last-day summary of each leaver (detectors/offboarding.py)."""
