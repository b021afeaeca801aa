"""The application service and command bus: `handle(command)` decides a command (`get -> act -> save`) and
returns its receipt; `handle_all` does the same for a whole command file, in one transaction.

Optimistic concurrency: a command that loses a race on an aggregate is decided again on fresh
state (it may then be refused, if the winner made it illegal). An idempotency key is saved in the
same transaction as the act, so a retried request can never store its act twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent, Transcoding

from domain.bulk import BulkImport, ImportResult
from domain.commands import Command, Receipt, declaration_named
from domain.declaration import Declaration
from domain.errors import Contention, DomainError, IdempotencyConflict
from domain.ledger import EventIndex, IdempotencyKey
from domain.parties import PartyRegistry
from domain.rollcall import RollCall
from domain.statement import Statement
from domain.summit import Summit
from domain.values import today_utc

__all__ = ["DateAsISO", "DiplomaticRecord", "Idempotency", "Receipt"]

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

    def store_events(self, events: Sequence[Any]) -> list[int]:
        """Stores events already decided (a bulk import's) in one transaction, then tells the listeners;
        returns their positions, in the order given.

        The same path as `save` (the mapper, then the recorder) without its per-object protocol checks and
        the recordings it builds per event, which cost more than the insert when a save carries a whole archive."""
        to_stored = self.mapper.to_stored_event
        stored = [e if type(e) is StoredEvent else to_stored(e) for e in events]  # index rows come stored
        positions = [int(p) for p in self.recorder.insert_events(stored) or ()]
        if positions:
            last = max(positions)
            for listener in self.after_save:
                listener(last)
        return positions

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- the command bus ------------------------------------------------------------------------
    # Every command of the record (domain.commands, where the decisions live) is issued through these two:
    # the HTTP routes and the seed loader hand one command at a time, a command file hands many at once.

    def handle(self, command: Command, idempotency: Idempotency | None = None) -> Receipt:
        """Decides the command on the stored state and saves what it decided, in one transaction."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if idempotency is not None and (prior := self._prior_answer(idempotency)) is not None:
                return prior
            try:
                aggregates, receipt = command.decide(self)
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
            stored_as = receipt.carrier_id or receipt.event_id
            position = next(
                r.notification.id for r in recordings if getattr(r.domain_event, "event_id", None) == stored_as
            )
            return Receipt(
                **{**asdict(receipt), "position": position, "last_position": max(r.notification.id for r in recordings)}
            )
        raise Contention("the record changed too often while this command was decided; try again")

    def handle_all(
        self,
        commands: Iterable[tuple[int, Command]],
        *,
        progress: Callable[[int], None] | None = None,
        every: int = 10_000,
    ) -> ImportResult:
        """Decides many commands by the same rules, in order, then stores all they decided in one transaction,
        or nothing at the first refusal (domain.bulk)."""
        return BulkImport(self).run(commands, progress=progress, every=every)

    # -- the state commands decide on (domain.commands.Lookup): the store as it is now -----------

    def get(self, aggregate_id: UUID) -> Any:
        return self.repository.get(aggregate_id)

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def decided(self) -> int:
        return 0  # a command handled on its own has nothing decided before it in its transaction

    def index(self, *, event_id: UUID, target: UUID, kind: str) -> EventIndex:
        return EventIndex.index(event_id=event_id, target=target, kind=kind)

    def rollcalls(self) -> list[RollCall]:
        """Every roll call of the record, as of now (a release reconciles against them all)."""
        from domain.bulk import fold_all

        return [a for a in fold_all(self, RollCall.TOPICS) if isinstance(a, RollCall)]

    # -- queries the commands and the seed loader need ----------------------------------------

    def declaration(self, slug: str) -> Declaration:
        return declaration_named(self, slug)

    def published_on(self, slug: str) -> date | None:
        """A declaration's publication date, from its first event alone (None: no such declaration)."""
        try:
            declaration: Declaration = self.repository.get(Declaration.id_for(slug), version=1)
        except AggregateNotFoundError:
            return None
        return declaration.published_on

    def summit_exists(self, slug: str) -> bool:
        return self.exists(Summit.id_for(slug))

    def declaration_exists(self, slug: str) -> bool:
        return self.exists(Declaration.id_for(slug))

    def statement_exists(self, party: str, occurred_on: date, speaker: str | None, text: str,
                         precision: str = "day") -> bool:
        found = self.parties.find(party)
        return found is not None and self.exists(Statement.id_for(found.code, occurred_on, speaker, text, precision))

    # -- machinery ------------------------------------------------------------------------------

    def _prior_answer(self, idempotency: Idempotency) -> Receipt | None:
        try:
            claimed: IdempotencyKey = self.repository.get(IdempotencyKey.id_for(idempotency.key))
        except AggregateNotFoundError:
            return None
        if claimed.request_hash != idempotency.request_hash:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request", field="Idempotency-Key"
            )
        return Receipt.from_stored(claimed.receipt)
