"""Domain errors mapped to HTTP once, as RFC 9457 problem details. Routes never catch."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.request_id import REQUEST_ID
from domain.errors import (
    Conflict,
    Contention,
    DomainError,
    Duplicate,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    StanceRuleViolation,
)

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409}
TITLES = {401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
          413: "Payload Too Large", 422: "Unprocessable Content", 503: "Service Unavailable"}

# Each kind of refusal has a `type` of its own (RFC 9457), so a client can act on it without reading the
# detail: docs/problems.md lists them. The status says how bad; the type says what happened.
PROBLEM_TYPE = "urn:diplo:problem:"
DOMAIN_TYPES: dict[type[DomainError], str] = {
    StanceRuleViolation: "stance-rule", Duplicate: "duplicate", IdempotencyConflict: "idempotency-conflict",
    Contention: "contention", Conflict: "conflict", NotFound: "not-found", InvalidInput: "validation",
}
STATUS_TYPES = {401: "unauthorized", 404: "not-found", 405: "method-not-allowed", 409: "conflict",
                413: "payload-too-large", 422: "validation", 500: "internal", 503: "unavailable"}
PROBLEM_TYPES = sorted(PROBLEM_TYPE + kind for kind in {*DOMAIN_TYPES.values(), *STATUS_TYPES.values()})


def problem_type(kind: str) -> str:
    return PROBLEM_TYPE + kind


# The shape of every problem answer, declared once in the OpenAPI document (see `document_problems`).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "enum": PROBLEM_TYPES,
                 "description": "What kind of refusal this is (docs/problems.md); the detail says it in words"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "the input the problem is about"},
        "request_id": {"type": "string", "description": "the request's X-Request-ID, as the server's logs name it"},
        "errors": {
            "type": "array",
            "description": "422: each invalid field and why",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_ANSWERS = {
    401: "a missing or unknown bearer token",
    404: "an unknown party, summit, declaration or event, in the path or a reference",
    409: "an act that breaks the stance rules, a duplicate id, or an Idempotency-Key reused with another body",
    413: "a request body over DIPLO_MAX_BODY_BYTES",
    422: "malformed input; `errors` names each invalid field",
    503: "the store is unavailable; retry after `Retry-After` seconds",
}
MAX_LISTED_ERRORS = 50
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def problem(status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None,
            kind: str | None = None, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem answer; `kind` names its type (by default, the status's)."""
    body = {"type": problem_type(kind or STATUS_TYPES.get(status, "internal")),
            "title": title or TITLES.get(status, "Error"), "status": status, "detail": detail}
    request_id = REQUEST_ID.get()
    if request_id is not None:
        body["request_id"] = request_id  # what to quote to whoever runs the server: it is in their logs
    return JSONResponse({**body, **extra}, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] in ("query", "header"):
        # A repeated parameter (kind=signed&kind=bogus) is named, not its place in the list.
        loc = tuple(p for p in loc if not isinstance(p, int))
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def domain_error(_: Request, error: DomainError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 409)
        kind = next((name for klass, name in DOMAIN_TYPES.items() if isinstance(error, klass)), "conflict")
        errors = [{"field": error.field, "message": error.message}] if error.field and status == 422 else None
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        if error.field and status != 422:
            extra["field"] = error.field
        return problem(status, error.message, kind=kind, **extra)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        found = error.errors()
        # A hostile body can carry tens of thousands of bad fields: name the first few, count the rest.
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
                  for e in found[:MAX_LISTED_ERRORS]]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        more = f" and {len(found) - len(errors)} more" if len(found) > len(errors) else ""
        return problem(422, f"invalid input: {fields}{more}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.__cause__ is not None:
            # FastAPI's "error parsing the body" (e.g. JSON nested past Python's recursion limit):
            # malformed input like any other, so a 422 naming the body.
            message = "the body could not be parsed as JSON (nested too deeply?)"
            return problem(422, message, errors=[{"field": "body", "message": message}])
        return problem(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    def unexpected(_: Request, error: Exception) -> JSONResponse:
        # A bug, never a client's fault; still answered as a problem, and logged with its trace.
        log.exception("unexpected error", exc_info=error)
        return problem(500, "an unexpected error occurred; it has been logged", title="Internal Server Error")

    def read_store_unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("read-model store error: %s", error)
        return problem(503, "the read models are unavailable; try again shortly", headers={"Retry-After": "2"})

    # InterfaceError: a connection the server closed under us ("the connection is closed").
    for kind in (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout):
        app.add_exception_handler(kind, read_store_unavailable)

    @app.exception_handler(PersistenceError)
    def store_unavailable(_: Request, error: PersistenceError) -> JSONResponse:
        log.warning("store error: %s", error)
        if isinstance(error, OperationalError):
            return problem(503, "the event store is unavailable; try again shortly", headers={"Retry-After": "2"})
        return problem(503, "the event store refused the operation; try again", headers={"Retry-After": "1"})


def _problems_of(path: str, method: str) -> list[int]:
    """The problem statuses an operation can answer: every one can meet bad input and a store outage."""
    found = [422, 503]
    if path.startswith("/v1/"):
        found.append(401)
    if "{" in path or method in WRITE_METHODS:
        found.append(404)
    if method in WRITE_METHODS:
        found += [409, 413]
    return sorted(found)


def document_problems(app: FastAPI) -> None:
    """Declares on every operation of the OpenAPI document the problem answers it can give, as
    application/problem+json with one shared schema, in place of FastAPI's default 422 body (which
    this API never sends). Done on the document, so a new route is covered without touching it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _problems_of(path, method):
                    declared = responses.get(str(status))
                    if declared is not None and "HTTPValidationError" not in repr(declared):
                        continue  # the route said something more precise itself
                    responses[str(status)] = {
                        "description": PROBLEM_ANSWERS[status],
                        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    }
        if "HTTPValidationError" not in repr(schema.get("paths")):
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
