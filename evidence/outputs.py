"""The evidence ledger and the ``alerts.secops`` form beside a detection engine, for any driver.

``exitwatch replay`` writes them to files (:class:`ReplayOutputs`); the worker sends them to topics through
:class:`Outputs` the same way, so the same inputs give the same ledger entries and secops alert ids.
"""

from __future__ import annotations

from typing import Any

import orjson

from detectors.routing import for_secops
from evidence.keys import SigningKey, signing_key
from evidence.privacy import Population, secops_view
from evidence.recorder import Recorder
from schemas import Alert, HRRecord
from schemas.settings import Settings


class Outputs:
    """Per input record (after the engine): keep evidence, update the HR population, and return the ledger
    entries and the secops forms of its alerts."""

    def __init__(self, engine: Any, settings: Settings | None = None, key: SigningKey | None = None,
                 ledger: bool = True) -> None:
        s = settings or Settings()
        self.settings = s
        self.pseudonym_key = s.pseudonym_key.get_secret_value().encode()
        self.key = key or signing_key(s)
        self.recorder = Recorder(engine, self.key) if ledger else None
        self.population = Population(k=s.secops_k)
        self.entries = 0
        self.secops = 0

    def on_hr_population(self, record: HRRecord | dict[str, Any]) -> None:
        self.population.update(record.model_dump(mode="json") if isinstance(record, HRRecord) else record)

    def process(self, record: Any, alerts: list[Alert], emp: str | None = None,
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any] | None]]:
        """``record`` has just been applied by the engine (to employee ``emp``, resolved from it if None) and
        made ``alerts``: returns their ledger entries and their alerts.secops forms, in order (None for an
        alert that must not go to alerts.secops)."""
        if isinstance(record, HRRecord):
            self.on_hr_population(record)
        entries = self.recorder.after(record, alerts, emp) if self.recorder is not None else []
        # departure propensity stays with HR (detectors/routing.py): no secops form at all
        sec = [secops_view(a, self.pseudonym_key, self.population) if for_secops(a) else None for a in alerts]
        self.entries += len(entries)
        self.secops += sum(v is not None for v in sec)
        return entries, sec


class ReplayOutputs(Outputs):
    """:class:`Outputs` to files: ``secops`` (the alerts.secops form, one per line) and ``ledger``."""

    def __init__(self, engine: Any, secops: str | None = None, ledger: str | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(engine, settings, ledger=ledger is not None)
        self.secops_path, self.ledger_path = secops, ledger
        self._sec = open(secops, "wb") if secops else None
        self._led = open(ledger, "wb") if ledger else None

    def after(self, record: Any, alerts: list[Alert]) -> None:
        entries, sec = self.process(record, alerts)
        if self._led is not None:
            for e in entries:
                self._led.write(orjson.dumps(e) + b"\n")
        if self._sec is not None:
            for v in sec:
                if v is not None:
                    self._sec.write(orjson.dumps(v) + b"\n")

    def close(self) -> None:
        for fh in (self._sec, self._led):
            if fh is not None:
                fh.close()

    def summary(self) -> str:
        parts = []
        if self.secops_path:
            parts.append(f"{self.secops:,} alerts.secops forms to {self.secops_path}")
        if self.ledger_path:
            dev = " (DEVELOPMENT signing key: set EXITWATCH_EVIDENCE_SIGNING_KEY)" if self.key.is_development else ""
            parts.append(f"{self.entries:,} signed ledger entries to {self.ledger_path}, key {self.key.public.fingerprint}{dev}")
        return "; ".join(parts)
