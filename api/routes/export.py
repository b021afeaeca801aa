"""Downloads: the event log, the stances and the timeline, streamed as CSV or JSON lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from itertools import chain
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse

from api.alignment_answers import alignment_table
from api.answers import checked, parse_known_at
from api.deps import AtQuery, FromQuery, KnownAtQuery, RuntimeDep, ToQuery, require_reader
from api.export_threads import csv_error, jsonl_error, on_own_threads
from api.filters import date_range
from api.stream_limits import LIMITED
from domain.errors import InvalidInput
from domain.succession import Include
from domain.values import ActKind, Confidence, EventKind, Period
from projections.exports import (
    PARTIES_NEEDED,
    Dataset,
    ExportFilter,
    Format,
    Page,
    csv_chunks,
    event_pages,
    jsonl_chunks,
    stance_pages,
    timeline_pages,
)

router = APIRouter(prefix="/v1", tags=["exports"], dependencies=[Depends(require_reader)])

MAX_POSITION = 2**62
PAGE_SIZE = 1000


class HttpFormat(StrEnum):
    """The export formats HTTP serves (Parquet is binary and written by `diplo export`); ndjson is jsonl."""

    CSV = Format.CSV.value
    JSONL = Format.JSONL.value
    NDJSON = "ndjson"  # as /v1/replay names JSON lines


MEDIA = {HttpFormat.CSV: "text/csv; charset=utf-8", HttpFormat.JSONL: "application/x-ndjson; charset=utf-8"}
ACCEPTED = {"text/csv": HttpFormat.CSV, "application/x-ndjson": HttpFormat.JSONL,
            "application/jsonl": HttpFormat.JSONL, "application/json-lines": HttpFormat.JSONL}
PARAMETER = {"at": "at", "date_from": "from", "date_to": "to", "parties": "party", "declarations": "declaration",
             "kinds": "kind", "stances": "stance", "min_confidence": "min_confidence", "after": "after",
             "by": "by", "issue": "issue", "important": "important", "include": "include"}


def negotiate(format: HttpFormat | None, accept: str | None) -> HttpFormat:
    """`format=` wins; else the Accept header's most preferred of CSV and JSON lines; else JSON lines."""
    if format is not None:
        return HttpFormat.JSONL if format is HttpFormat.NDJSON else format
    best: tuple[float, HttpFormat] | None = None
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        choice = ACCEPTED.get(media.lower())
        if choice is None:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, choice)
    return best[1] if best else HttpFormat.JSONL


@router.get(
    "/export/{dataset}",
    response_class=StreamingResponse,
    responses={200: {"description": "The rows, streamed", "content": {"text/csv": {}, "application/x-ndjson": {}}},
               **LIMITED},
)
def export(
    request: Request,
    runtime: RuntimeDep,
    dataset: Annotated[Dataset, Path(description="events (the log), stances (every pair's stance), timeline, "
                                           "agreement (two parties' table) or vote-share (one party's table)")],
    format: Annotated[HttpFormat | None, Query(
        description="csv or jsonl (ndjson is jsonl); overrides Accept. Parquet: `diplo export … --format parquet`")]
    = None,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
    at: AtQuery = None,
    known_at: KnownAtQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    party: Annotated[list[str] | None, Query(max_length=50)] = None,
    declaration: Annotated[list[str] | None, Query(max_length=50)] = None,
    kind: Annotated[list[EventKind] | None, Query(max_length=10, description="events, timeline: the act's kind")]
    = None,
    stance: Annotated[list[ActKind] | None, Query(max_length=3, description="stances: only these stances")] = None,
    min_confidence: Annotated[Confidence, Query(description="stances: count acts at or above this")]
    = Confidence.LOW,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="events: start after this log position")] = 0,
    by: Annotated[Period | None, Query(description="agreement, vote-share: year (default), session or decade")]
    = None,
    issue: Annotated[str | None, Query(max_length=60, description="agreement, vote-share: an issue's code or name")]
    = None,
    important: Annotated[bool | None, Query(description="agreement, vote-share: only roll calls classified "
                                            "important (true) or not (false)")] = None,
    include: Annotated[list[Include] | None, Query(max_length=1, description="agreement, vote-share: "
                                                   "`predecessors` follows the parties through them")] = None,
) -> StreamingResponse:
    """A whole dataset as CSV or JSON lines, streamed page by page (never built in memory).

    `events`: every public event in log order, with what `diplo import` needs to rebuild it.
    `stances`: each (party, declaration) stance at `at` as recorded by `known_at`.
    `timeline`: every act in valid-time order at `known_at`. Headers echo `known_at` (and `at`).
    `agreement` (`party` twice) and `vote-share` (`party` once): the tables of `/v1/agreement` and
    `/v1/parties/{code}/vote-share`, a row per period.
    """
    chosen = negotiate(format, accept)
    parties, declarations = checked(runtime, party, declaration)
    date_range(date_from, date_to)
    selection = ExportFilter(
        known_at=parse_known_at(known_at),
        at=(at or datetime.now(UTC).date()).isoformat() if dataset is Dataset.STANCES or at else None,
        date_from=date_from.isoformat() if date_from else None, date_to=date_to.isoformat() if date_to else None,
        parties=parties, declarations=declarations,
        kinds=tuple(kind or ()), stances=tuple(stance or ()), min_confidence=min_confidence, after=after,
        by=by, issue=issue, important=important, include=bool(include),
    )
    for name in selection.unsupported(dataset):
        raise InvalidInput(f"{PARAMETER[name]} does not apply to {dataset} exports", field=PARAMETER[name])
    for k in selection.unknown_kinds(dataset):
        raise InvalidInput(f"unknown kind '{k}': {dataset} exports hold no {k} rows", field="kind")

    pages: Iterator[Page]
    if dataset is Dataset.EVENTS:
        pages = event_pages(runtime.app.recorder, runtime.app.mapper, selection, runtime.follower.publications,
                            page_size=PAGE_SIZE)
    elif dataset is Dataset.STANCES:
        pages = stance_pages(runtime.store, selection, page_size=PAGE_SIZE)
    elif dataset in PARTIES_NEEDED:
        pages = iter([alignment_table(runtime, dataset, selection)])
    else:
        pages = timeline_pages(runtime.store, selection, page_size=PAGE_SIZE)
    # The first page is read here, so a store that is down answers 503 rather than a broken download.
    first = next(pages, None)
    if first is not None:
        pages = chain([first], pages)
    chunks = csv_chunks(dataset, pages) if chosen is HttpFormat.CSV else jsonl_chunks(pages)
    error_line = csv_error if chosen is HttpFormat.CSV else jsonl_error
    headers = {
        "Content-Disposition": f'attachment; filename="diplo-{dataset}.{chosen}"',
        "X-Diplo-Known-At": selection.known_at,
        "Cache-Control": "no-store",
    }
    if selection.at is not None:
        headers["X-Diplo-At"] = selection.at
    return StreamingResponse(on_own_threads(chunks, request.app.state.export_threads, error_line),
                             media_type=MEDIA[chosen], headers=headers)
