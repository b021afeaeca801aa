"""The application service: one method per command, each `get -> act -> save`, returning receipts.

Optimistic concurrency: a command that loses a race on an aggregate is decided again on fresh
state (it may then be refused, if the winner made it illegal). An idempotency key is saved in the
same transaction as the act, so a retried request can never store its act twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding

from domain.declaration import Declaration
from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from domain.ledger import EventIndex, IdempotencyKey
from domain.parties import PartyRegistry
from domain.statement import Statement
from domain.summit import Summit
from domain.values import (
    ActKind,
    Confidence,
    Position,
    Precision,
    Source,
    check_sources,
    today_utc,
)

MAX_ATTEMPTS = 8

log = logging.getLogger(__name__)


class DateAsISO(Transcoding):
    """Stores calendar dates as ISO strings (valid time has day precision at most)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key and a hash of what it asked, to tell a retry from a reuse."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class Receipt:
    """What a command answers: the event it stored and where in the log."""

    event_id: UUID
    kind: str
    subject: dict[str, Any] = field(default_factory=dict)
    position: int | None = None  # the act's position in the global log
    last_position: int | None = None  # the last position this write stored (read models wait for it)
    replayed: bool = False  # answered from an earlier request with the same idempotency key

    def stored_form(self) -> dict[str, Any]:
        return {"event_id": str(self.event_id), "kind": self.kind, "subject": self.subject}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Receipt:
        return cls(event_id=UUID(data["event_id"]), kind=data["kind"], subject=dict(data["subject"]), replayed=True)


Decision = tuple[Sequence[Aggregate], Receipt]


class DiplomaticRecord(Application[UUID]):
    """The commands of the diplomatic record."""

    name = "diplo"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        parties: PartyRegistry,
        today: Callable[[], date] = today_utc,
    ) -> None:
        super().__init__(env)
        self.parties = parties
        self.today = today
        # Called with the last position after each save, e.g. to wake an in-process projector.
        self.after_save: list[Callable[[int], None]] = []

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            last = max(r.notification.id for r in recordings)
            for listener in self.after_save:
                listener(last)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- commands -------------------------------------------------------------------------------

    def host_summit(
        self,
        *,
        id: str,
        name: str,
        hosts: list[str],
        city: str,
        starts_on: date,
        ends_on: date,
        sources: list[Source],
        confidence: Confidence,
        notes: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Receipt:
        """Records that a summit was held."""

        def decide() -> Decision:
            codes = [self.parties.require(h, f"hosts[{i}]") for i, h in enumerate(hosts)]
            stored_sources = check_sources(sources)
            if self._exists(Summit.id_for(id)):
                raise Conflict(f"summit {id!r} already exists", field="id")
            summit = Summit.host(
                slug=id, name=name, hosts=codes, city=city, starts_on=starts_on, ends_on=ends_on,
                notes=notes, sources=stored_sources, confidence=str(confidence), today=self.today(),
            )
            event_id = summit.pending_events[0].event_id  # type: ignore[attr-defined]
            receipt = Receipt(event_id, "hosted", {"summit_id": id})
            return [summit, EventIndex.index(event_id=event_id, target=summit.id, kind="hosted")], receipt

        return self._execute(decide, idempotency)

    def publish_declaration(
        self,
        *,
        id: str,
        title: str,
        published_on: date,
        sources: list[Source],
        confidence: Confidence,
        summit_id: str | None = None,
        notes: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Receipt:
        """Records that a declaration was published (and opened for signature)."""

        def decide() -> Decision:
            stored_sources = check_sources(sources)
            if summit_id is not None and not self._exists(Summit.id_for(summit_id)):
                raise NotFound(f"unknown summit {summit_id!r}", field="summit_id")
            if self._exists(Declaration.id_for(id)):
                raise Conflict(f"declaration {id!r} already exists", field="id")
            declaration = Declaration.publish(
                slug=id, title=title, summit_id=summit_id, published_on=published_on, notes=notes,
                sources=stored_sources, confidence=str(confidence), today=self.today(),
            )
            event_id = declaration.pending_events[0].event_id  # type: ignore[attr-defined]
            receipt = Receipt(event_id, "published", {"declaration_id": id, "summit_id": summit_id})
            return [declaration, EventIndex.index(event_id=event_id, target=declaration.id, kind="published")], receipt

        return self._execute(decide, idempotency)

    def record_act(
        self,
        *,
        declaration_id: str,
        kind: ActKind,
        party: str,
        occurred_on: date,
        sources: list[Source],
        confidence: Confidence,
        precision: Precision = Precision.DAY,
        reason: str | None = None,
        note: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Receipt:
        """Records that a party signed, declined or withdrew from a declaration."""

        def decide() -> Decision:
            code = self.parties.require(party)
            stored_sources = check_sources(sources)
            declaration = self._declaration(declaration_id)
            previous = declaration.stance_of(code, declaration.counts_from(occurred_on, precision))
            event_id = declaration.record_act(
                kind=kind, party=code, occurred_on=occurred_on, precision=str(precision), reason=reason,
                note=note, sources=stored_sources, confidence=str(confidence), today=self.today(),
            )
            receipt = Receipt(
                event_id,
                str(kind),
                {
                    "declaration_id": declaration_id,
                    "party": code,
                    "occurred_on": occurred_on.isoformat(),
                    "stance": str(kind),
                    "previous": str(previous.kind) if previous else None,
                },
            )
            return [declaration, EventIndex.index(event_id=event_id, target=declaration.id, kind=str(kind))], receipt

        return self._execute(decide, idempotency)

    def record_statement(
        self,
        *,
        party: str,
        occurred_on: date,
        text: str,
        sources: list[Source],
        confidence: Confidence = Confidence.HIGH,
        speaker: str | None = None,
        about: str | None = None,
        position: Position | None = None,
        precision: Precision = Precision.DAY,
        note: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> Receipt:
        """Records words a party said; a statement never changes a formal stance."""

        def decide() -> Decision:
            code = self.parties.require(party)
            stored_sources = check_sources(sources)
            if about is not None and not self._exists(Declaration.id_for(about)):
                raise NotFound(f"unknown declaration {about!r}", field="about")
            statement = Statement.issue(
                party=code, speaker=speaker, occurred_on=occurred_on, precision=str(precision), text=text,
                about=about, position=str(position) if position else None, note=note,
                sources=stored_sources, confidence=str(confidence), today=self.today(),
            )
            if self._exists(statement.id):
                raise Conflict(
                    f"this statement by {code} on {occurred_on.isoformat()} is already recorded "
                    f"(statement {statement.id})"
                )
            event_id = statement.issued_event_id
            receipt = Receipt(event_id, "statement", {"statement_id": str(statement.id), "party": code, "about": about})
            return [statement, EventIndex.index(event_id=event_id, target=statement.id, kind="statement")], receipt

        return self._execute(decide, idempotency)

    def retract(
        self,
        *,
        event_id: UUID,
        reason: str,
        sources: list[Source],
        idempotency: Idempotency | None = None,
    ) -> Receipt:
        """Records that an earlier act no longer counts; the act itself stays in the log."""

        def decide() -> Decision:
            stored_sources = check_sources(sources)
            try:
                index: EventIndex = self.repository.get(EventIndex.id_for(event_id))
            except AggregateNotFoundError:
                raise NotFound(f"unknown event {event_id}", field="event_id") from None
            if index.kind not in {"signed", "declined", "withdrawn", "statement"}:
                raise Conflict(
                    f"event {event_id} is a {index.kind} event; only acts (signed, declined, withdrawn) "
                    "and statements can be retracted",
                    field="event_id",
                )
            target: Declaration | Statement = self.repository.get(index.target_id)
            retraction_id = target.retract(target_event_id=event_id, reason=reason, sources=stored_sources)
            subject: dict[str, Any] = {"retracted_event_id": str(event_id), "retracted_kind": index.kind}
            if isinstance(target, Declaration):
                act = target.acts[event_id]
                subject |= {"declaration_id": target.slug, "party": act.party}
            else:
                subject |= {"statement_id": str(target.id), "party": target.party}
            receipt = Receipt(retraction_id, "retracted", subject)
            return [target, EventIndex.index(event_id=retraction_id, target=target.id, kind="retracted")], receipt

        return self._execute(decide, idempotency)

    # -- queries the commands and the seed loader need ----------------------------------------

    def declaration(self, slug: str) -> Declaration:
        return self._declaration(slug)

    def summit_exists(self, slug: str) -> bool:
        return self._exists(Summit.id_for(slug))

    def declaration_exists(self, slug: str) -> bool:
        return self._exists(Declaration.id_for(slug))

    def statement_exists(self, party: str, occurred_on: date, speaker: str | None, text: str) -> bool:
        found = self.parties.find(party)
        return found is not None and self._exists(Statement.id_for(found.code, occurred_on, speaker, text))

    # -- machinery ------------------------------------------------------------------------------

    def _declaration(self, slug: str) -> Declaration:
        try:
            declaration: Declaration = self.repository.get(Declaration.id_for(slug))
        except AggregateNotFoundError:
            raise NotFound(f"unknown declaration {slug!r}", field="declaration_id") from None
        return declaration

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _prior_answer(self, idempotency: Idempotency) -> Receipt | None:
        try:
            claimed: IdempotencyKey = self.repository.get(IdempotencyKey.id_for(idempotency.key))
        except AggregateNotFoundError:
            return None
        if claimed.request_hash != idempotency.request_hash:
            raise Conflict(
                "this Idempotency-Key was already used with a different request", field="Idempotency-Key"
            )
        return Receipt.from_stored(claimed.receipt)

    def _execute(self, decide: Callable[[], Decision], idempotency: Idempotency | None) -> Receipt:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if idempotency is not None and (prior := self._prior_answer(idempotency)) is not None:
                return prior
            try:
                aggregates, receipt = decide()
            except DomainError:
                # A twin request with this key may have stored its act between our look-up and our
                # decision; then the act it stored is why we are refused, and its answer is ours.
                if idempotency is not None and (prior := self._prior_answer(idempotency)) is not None:
                    return prior
                raise
            to_save: list[Aggregate] = list(aggregates)
            if idempotency is not None:
                to_save.append(
                    IdempotencyKey.claim(
                        key=idempotency.key, request_hash=idempotency.request_hash, receipt=receipt.stored_form()
                    )
                )
            try:
                recordings = self.save(*to_save)
            except IntegrityError:
                # Another writer got there first: decide again on what it stored.
                log.info("optimistic concurrency conflict on %s (attempt %d); deciding again", receipt.kind, attempt)
                continue
            position = next(
                r.notification.id for r in recordings if getattr(r.domain_event, "event_id", None) == receipt.event_id
            )
            return Receipt(
                **{**asdict(receipt), "position": position, "last_position": max(r.notification.id for r in recordings)}
            )
        raise Conflict("the record changed too often while this command was decided; try again")


def require_date(value: Any, field: str) -> date:
    """Parses an ISO date, naming the field when it is not one."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO 8601 date (YYYY-MM-DD), got {value!r}", field=field) from None
