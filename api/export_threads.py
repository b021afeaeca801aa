"""Downloads run on threads of their own, and a download that fails part-way ends so that its client knows.

Starlette iterates a plain generator in the thread pool that every synchronous route shares (40 threads): 50
downloads took it whole, and reads, writes and health checks waited seconds for a thread. Here each chunk of an
export is made on a thread of a limiter of its own (`DIPLO_MAX_EXPORTS` threads, as many as downloads may run).

A store that fails mid-download (a lost connection, a pool time-out) used to leave a file that ended on a whole
line and looked complete. Now the last line says the export failed and that the file is incomplete (a JSON line
`{"error": …, "incomplete": true}`, or a CSV row starting `#error`), and the transfer is cut without its final
chunk, which HTTP clients report as an error (curl exits 18, httpx raises RemoteProtocolError).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import anyio

log = logging.getLogger(__name__)

_DONE = object()


class ExportFailed(Exception):
    """Raised after the error line: the ASGI app ends without completing the response, so the transfer aborts."""


def jsonl_error(message: str) -> str:
    return json.dumps({"error": message, "incomplete": True}) + "\n"


def csv_error(message: str) -> str:
    return "#error: " + message.replace("\r", " ").replace("\n", " ") + "\n"


async def on_own_threads(chunks: Iterator[str], limiter: anyio.CapacityLimiter,
                         error_line: Callable[[str], str]) -> AsyncIterator[str]:
    """The chunks, each made on a thread of `limiter`; on a failure, an error line and then ExportFailed."""
    sent = 0
    while True:
        try:
            chunk = await anyio.to_thread.run_sync(next, chunks, _DONE, limiter=limiter)
        except Exception as error:
            log.warning("an export failed after %d chunks: %s: %s", sent, type(error).__name__, error)
            yield error_line(f"the export failed part-way ({type(error).__name__}); this download is incomplete")
            raise ExportFailed(str(error)) from error
        if chunk is _DONE:
            return
        sent += 1
        yield chunk  # type: ignore[misc]
