"""Declaration: a text parties can sign, holding every formal act on it and their retractions.

The stance rules live here. A party's acts on one declaration, in valid-time order
(the date each act counts from, then the order they were recorded), must read as a legal sequence at
every prefix. Within one aggregate the version order is the recording order, the same as the log
position order. An act known only to its month or year counts from the first day of its period, or
from the publication date when its period includes it (`domain.values.effective_on`); the read
models use the very same date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import Duplicate, InvalidInput, NotFound, StanceRuleViolation
from domain.events import RecordAggregate
from domain.values import (
    ActKind,
    Precision,
    aggregate_id,
    check_not_future,
    check_slug,
    effective_on,
    event_id_for,
    period_end,
)

# Which stance may precede each act. None is "no stance yet".
ALLOWED_BEFORE: dict[ActKind, frozenset[ActKind | None]] = {
    ActKind.SIGNED: frozenset({None, ActKind.DECLINED, ActKind.WITHDRAWN}),
    ActKind.DECLINED: frozenset({None, ActKind.WITHDRAWN}),
    ActKind.WITHDRAWN: frozenset({ActKind.SIGNED}),
}

VERB = {ActKind.SIGNED: "sign", ActKind.DECLINED: "decline", ActKind.WITHDRAWN: "withdraw from"}


@dataclass(frozen=True)
class ActState:
    """What the aggregate remembers of one formal act, enough to check the rules."""

    event_id: UUID
    party: str
    kind: ActKind
    occurred_on: date  # as recorded
    version: int
    precision: str
    effective_on: date  # the date it counts from: see domain.values.effective_on
    retracted: bool = False

    @property
    def order(self) -> tuple[date, int]:
        return (self.effective_on, self.version)


def when(occurred_on: date, precision: str, counts_from: date | None) -> str:
    """An act's date in words: 'on 2025-02-11', or 'in 2025-02 (known only to the month, counted from …)'."""
    if Precision(precision) is Precision.DAY:
        return f"on {occurred_on.isoformat()}"
    label = occurred_on.strftime("%Y-%m") if Precision(precision) is Precision.MONTH else str(occurred_on.year)
    counted = f", counted from {counts_from.isoformat()}" if counts_from is not None else ""
    return f"in {label} (known only to the {precision}{counted})"


def why_illegal(kind: ActKind, before: ActKind | None) -> str | None:
    """The reason an act cannot follow the stance `before`, or None if it can."""
    if before in ALLOWED_BEFORE[kind]:
        return None
    if kind is ActKind.SIGNED:
        return "it has already signed"
    if kind is ActKind.DECLINED and before is ActKind.SIGNED:
        return "it has signed; withdraw first"
    if kind is ActKind.DECLINED:
        return "it has already declined"
    return "only a signature can be withdrawn" if before is None else f"its stance is {before}, not signed"


def first_illegal(acts: Sequence[ActState]) -> tuple[ActState, ActKind | None, str] | None:
    """Walks one party's live acts in valid-time order; returns the first that breaks the rules."""
    stance: ActKind | None = None
    for act in sorted(acts, key=lambda a: a.order):
        reason = why_illegal(act.kind, stance)
        if reason is not None:
            return act, stance, reason
        stance = act.kind
    return None


class Declaration(RecordAggregate):
    TOPIC = "diplo:Declaration"

    class Event(Aggregate.Event):
        TOPIC = "diplo:Declaration.Event"

    class Published(Event, Aggregate.Created):
        TOPIC = "diplo:Declaration.Published"
        class_version = 1
        event_id: UUID
        slug: str
        title: str
        summit_id: str | None
        published_on: date
        notes: str | None
        sources: list[dict[str, Any]]
        confidence: str

        def apply(self, aggregate: Any) -> None:
            aggregate.slug = self.slug
            aggregate.title = self.title
            aggregate.summit_id = self.summit_id
            aggregate.published_on = self.published_on
            aggregate.acts = {}

    class ActRecorded(Event):
        """Base of the three formal acts; each names its party and when it occurred."""

        TOPIC = "diplo:Declaration.ActRecorded"
        event_id: UUID
        declaration_id: str  # the slug, so every event is readable on its own
        party: str
        occurred_on: date
        precision: str
        reason: str | None
        note: str | None
        sources: list[dict[str, Any]]
        confidence: str

        kind: ClassVar[ActKind]  # set by each act's class; not a stored field

        def apply(self, aggregate: Any) -> None:
            aggregate.acts[self.event_id] = ActState(
                event_id=self.event_id,
                party=self.party,
                kind=self.kind,
                occurred_on=self.occurred_on,
                version=self.originator_version,
                precision=self.precision,
                effective_on=effective_on(self.occurred_on, self.precision, aggregate.published_on),
            )

    class Signed(ActRecorded):
        TOPIC = "diplo:Declaration.Signed"
        class_version = 1
        kind = ActKind.SIGNED

    class Declined(ActRecorded):
        TOPIC = "diplo:Declaration.Declined"
        class_version = 1
        kind = ActKind.DECLINED

    class Withdrawn(ActRecorded):
        TOPIC = "diplo:Declaration.Withdrawn"
        class_version = 1
        kind = ActKind.WITHDRAWN

    class Retracted(Event):
        """An earlier act no longer counts; it stays in the log, marked."""

        TOPIC = "diplo:Declaration.Retracted"
        class_version = 1
        event_id: UUID
        declaration_id: str
        party: str
        target_event_id: UUID
        target_kind: str
        reason: str
        sources: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.acts[self.target_event_id] = replace(aggregate.acts[self.target_event_id], retracted=True)

    if TYPE_CHECKING:  # set by the events' apply(); not dataclass fields
        slug: str
        title: str
        summit_id: str | None
        published_on: date
        acts: dict[UUID, ActState]

    ACT_EVENTS: ClassVar[dict[ActKind, type[ActRecorded]]] = {}

    @staticmethod
    def id_for(slug: str) -> UUID:
        return aggregate_id("declaration", slug)

    @classmethod
    def publish(
        cls,
        *,
        slug: str,
        title: str,
        summit_id: str | None,
        published_on: date,
        notes: str | None,
        sources: list[dict[str, Any]],
        confidence: str,
        today: date,
    ) -> Declaration:
        check_slug(slug, "id")
        if not title.strip():
            raise InvalidInput("title must not be empty", field="title")
        check_not_future(published_on, "published_on", today)
        declaration_id = cls.id_for(slug)
        return cls._create(
            cls.Published,
            id=declaration_id,
            event_id=event_id_for(declaration_id, 1),
            slug=slug,
            title=title.strip(),
            summit_id=summit_id,
            published_on=published_on,
            notes=notes,
            sources=sources,
            confidence=confidence,
        )

    def live_acts(self, party: str | None = None) -> list[ActState]:
        """The acts that count now, in valid-time order."""
        acts = [a for a in self.acts.values() if not a.retracted and (party is None or a.party == party)]
        return sorted(acts, key=lambda a: a.order)

    def counts_from(self, occurred_on: date, precision: str) -> date:
        """The date from which an act on this declaration counts (see domain.values.effective_on)."""
        return effective_on(occurred_on, precision, self.published_on)

    def stance_of(self, party: str, on: date) -> ActState | None:
        """The act that set the party's stance on a date (None: no stance)."""
        current = None
        for act in self.live_acts(party):
            if act.effective_on <= on:
                current = act
        return current

    def has_act(self, party: str, kind: ActKind, occurred_on: date) -> bool:
        return any(
            a.party == party and a.kind is kind and a.occurred_on == occurred_on for a in self.live_acts(party)
        )

    def record_act(
        self,
        *,
        kind: ActKind,
        party: str,
        occurred_on: date,
        precision: str,
        reason: str | None,
        note: str | None,
        sources: list[dict[str, Any]],
        confidence: str,
        today: date,
    ) -> UUID:
        """Checks the act at its place in valid time, then records it; returns its event id."""
        kind = ActKind(kind)
        check_not_future(occurred_on, "occurred_on", today)
        counts_from = self.counts_from(occurred_on, precision)
        # Refused only when the whole period the act is known to lies before the publication.
        if period_end(occurred_on, precision) < self.published_on:
            raise StanceRuleViolation(
                f"{party} cannot {VERB[kind]} {self.slug} {when(occurred_on, precision, None)}: "
                f"it was published on {self.published_on.isoformat()}",
                field="occurred_on",
            )
        version = self.version + 1
        event_id = event_id_for(self.id, version)
        candidate = ActState(event_id, party, kind, occurred_on, version, str(precision), counts_from)
        problem = first_illegal([*self.live_acts(party), candidate])
        if problem is not None:
            act, before, why = problem
            if act is candidate:
                since = self.stance_of(party, counts_from)
                then = (
                    f"its stance then is {before} (since {since.effective_on.isoformat()})"
                    if since
                    else "it had no stance then"
                )
                raise StanceRuleViolation(
                    f"{party} cannot {VERB[kind]} {self.slug} {when(occurred_on, precision, counts_from)}: "
                    f"{then}; {why}"
                )
            raise StanceRuleViolation(
                f"recording {party} {kind} {when(occurred_on, precision, counts_from)} would make its later act "
                f"'{act.kind}' {when(act.occurred_on, act.precision, act.effective_on)} (event {act.event_id}) "
                f"illegal: {why}"
            )
        self.trigger_event(
            self.ACT_EVENTS[kind],
            event_id=event_id,
            declaration_id=self.slug,
            party=party,
            occurred_on=occurred_on,
            precision=precision,
            reason=reason,
            note=note,
            sources=sources,
            confidence=confidence,
        )
        return event_id

    def retract(self, *, target_event_id: UUID, reason: str, sources: list[dict[str, Any]]) -> UUID:
        """Marks an act as no longer counting, if every later act of its party stays legal."""
        act = self.acts.get(target_event_id)
        if act is None:
            raise NotFound(f"event {target_event_id} is not an act on {self.slug}", field="event_id")
        if act.retracted:
            raise Duplicate(f"event {target_event_id} has already been retracted", field="event_id")
        if not reason.strip():
            raise InvalidInput("a retraction needs a reason", field="reason")
        remaining = [a for a in self.live_acts(act.party) if a.event_id != target_event_id]
        problem = first_illegal(remaining)
        if problem is not None:
            later, _, why = problem
            raise StanceRuleViolation(
                f"retracting {act.party} {act.kind} {when(act.occurred_on, act.precision, act.effective_on)} would "
                f"leave its later act '{later.kind}' {when(later.occurred_on, later.precision, later.effective_on)} "
                f"(event {later.event_id}) illegal: {why}; retract the later act first"
            )
        event_id = event_id_for(self.id, self.version + 1)
        self.trigger_event(
            self.Retracted,
            event_id=event_id,
            declaration_id=self.slug,
            party=act.party,
            target_event_id=target_event_id,
            target_kind=str(act.kind),
            reason=reason.strip(),
            sources=sources,
        )
        return event_id


Declaration.ACT_EVENTS.update(
    {
        ActKind.SIGNED: Declaration.Signed,
        ActKind.DECLINED: Declaration.Declined,
        ActKind.WITHDRAWN: Declaration.Withdrawn,
    }
)
