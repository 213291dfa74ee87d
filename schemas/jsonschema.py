"""JSON Schema files of the contract models, generated from the pydantic models and kept in ``schemas/json/``
for downstream consumers. ``python -m schemas.jsonschema`` rewrites them; a test fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.models import ActivityEvent, Alert, DeadLetter, EnrichedEvent, HRRecord, HRSignal

MODELS: dict[str, type[BaseModel]] = {
    "activity_event": ActivityEvent,
    "enriched_event": EnrichedEvent,
    "hr_record": HRRecord,
    "hr_signal": HRSignal,
    "alert": Alert,
    "deadletter": DeadLetter,
}
OUT = Path(__file__).parent / "json"


def render() -> dict[str, str]:
    """File name -> JSON text of every schema."""
    return {f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
            for name, model in MODELS.items()}


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for fname, text in render().items():
        (OUT / fname).write_text(text)
    print(f"wrote {len(MODELS)} schemas to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
