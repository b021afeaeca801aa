"""Bulk import: many commands decided by the same rules as the service, stored all at once or not at all.

The service decides each command on aggregates read from the store and saves it in a transaction of
its own: one commit (an fsync, or a round trip) and one refold of the declaration per act. An archive
of a hundred thousand acts does not need that. Here every command is decided, in order, by the very
same decision (`domain.commands`), on the aggregates the import has touched so far, held in memory:
each declaration is read from the store once and then carries every act the import gives it, so a
later act in the file is judged against the earlier ones exactly as if they had been stored.

Nothing is stored until every command is accepted. The first refusal stops the import and names the
command (its number in the input) and the field; the store is then unchanged. When all are accepted,
every event is stored in one transaction, in command order, so the log reads exactly as if the
commands had been sent one by one. A writer that stores an event on one of the same aggregates in the
meantime makes that transaction fail whole (optimistic concurrency); the import can then be run again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent

from domain.commands import Command
from domain.errors import Contention, DomainError
from domain.ledger import EventIndex, IdempotencyKey
from domain.parties import PartyRegistry
from domain.rollcall import RollCall
from domain.values import EventKind


class IndexRow:
    """An entry of the event-id index decided by a bulk import, kept as its stored event rather than an EventIndex
    aggregate and its Indexed event: the same attributes for the commands that look it up (a retraction in the
    same file), the same stored event (topic, state bytes) as the mapper makes of EventIndex.index(...)."""

    __slots__ = ("_stored", "event_id", "id", "kind", "target_id")

    def __init__(self, aggregate_id: UUID, event_id: UUID, target_id: UUID, kind: str, stored: StoredEvent) -> None:
        self.id = aggregate_id
        self.event_id = event_id
        self.target_id = target_id
        self.kind = kind
        self._stored = [stored]

    def collect_events(self) -> list[StoredEvent]:
        collected, self._stored = self._stored, []
        return collected


class IndexRows:
    """Builds the index entries' stored events directly, where that gives the mapper's very bytes.

    Half of a bulk import's events are index entries; building each as an aggregate, its event object, then the
    mapper's generic transcoding cost twice what writing out the state below costs (docs/benchmarks.md, Round 4).
    The spelling is eventsourcing's JSON transcoding of EventIndex.Indexed (timestamp, originator_topic, event_id,
    aggregate_id, kind; UUIDs and the timestamp in their typed forms), for the kinds of event the record indexes.
    Each kind is used only if the app's mapper makes exactly these bytes of a sample entry of that kind: a store
    with another transcoder, a compressor or a cipher (whose bytes differ each time) gets EventIndex aggregates,
    as does any other kind."""

    TOPIC = EventIndex.Indexed.TOPIC
    _STATE = ('{"timestamp":{"_type_":"datetime_iso","_data_":"%s"},"originator_topic":' + json.dumps(EventIndex.TOPIC)
              + ',"event_id":{"_type_":"uuid_hex","_data_":"%s"},"aggregate_id":{"_type_":"uuid_hex","_data_":"%s"},'
              '"kind":%s}')

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.kinds: dict[str, str] = {}  # kind -> its JSON, for the kinds this mapper spells so
        at = datetime(2001, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
        event_id, target = UUID(int=2**127 + 12345), UUID(int=67890)
        aggregate_id = EventIndex.id_for(event_id)
        for kind in EventKind:
            sample = EventIndex._create(EventIndex.Indexed, id=aggregate_id, timestamp=at, event_id=event_id,
                                        aggregate_id=target, kind=kind)
            try:
                expected = mapper.to_stored_event(sample.collect_events()[0])
            except Exception:
                return
            spelt = json.dumps(str(kind))
            made = self._stored(aggregate_id, at, event_id, target, spelt)
            if (expected.originator_id, expected.originator_version, expected.topic, expected.state) == (
                    made.originator_id, made.originator_version, made.topic, made.state):
                self.kinds[kind] = spelt

    def _stored(self, aggregate_id: UUID, at: datetime, event_id: UUID, target: UUID, kind: str) -> StoredEvent:
        state = (self._STATE % (at.isoformat(), event_id.hex, target.hex, kind)).encode()
        return StoredEvent(originator_id=aggregate_id, originator_version=1, topic=self.TOPIC, state=state)

    def row(self, *, event_id: UUID, target: UUID, kind: str) -> Any:
        spelt = self.kinds.get(kind)
        if spelt is None:
            return EventIndex.index(event_id=event_id, target=target, kind=kind)
        aggregate_id = EventIndex.id_for(event_id)
        at = EventIndex.Indexed.create_timestamp()
        return IndexRow(aggregate_id, event_id, target, kind, self._stored(aggregate_id, at, event_id, target, spelt))


BOOKKEEPING = (EventIndex, IdempotencyKey, IndexRow)  # aggregates whose events are never public

if TYPE_CHECKING:
    from domain.service import DiplomaticRecord


class CommandRefused(Exception):
    """A command of the import was refused; nothing was stored."""

    def __init__(self, number: int, error: DomainError) -> None:
        where = f" ({error.field})" if error.field else ""
        super().__init__(f"command {number}{where}: {error}")
        self.number = number
        self.error = error


@dataclass(frozen=True)
class ImportResult:
    commands: int
    events: int
    kinds: dict[str, int] = field(default_factory=dict)
    first_position: int | None = None
    last_position: int | None = None


class HeldState:
    """The record as the import has changed it so far: aggregates it touched are held in memory,
    anything else is read from the store (once)."""

    def __init__(self, app: DiplomaticRecord) -> None:
        self.app = app
        self.parties: PartyRegistry = app.parties
        self.held: dict[UUID, Aggregate] = {}
        # What the store answered about aggregates not held. It cannot go stale unnoticed: the import
        # creates what it creates in `held` (asked first), and another writer's creation makes the
        # final insert fail on the same aggregate id and version.
        self.stored: dict[UUID, bool] = {}
        # Into an empty store (the usual first load of an archive), nothing can be found there: no look-ups.
        self.store_was_empty = not app.recorder.max_notification_id()
        self._today = app.today()  # one import, one day: a file does not straddle midnight half-judged
        self._rollcalls_held = False
        self.public = 0  # public events decided so far (bookkeeping left out)
        self._index_rows = IndexRows(app.mapper)

    def today(self) -> date:
        return self._today

    def get(self, aggregate_id: UUID) -> Any:
        found = self.held.get(aggregate_id)
        if found is None:
            if self.store_was_empty:
                raise AggregateNotFoundError(aggregate_id)
            found = self.held[aggregate_id] = self.app.repository.get(aggregate_id)
        return found

    def decided(self) -> int:
        return self.public

    def index(self, *, event_id: UUID, target: UUID, kind: str) -> Any:
        return self._index_rows.row(event_id=event_id, target=target, kind=kind)

    def rollcalls(self) -> list[RollCall]:
        """Every roll call of the record, held: read once, in one pass over the log rather than one look-up each
        (a release reconciles thousands)."""
        if not self._rollcalls_held:
            if not self.store_was_empty:
                for aggregate in fold_all(self.app, RollCall.TOPICS):
                    self.held.setdefault(aggregate.id, aggregate)
            self._rollcalls_held = True
        return [a for a in self.held.values() if isinstance(a, RollCall)]

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self.held:
            return True
        if self.store_was_empty:
            return False
        found = self.stored.get(aggregate_id)
        if found is None:
            found = self.stored[aggregate_id] = self.app.exists(aggregate_id)
        return found


def fold_all(app: DiplomaticRecord, topics: tuple[str, ...], page: int = 5000) -> list[Aggregate]:
    """Every aggregate whose events have these topics, folded from one pass over the log, in log order."""
    found: dict[UUID, Aggregate] = {}
    start = 0
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=page, topics=topics,
                                                          inclusive_of_start=False)
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            found[event.originator_id] = event.mutate(found.get(event.originator_id))  # type: ignore[attr-defined]
        if len(notifications) < page:
            return list(found.values())
        start = notifications[-1].id


class BulkImport:
    def __init__(self, app: DiplomaticRecord) -> None:
        self.app = app

    def run(
        self,
        commands: Iterable[tuple[int, Command]],
        *,
        progress: Callable[[int], None] | None = None,
        every: int = 10_000,
    ) -> ImportResult:
        """Decides every command, then stores all of their events in one transaction.

        Each command comes with the number that names it to the user (a line number, say).
        Raises CommandRefused (nothing stored) at the first command the record refuses, and
        Conflict (nothing stored) when another writer changed a touched aggregate meanwhile.
        """
        state = HeldState(self.app)
        events: list[Any] = []
        kinds: Counter[str] = Counter()
        n = 0
        for number, command in commands:
            n += 1
            try:
                aggregates, receipt = command.decide(state)
            except DomainError as error:
                raise CommandRefused(number, error) from error
            for aggregate in aggregates:
                state.held[aggregate.id] = aggregate
                # In command order, each command's events together, as the service would store them.
                decided = aggregate.collect_events()
                events.extend(decided)
                if not isinstance(aggregate, BOOKKEEPING):
                    state.public += len(decided)
            kinds[receipt.kind] += 1
            if progress is not None and n % every == 0:
                progress(n)
        if not events:
            return ImportResult(commands=n, events=0)
        try:
            positions = self.app.store_events(events)
        except IntegrityError:
            raise Contention("the record changed while the import was decided (another writer stored an event on "
                           "one of the same aggregates); nothing was stored; run the import again") from None
        return ImportResult(commands=n, events=len(events), kinds=dict(kinds),
                            first_position=min(positions), last_position=max(positions))
