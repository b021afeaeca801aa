"""For analysts: the world at a date, replays frame by frame, and the differences between two dates
or two versions of the record."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.analysis_schemas import DiffPublic, ReplayFrame, ReplayHeader, ReplayPublic, WorldPublic
from api.answers import answer_diff, check_replay_range, check_scope, parse_at, parse_known_at
from api.dates import IsoDate
from api.deps import (
    AtQuery,
    KnownAtQuery,
    MinConfidenceQuery,
    ReadSql,
    RuntimeDep,
    require_reader,
)
from domain.values import Confidence
from projections.analysis import Step, declarations_axis, replay, world

router = APIRouter(prefix="/v1", tags=["analysis"], dependencies=[Depends(require_reader)])

NDJSON = "application/x-ndjson"


class ReplayEncoding(StrEnum):
    """How a replay is written: one JSON document, or JSON lines (one frame a line)."""

    JSON = "json"
    NDJSON = "ndjson"

PartiesQuery = Annotated[
    list[str] | None, Query(max_length=40, description="Only these parties (repeatable); each is listed")
]
DeclarationsQuery = Annotated[
    list[str] | None, Query(max_length=100, description="Only these declarations (repeatable)")
]


@router.get("/world", response_model=WorldPublic)
def world_state(
    runtime: RuntimeDep,
    sql: ReadSql,
    at: AtQuery = None,
    known_at: KnownAtQuery = None,
    declaration: DeclarationsQuery = None,
    party: PartiesQuery = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW,
) -> dict[str, Any]:
    """Every party's stance on every declaration at `at`, as the record stood at `known_at`, as one matrix."""
    at_s, known_s = parse_at(at), parse_known_at(known_at)
    return world(sql, at_s, known_s, check_scope(runtime, sql, party, declaration, min_confidence))


@router.get(
    "/replay",
    response_model=None,
    responses={200: {"model": ReplayPublic, "description": "One JSON document; with `Accept: application/x-ndjson` "
                     "(or `format=ndjson`), one frame a line, streamed as it is read",
                     "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/ReplayFrame"}}}}},
)
def replay_frames(
    request: Request,
    runtime: RuntimeDep,
    date_from: Annotated[IsoDate, Query(alias="from", description="The first day of the replay (YYYY-MM-DD)")],
    date_to: Annotated[IsoDate | None, Query(alias="to", description="The last day (default today)")] = None,
    step: Annotated[Step, Query(description="One frame per calendar day, ISO week, month, quarter or year")]
    = Step.MONTH,
    party: PartiesQuery = None,
    declaration: DeclarationsQuery = None,
    known_at: KnownAtQuery = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW,
    format: Annotated[ReplayEncoding | None, Query(
        description="ndjson: JSON lines, one frame a line (the same as Accept: application/x-ndjson)")] = None,
) -> StreamingResponse:
    """Frames from `from` to `to`, one per calendar period: the stances that changed and the acts and
    statements of the period with their sources; the first frame also carries the full state."""
    last = check_replay_range(date_from, date_to, step)
    known_s = parse_known_at(known_at)
    # Filters are checked here, before the first byte; each frame then reads in a transaction of its own.
    with runtime.store.reading() as sql:
        scope = check_scope(runtime, sql, party, declaration, min_confidence)
        header = ReplayHeader.model_validate({
            "from": date_from.isoformat(), "to": last.isoformat(), "step": step, "known_at": known_s,
            "min_confidence": scope.min_confidence, "parties": list(scope.parties),
            "declarations": declarations_axis(sql, last.isoformat(), known_s, scope),
        })
    lines = format is ReplayEncoding.NDJSON or (format is None and NDJSON in request.headers.get("accept", ""))
    found = replay(runtime.store.reading, first=date_from, last=last, step=step, known_at=known_s, scope=scope)

    def as_lines() -> Iterator[str]:
        for frame in found:
            yield ReplayFrame.model_validate(frame).model_dump_json() + "\n"

    def as_document() -> Iterator[str]:
        # One JSON document, still written frame by frame: nothing long is built in memory.
        yield header.model_dump_json(by_alias=True)[:-1] + ',"frames":['
        for i, frame in enumerate(found):
            yield ("," if i else "") + ReplayFrame.model_validate(frame).model_dump_json()
        yield "]}"

    if lines:
        return StreamingResponse(as_lines(), media_type=NDJSON)
    return StreamingResponse(as_document(), media_type="application/json")


@router.get("/diff", response_model=DiffPublic)
def differences(
    runtime: RuntimeDep,
    sql: ReadSql,
    from_at: Annotated[IsoDate | None, Query(description="Two dates: the earlier (YYYY-MM-DD)")] = None,
    to_at: Annotated[IsoDate | None, Query(description="Two dates: the later")] = None,
    known_at: KnownAtQuery = None,
    at: Annotated[IsoDate | None, Query(description="Two versions of the record: the date both are asked about "
                                     "(default today)")] = None,
    known_at_a: Annotated[str | None, Query(max_length=40, description="Two versions: the earlier moment")] = None,
    known_at_b: Annotated[str | None, Query(max_length=40, description="Two versions: the later moment")] = None,
    party: PartiesQuery = None,
    declaration: DeclarationsQuery = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW,
) -> dict[str, Any]:
    """Every stance that differs between two dates (`from_at`, `to_at`) or between two versions of the
    record (`known_at_a`, `known_at_b`, about the same `at`), before and after, with the acts and
    retractions that made the difference."""
    return answer_diff(runtime, sql, from_at=from_at, to_at=to_at, known_at=known_at, at=at, known_at_a=known_at_a,
                       known_at_b=known_at_b, parties=party, declarations=declaration, min_confidence=min_confidence)
