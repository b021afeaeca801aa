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

from domain.errors import Conflict, DomainError, InvalidInput, NotFound

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409}
TITLES = {401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
          413: "Payload Too Large", 422: "Unprocessable Content", 503: "Service Unavailable"}


def problem(status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title or TITLES.get(status, "Error"), "status": status, "detail": detail}
    return JSONResponse({**body, **extra}, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def domain_error(_: Request, error: DomainError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 409)
        errors = [{"field": error.field, "message": error.message}] if error.field and status == 422 else None
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        if error.field and status != 422:
            extra["field"] = error.field
        return problem(status, error.message, **extra)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
                  for e in error.errors()]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem(422, f"invalid input: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    def unexpected(_: Request, error: Exception) -> JSONResponse:
        # A bug, never a client's fault; still answered as a problem, and logged with its trace.
        log.exception("unexpected error", exc_info=error)
        return problem(500, "an unexpected error occurred; it has been logged", title="Internal Server Error")

    def read_store_unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("read-model store error: %s", error)
        return problem(503, "the read models are unavailable; try again shortly", headers={"Retry-After": "2"})

    for kind in (sqlite3.OperationalError, psycopg.OperationalError, psycopg_pool.PoolTimeout):
        app.add_exception_handler(kind, read_store_unavailable)

    @app.exception_handler(PersistenceError)
    def store_unavailable(_: Request, error: PersistenceError) -> JSONResponse:
        log.warning("store error: %s", error)
        if isinstance(error, OperationalError):
            return problem(503, "the event store is unavailable; try again shortly", headers={"Retry-After": "2"})
        return problem(503, "the event store refused the operation; try again", headers={"Retry-After": "1"})
