"""Dead-letter reasons as short categories, for metric labels (free text never becomes a label).

Shared by the connectors' and the worker's metrics, so one dashboard query covers both.

>>> reason_category("record larger than 1048576 bytes"), reason_category("ts: Input should be a valid datetime")
('too_large', 'bad_timestamp')
>>> reason_category("activity.file: ts_out_of_window: ts 2099-01-01T00:00:00+00:00 is after ...")
'ts_out_of_window'

"""

from __future__ import annotations

import re

REASON_CATEGORIES = ("invalid_json", "invalid_record", "bad_timestamp", "too_large", "unsupported",
                     "unknown_topic", "detector_failure", "read_error", "other",
                     # the input guard's own reasons (schemas/guard.py), the same words in every stage
                     "too_deep", "number_out_of_range", "bad_bytes", "bad_string", "ts_out_of_window")
_GUARD = re.compile(r"(?:^|[ :])(too_large|too_deep|number_out_of_range|bad_bytes|bad_string|ts_out_of_window):")
_REASON_RULES = (
    (re.compile(r"too large|too long|larger than|oversized", re.I), "too_large"),
    (re.compile(r"detector failure|detect failed", re.I), "detector_failure"),
    (re.compile(r"does not read topic|unknown topic", re.I), "unknown_topic"),
    (re.compile(r"cannot read|permission denied|no such file", re.I), "read_error"),
    (re.compile(r"json|truncated|decode|utf-?8", re.I), "invalid_json"),
    (re.compile(r"timestamp|datetime|\btime\b|\bdate\b", re.I), "bad_timestamp"),
    (re.compile(r"^not an? |unsupported|unknown ", re.I), "unsupported"),
    (re.compile(r"invalid|validation|missing|required|field|without|^no ", re.I), "invalid_record"),
)


def reason_category(reason: str) -> str:
    """A dead-letter reason as one of :data:`REASON_CATEGORIES` (free text never becomes a label)."""
    m = _GUARD.search(reason)
    if m:
        return m.group(1)
    for rx, cat in _REASON_RULES:
        if rx.search(reason):
            return cat
    return "other"
