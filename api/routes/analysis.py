"""For analysts: the world at a date, replays frame by frame, and the differences between two dates
or two versions of the record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.analysis_schemas import DiffPublic, ReplayFrame, ReplayHeader, ReplayPublic, WorldPublic
from api.bootstrap import Runtime
from api.deps import (
    AtQuery,
    KnownAtQuery,
    MinConfidenceQuery,
    ReadSql,
    RuntimeDep,
    parse_at,
    parse_known_at,
    require_reader,
)
from domain.errors import InvalidInput
from domain.values import Confidence
from projections.analysis import (
    Scope,
    count_frames,
    declarations_axis,
    diff_knowledge_time,
    diff_valid_time,
    replay,
    world,
)
from projections.catalogue import get_declaration
from projections.store import Sql

router = APIRouter(prefix="/v1", tags=["analysis"], dependencies=[Depends(require_reader)])

NDJSON = "application/x-ndjson"
MAX_FRAMES = 10_000
Step = Literal["day", "week", "month", "quarter", "year"]
PartiesQuery = Annotated[
    list[str] | None, Query(max_length=40, description="Only these parties (repeatable); each is listed")
]
DeclarationsQuery = Annotated[
    list[str] | None, Query(max_length=100, description="Only these declarations (repeatable)")
]


def check_scope(runtime: Runtime, sql: Sql, parties: list[str] | None, declarations: list[str] | None,
                min_confidence: Confidence) -> Scope:
    """The filters, checked: an unknown party or declaration is malformed input (422), never an empty answer."""
    codes = tuple(dict.fromkeys(runtime.parties.require(p, "party") for p in parties or []))
    for declaration_id in dict.fromkeys(declarations or []):
        if get_declaration(sql, declaration_id) is None:
            raise InvalidInput(f"unknown declaration {declaration_id!r}", field="declaration")
    return Scope(codes, tuple(dict.fromkeys(declarations or [])), str(min_confidence))


def _moment(value: str, field: str) -> str:
    """parse_known_at, naming the parameter it was given in."""
    try:
        return parse_known_at(value)
    except InvalidInput as error:
        raise InvalidInput(error.message.replace("known_at", field, 1), field=field) from None


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
    date_from: Annotated[date, Query(alias="from", description="The first day of the replay (YYYY-MM-DD)")],
    date_to: Annotated[date | None, Query(alias="to", description="The last day (default today)")] = None,
    step: Annotated[Step, Query(description="One frame per calendar day, ISO week, month, quarter or year")]
    = "month",
    party: PartiesQuery = None,
    declaration: DeclarationsQuery = None,
    known_at: KnownAtQuery = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW,
    format: Annotated[Literal["json", "ndjson"] | None, Query(
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
    lines = format == "ndjson" or (format is None and NDJSON in request.headers.get("accept", ""))
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


def check_replay_range(date_from: date, date_to: date | None, step: str) -> date:
    """The replay's last day (default today), once the range and the number of frames are sound."""
    last = date_to or datetime.now(UTC).date()
    if date_from > last:
        raise InvalidInput(f"from {date_from.isoformat()} is after to {last.isoformat()}", field="from")
    frames = count_frames(date_from, last, step)
    if frames > MAX_FRAMES:
        raise InvalidInput(f"a replay of {frames} frames is too long (at most {MAX_FRAMES}); use a longer step "
                           "or a shorter range", field="step")
    return last


@router.get("/diff", response_model=DiffPublic)
def differences(
    runtime: RuntimeDep,
    sql: ReadSql,
    from_at: Annotated[date | None, Query(description="Two dates: the earlier (YYYY-MM-DD)")] = None,
    to_at: Annotated[date | None, Query(description="Two dates: the later")] = None,
    known_at: KnownAtQuery = None,
    at: Annotated[date | None, Query(description="Two versions of the record: the date both are asked about "
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


def answer_diff(
    runtime: Runtime, sql: Sql, *, from_at: date | None, to_at: date | None, known_at: str | None, at: date | None,
    known_at_a: str | None, known_at_b: str | None, parties: list[str] | None, declarations: list[str] | None,
    min_confidence: Confidence,
) -> dict[str, Any]:
    """Checks which kind of difference is asked for, and answers it (the route and `diplo diff` alike)."""
    valid: dict[str, date | None] = {"from_at": from_at, "to_at": to_at}
    versions: dict[str, str | None] = {"known_at_a": known_at_a, "known_at_b": known_at_b}
    if any(v is not None for v in valid.values()) and any(v is not None for v in versions.values()):
        field = next(k for k, v in versions.items() if v is not None)
        raise InvalidInput(f"{field} cannot be mixed with from_at/to_at: compare two dates (from_at, to_at) "
                           "or two versions of the record (known_at_a, known_at_b), not both", field=field)
    scope = check_scope(runtime, sql, parties, declarations, min_confidence)
    if any(v is not None for v in versions.values()):
        if known_at is not None:
            raise InvalidInput("known_at is for differences between two dates; two versions of the record are "
                               "known_at_a and known_at_b", field="known_at")
        for name, moment in versions.items():
            if moment is None:
                raise InvalidInput(f"{name} is needed to compare two versions of the record", field=name)
        assert known_at_a is not None and known_at_b is not None
        a, b = _moment(known_at_a, "known_at_a"), _moment(known_at_b, "known_at_b")
        if a > b:
            raise InvalidInput(f"known_at_a {a} is after known_at_b {b}", field="known_at_a")
        at_s = parse_at(at)
        found = diff_knowledge_time(sql, at=at_s, known_at_a=a, known_at_b=b, scope=scope)
        return {"kind": "knowledge_time", "at": at_s, "known_at_a": a, "known_at_b": b,
                "min_confidence": scope.min_confidence, "differences": found}
    if at is not None:
        raise InvalidInput("at is for differences between two versions of the record; two dates are from_at "
                           "and to_at", field="at")
    for name, value in valid.items():
        if value is None:
            raise InvalidInput(f"{name} is needed: compare two dates (from_at, to_at) or two versions of the "
                               "record (known_at_a, known_at_b)", field=name)
    assert from_at is not None and to_at is not None
    if from_at > to_at:
        raise InvalidInput(f"from_at {from_at.isoformat()} is after to_at {to_at.isoformat()}", field="from_at")
    known_s = parse_known_at(known_at)
    found = diff_valid_time(sql, from_at=from_at.isoformat(), to_at=to_at.isoformat(), known_at=known_s, scope=scope)
    return {"kind": "valid_time", "from_at": from_at.isoformat(), "to_at": to_at.isoformat(), "known_at": known_s,
            "min_confidence": scope.min_confidence, "differences": found}
