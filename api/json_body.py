"""A JSON body with the same key twice is refused (422), before any route reads it.

`json.loads` keeps the last of two equal keys, so `{"party": "US", "party": "GB"}` was taken for GB while a
proxy, a log or a signature check in front of the API may have read US. Refusing it leaves no doubt.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from domain.errors import InvalidInput

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


async def refuse_duplicate_keys(request: Request) -> None:
    """422 naming the repeated key; a body that is not JSON is left to FastAPI's own checks."""
    if request.method not in BODY_METHODS or "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()  # read once: FastAPI reuses what the request has already received
    if b'"' not in body:
        return
    try:
        json.loads(body, object_pairs_hook=_unique)
    except DuplicateKey as error:
        raise InvalidInput(f"the key {error.key!r} appears twice in one JSON object", field=error.key) from None
    except (ValueError, RecursionError):
        return  # not JSON, or nested too deeply: FastAPI answers these as it always has
