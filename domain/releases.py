"""Releases of a data set, loaded as knowledge times: each records only what changed since the record last heard
from that data set.

A release is a whole snapshot (every roll call and vote the data set holds at that release). Loading it compares
the snapshot with what the record holds from the same data set, and decides the differences as ordinary events,
each naming the release as its source: new roll calls and votes recorded; votes no longer present retracted;
changed votes retracted and recorded again; changed details of a roll call corrected. Then a `Release.Loaded`
event closes the release. A release speaks only for its own data set: a vote or a roll call recorded by hand, or
by another data set, is left as it is (a different vote there is counted as a disagreement, not overwritten).
Loading the same release twice stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.commands import Decision, Lookup, Receipt, Retract, declaration_named
from domain.errors import InvalidInput
from domain.events import RecordAggregate
from domain.ledger import EventIndex
from domain.rollcall import DETAILS, RollCall, votes_key
from domain.statement import Statement
from domain.values import Confidence, EventKind, Source, Vote, aggregate_id, check_sources, event_id_for


@dataclass(frozen=True)
class RollCallFacts:
    """One roll call as a release gives it (missing and empty texts are both None)."""

    slug: str
    body: str
    session: int | None
    date: dt.date
    precision: str
    resolution: str | None
    title: str | None
    description: str | None
    issues: tuple[str, ...]
    important: bool | None
    amendment: bool | None
    paragraph: bool | None
    votes: Mapping[str, Vote]

    def details(self) -> dict[str, Any]:
        return {name: (sorted(self.issues) if name == "issues" else getattr(self, name)) for name in DETAILS}


@dataclass(frozen=True)
class ReleaseFacts:
    """A whole release of a data set, read from its files."""

    dataset: str
    name: str
    sources: list[Source]
    rollcalls: Sequence[RollCallFacts]
    published_on: dt.date | None = None
    rows: int = 0  # rows read from the files
    # What the reader counted but did not record as votes, by kind (e.g. "not a member": 254,521).
    unrecorded: Mapping[str, int] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return release_tag(self.dataset, self.name)


def release_tag(dataset: str, name: str) -> str:
    """How events name the release that recorded them."""
    return f"{dataset}/{name}"


class Release(RecordAggregate):
    TOPIC = "diplo:Release"

    class Event(Aggregate.Event):
        TOPIC = "diplo:Release.Event"

    class Loaded(Event, Aggregate.Created):
        """A release of a data set was loaded; the events before it in the same transaction are its changes."""

        TOPIC = "diplo:Release.Loaded"
        class_version = 1
        event_id: UUID
        dataset: str
        name: str
        published_on: dt.date | None
        # The public events the release stored before this one, in the same transaction: the log holds them just
        # before it, with nothing between (a transaction's events are stored together).
        events: int
        counts: dict[str, int]
        sources: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.dataset = self.dataset
            aggregate.name = self.name

    if TYPE_CHECKING:
        dataset: str
        name: str

    @staticmethod
    def id_for(dataset: str, name: str) -> UUID:
        return aggregate_id("release", release_tag(dataset, name))

    @classmethod
    def close(cls, *, dataset: str, name: str, published_on: dt.date | None, events: int, counts: dict[str, int],
              sources: list[dict[str, Any]]) -> Release:
        """The release's own event, stored after the `events` public events it recorded, in their transaction."""
        release_id = cls.id_for(dataset, name)
        return cls._create(cls.Loaded, id=release_id, event_id=event_id_for(release_id, 1), dataset=dataset,
                           name=name, published_on=published_on, events=events, counts=counts, sources=sources)


def _reason(facts: ReleaseFacts, what: str) -> str:
    return f"{what} in release {facts.name} of {facts.dataset}"


@dataclass
class _Tally:
    rollcalls_added: int = 0
    votes_added: int = 0
    votes_retracted: int = 0
    votes_corrected: int = 0
    details_corrected: int = 0
    disagreements: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True)
class LoadRelease:
    """Records what a release of a data set changed, and the release itself."""

    facts: ReleaseFacts
    confidence: Confidence = Confidence.HIGH

    def decide(self, state: Lookup) -> Decision:
        facts = self.facts
        release_id = Release.id_for(facts.dataset, facts.name)
        if state.exists(release_id):
            return [], Receipt(event_id_for(release_id, 1), EventKind.RELEASE,
                               {"dataset": facts.dataset, "release": facts.name, "already_loaded": True})
        sources = check_sources(facts.sources)
        today = state.today()
        tag = facts.tag
        mine = f"{facts.dataset}/"
        changed: dict[UUID, Aggregate] = {}
        tally = _Tally()
        seen: set[str] = set()
        self._check_parties(state, facts)
        for rc in facts.rollcalls:
            if rc.slug in seen:
                raise InvalidInput(f"roll call {rc.slug} appears twice in release {facts.name}", field="rollcalls")
            seen.add(rc.slug)
            try:
                held: RollCall | None = state.get(RollCall.id_for(rc.slug))
            except AggregateNotFoundError:
                held = None
            if held is None:
                created = RollCall.call(slug=rc.slug, **rc.details(), votes=rc.votes, sources=sources,
                                        confidence=str(self.confidence), release=tag, today=today)
                changed[created.id] = created
                key = votes_key(created.id)
                changed[EventIndex.id_for(key)] = EventIndex.index(event_id=key, target=created.id,
                                                                   kind=EventKind.ROLLCALL)
                tally.rollcalls_added += 1
                tally.votes_added += len(rc.votes)
                continue
            if self._reconcile(held, rc, facts, sources, tally, mine, today):
                changed[held.id] = held
        # Roll calls this data set recorded that the release no longer has: their votes from it are retracted.
        for held in state.rollcalls():
            if held.slug in seen:
                continue
            gone = [p for p, cast in held.votes.items() if cast.release and cast.release.startswith(mine)]
            if gone:
                held.retract_votes(gone, reason=_reason(facts, "no longer present"), sources=sources, release=tag)
                tally.votes_retracted += len(gone)
                changed[held.id] = held
        public = sum(len(a.pending_events) for a in changed.values()
                     if not isinstance(a, EventIndex))
        release = Release.close(dataset=facts.dataset, name=facts.name, published_on=facts.published_on,
                                events=public, sources=sources,
                                counts={**tally.as_dict(), "rows": facts.rows,
                                        **{f"unrecorded {k}": n for k, n in facts.unrecorded.items()}})
        receipt = Receipt(event_id_for(release_id, 1), EventKind.RELEASE,
                          {"dataset": facts.dataset, "release": facts.name, **tally.as_dict()})
        return [*changed.values(), release], receipt

    @staticmethod
    def _check_parties(state: Lookup, facts: ReleaseFacts) -> None:
        """Every party is known, and those with known limits existed on the roll call's day (each party once,
        each bounded one per roll call: 870,109 votes name 200 parties)."""
        named: set[str] = set()
        for rc in facts.rollcalls:
            named.update(rc.votes)
        for party in sorted(named):
            if state.parties.require(party, field="votes") != party:
                raise InvalidInput(f"{party!r} is not a party's code as the registry spells it", field="votes")
        bounded = state.parties.bounded() & named
        for rc in facts.rollcalls:
            for party in bounded.intersection(rc.votes):
                state.parties.require_on(party, rc.date, field=f"{rc.slug}.votes.{party}")

    def _reconcile(self, held: RollCall, rc: RollCallFacts, facts: ReleaseFacts, sources: list[dict[str, Any]],
                   tally: _Tally, mine: str, today: dt.date) -> bool:
        """Decides the changes of one roll call the record already holds; True if there are any."""
        tag = facts.tag
        touched = False
        created_by_me = held.created_by is not None and held.created_by.startswith(mine)
        if created_by_me:
            wanted = rc.details()
            changes = {name: value for name, value in wanted.items() if held.details.get(name) != value}
            if changes:
                held.correct_details(changes, reason=_reason(facts, "corrected"), sources=sources, release=tag,
                                     today=today)
                tally.details_corrected += 1
                touched = True
        removed: list[str] = []
        changed: list[str] = []
        cast: dict[str, Vote] = {}
        for party, live in held.votes.items():
            ours = live.release is not None and live.release.startswith(mine)
            if party not in rc.votes:
                if ours:
                    removed.append(party)
            elif live.vote != rc.votes[party]:
                if ours:
                    changed.append(party)
                    cast[party] = rc.votes[party]
                else:
                    tally.disagreements += 1
        for party, vote in rc.votes.items():
            if party not in held.votes:
                cast[party] = vote
                tally.votes_added += 1
        if removed:
            held.retract_votes(removed, reason=_reason(facts, "no longer present"), sources=sources, release=tag)
            tally.votes_retracted += len(removed)
            touched = True
        if changed:
            held.retract_votes(changed, reason=_reason(facts, "changed"), sources=sources, release=tag)
            tally.votes_corrected += len(changed)
            touched = True
        if cast:
            held.record_votes(cast, sources=sources, confidence=str(self.confidence), release=tag)
            touched = True
        return touched



# -- commands a release of hand-kept facts issues (the AI-summit seed's), beside the ordinary ones -------------


@dataclass(frozen=True)
class RetractAct:
    """Retracts the live act a release no longer holds as it was, found by what it was (the event id is the
    store's, not the release's); nothing if no such act is live (retracted by hand already, say)."""

    declaration_id: str
    party: str
    kind: str
    occurred_on: dt.date
    precision: str
    reason: str
    sources: list[Source]

    def decide(self, state: Lookup) -> Decision:
        declaration = declaration_named(state, self.declaration_id)
        found = next((a for a in declaration.live_acts(self.party)
                      if a.kind == self.kind and a.occurred_on == self.occurred_on and a.precision == self.precision),
                     None)
        if found is None:
            return [], Receipt(event_id_for(declaration.id, declaration.version), EventKind.RETRACTED,
                               {"skipped": True})
        return Retract(event_id=found.event_id, reason=self.reason, sources=self.sources).decide(state)


@dataclass(frozen=True)
class RetractStatement:
    """Retracts the live statement a release no longer holds as it was, found by what was said; nothing if it is
    not live."""

    party: str
    occurred_on: dt.date
    speaker: str | None
    text: str
    reason: str
    sources: list[Source]
    precision: str = "day"

    def decide(self, state: Lookup) -> Decision:
        statement_id = Statement.id_for(self.party, self.occurred_on, self.speaker, self.text, self.precision)
        try:
            statement: Statement = state.get(statement_id)
        except AggregateNotFoundError:
            statement = None  # type: ignore[assignment]
        if statement is None or statement.retracted:
            return [], Receipt(event_id_for(statement_id, 1), EventKind.RETRACTED, {"skipped": True})
        return Retract(event_id=statement.issued_event_id, reason=self.reason, sources=self.sources).decide(state)


@dataclass(frozen=True)
class CloseRelease:
    """Records that a release of a data set was loaded, after the public events the commands before it decided in
    the same transaction (its changes); nothing if it was loaded before."""

    dataset: str
    name: str
    published_on: dt.date | None
    counts: dict[str, int]
    sources: list[Source]

    def decide(self, state: Lookup) -> Decision:
        release_id = Release.id_for(self.dataset, self.name)
        receipt = Receipt(event_id_for(release_id, 1), EventKind.RELEASE,
                          {"dataset": self.dataset, "release": self.name})
        if state.exists(release_id):
            return [], receipt
        return [Release.close(dataset=self.dataset, name=self.name, published_on=self.published_on,
                              events=state.decided(), counts=self.counts, sources=check_sources(self.sources))], receipt
