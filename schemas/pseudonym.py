"""Keyed pseudonyms for ``alerts.secops``: HMAC-SHA256 of the employee id, so the same person gets the same
pseudonym in every alert while the key stays secret.

>>> pseudonymize("E1001", b"k") == pseudonymize("E1001", b"k")
True
>>> pseudonymize("E1001", b"k").startswith("p-")
True
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonymize(employee_id: str, key: bytes) -> str:
    return "p-" + hmac.new(key, employee_id.encode("utf-8"), hashlib.sha256).hexdigest()[:20]
