"""How many event streams and downloads may be open at once, in all and from one client address.

A stream or a download holds a connection, a task and some memory for as long as its client likes; a few
hundred of them, opened by one anonymous client, exhausted the server. Past the limits a new one is refused
before anything is read for it: 429 when this client address holds its share, 503 when the server holds its
total, both RFC 9457 problems with `Retry-After`. The limits are per process (each worker of `diplo serve
--workers` has its own); the client address is the one uvicorn reports, so behind a proxy it needs the proxy's
headers trusted.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem
from api.export_threads import ExportFailed
from api.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Gate:
    """One kind of long answer: how many are open, in all and by client address."""

    what: str
    total: int
    per_client: int
    total_setting: str
    per_client_setting: str
    retry_after: int
    open: int = 0
    refused: int = 0
    by_client: Counter[str] = field(default_factory=Counter)

    def status(self) -> dict[str, int]:
        return {"open": self.open, "max": self.total, "max_per_client": self.per_client, "refused": self.refused}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


# What the two routes declare in the OpenAPI document beside the problems every route may answer.
LIMITED: dict[int | str, dict[str, Any]] = {429: {
    "description": "this client address has as many open as it may; retry after `Retry-After`",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}}


class OpenAnswers:
    """The open event streams and exports of this process, by kind and client address."""

    def __init__(self, settings: Settings) -> None:
        self.streams = Gate("event streams", settings.max_streams, settings.max_streams_per_client,
                            "DIPLO_MAX_STREAMS", "DIPLO_MAX_STREAMS_PER_CLIENT", retry_after=5)
        self.exports = Gate("exports", settings.max_exports, settings.max_exports_per_client,
                            "DIPLO_MAX_EXPORTS", "DIPLO_MAX_EXPORTS_PER_CLIENT", retry_after=10)

    def gate(self, scope: Scope) -> Gate | None:
        """The gate a request passes through, if it opens a stream or an export."""
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return None
        path: str = scope.get("path", "")
        if path == "/v1/events/stream":
            return self.streams
        if path.startswith("/v1/export/"):
            return self.exports
        return None

    def status(self) -> dict[str, Any]:
        """What /healthz shows of the limits."""
        return {"streams": self.streams.status(), "exports": self.exports.status()}


def _ended_early(error: BaseException) -> bool:
    """A client that went away mid-stream (FastAPI's event-stream machinery raises BrokenResourceError from the
    task still handing messages on), or an export that failed part-way after saying so: not server errors."""
    early = (anyio.BrokenResourceError, anyio.ClosedResourceError, ExportFailed)
    if isinstance(error, BaseExceptionGroup):
        return error.split(early)[1] is None
    return isinstance(error, ExportFailed)


class StreamLimits:
    """Counts the open event streams and exports; refuses one past the limits with 429 or 503."""

    def __init__(self, app: ASGIApp, answers: OpenAnswers) -> None:
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.answers.gate(scope)
        if gate is None:
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        if gate.by_client[client] >= gate.per_client:
            gate.refused += 1
            await problem(429, f"this client already has {gate.by_client[client]} {gate.what} open, the most one "
                          f"address may ({gate.per_client_setting}); close one or retry later",
                          title="Too Many Requests", headers={"Retry-After": str(gate.retry_after)},
                          )(scope, receive, send)
            return
        if gate.open >= gate.total:
            gate.refused += 1
            await problem(503, f"the server has {gate.open} {gate.what} open, the most it serves at once "
                          f"({gate.total_setting}); retry later", headers={"Retry-After": str(gate.retry_after)},
                          )(scope, receive, send)
            return
        gate.open += 1
        gate.by_client[client] += 1
        try:
            await self.app(scope, receive, send)
        except BaseException as error:
            if not _ended_early(error):
                raise
            # Ending here, the response unfinished, aborts the transfer: its client sees no proper end.
            log.info("%s: one of its %s ended early (%s)", client, gate.what, type(error).__name__)
        finally:
            gate.open -= 1
            gate.by_client[client] -= 1
            if not gate.by_client[client]:
                del gate.by_client[client]
