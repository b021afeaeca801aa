"""Request and response bodies of roll calls, votes and releases (the contract's section "Votes")."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from api.dates import IsoDate
from api.schemas import PARTY, SLUG, SOURCES, Public, SourceOut, Sources, Strict, domain_sources
from domain.commands import RecordRollCall, RecordVote
from domain.succession import SuccessionKind
from domain.values import Body, Confidence, Issue, Precision, Vote, issue_named

UN_SOURCE: dict[str, Any] = {
    "title": "Voting record: A/RES/74/56 (UN Digital Library)",
    "url": "https://digitallibrary.un.org/record/3838839",
    "outlet": "United Nations Digital Library",
}


def _issue_codes(values: list[str]) -> list[str]:
    return [issue_named(v, f"issues[{i}]").value for i, v in enumerate(values)]


class RollCallCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "unga-9999", "body": "UNGA", "session": 74, "date": "2019-12-12", "resolution": "A/RES/74/56",
        "title": "Nuclear disarmament", "issues": ["nu"], "votes": {"US": "no", "FR": "no", "IN": "yes", "BR": "yes"},
        "confidence": "high", "sources": [UN_SOURCE],
    }]})
    id: str = SLUG
    body: Body = Body.UNGA
    session: int | None = Field(None, ge=1, le=1000)
    date: IsoDate
    precision: Precision = Precision.DAY
    resolution: str | None = Field(None, max_length=200, description="The text's symbol, e.g. A/RES/74/56")
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=20_000)
    issues: list[str] = Field(default_factory=list, max_length=len(Issue),
                              description="Issue codes or names: me, nu, di, hr, co, ec (`hr` or `Human rights`)")
    important: bool | None = Field(None, description="Classified important (the US State Department's report)")
    amendment: bool | None = Field(None, description="A vote on an amendment")
    paragraph: bool | None = Field(None, description="A vote on a paragraph")
    votes: dict[str, Vote] = Field(default_factory=dict, max_length=300,
                                   description="Each party's vote: yes, no, abstain, or absent where recorded")
    sources: Sources = SOURCES
    confidence: Confidence

    @field_validator("issues")
    @classmethod
    def _issues(cls, values: list[str]) -> list[str]:
        return _issue_codes(values)

    def command(self) -> RecordRollCall:
        return RecordRollCall(
            id=self.id, body=self.body, date=self.date, title=self.title, votes=dict(self.votes),
            sources=domain_sources(self.sources), confidence=self.confidence, session=self.session,
            precision=self.precision, resolution=self.resolution, description=self.description,
            issues=tuple(self.issues), important=self.important, amendment=self.amendment, paragraph=self.paragraph,
        )


class VoteCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "party": "GB", "vote": "abstain", "confidence": "high", "sources": [UN_SOURCE]}]})
    party: str = PARTY
    vote: Vote
    sources: Sources = SOURCES
    confidence: Confidence

    def command(self, rollcall_id: str) -> RecordVote:
        return RecordVote(rollcall_id=rollcall_id, party=self.party, vote=self.vote,
                          sources=domain_sources(self.sources), confidence=self.confidence)


class Tally(Public):
    yes: int
    no: int
    abstain: int
    absent: int


class RollCallSummary(Public):
    id: str
    body: str
    session: int | None
    date: str
    precision: Precision
    resolution: str | None
    title: str | None
    issues: list[Issue]
    important: bool | None
    tally: Tally


class VoteOut(Public):
    party: str
    vote: Vote
    event_id: str = Field(description="The vote's own id: a retraction names it")
    position: int = Field(description="The log position of the event that recorded it")
    recorded_at: str
    release: str | None = Field(description="The data set release that recorded it (`dataset/name`), if one did")
    confidence: Confidence | None
    sources: list[SourceOut]


class RetractionOut(Public):
    event_id: str
    recorded_at: str
    reason: str | None
    sources: list[SourceOut]


class RetractedVoteOut(Public):
    party: str
    vote: Vote
    event_id: str
    position: int
    retraction: RetractionOut


class RollCallPublic(RollCallSummary):
    description: str | None
    amendment: bool | None
    paragraph: bool | None
    release: str | None
    event_id: str
    recorded_at: str
    known_at: str
    confidence: Confidence
    sources: list[SourceOut]
    votes: list[VoteOut] = Field(description="Every vote that counted at known_at, by party")
    retracted: list[RetractedVoteOut] = Field(description="Votes retracted by known_at, with why")


class RollCallsPage(Public):
    known_at: str
    rollcalls: list[RollCallSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class PartyVote(Public):
    rollcall_id: str
    date: str
    session: int | None
    resolution: str | None
    title: str | None
    vote: Vote
    as_party: str = Field(description="The party that cast it: the party asked for, or one of its predecessors")
    event_id: str


class PartyVotesPage(Public):
    party: str
    include: list[str]
    known_at: str
    votes: list[PartyVote]
    next_cursor: str | None


class ReleasePublic(Public):
    name: str
    dataset: str
    published_on: str | None
    loaded_at: str = Field(description="When the record learned of it: ask any read known_at this moment")
    event_id: str
    first_position: int = Field(description="The release's first event in the log (its own, if it changed nothing)")
    last_position: int = Field(description="The release's own event, the last it stored")
    events: int = Field(description="The public events it stored, its own included")
    added: int = Field(description="Votes recorded (the AI-summit record's releases: acts and statements)")
    retracted: int = Field(description="Votes (or acts and statements) no longer present, retracted")
    corrected: int = Field(description="Votes (or acts and statements) changed: retracted and recorded again")
    counts: dict[str, int] = Field(description="Every count: roll calls added, details corrected, disagreements "
                                               "with other sources, rows read, rows not recorded as votes")
    sources: list[SourceOut]


class ReleasesPublic(Public):
    releases: list[ReleasePublic]


class SuccessionOut(Public):
    party: str
    on: date
    kind: SuccessionKind
    note: str | None


class PeriodOut(Public):
    start: date | None = Field(alias="from")
    end: date | None = Field(alias="to")
    model_config = ConfigDict(populate_by_name=True, json_schema_serialization_defaults_required=True)
