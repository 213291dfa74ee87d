"""The rule catalogue, one file per rule: ``<kind>/<behaviour>.py`` defines ``<behaviour>()`` and ``RULE``."""
