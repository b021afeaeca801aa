"""Request and response bodies of the HTTP API, kept apart from the domain's events.

Each request body turns into the domain's command by its `command()`, the one place that does it (the routes
and the command-file import alike).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from api.dates import IsoDate
from domain.commands import HostSummit, PublishDeclaration, RecordAct, RecordStatement, Retract
from domain.succession import SuccessionKind
from domain.values import ActKind, Confidence, EventKind, Position, Precision, Source, Stance, TimelineKind, Vote

PARIS_SOURCE: dict[str, Any] = {
    "title": "UK and US refuse to sign international AI declaration",
    "url": "https://ca.news.yahoo.com/uk-us-refuse-sign-international-121717494.html",
    "outlet": "BBC",
    "published_on": "2025-02-11",
}


NUL_FREE = "nul_free"  # validation context key: the input was checked for NUL already


def _no_nul(value: Any, path: str = "") -> None:
    # PostgreSQL text cannot hold NUL; refusing it here keeps a poison event out of the log.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{path or 'text'} must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(item, f"{path}.{key}" if path else str(key))
    if isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{path}[{i}]")


class Public(BaseModel):
    """An answer: a field with a default is always present in it, so the schema says required (and nullable,
    where it may be null) rather than optional."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any, info: ValidationInfo) -> Any:
        # A reader that has seen the raw JSON hold no NUL (a command file's line) says so, and skips the walk.
        if not (info.context and info.context.get(NUL_FREE)):
            _no_nul(data)
        return data


class SourceIn(Strict):
    title: str = Field(min_length=1, max_length=500)
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000, description="http(s) URL of the report")
    outlet: str | None = Field(None, max_length=200)
    published_on: IsoDate | None = None

    def to_domain(self) -> Source:
        return Source(self.title, self.url, self.outlet, self.published_on)


Sources = list[SourceIn]


def domain_sources(sources: Sources) -> list[Source]:
    return [s.to_domain() for s in sources]

SOURCES = Field(min_length=1, max_length=50, description="At least one source reporting the act.")
SLUG = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PARTY = Field(min_length=1, max_length=40, description="ISO 3166-1 alpha-2, ISO 3166-3, or an organisation code")


class SummitCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{
            "id": "paris-2025", "name": "AI Action Summit", "hosts": ["FR"], "city": "Paris (Grand Palais)",
            "starts_on": "2025-02-10", "ends_on": "2025-02-11", "confidence": "high",
            "sources": [{"title": "AI Action Summit - Wikipedia", "url": "https://en.wikipedia.org/wiki/AI_Action_Summit"}],
        }]}
    )
    id: str = SLUG
    name: str = Field(min_length=1, max_length=300)
    hosts: list[str] = Field(min_length=1, max_length=50)
    city: str = Field(min_length=1, max_length=300)
    starts_on: IsoDate
    ends_on: IsoDate
    sources: Sources = SOURCES
    confidence: Confidence
    notes: str | None = Field(None, max_length=5000)

    def command(self) -> HostSummit:
        return HostSummit(id=self.id, name=self.name, hosts=self.hosts, city=self.city, starts_on=self.starts_on,
                          ends_on=self.ends_on, sources=domain_sources(self.sources), confidence=self.confidence,
                          notes=self.notes)


class DeclarationCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{
            "id": "paris-statement",
            "title": "Statement on Inclusive and Sustainable Artificial Intelligence for People and the Planet",
            "summit_id": "paris-2025", "published_on": "2025-02-11", "confidence": "high",
            "sources": [PARIS_SOURCE],
        }]}
    )
    id: str = SLUG
    title: str = Field(min_length=1, max_length=500)
    summit_id: str | None = Field(None, max_length=100)
    published_on: IsoDate
    sources: Sources = SOURCES
    confidence: Confidence
    notes: str | None = Field(None, max_length=5000)

    def command(self) -> PublishDeclaration:
        return PublishDeclaration(id=self.id, title=self.title, published_on=self.published_on,
                                  sources=domain_sources(self.sources), confidence=self.confidence,
                                  summit_id=self.summit_id, notes=self.notes)


class ActCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{
            "kind": "declined", "party": "GB", "occurred_on": "2025-02-11", "precision": "day",
            "reason": "National interest; not enough practical clarity on global governance or national security.",
            "confidence": "high", "sources": [PARIS_SOURCE],
        }]}
    )
    kind: ActKind
    party: str = PARTY
    occurred_on: IsoDate
    precision: Precision = Precision.DAY
    reason: str | None = Field(None, max_length=5000)
    note: str | None = Field(None, max_length=5000)
    sources: Sources = SOURCES
    confidence: Confidence

    def command(self, declaration_id: str) -> RecordAct:
        """The act on the declaration the path names."""
        return RecordAct(declaration_id=declaration_id, kind=self.kind, party=self.party,
                         occurred_on=self.occurred_on, sources=domain_sources(self.sources), confidence=self.confidence,
                         precision=self.precision, reason=self.reason, note=self.note)


class StatementCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{
            "party": "FR", "speaker": "Emmanuel Macron (President of France)", "occurred_on": "2025-02-11",
            "text": "We need these rules for AI to move forward.", "about": "paris-statement",
            "position": "supports", "confidence": "high", "sources": [PARIS_SOURCE],
        }]}
    )
    party: str = PARTY
    speaker: str | None = Field(None, max_length=300)
    occurred_on: IsoDate
    precision: Precision = Precision.DAY
    text: str = Field(min_length=1, max_length=20_000)
    about: str | None = Field(None, max_length=100, description="The declaration the statement is about.")
    position: Position | None = None
    note: str | None = Field(None, max_length=5000)
    sources: Sources = SOURCES
    confidence: Confidence = Confidence.HIGH

    def command(self) -> RecordStatement:
        return RecordStatement(party=self.party, occurred_on=self.occurred_on, text=self.text,
                               sources=domain_sources(self.sources), confidence=self.confidence, speaker=self.speaker,
                               about=self.about, position=self.position, precision=self.precision, note=self.note)


class RetractionCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{
            "event_id": "5b0c8c4e-8d0e-5a53-9a52-1f1e1f0c2a77",
            "reason": "The report confused the ministerial statement with the leaders' declaration.",
            "sources": [PARIS_SOURCE],
        }]}
    )
    event_id: UUID
    reason: str = Field(min_length=1, max_length=5000)
    sources: Sources = SOURCES

    def command(self) -> Retract:
        return Retract(event_id=self.event_id, reason=self.reason, sources=domain_sources(self.sources))


class WriteReceipt(Public):
    """What a write answers: the stored event, its log position, and whether reads already show it."""

    event_id: UUID
    position: int | None
    kind: EventKind
    status: str = Field(description="'applied' once the read models show it; 'pending' (202) if not yet")
    replayed: bool = Field(False, description="True when answered from an earlier request with this Idempotency-Key")
    declaration_id: str | None = None
    summit_id: str | None = None
    statement_id: str | None = None
    party: str | None = None
    occurred_on: str | None = None
    stance: ActKind | None = None
    previous: ActKind | None = None
    about: str | None = None
    retracted_event_id: str | None = None
    retracted_kind: EventKind | None = None
    rollcall_id: str | None = None
    vote: str | None = None


class SourceOut(Public):
    title: str
    url: str
    outlet: str | None = None
    published_on: str | None = None


class Succeeded(Public):
    """A link to another party: from `on`, the successor acts where the predecessor acted before."""

    party: str
    on: date
    kind: SuccessionKind
    note: str | None = None


class PartyPublic(Public):
    code: str
    name: str
    kind: str
    official_name: str | None = None
    aliases: list[str] = []
    until: date | None = Field(None, description="The day it ended, for a state that did (it cannot act after)")
    predecessors: list[Succeeded] = Field([], description="The parties it followed, and from when")
    successors: list[Succeeded] = Field([], description="The parties that followed it, and from when")


class Retraction(Public):
    event_id: str
    position: int
    recorded_at: str
    reason: str
    sources: list[SourceOut]


APPROXIMATE = Field(False, description="True when the act is known only to its month or year; it counts from the "
                    "first day of that period (or the declaration's publication, if later)")


class ExplainedAct(Public):
    """One act in the chain that produced a stance (explain=true), in valid-time order."""

    event_id: str
    kind: ActKind
    occurred_on: str = Field(description="As recorded")
    effective_on: str = Field(description="The date the act counts from")
    precision: Precision
    approximate: bool = APPROXIMATE
    confidence: Confidence
    position: int
    recorded_at: str
    reason: str | None = None
    sources: list[SourceOut]
    retracted: bool
    retraction: Retraction | None = None
    counts: bool = Field(description="Whether the act counts in this answer (not retracted, confident enough)")
    why_not: str | None = Field(None, description="'retracted' or 'below min_confidence' when it does not count")
    stance_after: ActKind | None = Field(None, description="The stance once this act counted (null when it does not)")


EXPLANATION = Field(None, description="With explain=true: the chain of acts, up to `at` and recorded by `known_at`, "
                    "that produced the stance, retracted and unconfident ones marked")


class StanceItem(Public):
    declaration_id: str
    title: str | None
    stance: Stance = Field(description="signed, declined, withdrawn, or none")
    since: str | None = Field(description="The date the stance counts from (the act's effective date)")
    precision: Precision | None = None
    approximate: bool = APPROXIMATE
    confidence: Confidence | None = None
    event_id: str | None
    position: int | None = None
    sources: list[SourceOut]
    explanation: list[ExplainedAct] | None = EXPLANATION


class StancesPublic(Public):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "party": "US", "at": "2025-02-12", "known_at": "2026-11-25T12:00:00.000000+00:00",
        "stances": [{"declaration_id": "paris-statement", "title": "Statement on Inclusive and Sustainable "
                     "Artificial Intelligence for People and the Planet", "stance": "declined",
                     "since": "2025-02-11", "event_id": "…", "sources": [PARIS_SOURCE]}],
    }]})
    party: str
    at: str
    known_at: str
    stances: list[StanceItem]


class HistoryEntry(Public):
    occurred_on: str
    effective_on: str = Field(description="The date the act counts from, by which entries are ordered")
    precision: Precision
    approximate: bool = APPROXIMATE
    kind: TimelineKind
    declaration_id: str | None = None
    summit_id: str | None = None
    title: str | None = None
    stance: ActKind | None = Field(None, description="A formal act's stance once it counted, over the acts that "
                                   "counted at known_at; null when it is retracted, and for anything but a formal act")
    previous: ActKind | None = Field(None, description="The party's stance on the declaration before this act "
                                     "(null: none, or the act does not count)")
    speaker: str | None = None
    text: str | None = None
    position_on: Position | None = Field(None, description="A statement's position on the declaration it is about")
    reason: str | None = None
    note: str | None = None
    confidence: Confidence
    event_id: str
    position: int
    recorded_at: str
    sources: list[SourceOut]
    retracted: bool
    retraction: Retraction | None = None
    rollcall_id: str | None = Field(None, description="A vote's roll call")
    resolution: str | None = Field(None, description="The symbol of the text a vote was on")
    vote: Vote | None = Field(None, description="A party's vote: yes, no, abstain or absent")


class HistoryPublic(Public):
    party: str
    known_at: str
    entries: list[HistoryEntry]


class SummitRef(Public):
    id: str
    name: str


class DeclarationPublic(Public):
    id: str
    title: str
    summit: SummitRef | None
    published_on: str
    notes: str | None
    confidence: Confidence
    sources: list[SourceOut]
    event_id: str
    position: int
    recorded_at: str
    counts: dict[str, int] = Field(description="How many parties signed, declined, withdrew (at `at`, by `known_at`)")


class SignatoryItem(Public):
    party: str
    since: str
    precision: Precision
    approximate: bool = APPROXIMATE
    confidence: Confidence
    event_id: str
    position: int
    sources: list[SourceOut]
    explanation: list[ExplainedAct] | None = EXPLANATION


class SignatoriesPublic(Public):
    declaration_id: str
    at: str
    known_at: str
    signed: list[SignatoryItem]
    declined: list[SignatoryItem]
    withdrawn: list[SignatoryItem]


class SummitPublic(Public):
    id: str
    name: str
    hosts: list[str]
    city: str
    starts_on: str
    ends_on: str
    notes: str | None
    confidence: Confidence
    sources: list[SourceOut]
    event_id: str
    position: int
    recorded_at: str
    declarations: list[str] = []


class TimelineItem(HistoryEntry):
    party: str | None = None
    hosts: list[str] | None = None


class TimelinePage(Public):
    known_at: str = Field(description="The moment the record was read at: pass it back to reproduce the page")
    items: list[TimelineItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class CastVoteRef(Public):
    party: str
    vote: Vote
    event_id: str


class EventPublic(Public):
    position: int
    event_id: str
    kind: EventKind
    occurred_on: str | None = Field(description="The event's date as recorded (null for a retraction, a "
                                    "correction or votes added to a roll call)")
    effective_on: str | None = Field(description="The date it counts from, as the stance rules and the timeline "
                                     "use it: for an act known only to its month or year, the first day of that "
                                     "period, or its declaration's publication if later")
    approximate: bool = APPROXIMATE
    recorded_at: str
    data: dict[str, Any]
    votes: list[CastVoteRef] | None = Field(None, description="The votes a roll call's event casts, each with its "
                                                              "own id; null for other events")


class EventsPage(Public):
    events: list[EventPublic]
    next_after: int

