"""exitwatch: catches data theft and damage by employees around their departure, while it happens."""

__version__ = "0.1.0"
