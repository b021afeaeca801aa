"""Bookkeeping aggregates saved atomically beside the acts: never shown as diplomatic acts.

EventIndex finds the aggregate that holds an event id (for retractions and 404s);
IdempotencyKey remembers a write's first answer, so a retried request stores nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.events import RecordAggregate
from domain.values import unique_aggregate_id

INTERNAL_TOPIC_PREFIX = "diplo:internal."


class EventIndex(RecordAggregate):
    TOPIC = "diplo:internal.EventIndex"

    class Event(Aggregate.Event):
        TOPIC = "diplo:internal.EventIndex.Event"

    class Indexed(Event, Aggregate.Created):
        TOPIC = "diplo:internal.EventIndex.Indexed"
        class_version = 1
        event_id: UUID
        aggregate_id: UUID
        kind: str

        def apply(self, aggregate: Any) -> None:
            aggregate.event_id = self.event_id
            aggregate.target_id = self.aggregate_id
            aggregate.kind = self.kind

    if TYPE_CHECKING:
        event_id: UUID
        target_id: UUID
        kind: str

    @staticmethod
    def id_for(event_id: UUID) -> UUID:
        return unique_aggregate_id("event-index", str(event_id))

    @classmethod
    def index(cls, *, event_id: UUID, target: UUID, kind: str) -> EventIndex:
        return cls._create(cls.Indexed, id=cls.id_for(event_id), event_id=event_id, aggregate_id=target, kind=kind)


class IdempotencyKey(RecordAggregate):
    TOPIC = "diplo:internal.IdempotencyKey"

    class Event(Aggregate.Event):
        TOPIC = "diplo:internal.IdempotencyKey.Event"

    class Claimed(Event, Aggregate.Created):
        TOPIC = "diplo:internal.IdempotencyKey.Claimed"
        class_version = 1
        key: str
        request_hash: str
        receipt: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.key = self.key
            aggregate.request_hash = self.request_hash
            aggregate.receipt = dict(self.receipt)

    if TYPE_CHECKING:
        key: str
        request_hash: str
        receipt: dict[str, Any]

    @staticmethod
    def id_for(key: str) -> UUID:
        return unique_aggregate_id("idempotency-key", key)

    @classmethod
    def claim(cls, *, key: str, request_hash: str, receipt: dict[str, Any]) -> IdempotencyKey:
        return cls._create(cls.Claimed, id=cls.id_for(key), key=key, request_hash=request_hash, receipt=receipt)
