"""Statement: words a party said. It never changes a formal stance; it sits beside it in history."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import Duplicate, InvalidInput
from domain.events import RecordAggregate
from domain.values import aggregate_id, check_not_future, event_id_for


class Statement(RecordAggregate):
    TOPIC = "diplo:Statement"

    class Event(Aggregate.Event):
        TOPIC = "diplo:Statement.Event"

    class Issued(Event, Aggregate.Created):
        TOPIC = "diplo:Statement.Issued"
        class_version = 1
        event_id: UUID
        party: str
        speaker: str | None
        occurred_on: date
        precision: str
        text: str
        about: str | None
        position: str | None
        note: str | None
        sources: list[dict[str, Any]]
        confidence: str

        def apply(self, aggregate: Any) -> None:
            aggregate.party = self.party
            aggregate.about = self.about
            aggregate.issued_event_id = self.event_id
            aggregate.retracted = False

    class Reissued(Event):
        """The same words recorded again after their retraction (corrected sources, say): live again, as a new
        event of the same statement."""

        TOPIC = "diplo:Statement.Reissued"
        class_version = 1
        event_id: UUID
        party: str
        speaker: str | None
        occurred_on: date
        precision: str
        text: str
        about: str | None
        position: str | None
        note: str | None
        sources: list[dict[str, Any]]
        confidence: str

        def apply(self, aggregate: Any) -> None:
            aggregate.about = self.about
            aggregate.issued_event_id = self.event_id
            aggregate.retracted = False

    class Retracted(Event):
        TOPIC = "diplo:Statement.Retracted"
        class_version = 1
        event_id: UUID
        party: str
        about: str | None
        target_event_id: UUID
        reason: str
        sources: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.retracted = True

    if TYPE_CHECKING:  # set by the events' apply(); not dataclass fields
        party: str
        about: str | None
        issued_event_id: UUID
        retracted: bool

    @staticmethod
    def id_for(party: str, occurred_on: date, speaker: str | None, text: str, precision: str = "day") -> UUID:
        """The same words by the same party and speaker on the same day are one statement; words known only to
        their month or year are another statement than the same words dated to the day."""
        key = f"{party.strip().upper()}|{occurred_on}|{(speaker or '').strip()}|{text.strip()}"
        if precision != "day":
            key += f"|{precision}"  # appended only then: the ids of statements dated to the day never change
        digest = hashlib.sha256(key.encode()).hexdigest()
        return aggregate_id("statement", digest)

    @classmethod
    def issue(
        cls,
        *,
        party: str,
        speaker: str | None,
        occurred_on: date,
        precision: str,
        text: str,
        about: str | None,
        position: str | None,
        note: str | None,
        sources: list[dict[str, Any]],
        confidence: str,
        today: date,
    ) -> Statement:
        if not text.strip():
            raise InvalidInput("text must not be empty", field="text")
        if position is not None and about is None:
            raise InvalidInput("a position needs the declaration it is about", field="about")
        check_not_future(occurred_on, "occurred_on", today)
        statement_id = cls.id_for(party, occurred_on, speaker, text, precision)
        return cls._create(
            cls.Issued,
            id=statement_id,
            event_id=event_id_for(statement_id, 1),
            party=party,
            speaker=speaker.strip() if speaker else None,
            occurred_on=occurred_on,
            precision=precision,
            text=text.strip(),
            about=about,
            position=position,
            note=note,
            sources=sources,
            confidence=confidence,
        )

    def reissue(self, issued: Statement) -> UUID:
        """Records the same words again after their retraction, with what the new record says of them."""
        if not self.retracted:
            raise Duplicate(f"this statement by {self.party} is already recorded (statement {self.id}); retract it "
                            "first to record it again", field="text")
        first: Any = issued.pending_events[0]
        event_id = event_id_for(self.id, self.version + 1)
        self.trigger_event(self.Reissued, event_id=event_id, party=first.party, speaker=first.speaker,
                           occurred_on=first.occurred_on, precision=first.precision, text=first.text,
                           about=first.about, position=first.position, note=first.note, sources=first.sources,
                           confidence=first.confidence)
        return event_id

    def retract(self, *, target_event_id: UUID, reason: str, sources: list[dict[str, Any]]) -> UUID:
        if self.retracted:
            raise Duplicate(f"event {target_event_id} has already been retracted", field="event_id")
        if not reason.strip():
            raise InvalidInput("a retraction needs a reason", field="reason")
        event_id = event_id_for(self.id, self.version + 1)
        self.trigger_event(
            self.Retracted,
            event_id=event_id,
            party=self.party,
            about=self.about,
            target_event_id=target_event_id,
            reason=reason.strip(),
            sources=sources,
        )
        return event_id
