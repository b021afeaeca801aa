"""Response bodies of the analysts' routes: the world matrix, replay frames and differences."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from api.schemas import APPROXIMATE, Public, SourceOut, TimelineItem
from domain.values import ActKind, Confidence, EventKind, Precision, Stance, Vote
from projections.analysis import Step


class DeclarationRef(Public):
    id: str
    title: str
    published_on: str


class StanceCell(Public):
    """One party's stance on one declaration (only stances other than none are listed)."""

    party: str
    declaration_id: str
    stance: ActKind = Field(description="signed, declined or withdrawn")
    since: str = Field(description="The date the stance counts from (the act's effective date)")
    precision: Precision
    approximate: bool = APPROXIMATE
    confidence: Confidence
    event_id: str
    position: int


class WorldPublic(Public):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "at": "2025-02-12", "known_at": "2026-11-25T12:00:00.000000+00:00", "min_confidence": "low",
        "declarations": [{"id": "paris-statement", "title": "Statement on Inclusive and Sustainable Artificial "
                          "Intelligence for People and the Planet", "published_on": "2025-02-11"}],
        "parties": ["FR", "GB", "US"], "matrix": [["signed"], ["declined"], ["declined"]],
        "cells": [{"party": "GB", "declaration_id": "paris-statement", "stance": "declined", "since": "2025-02-11",
                   "precision": "day", "approximate": False, "confidence": "high", "event_id": "…",
                   "position": 327}],
    }]})
    at: str
    known_at: str
    min_confidence: Confidence
    declarations: list[DeclarationRef] = Field(description="The columns of the matrix, in publication order")
    parties: list[str] = Field(description="The rows of the matrix: every party with a stance, and any asked for")
    matrix: list[list[str | None]] = Field(
        description="matrix[i][j] is the stance of parties[i] on declarations[j]; null means none")
    cells: list[StanceCell] = Field(description="The details of every stance in the matrix, once each")


class StanceChange(Public):
    """A stance that differs from the previous frame's."""

    party: str
    declaration_id: str
    stance: Stance = Field(description="signed, declined, withdrawn, or none")
    previous: Stance = Field(description="The stance in the previous frame (none if there was none)")
    since: str | None
    precision: Precision | None
    approximate: bool = APPROXIMATE
    confidence: Confidence | None
    event_id: str | None = Field(description="The act that set the new stance; it is among the frame's events")
    position: int | None


class ReplayFrame(Public):
    """The record at the end of one calendar period of the replay."""

    frame: int = Field(description="0 for the first frame")
    period: str = Field(description="The period's name: 2025-02-11, 2025-W07, 2025-02, 2025-Q1 or 2025")
    starts_on: str = Field(description="The first day this frame covers (the period's, or the replay's `from`)")
    at: str = Field(description="The last day it covers (the period's, or the replay's `to`); the state is as of it")
    known_at: str
    state: list[StanceCell] | None = Field(description="The first frame only: every stance at `at`")
    changes: list[StanceChange] = Field(
        description="Stances that differ from the previous frame's (for the first, from the day before `from`)")
    events: list[TimelineItem] = Field(
        description="Acts and statements counting from a date in [starts_on, at], with their sources; "
        "retracted ones are marked")


class ReplayHeader(Public):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    step: Step
    known_at: str
    min_confidence: Confidence
    parties: list[str] = Field(description="The parties asked for (empty: all)")
    declarations: list[DeclarationRef] = Field(
        description="The declarations asked for, or every one published by `to` and recorded by `known_at`")


class ReplayPublic(ReplayHeader):
    """A replay as one JSON document; with Accept: application/x-ndjson, one ReplayFrame a line instead."""

    frames: list[ReplayFrame]


class StanceSide(Public):
    stance: Stance = Field(description="signed, declined, withdrawn, or none")
    since: str | None
    precision: Precision | None
    approximate: bool = APPROXIMATE
    confidence: Confidence | None
    event_id: str | None
    position: int | None


class DiffAct(Public):
    event_id: str
    kind: EventKind
    party: str
    declaration_id: str
    occurred_on: str | None
    effective_on: str | None
    precision: Precision | None
    approximate: bool = APPROXIMATE
    confidence: Confidence | None
    position: int
    recorded_at: str
    reason: str | None
    sources: list[SourceOut]
    retracted: bool = Field(description="Whether a retraction recorded by the later time takes this act out")


class DiffEvent(DiffAct):
    """An act that made the difference, or a retraction (kind `retracted`) naming the act it took out."""

    retracts: DiffAct | None = None


class Difference(Public):
    party: str
    declaration_id: str
    before: StanceSide
    after: StanceSide
    stance_changed: bool = Field(description="False when the stance is the same but another act now sets it")
    events: list[DiffEvent] = Field(description="What made the difference, in valid-time order (the date each "
                                  "act counts from, then its position; a retraction just after the act it took out)")


class RollCallField(Public):
    field: str = Field(description="A detail of the roll call: date, title, description, issues, a flag, ...")
    before: str | int | bool | list[str] | None
    after: str | int | bool | list[str] | None


class RollCallVoteCounts(Public):
    added: int = Field(description="Parties with a vote at the later moment and none at the earlier")
    retracted: int = Field(description="Parties with a vote at the earlier moment and none at the later")
    changed: int = Field(description="Parties whose vote differs")


class PartyVoteChange(Public):
    party: str
    before: Vote | None
    after: Vote | None


class RollCallDiffEvent(Public):
    """An event recorded between the two moments on the roll call (kind rollcall, vote, retracted, corrected)."""

    event_id: str
    kind: EventKind
    position: int
    recorded_at: str
    release: str | None = Field(description="The data set release that recorded it, if one did")
    reason: str | None
    sources: list[SourceOut]


class RollCallDifference(Public):
    rollcall_id: str
    date: str = Field(description="The roll call's date at the later moment (or the earlier, if it is gone)")
    resolution: str | None
    title: str | None
    change: Literal["added", "corrected", "votes"] = Field(
        description="added: not recorded at the earlier moment; corrected: its details differ; votes: only its "
                    "votes differ")
    fields: list[RollCallField] = Field(description="The details that differ, before and after")
    votes: RollCallVoteCounts
    party_votes: list[PartyVoteChange] | None = Field(
        None, description="With party=: the named parties whose vote differs, before and after")
    events: list[RollCallDiffEvent] = Field(description="What made the difference, in log order")


class RollCallDiffCounts(Public):
    rollcalls_added: int
    rollcalls_corrected: int
    votes_added: int
    votes_retracted: int
    votes_changed: int


class DiffPublic(Public):
    kind: Literal["valid_time", "knowledge_time"] = Field(
        description="valid_time: two dates, one version of the record; knowledge_time: one date, two versions")
    from_at: str | None = None
    to_at: str | None = None
    known_at: str | None = Field(None, description="valid_time: the version of the record both dates are read in")
    at: str | None = Field(None, description="knowledge_time: the date both versions are asked about")
    known_at_a: str | None = None
    known_at_b: str | None = None
    min_confidence: Confidence
    differences: list[Difference]
    rollcalls: list[RollCallDifference] = Field(
        [], description="knowledge_time: every roll call dated by `at` that the two versions give differently (none "
                        "when declaration= narrows the question to declarations)")
    rollcall_counts: RollCallDiffCounts | None = Field(
        None, description="knowledge_time: the totals over `rollcalls`")
