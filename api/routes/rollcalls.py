"""Roll calls: record one with its votes, add a vote, list and read them, and the releases they came in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.answers import parse_known_at
from api.bootstrap import Runtime
from api.cursors import decode, encode
from api.deps import (
    FromQuery,
    IdempotencyKey,
    KnownAtQuery,
    ReadSql,
    RuntimeDep,
    ToQuery,
    idempotency_for,
    require_reader,
    require_writer,
)
from api.encoded_answers import EncodedAnswers, closed
from api.filters import date_range
from api.json_answers import as_json
from api.lean_routes import lean_get
from api.receipts import answer
from api.schemas import WriteReceipt
from api.vote_schemas import ReleasesPublic, RollCallCreate, RollCallPublic, RollCallsPage, VoteCreate
from domain.errors import NotFound
from domain.values import issue_named
from projections.votes import get_rollcall, list_releases, list_rollcalls, rollcall_stamp

router = APIRouter(prefix="/v1", tags=["roll calls"])
RollCallId = Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", examples=["unga-3"])]


@router.post("/rollcalls", status_code=201, response_model=WriteReceipt, dependencies=[Depends(require_writer)],
             responses={202: {"model": WriteReceipt}})
def create_rollcall(body: RollCallCreate, runtime: RuntimeDep, request: Request,
                    key: IdempotencyKey = None) -> JSONResponse:
    """Record a roll call of a body on a text, with the votes its source records."""
    receipt = runtime.app.handle(body.command(), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/rollcalls/{body.id}")


@router.post("/rollcalls/{rollcall_id}/votes", status_code=201, response_model=WriteReceipt,
             dependencies=[Depends(require_writer)], responses={202: {"model": WriteReceipt}})
def record_vote(rollcall_id: RollCallId, body: VoteCreate, runtime: RuntimeDep, request: Request,
                key: IdempotencyKey = None) -> JSONResponse:
    """Record one party's vote in a roll call; 409 while it has a live vote there (retract that one first)."""
    receipt = runtime.app.handle(body.command(rollcall_id), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/rollcalls/{rollcall_id}")


@router.get("/rollcalls", response_model=RollCallsPage, dependencies=[Depends(require_reader)])
def rollcalls(
    sql: ReadSql,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    session: Annotated[int | None, Query(ge=1, le=1000, description="Only this session of the body")] = None,
    issue: Annotated[str | None, Query(max_length=60, description="An issue's code or name: `hr`, `Human rights`")]
    = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Words of the resolution symbol, "
                                   "title or description")] = None,
    known_at: KnownAtQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Roll calls in date order with their tallies, filtered and paged, as the record stood at `known_at`."""
    known = parse_known_at(known_at)
    first, last = date_range(date_from, date_to)
    found = list_rollcalls(
        sql, known_at=known, date_from=first, date_to=last, session=session,
        issue=issue_named(issue).value if issue else None, q=q,
        after=decode(cursor)[:2] if cursor else None, limit=limit + 1,
    )
    more = len(found) > limit
    found = found[:limit]
    return {"known_at": known, "rollcalls": found, "next_cursor": encode(*found[-1]["cursor"]) if more else None}


def _kept(rollcall_id: str, runtime: Runtime, request: Request, known_at: str | None) -> Response | None:
    """The kept answer, when there is one for what the roll call is made of at `known_at`: its key alone read in
    one statement (a glance: on PostgreSQL half a reading's round trips; on SQLite run on the event loop,
    `lean_get`'s `at_once`). A kept answer is the one a reading at that moment would give. None: read it."""
    answers: EncodedAnswers = request.app.state.rollcall_answers
    if not answers.max_bytes:
        return None
    known = parse_known_at(known_at)
    with runtime.store.glance() as sql:
        generation = sql.generation
        stamp = rollcall_stamp(sql, rollcall_id, known) if generation is not None else None
    kept = answers.get((rollcall_id, generation, stamp)) if stamp is not None else None
    return None if kept is None else closed(kept, "known_at", known)


@lean_get(router, "/rollcalls/{rollcall_id}", response_model=RollCallPublic, dependencies=[Depends(require_reader)],
          at_once=_kept)
def rollcall(rollcall_id: RollCallId, runtime: RuntimeDep, request: Request, known_at: KnownAtQuery = None
             ) -> Response:
    """One roll call with its tally and every vote that counted at `known_at`, each with its id and sources."""
    kept = _kept(rollcall_id, runtime, request, known_at)
    if kept is not None:
        return kept
    known = parse_known_at(known_at)
    answers: EncodedAnswers = request.app.state.rollcall_answers
    # Opened here, not by the ReadSql dependency: that costs two more trips through the thread pool.
    with runtime.store.reading() as sql:
        if answers.max_bytes and sql.generation is not None:
            # Kept by what the answer is made of (api/encoded_answers.py); `known_at` is echoed, never kept.
            key = (rollcall_id, sql.generation, rollcall_stamp(sql, rollcall_id, known))
            opened = answers.keep(key, lambda: get_rollcall(sql, rollcall_id, known))  # the glance missed
            if opened is not None:
                return closed(opened, "known_at", known)
        else:
            found = get_rollcall(sql, rollcall_id, known)
            if found is not None:
                return as_json({**found, "known_at": known})
    raise NotFound(f"unknown roll call {rollcall_id!r}" + ("" if known_at is None else
                   f" (not recorded by {known})"), field="rollcall_id")


@router.get("/releases", response_model=ReleasesPublic, dependencies=[Depends(require_reader)])
def releases(sql: ReadSql) -> dict[str, Any]:
    """Every release of a data set loaded, in the order loaded: when, its positions and what it changed."""
    return {"releases": list_releases(sql)}
