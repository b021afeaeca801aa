"""Secrets out of the access log: the value of any query parameter whose name says it holds a secret.

The API takes tokens only in the Authorization header, which uvicorn never logs; but a client that puts one in
a query string (`?access_token=…`, a pasted link) had it written to the access log in clear.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_NAME = re.compile(r"token|secret|passw|auth|api[-_]?key|^key$|signature|^sig$|session|jwt|bearer", re.I)
REDACTED = "[redacted]"


def redact_target(target: str) -> str:
    """The request target with each secret-looking query value replaced; the rest as it was."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    pieces = []
    for piece in query.split("&"):
        name, equals, _ = piece.partition("=")
        pieces.append(f"{name}={REDACTED}" if equals and SECRET_NAME.search(unquote_plus(name)) else piece)
    return f"{path}?{'&'.join(pieces)}"


class RedactQuery(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, target, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install() -> None:
    """Adds the filter to uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQuery) for f in access.filters):
        access.addFilter(RedactQuery())
