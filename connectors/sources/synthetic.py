"""``synthetic``: Activity events already in contract form (JSON lines), validated and passed through.

The generated company writes these. An event that fails validation is dead-lettered with the reason; an
``employee_id`` the record lacks is filled from the HR aliases when ``--hr`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from schemas.models import ActivityEvent

from connectors.base import Output, dead
from connectors.base import _short_validation  # noqa: PLC2701 - shared formatting
from connectors.sources import JsonSource


class SyntheticSource(JsonSource):
    name = "synthetic"

    def parse(self, rec: dict[str, Any], raw: str) -> Iterable[Output]:
        try:
            ev = ActivityEvent.model_validate(rec)
        except ValidationError as e:
            return [dead(self.name, "invalid event: " + _short_validation(e), raw)]
        if ev.employee_id is None:
            emp = self.ctx.resolve(ev.actor)
            if emp is not None:
                ev = ev.model_copy(update={"employee_id": emp})
            else:
                self.ctx.unresolved(ev.actor)
        return [(ev, None)]
