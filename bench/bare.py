"""The floor of the HTTP benchmarks: bare FastAPI endpoints shaped like ours, doing no work.

`GET /bare/parties/{code}/stances` is a plain `def` (run in the thread pool, as our routes are) that returns
a small fixed answer; `GET /bare/stream` and `POST /bare/publish` fan one message out to every
subscriber over server-sent events with asyncio queues, as fast as FastAPI's SSE allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent


def bare_app() -> FastAPI:
    app = FastAPI(title="bare floor")
    subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    @app.get("/bare/parties/{code}/stances")
    def stances(code: str, at: str | None = None) -> dict[str, Any]:
        return {"party": code, "at": at, "known_at": None, "stances": []}

    @app.get("/bare/stream", response_class=EventSourceResponse)
    async def stream() -> AsyncIterator[ServerSentEvent]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        subscribers.add(queue)
        try:
            yield ServerSentEvent(comment="bare stream", retry=2000)
            while True:
                message = await queue.get()
                yield ServerSentEvent(id=str(message["position"]), event="signed", data=message)
        finally:
            subscribers.discard(queue)

    @app.post("/bare/publish")
    async def publish(message: dict[str, Any]) -> dict[str, int]:
        for queue in subscribers:
            queue.put_nowait(message)
        return {"subscribers": len(subscribers)}

    @app.get("/bare/subscribers")
    async def count() -> dict[str, int]:
        return {"subscribers": len(subscribers)}

    return app
