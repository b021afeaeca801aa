"""The commands of the record as data, each with its decision: what it stores, and what it answers.

A command decides on a `Lookup` of the record's state, not on the store itself, so the same decision
(the same stance rules, the same refusals) serves two callers: the application service, which looks
aggregates up in the event store and saves each command in its own transaction, and the bulk import
(`domain.bulk`), which holds the aggregates it has touched in memory and saves many commands at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.declaration import Declaration
from domain.errors import Conflict, Duplicate, InvalidInput, NotFound
from domain.ledger import EventIndex
from domain.parties import PartyRegistry
from domain.rollcall import RollCall, is_rollcall_id, votes_key
from domain.statement import Statement
from domain.summit import Summit
from domain.values import (
    ActKind,
    Body,
    Confidence,
    EventKind,
    Position,
    Precision,
    Source,
    Vote,
    check_not_future,
    check_sources,
    period_start,
)

RETRACTABLE = frozenset({*ActKind, EventKind.STATEMENT})


@dataclass(frozen=True)
class Receipt:
    """What a command answers: the event it stored and where in the log."""

    event_id: UUID
    kind: str
    subject: dict[str, Any] = field(default_factory=dict)
    position: int | None = None  # the act's position in the global log
    last_position: int | None = None  # the last position this write stored (read models wait for it)
    replayed: bool = False  # answered from an earlier request with the same idempotency key
    # The stored event that carries this one, when it is not an event of its own (a vote, carried by its roll
    # call's event): its position is the receipt's position.
    carrier_id: UUID | None = None

    def stored_form(self) -> dict[str, Any]:
        stored = {"event_id": str(self.event_id), "kind": self.kind, "subject": self.subject}
        if self.carrier_id is not None:
            stored["carrier_id"] = str(self.carrier_id)
        return stored

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Receipt:
        carrier = data.get("carrier_id")
        return cls(event_id=UUID(data["event_id"]), kind=data["kind"], subject=dict(data["subject"]), replayed=True,
                   carrier_id=UUID(carrier) if carrier else None)


Decision = tuple[Sequence[Aggregate], Receipt]


class Lookup(Protocol):
    """The state a command decides on."""

    parties: PartyRegistry

    def get(self, aggregate_id: UUID) -> Any:
        """The aggregate, as of now; raises eventsourcing's AggregateNotFoundError."""

    def exists(self, aggregate_id: UUID) -> bool: ...

    def today(self) -> date: ...

    def rollcalls(self) -> Iterable[RollCall]:
        """Every roll call the record holds (a release reconciles against them all)."""

    def decided(self) -> int:
        """How many public events the commands decided before this one in the same transaction (a release counts
        its own); 0 for a command stored on its own."""

    def index(self, *, event_id: UUID, target: UUID, kind: str) -> Any:
        """The entry of the event-id index (domain.ledger.EventIndex) for an event the command decided, to store
        beside it: an EventIndex aggregate, or what the state keeps in its place with the same attributes
        (`id`, `event_id`, `target_id`, `kind`) and the same stored event (domain.bulk.IndexRow)."""


class Command(Protocol):
    def decide(self, state: Lookup) -> Decision: ...


def declaration_named(state: Lookup, slug: str) -> Declaration:
    """The declaration, or NotFound naming the declaration_id field."""
    try:
        found: Declaration = state.get(Declaration.id_for(slug))
    except AggregateNotFoundError:
        raise NotFound(f"unknown declaration {slug!r}", field="declaration_id") from None
    return found


@dataclass(frozen=True)
class HostSummit:
    """Records that a summit was held."""

    id: str
    name: str
    hosts: list[str]
    city: str
    starts_on: date
    ends_on: date
    sources: list[Source]
    confidence: Confidence
    notes: str | None = None

    def decide(self, state: Lookup) -> Decision:
        codes = [state.parties.require_on(h, self.starts_on, f"hosts[{i}]") for i, h in enumerate(self.hosts)]
        stored_sources = check_sources(self.sources)
        if state.exists(Summit.id_for(self.id)):
            raise Duplicate(f"summit {self.id!r} already exists", field="id")
        summit = Summit.host(
            slug=self.id, name=self.name, hosts=codes, city=self.city, starts_on=self.starts_on,
            ends_on=self.ends_on, notes=self.notes, sources=stored_sources, confidence=str(self.confidence),
            today=state.today(),
        )
        event_id = summit.pending_events[0].event_id  # type: ignore[attr-defined]
        receipt = Receipt(event_id, EventKind.HOSTED, {"summit_id": self.id})
        return [summit, state.index(event_id=event_id, target=summit.id, kind=EventKind.HOSTED)], receipt


@dataclass(frozen=True)
class PublishDeclaration:
    """Records that a declaration was published (and opened for signature)."""

    id: str
    title: str
    published_on: date
    sources: list[Source]
    confidence: Confidence
    summit_id: str | None = None
    notes: str | None = None

    def decide(self, state: Lookup) -> Decision:
        stored_sources = check_sources(self.sources)
        if self.summit_id is not None and not state.exists(Summit.id_for(self.summit_id)):
            raise NotFound(f"unknown summit {self.summit_id!r}", field="summit_id")
        if state.exists(Declaration.id_for(self.id)):
            raise Duplicate(f"declaration {self.id!r} already exists", field="id")
        declaration = Declaration.publish(
            slug=self.id, title=self.title, summit_id=self.summit_id, published_on=self.published_on,
            notes=self.notes, sources=stored_sources, confidence=str(self.confidence), today=state.today(),
        )
        event_id = declaration.pending_events[0].event_id  # type: ignore[attr-defined]
        receipt = Receipt(event_id, EventKind.PUBLISHED, {"declaration_id": self.id, "summit_id": self.summit_id})
        index = state.index(event_id=event_id, target=declaration.id, kind=EventKind.PUBLISHED)
        return [declaration, index], receipt


@dataclass(frozen=True)
class RecordAct:
    """Records that a party signed, declined or withdrew from a declaration."""

    declaration_id: str
    kind: ActKind
    party: str
    occurred_on: date
    sources: list[Source]
    confidence: Confidence
    precision: Precision = Precision.DAY
    reason: str | None = None
    note: str | None = None

    def decide(self, state: Lookup) -> Decision:
        # A state that ended cannot act after it: the act's earliest possible day must be within its existence.
        code = state.parties.require_on(self.party, period_start(self.occurred_on, self.precision))
        stored_sources = check_sources(self.sources)
        declaration = declaration_named(state, self.declaration_id)
        previous = declaration.stance_of(code, declaration.counts_from(self.occurred_on, self.precision))
        event_id = declaration.record_act(
            kind=self.kind, party=code, occurred_on=self.occurred_on, precision=str(self.precision),
            reason=self.reason, note=self.note, sources=stored_sources, confidence=str(self.confidence),
            today=state.today(),
        )
        receipt = Receipt(
            event_id,
            str(self.kind),
            {
                "declaration_id": self.declaration_id,
                "party": code,
                "occurred_on": self.occurred_on.isoformat(),
                "stance": str(self.kind),
                "previous": str(previous.kind) if previous else None,
            },
        )
        return [declaration, state.index(event_id=event_id, target=declaration.id, kind=str(self.kind))], receipt


@dataclass(frozen=True)
class RecordStatement:
    """Records words a party said; a statement never changes a formal stance."""

    party: str
    occurred_on: date
    text: str
    sources: list[Source]
    confidence: Confidence = Confidence.HIGH
    speaker: str | None = None
    about: str | None = None
    position: Position | None = None
    precision: Precision = Precision.DAY
    note: str | None = None

    def decide(self, state: Lookup) -> Decision:
        code = state.parties.require_on(self.party, period_start(self.occurred_on, self.precision))
        stored_sources = check_sources(self.sources)
        if self.about is not None and not state.exists(Declaration.id_for(self.about)):
            raise NotFound(f"unknown declaration {self.about!r}", field="about")
        statement = Statement.issue(
            party=code, speaker=self.speaker, occurred_on=self.occurred_on, precision=str(self.precision),
            text=self.text, about=self.about, position=str(self.position) if self.position else None,
            note=self.note, sources=stored_sources, confidence=str(self.confidence), today=state.today(),
        )
        if state.exists(statement.id):
            held: Statement = state.get(statement.id)
            if not held.retracted:
                raise Duplicate(
                    f"this statement by {code} on {self.occurred_on.isoformat()} is already recorded "
                    f"(statement {statement.id}); retract it first to record it again"
                )
            held.reissue(statement)  # the same words again, after a retraction: as an act may be recorded again
            statement = held
        event_id = statement.issued_event_id
        subject = {"statement_id": str(statement.id), "party": code, "about": self.about}
        receipt = Receipt(event_id, EventKind.STATEMENT, subject)
        return [statement, state.index(event_id=event_id, target=statement.id, kind=EventKind.STATEMENT)], receipt


@dataclass(frozen=True)
class Retract:
    """Records that an earlier act no longer counts; the act itself stays in the log."""

    event_id: UUID
    reason: str
    sources: list[Source]

    def decide(self, state: Lookup) -> Decision:
        stored_sources = check_sources(self.sources)
        try:
            index: EventIndex = state.get(EventIndex.id_for(self.event_id))
        except AggregateNotFoundError:
            if is_rollcall_id(self.event_id):
                return self._vote(state, stored_sources)
            raise NotFound(f"unknown event {self.event_id}", field="event_id") from None
        if index.kind not in RETRACTABLE:
            raise Conflict(
                f"event {self.event_id} is a {index.kind} event; only acts (signed, declined, withdrawn), "
                "statements and votes can be retracted",
                field="event_id",
            )
        target: Declaration | Statement = state.get(index.target_id)
        retraction_id = target.retract(target_event_id=self.event_id, reason=self.reason, sources=stored_sources)
        subject: dict[str, Any] = {"retracted_event_id": str(self.event_id), "retracted_kind": index.kind}
        if isinstance(target, Declaration):
            act = target.acts[self.event_id]
            subject |= {"declaration_id": target.slug, "party": act.party}
        else:
            subject |= {"statement_id": str(target.id), "party": target.party}
        receipt = Receipt(retraction_id, EventKind.RETRACTED, subject)
        return [target, state.index(event_id=retraction_id, target=target.id, kind=EventKind.RETRACTED)], receipt

    def _vote(self, state: Lookup, sources: list[dict[str, Any]]) -> Decision:
        """A vote's id carries its roll call's (domain.rollcall): the roll call's index entry finds it."""
        try:
            index: EventIndex = state.get(EventIndex.id_for(votes_key(self.event_id)))
            rollcall: RollCall = state.get(index.target_id)
        except AggregateNotFoundError:
            raise NotFound(f"unknown event {self.event_id}", field="event_id") from None
        retraction_id, party = rollcall.retract_vote(self.event_id, reason=self.reason, sources=sources)
        subject = {"retracted_event_id": str(self.event_id), "retracted_kind": "vote", "rollcall_id": rollcall.slug,
                   "party": party}
        # The retraction is an event of the roll call, found through the roll call's one index entry.
        return [rollcall], Receipt(retraction_id, EventKind.RETRACTED, subject)


def rollcall_named(state: Lookup, slug: str, field: str = "rollcall_id") -> RollCall:
    """The roll call, or NotFound naming the field."""
    try:
        found: RollCall = state.get(RollCall.id_for(slug))
    except AggregateNotFoundError:
        raise NotFound(f"unknown roll call {slug!r}", field=field) from None
    return found


@dataclass(frozen=True)
class RecordRollCall:
    """Records a roll call held by a body on a text, with the votes its source records."""

    id: str
    body: Body
    date: date
    title: str
    votes: dict[str, Vote]
    sources: list[Source]
    confidence: Confidence
    session: int | None = None
    precision: Precision = Precision.DAY
    resolution: str | None = None
    description: str | None = None
    issues: tuple[str, ...] = ()
    important: bool | None = None
    amendment: bool | None = None
    paragraph: bool | None = None

    def decide(self, state: Lookup) -> Decision:
        stored_sources = check_sources(self.sources)
        if not self.title.strip():
            raise InvalidInput("title must not be empty", field="title")
        check_not_future(self.date, "date", state.today())
        votes = {state.parties.require_on(party, self.date, f"votes.{party}"): Vote(vote)
                 for party, vote in self.votes.items()}
        if len(votes) != len(self.votes):
            raise InvalidInput("a party is named twice in votes (codes are case-insensitive)", field="votes")
        if state.exists(RollCall.id_for(self.id)):
            raise Conflict(f"roll call {self.id!r} already exists", field="id")
        rollcall = RollCall.call(
            slug=self.id, body=str(self.body), session=self.session, date=self.date, precision=str(self.precision),
            resolution=_blank_is_none(self.resolution), title=self.title.strip(),
            description=_blank_is_none(self.description), issues=list(self.issues), important=self.important,
            amendment=self.amendment, paragraph=self.paragraph, votes=votes, sources=stored_sources,
            confidence=str(self.confidence), release=None, today=state.today(),
        )
        event_id = rollcall.pending_events[0].event_id  # type: ignore[attr-defined]
        receipt = Receipt(event_id, EventKind.ROLLCALL, {"rollcall_id": self.id, "votes": len(votes)})
        index = state.index(event_id=votes_key(rollcall.id), target=rollcall.id, kind=EventKind.ROLLCALL)
        return [rollcall, index], receipt


@dataclass(frozen=True)
class RecordVote:
    """Records one party's vote in a roll call that has no live vote of that party."""

    rollcall_id: str
    party: str
    vote: Vote
    sources: list[Source]
    confidence: Confidence

    def decide(self, state: Lookup) -> Decision:
        stored_sources = check_sources(self.sources)
        rollcall = rollcall_named(state, self.rollcall_id)
        code = state.parties.require_on(self.party, rollcall.date)
        carrier, ids = rollcall.record_votes({code: Vote(self.vote)}, sources=stored_sources,
                                             confidence=str(self.confidence), release=None)
        receipt = Receipt(ids[code], EventKind.VOTE, {"rollcall_id": self.rollcall_id, "party": code,
                                              "vote": str(self.vote), "carried_by": str(carrier)},
                          carrier_id=carrier)
        return [rollcall], receipt


def _blank_is_none(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


AnyCommand = HostSummit | PublishDeclaration | RecordAct | RecordStatement | Retract | RecordRollCall | RecordVote
