"""X-Request-ID: the client's (or proxy's) id when it is a sensible one, a new one otherwise; echoed on the
answer and kept in a context variable, so every log line of the request and its problem answer carry it."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import telemetry

HEADER = b"x-request-id"
# Printable, without spaces or quotes, at most 128 characters: safe to copy into a log line or a header.
# Anything else is replaced rather than refused: the id is a proxy's bookkeeping, not the client's request.
VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")

REQUEST_ID: ContextVar[str | None] = ContextVar("diplo_request_id", default=None)


def current() -> str | None:
    """The id of the request being answered in this context, if any."""
    return REQUEST_ID.get()


def accepted(value: str | None) -> str:
    """The id a request goes by: `value` when it is a sensible id, a new one otherwise (128 random bits in hex,
    the form of a UUID's hex, made in a fifth of uuid4's time)."""
    return value if value is not None and VALID.fullmatch(value) else os.urandom(16).hex()


class RequestId:
    """Pure ASGI (no per-request task or body buffering): reads the header, sets the context, adds it to the
    answer's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == HEADER:
                given = value.decode("latin-1")
                break
        request_id = accepted(given)
        # Not reset afterwards: each request runs in a task of its own, and a 500 answered by the outermost
        # error handler, after this returns, still names the request.
        REQUEST_ID.set(request_id)
        if telemetry.active():
            telemetry.tag_request(request_id)
        raw = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (HEADER, raw)]}
            await send(message)

        await self.app(scope, receive, send_with_id)
