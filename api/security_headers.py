"""Security headers on every answer: JSON, problems, the OpenAPI document, the docs, the page, the favicon.

Added at the outermost layer, so the answers of other middleware (a 413, a 429 of the stream limits) get them
too. A header a route already set (the page's and the docs' own Content-Security-Policy) is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# For answers that are not pages (JSON, problems, files): nothing may run, load or frame them.
DEFAULT_POLICY = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": DEFAULT_POLICY,
}


class SecurityHeaders:
    """Sets HEADERS on each HTTP answer where the answer has not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
