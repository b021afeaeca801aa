"""The timeline of acts in valid time, and the global event log in log order."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.answers import parse_known_at
from api.cursors import MAX_POSITION
from api.cursors import decode as _decode
from api.cursors import encode as _encode
from api.deps import FromQuery, KnownAtQuery, ReadSql, RuntimeDep, ToQuery, require_reader
from api.filters import checked_filters
from api.schemas import EventsPage, TimelinePage
from domain.values import TimelineKind
from projections.event_log import list_events
from projections.timeline import query_timeline

router = APIRouter(prefix="/v1", tags=["timeline and events"], dependencies=[Depends(require_reader)])

@router.get("/timeline", response_model=TimelinePage)
def timeline(
    runtime: RuntimeDep,
    sql: ReadSql,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    party: Annotated[list[str] | None, Query(max_length=50)] = None,
    declaration: Annotated[list[str] | None, Query(max_length=50)] = None,
    kind: Annotated[list[TimelineKind] | None, Query(max_length=10, description="Only acts of these kinds")] = None,
    known_at: KnownAtQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Acts in valid-time order (the date each counts from, then log position), filtered and paged."""
    known_s = parse_known_at(known_at)
    found = checked_filters(runtime, sql, parties=party, declarations=declaration, date_from=date_from,
                            date_to=date_to)
    items = query_timeline(
        sql, known_at=known_s, date_from=found.date_from, date_to=found.date_to, parties=list(found.parties),
        declarations=list(found.declarations), kinds=list(kind or ()), after=_decode(cursor) if cursor else None,
        limit=limit + 1,
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = _encode(*items[-1]["order"]) if more else None
    return {"known_at": known_s, "items": items, "next_cursor": next_cursor}


@router.get("/events", response_model=EventsPage)
def events(
    sql: ReadSql,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Log position to start after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The global event log in log order; positions strictly increase and may have gaps."""
    rows = list_events(sql, after, limit)
    return {"events": rows, "next_after": rows[-1]["position"] if rows else after}
