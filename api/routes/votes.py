"""A party's votes in roll calls, followed through its predecessors if asked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.answers import parse_known_at
from api.cursors import decode, encode
from api.deps import FromQuery, KnownAtQuery, ReadSql, RuntimeDep, ToQuery, require_reader
from api.filters import date_range, party_in_path
from api.vote_schemas import PartyVotesPage
from domain.succession import Include
from domain.values import Vote, issue_named
from projections.votes import line_votes, public_vote_id

router = APIRouter(prefix="/v1/parties", tags=["parties"], dependencies=[Depends(require_reader)])
Code = Annotated[str, Path(max_length=40, description="Party code, e.g. US, RU, DE", examples=["RU"])]
IncludeQuery = Annotated[
    list[Include] | None,
    Query(max_length=1, description="`predecessors`: follow the state through its predecessors (the USSR for "
          "RU, the FRG's own line and the GDR for DE), each before the day it was succeeded; on a roll call, the "
          "first of the line that voted speaks for it, named in `as_party`"),
]
IssueQuery = Annotated[str | None, Query(max_length=60, description="An issue's code or name: `hr`, `Human rights`")]


def line_of(runtime: Any, code: str, include: list[Include] | None) -> list[tuple[str, str | None]]:
    """The parties a per-party read covers, each with the day before which it counts (None: always)."""
    party = party_in_path(runtime, code).code
    if not include:
        return [(party, None)]
    return [(m.party, m.until.isoformat() if m.until else None) for m in runtime.parties.successions.lineage(party)]


@router.get("/{code}/votes", response_model=PartyVotesPage)
def party_votes(
    code: Code,
    runtime: RuntimeDep,
    sql: ReadSql,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    issue: IssueQuery = None,
    vote: Annotated[Vote | None, Query(description="Only votes of this kind")] = None,
    include: IncludeQuery = None,
    known_at: KnownAtQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The party's votes in date order, one per roll call, as the record stood at `known_at`, paged."""
    line = line_of(runtime, code, include)
    known = parse_known_at(known_at)
    first, last = date_range(date_from, date_to)
    found = line_votes(sql, line, known_at=known, date_from=first, date_to=last,
                       issue=issue_named(issue).value if issue else None, vote=vote.value if vote else None)
    if cursor:
        after = decode(cursor)[:2]
        found = [v for v in found if (v.date, v.rc_key) > after]
    page, more = found[:limit], len(found) > limit
    return {
        "party": line[0][0], "include": [str(i) for i in include or ()], "known_at": known,
        "votes": [{"rollcall_id": v.rollcall_id, "date": v.date, "session": v.session, "resolution": v.resolution,
                   "title": v.title, "vote": v.vote, "as_party": v.party,
                   "event_id": public_vote_id(v.rollcall_id, v.version, v.party)} for v in page],
        "next_cursor": encode(page[-1].date, page[-1].rc_key) if more else None,
    }
