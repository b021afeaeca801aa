"""The floor of the HTTP benchmarks: bare FastAPI endpoints shaped like ours, doing no work.

`GET /bare/parties/{code}/stances` is a plain `def` (run in the thread pool, as our routes are) that returns
a small fixed answer; `GET /bare/rollcalls/{id}` returns, as bytes ready to send, the answer the engine gave for that
roll call (read at start from the JSON file named by DIPLO_BENCH_ROLLCALLS), so the floor moves answers of the
same size; `GET /bare/answers/{kind}/{k}` likewise sends the engine's k-th answer to a kind of read (the file
named by DIPLO_BENCH_ANSWERS); `GET /bare/stream` and `POST /bare/publish` fan one message out to every
subscriber over server-sent events with asyncio queues, as fast as FastAPI's SSE allows.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent


def bare_app() -> FastAPI:
    app = FastAPI(title="bare floor")
    subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    # The same two, `async def`: the floor of a read answered on the event loop (the SQLite fast path of
    # api/lean_routes.py), which makes no trip through the thread pool either.
    @app.get("/bare/async/parties/{code}/stances")
    async def stances_async(code: str, at: str | None = None) -> dict[str, Any]:
        return {"party": code, "at": at, "known_at": None, "stances": []}

    @app.get("/bare/async/rollcalls/{slug}")
    async def rollcall_async(slug: str, known_at: str | None = None) -> Response:
        return Response(rollcalls[slug], media_type="application/json")

    @app.get("/bare/parties/{code}/stances")
    def stances(code: str, at: str | None = None) -> dict[str, Any]:
        return {"party": code, "at": at, "known_at": None, "stances": []}

    rollcalls: dict[str, bytes] = {}
    if os.environ.get("DIPLO_BENCH_ROLLCALLS"):
        answers = json.loads(Path(os.environ["DIPLO_BENCH_ROLLCALLS"]).read_text(encoding="utf-8"))
        rollcalls = {slug: json.dumps(answer).encode() for slug, answer in answers.items()}

    @app.get("/bare/rollcalls/{slug}")
    def rollcall(slug: str, known_at: str | None = None) -> Response:
        return Response(rollcalls[slug], media_type="application/json")

    # DIPLO_BENCH_ANSWERS: {kind: [answer, ...]}, the engine's own answers to a benchmark's paths, in their order.
    ready: dict[str, list[bytes]] = {}
    if os.environ.get("DIPLO_BENCH_ANSWERS"):
        kinds = json.loads(Path(os.environ["DIPLO_BENCH_ANSWERS"]).read_text(encoding="utf-8"))
        ready = {kind: [answer.encode() for answer in answers] for kind, answers in kinds.items()}

    @app.get("/bare/answers/{kind}/{k}")
    def answer(kind: str, k: int) -> Response:
        return Response(ready[kind][k], media_type="application/json")

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
