"""GET /v1/events/stream: server-sent events, caught up from the log and then live, resumable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.bootstrap import Runtime
from api.cursors import MAX_POSITION
from api.deps import RuntimeDep, require_reader
from api.filters import checked_filters
from api.metrics import process_metrics
from api.stream_limits import LIMITED
from api.streaming import StreamFilter, Subscriber, message
from domain.errors import InvalidInput
from domain.values import EventKind
from projections.follower import public_events

router = APIRouter(prefix="/v1", tags=["timeline and events"], dependencies=[Depends(require_reader)])

# Events a catching-up stream reads from the log at a time, and so the most it holds decoded: whatever its
# client does, a stream holds at most one such page, its live buffer (DIPLO_STREAM_BUFFER messages shared with
# every other stream) and uvicorn's write buffer; a client that takes nothing is cut off (api/connections.py).
CATCH_UP_PAGE = 100
# Threads that read catching-up streams' pages, apart from the pool that reads and writes use: a crowd of
# streams catching up at once took all 40 of that pool's threads (and, on SQLite, a connection with its own
# page cache on each).
CATCH_UP_THREADS = 4


def _start(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None and last_event_id.strip():
        try:
            position = int(last_event_id.strip())
        except ValueError:
            raise InvalidInput("Last-Event-ID must be a log position this server sent", field="Last-Event-ID") from None
        if not 0 <= position <= MAX_POSITION:
            raise InvalidInput("Last-Event-ID is out of range", field="Last-Event-ID")
        return position  # the header wins: it is where a reconnecting client really stopped
    return after or 0


def _filter(runtime: Runtime, party: list[str] | None, declaration: list[str] | None,
            kind: list[EventKind] | None) -> StreamFilter:
    # A typo must be refused here: a stream filtered by it would send nothing, for ever.
    found = checked_filters(runtime, parties=party, declarations=declaration)
    return StreamFilter(frozenset(found.parties), frozenset(found.declarations), frozenset(kind or []))


@dataclass(frozen=True)
class StreamStart:
    last: int
    filter: StreamFilter


def stream_start(
    runtime: RuntimeDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_POSITION, description="Start after this log position")] = None,
    party: Annotated[list[str] | None, Query(max_length=50)] = None,
    declaration: Annotated[list[str] | None, Query(max_length=50)] = None,
    kind: Annotated[list[EventKind] | None, Query(max_length=10)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> StreamStart:
    """Checked as a dependency, so a bad request is a 422 problem before any stream head is sent."""
    return StreamStart(_start(after, last_event_id), _filter(runtime, party, declaration, kind))


async def subscription(request: Request, start: Annotated[StreamStart, Depends(stream_start)]
                       ) -> AsyncIterator[Subscriber]:
    """The stream's place in the hub, let go when the request ends, however it ends.

    Not in the stream's generator: when a client goes away while the generator waits to hand on a message,
    FastAPI cancels the task that drives it and leaves the generator suspended until it is garbage collected,
    and with it the subscription, which went on buffering events for no one."""
    hub = request.app.state.stream_hub
    subscriber = hub.subscribe(start.filter)
    try:
        yield subscriber
    finally:
        hub.unsubscribe(subscriber)


@router.get("/events/stream", response_class=EventSourceResponse,
            responses={200: {"description": "text/event-stream: id = log position, event = kind, data = the event"},
                       **LIMITED})
async def stream(
    request: Request,
    runtime: RuntimeDep,
    start: Annotated[StreamStart, Depends(stream_start)],
    subscriber: Annotated[Subscriber, Depends(subscription)],
) -> AsyncIterator[ServerSentEvent]:
    """Every public event after `after` (or Last-Event-ID, which wins), then live, with no gap and no duplicate."""
    last, stream_filter = start.last, start.filter
    settings = runtime.settings
    # Subscribed (by the dependency) before catching up: whatever is stored from now on reaches the buffer,
    # and whatever was stored before is read from the log, so the switch can lose nothing. The dependency
    # alone lets it go, once, however the stream ends.
    sent = process_metrics().messages
    yield ServerSentEvent(comment="diplomatic timeline event stream", retry=settings.stream_retry_ms)
    page_size = min(settings.page_size, CATCH_UP_PAGE)
    while True:
        page = await anyio.to_thread.run_sync(
            partial(runtime.app.recorder.select_notifications, start=last, limit=page_size,
                    inclusive_of_start=False),
            limiter=request.app.state.catch_up_threads,
        )
        for event in public_events(runtime.app.mapper, page, runtime.follower.publications):
            if stream_filter.matches(event):
                sent.inc()
                yield message(event)
        if page:
            last = page[-1].id
        if len(page) < page_size:
            break
    while True:
        if subscriber.closing:
            yield ServerSentEvent(comment="the server is restarting: reconnect with Last-Event-ID to resume",
                                  retry=settings.stream_retry_ms)
            return
        if subscriber.overflowed and subscriber.queue.empty():
            yield ServerSentEvent(comment="too slow: reconnect with Last-Event-ID to resume",
                                  retry=settings.stream_retry_ms)
            return
        try:
            # asyncio.timeout, not wait_for: no task of its own per wait, with 1,000 streams waiting.
            async with asyncio.timeout(settings.stream_heartbeat_seconds):
                delivery = await subscriber.queue.get()
        except TimeoutError:
            yield ServerSentEvent(comment="heartbeat")
            continue
        if delivery is None:
            continue  # the shutdown's wake-up: `closing` ends the stream above
        if delivery.event.position > last:  # anything at or before `last` was sent while catching up
            last = delivery.event.position
            sent.inc()
            yield delivery.message  # encoded once by the hub, shared by every subscriber
