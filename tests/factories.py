"""Factories the tests share: a record in memory, and the commands of the record with sensible defaults
(each default overridable by keyword), so a test names only what it is about."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.commands import HostSummit, PublishDeclaration, RecordAct, RecordStatement, Retract
from domain.parties import Party, PartyRegistry
from domain.service import DiplomaticRecord, Idempotency, Receipt
from domain.values import ActKind, Confidence, Precision, Source

TODAY = date(2026, 11, 25)
DECLARATION = "paris-statement"
SUMMIT = "paris-ai-action-summit"
SOURCES = [Source("Report", "https://example.org/r")]
PARTIES = PartyRegistry([Party("EU", "European Union", "supranational")])


def new_record(today: date = TODAY) -> DiplomaticRecord:
    """An empty record in memory, whose today is fixed (no test may depend on the day it runs)."""
    return DiplomaticRecord({"PERSISTENCE_MODULE": "eventsourcing.popo"}, parties=PARTIES, today=lambda: today)


def host(record: DiplomaticRecord, id: str = SUMMIT, **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {
        "name": "AI Action Summit",
        "hosts": ["FR", "IN"],
        "city": "Paris",
        "starts_on": date(2025, 2, 10),
        "ends_on": date(2025, 2, 11),
        "sources": SOURCES,
        "confidence": Confidence.HIGH,
    }
    return record.handle(HostSummit(id=id, **{**fields, **overrides}))


def publish(record: DiplomaticRecord, id: str = DECLARATION, **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {
        "title": "Statement on inclusive and sustainable AI",
        "published_on": date(2025, 2, 10),
        "sources": SOURCES,
        "confidence": Confidence.HIGH,
    }
    return record.handle(PublishDeclaration(id=id, **{**fields, **overrides}))


def act(record: DiplomaticRecord, kind: str, party: str, day: date, idempotency: Idempotency | None = None,
        *, precision: str = Precision.DAY, **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {"declaration_id": DECLARATION, "sources": SOURCES, "confidence": Confidence.HIGH}
    command = RecordAct(kind=ActKind(kind), party=party, occurred_on=day, precision=Precision(precision),
                        **{**fields, **overrides})
    return record.handle(command, idempotency)


def say(record: DiplomaticRecord, party: str = "US", text: str = "We will not sign.", **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {"occurred_on": date(2025, 2, 11), "sources": SOURCES, "speaker": "JD Vance"}
    return record.handle(RecordStatement(party=party, text=text, **{**fields, **overrides}))


def retract(record: DiplomaticRecord, event_id: UUID, idempotency: Idempotency | None = None,
            **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {"reason": "misreported", "sources": SOURCES}
    return record.handle(Retract(event_id=event_id, **{**fields, **overrides}), idempotency)


# The AI-summit record's first release: the tests of the engine's answers read it, a snapshot that later releases
# (corrections of the record) do not change; tests of the releases themselves load them all.
FIRST_RELEASE = "ai-summits-2026-11-25"
