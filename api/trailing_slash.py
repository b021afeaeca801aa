"""A path with a trailing slash is answered as the path without it, never redirected.

Starlette redirects `/v1/parties/` to `/v1/parties` with a Location built from the request's Host header, so
a forged Host made the API send clients elsewhere (an open redirect, and a poisoned cache behind a proxy).
Answering the same resource in place needs no Location, and no list of trusted hosts.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlash:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            raw = scope.get("raw_path") or path.encode("utf-8")
            scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": raw.rstrip(b"/") or b"/"}
        await self.app(scope, receive, send)
