"""What one connection may hold: uvicorn's HTTP protocol with two time-outs it lacks, and the server's caps.

uvicorn closes a connection left idle *between* requests (`timeout_keep_alive`), but not one that never
finishes its headers (a connection that sends nothing, or a header a byte a minute: slowloris), nor one whose
client stops reading an answer: the answer then waits in memory for as long as the client likes. Here:

- the headers of each request must be complete within `header_timeout_seconds` of its first byte (or of the
  connection, for the first request), else the connection is closed;
- an answer the client has not taken for `write_stall_seconds` (uvicorn's write buffer full all that time)
  ends the connection, dropping what it held. A stream or a download cut so has no proper end (no last
  chunk), so its client knows it is incomplete; a stream's client resumes with Last-Event-ID.

`uvicorn_settings` gives `diplo serve` these with uvicorn's own: `timeout_keep_alive` and `limit_concurrency`
(past it, uvicorn answers 503 to new requests).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import Settings

log = logging.getLogger("uvicorn.error")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's headers and one for a stalled write."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Set on uvicorn's Config by `uvicorn_settings`: attributes travel with it to worker processes.
        self.header_timeout: float = getattr(config, "diplo_header_timeout", 10.0)
        self.write_stall: float = getattr(config, "diplo_write_stall", 30.0)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._stall_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_headers()

    def on_headers_complete(self) -> None:
        self._cancel_headers()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_headers()
        self._cancel_stall()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_deadline is None:
            self._stall_deadline = self.loop.call_later(self.write_stall, self._stalled)

    def resume_writing(self) -> None:
        self._cancel_stall()
        super().resume_writing()

    def _arm_headers(self) -> None:
        self._cancel_headers()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_headers(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _cancel_stall(self) -> None:
        if self._stall_deadline is not None:
            self._stall_deadline.cancel()
            self._stall_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            log.info("%s: closed, its request headers were not complete within %.0f s", _peer(self),
                     self.header_timeout)
            self.transport.close()

    def _stalled(self) -> None:
        self._stall_deadline = None
        if not self.transport.is_closing():
            log.info("%s: closed, it read nothing of its answer for %.0f s", _peer(self), self.write_stall)
            self.transport.abort()  # close() would wait to flush what this client will not read


def _peer(protocol: HttpToolsProtocol) -> str:
    client = protocol.client
    return f"{client[0]}:{client[1]}" if client else "a client"


def uvicorn_settings(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of uvicorn.Config that bound connections, from our settings."""
    return {"http": GuardedHttpToolsProtocol, "timeout_keep_alive": settings.keep_alive_seconds,
            "limit_concurrency": settings.max_connections}


def apply_protocol_settings(config: Any, settings: Settings) -> None:
    """Hands the two time-outs to the protocol through uvicorn's Config (see GuardedHttpToolsProtocol)."""
    config.diplo_header_timeout = settings.header_timeout_seconds
    config.diplo_write_stall = settings.write_stall_seconds
