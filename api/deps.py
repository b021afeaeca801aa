"""Dependencies shared by the routes, as Annotated aliases."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from api.bootstrap import Runtime
from api.dates import IsoDate
from domain.errors import InvalidInput
from domain.service import Idempotency
from domain.values import Confidence
from projections.store import Sql

# The dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread
# pool, one round trip through it each, on every request.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _known(token: str | None, allowed: list[str]) -> bool:
    # compare_digest against every token, without stopping early, so timing tells nothing.
    found = False
    for candidate in allowed:
        found |= token is not None and hmac.compare_digest(token.encode(), candidate.encode())
    return found


UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


# Authorization is declared as the bearer security scheme (api/openapi.py), not as a header parameter.
AuthorizationHeader = Annotated[str | None, Header(include_in_schema=False)]


async def require_writer(runtime: RuntimeDep, authorization: AuthorizationHeader = None) -> None:
    token = _token(authorization)
    if token is None:
        raise HTTPException(401, "a write needs 'Authorization: Bearer <token>'", headers=UNAUTHORIZED)
    if not _known(token, runtime.write_tokens):
        raise HTTPException(401, "unknown token", headers=UNAUTHORIZED)


async def require_reader(request: Request) -> None:
    """Takes the request alone (the header read here, not declared), so lean routes can run it (api/lean_routes.py)."""
    runtime: Runtime = request.app.state.runtime
    allowed = runtime.settings.read_token_list
    if not allowed:
        return
    token = _token(request.headers.get("authorization"))
    if not (_known(token, allowed) or _known(token, runtime.write_tokens)):
        raise HTTPException(401, "reads need 'Authorization: Bearer <token>' on this server", headers=UNAUTHORIZED)


def read_sql(runtime: RuntimeDep) -> Iterator[Sql]:
    with runtime.store.reading() as sql:
        yield sql


ReadSql = Annotated[Sql, Depends(read_sql)]


def source_out(source: dict[str, Any]) -> dict[str, Any]:
    """A stored source as SourceOut answers it: its fields, in its order."""
    return {"title": source["title"], "url": source["url"], "outlet": source.get("outlet"),
            "published_on": source.get("published_on")}


def encoded(body: dict[str, Any]) -> Response:
    """A read's answer encoded once, with the encoder FastAPI uses for a response model (pydantic-core's).

    For the busiest reads, whose rows are already shaped as their response model (tests compare the
    two answers): FastAPI would validate every row against the model again, in the thread pool."""
    return Response(to_json(body), media_type="application/json")


def echo_times(response: Response, at: str | None, known_at: str) -> None:
    """The times an answer used, in the headers the exports give them in, for answers with no field for them."""
    response.headers["X-Diplo-Known-At"] = known_at
    if at is not None:
        response.headers["X-Diplo-At"] = at


def idempotency_for(key: str | None, request: Request, body: BaseModel) -> Idempotency | None:
    """The same key with the same method, path and body is a retry; with anything else, a reuse."""
    if key is None:
        return None
    if not key.strip() or len(key) > 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters", field="Idempotency-Key")
    canonical = json.dumps(
        [request.method, request.url.path, body.model_dump(mode="json")], sort_keys=True, separators=(",", ":")
    )
    return Idempotency(key.strip(), hashlib.sha256(canonical.encode()).hexdigest())


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"\S",
           description="Any text but blank; the same key with the same request answers as the first time"),
]


AtQuery = Annotated[
    IsoDate | None,
    Query(description="Valid time: count acts that occurred on or before this date (default today)",
          examples=["2025-02-12"]),
]
KnownAtQuery = Annotated[
    str | None,
    Query(description="Transaction time: what the record said at this moment (a datetime with zone, or a date "
          "meaning the end of that day UTC; default now)", examples=["2025-03-01T00:00:00Z"], max_length=40),
]
MinConfidenceQuery = Annotated[
    Confidence,
    Query(description="Count only acts at or above this confidence: low (every act), medium (medium and high), "
          "or high (confirmed acts only)"),
]
ExplainQuery = Annotated[
    bool, Query(description="Also give, for each stance, the chain of acts that produced it (retracted ones marked)")
]
FromQuery = Annotated[IsoDate | None, Query(alias="from", description="First valid-time date (YYYY-MM-DD)")]
ToQuery = Annotated[IsoDate | None, Query(alias="to", description="Last valid-time date (YYYY-MM-DD)")]


async def refuse_nul(request: Request) -> None:
    """NUL cannot reach PostgreSQL text; a path or query carrying one is malformed input (422)."""
    if "\x00" in request.url.path:
        raise InvalidInput("the path must not contain NUL characters", field="path")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidInput(f"query parameter {name!r} must not contain NUL characters", field=name)
