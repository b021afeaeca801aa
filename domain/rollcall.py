"""RollCall: a recorded vote of a body (the UN General Assembly, say) on one text, with each party's vote.

The record keeps a roll call as the body does: one document per roll call, so one `Called` event carries every
vote of it, and later changes come as one event per change of the document (votes cast, votes retracted, details
corrected). Each party's vote is still addressable on its own: its id is derived from the roll call, the event
that cast it and the party (`vote_id`), and a retraction names that id. One live vote per party per roll call.

A vote id is a UUID of version 8 whose first 60 bits are the roll call's own id, and so are the ids of the roll
call's own events: the roll call that holds a vote or an event is found from its id alone (`votes_key`), through
one index entry per roll call rather than one per event or vote (a record of 870,109 votes keeps 6,203).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import RecordAggregate
from domain.values import Precision, Vote, aggregate_id, check_not_future, check_slug

# The details of a roll call that a later source may correct (DetailsCorrected names the ones it changes).
DETAILS = ("body", "session", "date", "precision", "resolution", "title", "description", "issues", "important",
           "amendment", "paragraph")


def _v8(prefix: bytes, rest: bytes) -> UUID:
    data = bytearray(prefix[:8] + rest[:8])
    data[6] = 0x80 | (data[6] & 0x0F)  # version 8: an id laid out by the application
    data[8] = 0x80 | (data[8] & 0x3F)  # the RFC 9562 variant
    return UUID(bytes=bytes(data))


def vote_id(rollcall_id: UUID, version: int, party: str) -> UUID:
    """The id of the vote a party cast in the roll call's event at `version`: deterministic, so importing the
    same facts twice names the same votes."""
    digest = hashlib.sha1(rollcall_id.bytes + version.to_bytes(4, "big") + party.encode(), usedforsecurity=False)
    return _v8(rollcall_id.bytes, digest.digest())


def vote_ids(rollcall_id: UUID) -> Callable[[int, str], str]:
    """`str(vote_id(rollcall_id, version, party))` for many votes of one roll call, without building UUIDs: a read
    of one roll call names 190 votes, and the UUID constructor was a third of its time. The first half of each
    text is the roll call's own, the same for every vote."""
    raw = rollcall_id.bytes
    head = bytearray(raw[:8])
    head[6] = 0x80 | (head[6] & 0x0F)
    h = head.hex()
    prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-"

    def text(version: int, party: str) -> str:
        digest = hashlib.sha1(raw + version.to_bytes(4, "big") + party.encode(), usedforsecurity=False).digest()
        tail = (bytes((0x80 | (digest[0] & 0x3F),)) + digest[1:8]).hex()
        return f"{prefix}{tail[:4]}-{tail[4:]}"

    return text


def rollcall_event_id(rollcall_id: UUID, version: int) -> UUID:
    """The id of the roll call's own event at `version`: laid out like its votes' ids (a hash of another input,
    so never one of them), so one index entry per roll call finds every event of it."""
    digest = hashlib.sha1(b"event\x00" + rollcall_id.bytes + version.to_bytes(4, "big"), usedforsecurity=False)
    return _v8(rollcall_id.bytes, digest.digest())


def votes_key(of: UUID) -> UUID:
    """The key shared by a roll call and all of its votes: the vote id's first 60 bits, the rest zero. Given a
    roll call's id or any of its votes' ids, it names the same index entry."""
    return _v8(of.bytes, bytes(8))


def is_rollcall_id(value: UUID) -> bool:
    """Whether an id is laid out as a roll call's event or vote ids are (UUID version 8)."""
    return value.version == 8


class LiveVote(NamedTuple):
    """What the roll call remembers of one party's live vote (a tuple: a roll call of the record holds a
    hundred and ninety, and a release reconciles six thousand roll calls at once)."""

    vote: str  # a Vote's value
    version: int  # of the event that cast it
    release: str | None  # the data set release that recorded it, if any ("dataset/name")


class RollCall(RecordAggregate):
    TOPIC = "diplo:RollCall"

    class Event(Aggregate.Event):
        TOPIC = "diplo:RollCall.Event"

    class Called(Event, Aggregate.Created):
        """A roll call was held, with the votes the source records."""

        TOPIC = "diplo:RollCall.Called"
        class_version = 1
        event_id: UUID
        slug: str
        body: str
        session: int | None
        date: dt.date
        precision: str  # day, or month or year for a roll call known only that roughly
        resolution: str | None
        title: str | None
        description: str | None
        issues: list[str]
        important: bool | None
        amendment: bool | None
        paragraph: bool | None
        votes: dict[str, str]
        sources: list[dict[str, Any]]
        confidence: str
        release: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.slug = self.slug
            aggregate.created_by = self.release
            aggregate.details = {name: getattr(self, name) for name in DETAILS}
            aggregate.live = {}
            aggregate.batches = []
            aggregate.retracted = set()
            aggregate.cast(self.votes, self.originator_version, self.release)

    class VotesCast(Event):
        """Parties' votes recorded after the roll call itself (a later source, a correction)."""

        TOPIC = "diplo:RollCall.VotesCast"
        class_version = 1
        event_id: UUID
        rollcall_id: str
        votes: dict[str, str]
        sources: list[dict[str, Any]]
        confidence: str
        release: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.cast(self.votes, self.originator_version, self.release)

    class VotesRetracted(Event):
        """Votes that no longer count; they stay in the log, marked."""

        TOPIC = "diplo:RollCall.VotesRetracted"
        class_version = 1
        event_id: UUID
        rollcall_id: str
        vote_ids: list[UUID]
        parties: list[str]
        reason: str
        sources: list[dict[str, Any]]
        release: str | None

        def apply(self, aggregate: Any) -> None:
            for party in self.parties:
                cast = aggregate.votes.pop(party)  # materialised by the property
                aggregate.retracted.add((party, cast.version))

    class DetailsCorrected(Event):
        """Some details of the roll call (its date, title, issues, …) were wrong; these are the right ones."""

        TOPIC = "diplo:RollCall.DetailsCorrected"
        class_version = 1
        event_id: UUID
        rollcall_id: str
        changes: dict[str, Any]
        reason: str
        sources: list[dict[str, Any]]
        release: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.details = {**aggregate.details, **self.changes}

    if TYPE_CHECKING:  # set by the events' apply(); not dataclass fields
        slug: str
        created_by: str | None  # the release that recorded the roll call, if a release did
        details: dict[str, Any]
        live: dict[str, LiveVote]
        batches: list[tuple[Mapping[str, str], int, str | None]]
        retracted: set[tuple[str, int]]

    TOPICS: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def id_for(slug: str) -> UUID:
        return aggregate_id("rollcall", slug)

    @property
    def date(self) -> dt.date:
        held: dt.date = self.details["date"]
        return held

    def cast(self, votes: Mapping[str, str], version: int, release: str | None) -> None:
        """Applies votes recorded by the event at `version` (called by the events, never by commands). Kept as the
        event gave them until a command asks for the live votes: a release that records a roll call new to the
        record never does, and 870,109 votes need not each become an object."""
        self.batches.append((votes, version, release))

    @property
    def votes(self) -> dict[str, LiveVote]:
        """The live vote of each party that has one."""
        if self.batches:
            live = self.live
            make = tuple.__new__  # LiveVote(...) goes through a Python-level __new__: seconds for a whole record
            for votes, version, release in self.batches:
                for party, vote in votes.items():
                    live[party] = make(LiveVote, (str(vote), version, release))
            self.batches.clear()
        return self.live

    def vote_id_of(self, party: str) -> UUID:
        """The id of the party's live vote."""
        return vote_id(self.id, self.votes[party].version, party)

    @classmethod
    def call(
        cls,
        *,
        slug: str,
        body: str,
        session: int | None,
        date: dt.date,
        precision: str,
        resolution: str | None,
        title: str | None,
        description: str | None,
        issues: list[str],
        important: bool | None,
        amendment: bool | None,
        paragraph: bool | None,
        votes: Mapping[str, Vote],
        sources: list[dict[str, Any]],
        confidence: str,
        release: str | None,
        today: dt.date,
    ) -> RollCall:
        check_slug(slug, "id")
        check_not_future(date, "date", today)
        if session is not None and session < 1:
            raise InvalidInput(f"session must be a positive number, got {session}", field="session")
        rollcall_id = cls.id_for(slug)
        return cls._create(
            cls.Called,
            id=rollcall_id,
            event_id=rollcall_event_id(rollcall_id, 1),
            slug=slug,
            body=body,
            session=session,
            date=date,
            precision=str(Precision(precision)),
            resolution=resolution,
            title=title,
            description=description,
            issues=sorted(set(issues)),
            important=important,
            amendment=amendment,
            paragraph=paragraph,
            votes=dict(votes),  # Vote is a str: stored as its value
            sources=sources,
            confidence=confidence,
            release=release,
        )

    def record_votes(self, votes: Mapping[str, Vote], *, sources: list[dict[str, Any]], confidence: str,
                     release: str | None) -> tuple[UUID, dict[str, UUID]]:
        """Records votes of parties that have no live vote here; returns the event id and each vote's id."""
        if not votes:
            raise InvalidInput("at least one vote is needed", field="votes")
        for party in votes:
            if party in self.votes:
                live = self.votes[party]
                raise Conflict(
                    f"{party} already has a live vote in {self.slug} ({live.vote}, vote "
                    f"{vote_id(self.id, live.version, party)}): one vote per party per roll call; retract it first "
                    "to record another",
                    field="party",
                )
        version = self.version + 1
        event_id = rollcall_event_id(self.id, version)
        self.trigger_event(self.VotesCast, event_id=event_id, rollcall_id=self.slug,
                           votes={party: str(vote) for party, vote in votes.items()}, sources=sources,
                           confidence=confidence, release=release)
        return event_id, {party: vote_id(self.id, version, party) for party in votes}

    def find_vote(self, target: UUID) -> tuple[str, bool] | None:
        """The party whose vote this is, and whether that vote is live (False: retracted); None if not here."""
        for party, cast in self.votes.items():
            if vote_id(self.id, cast.version, party) == target:
                return party, True
        for party, version in self.retracted:
            if vote_id(self.id, version, party) == target:
                return party, False
        return None

    def retract_votes(self, parties: list[str], *, reason: str, sources: list[dict[str, Any]],
                      release: str | None) -> UUID:
        """Marks the live votes of these parties as no longer counting."""
        if not reason.strip():
            raise InvalidInput("a retraction needs a reason", field="reason")
        for party in parties:
            if party not in self.votes:
                raise NotFound(f"{party} has no live vote in {self.slug}", field="event_id")
        event_id = rollcall_event_id(self.id, self.version + 1)
        self.trigger_event(self.VotesRetracted, event_id=event_id, rollcall_id=self.slug,
                           vote_ids=[self.vote_id_of(party) for party in parties], parties=list(parties),
                           reason=reason.strip(), sources=sources, release=release)
        return event_id

    def retract_vote(self, target: UUID, *, reason: str, sources: list[dict[str, Any]]) -> tuple[UUID, str]:
        """Retracts one vote by its id; returns the retraction's event id and the party."""
        found = self.find_vote(target)
        if found is None:
            if any(rollcall_event_id(self.id, v) == target for v in range(1, self.version + 1)):
                raise Conflict(f"event {target} is an event of roll call {self.slug}, not a vote; only acts, "
                               "statements and votes can be retracted", field="event_id")
            raise NotFound(f"event {target} is not a vote in {self.slug}", field="event_id")
        party, live = found
        if not live:
            raise Conflict(f"event {target} has already been retracted", field="event_id")
        return self.retract_votes([party], reason=reason, sources=sources, release=None), party

    def correct_details(self, changes: Mapping[str, Any], *, reason: str, sources: list[dict[str, Any]],
                        release: str | None, today: dt.date) -> UUID:
        """Records the right values of some details."""
        unknown = sorted(set(changes) - set(DETAILS))
        if unknown:
            raise InvalidInput(f"not a detail of a roll call: {', '.join(unknown)}", field="changes")
        if "date" in changes:
            check_not_future(changes["date"], "date", today)
        event_id = rollcall_event_id(self.id, self.version + 1)
        self.trigger_event(self.DetailsCorrected, event_id=event_id, rollcall_id=self.slug, changes=dict(changes),
                           reason=reason.strip(), sources=sources, release=release)
        return event_id


RollCall.TOPICS = tuple(t.TOPIC for t in (RollCall.Called, RollCall.VotesCast, RollCall.VotesRetracted,
                                            RollCall.DetailsCorrected))
