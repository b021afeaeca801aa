"""The FastAPI app factory. `bootstrap` runs in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import chain_enforcement, errors, metrics, openapi, telemetry
from api.bootstrap import Runtime, bootstrap
from api.chain_enforcement import start_guard
from api.deps import refuse_nul
from api.docs_ui import router as docs_router
from api.encoded_answers import EncodedAnswers
from api.json_body import refuse_duplicate_keys
from api.limits import BodyLimit
from api.links import document_links
from api.request_id import RequestId
from api.routes import (
    alignment,
    analysis,
    declarations,
    export,
    health,
    log,
    parties,
    probes,
    retractions,
    rollcalls,
    statements,
    stream,
    summits,
    votes,
    web,
)
from api.routes import metrics as metrics_route
from api.security_headers import SecurityHeaders
from api.serving import streams_end_on_signal
from api.settings import Settings
from api.stream_limits import OpenAnswers, StreamLimits
from api.streaming import StreamHub
from api.trailing_slash import TrailingSlash

DESCRIPTION = """An event-sourced record of diplomacy. Every act — a summit hosted, a declaration published,
a party signing, declining or withdrawing, a statement — is stored once as an immutable event.

Every read takes two times: `at` (valid time: what had happened by that date) and `known_at`
(transaction time: what the record said at that moment). Writes need `Authorization: Bearer <token>`."""


# FastAPI tries each router's routes in turn until one matches (twice over, for an included router): the routers
# of the busiest reads come first, which took a tenth off a roll call's time in Python. No path of one router is
# matched by another's route (tests/api/test_routing_order.py), so the order changes no answer.
MATCHED_IN_ORDER = (rollcalls, parties, declarations, votes, alignment, summits, statements, retractions, stream, log,
                    analysis, export, health, probes, metrics_route, web)
# The /docs page's groups, in the order the API tells its story (not the order routes are matched in).
TAGS = [{"name": name} for name in ("summits", "declarations", "statements and retractions", "parties", "votes",
                                    "roll calls", "timeline and events", "analysis", "exports", "health")]


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Builds the app; the runtime is bootstrapped in the lifespan unless one is handed in (tests, CLI)."""
    config = runtime.settings if runtime is not None else settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = rt = runtime or bootstrap(config)
        app.state.chain_guard = guard = start_guard(rt.app.recorder, rt.settings)
        app.state.stream_hub = hub = StreamHub(asyncio.get_running_loop(), rt.settings.stream_buffer)
        # Made here, in the running loop: threads of their own for downloads and for streams catching up.
        app.state.export_threads = anyio.CapacityLimiter(rt.settings.max_exports)
        app.state.catch_up_threads = anyio.CapacityLimiter(stream.CATCH_UP_THREADS)
        app.state.rollcall_answers = EncodedAnswers(rt.settings.rollcall_cache_bytes)  # one runtime's, one store's
        hub.attach(rt.follower)
        metrics.watch_projector(rt.projector)
        try:
            with streams_end_on_signal(hub):
                yield
        finally:
            metrics.unwatch_projector(rt.projector)
            hub.detach(rt.follower)
            if guard is not None:
                guard.stop()
            if own:
                rt.close()

    tracing = telemetry.fastapi_config()
    # /docs is served from the bundled Swagger UI (api/docs_ui.py); FastAPI's own pages load it from a CDN.
    app = FastAPI(title="Diplomatic Timeline", version="1", description=DESCRIPTION, lifespan=lifespan,
                  dependencies=[Depends(refuse_nul), Depends(refuse_duplicate_keys)],
                  generate_unique_id_function=openapi.operation_id, telemetry=tracing, openapi_tags=TAGS,
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None, redirect_slashes=False)
    errors.install(app)
    chain_enforcement.install(app)
    errors.document_problems(app)
    document_links(app)
    openapi.document(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    if config.cors_origin_list:  # closed by default: no CORS headers, so browsers refuse other origins
        app.add_middleware(
            CORSMiddleware, allow_origins=config.cors_origin_list, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-ID"],
            expose_headers=["Location", "Retry-After", "Idempotent-Replayed", "X-Request-ID"], max_age=600,
        )
    for module in MATCHED_IN_ORDER:
        app.include_router(module.router)
    app.include_router(docs_router)
    # Read by api/lean_routes.py on each request. A traced server keeps FastAPI's handler on every route, for the
    # child spans of its dependencies and endpoint (docs/operations.md, "Tracing").
    app.state.lean_routes = config.lean_routes and tracing is telemetry.OFF
    app.state.open_answers = answers = OpenAnswers(config)
    app.add_middleware(StreamLimits, answers=answers)
    app.add_middleware(TrailingSlash)
    app.add_middleware(SecurityHeaders)  # around every route and the limits above: every answer gets the headers
    # Outermost, so every answer above is counted and carries its request id (413s and CORS refusals too).
    app.add_middleware(metrics.HttpMetrics)
    app.add_middleware(RequestId)
    return app
