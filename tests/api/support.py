"""Helpers shared by the API test modules (not a test module itself).

Each API module builds its store once per backend (module scope): seeding ~420 events per test would
make the suite minutes long. Tests that change the store use ids of their own, so they never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from seeds.loader import seed
from tests.factories import FIRST_RELEASE

PG_URL = os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "test-writer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PROBLEM = "application/problem+json"
SOURCE = {"title": "A report of the act", "url": "https://example.org/report", "outlet": "Example Times"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@contextmanager
def running(backend: str, data_dir: Path, *, write_wait_seconds: float = 5) -> Iterator[Runtime]:
    """A bootstrapped runtime on a store of its own (a fresh PostgreSQL schema), closed and dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=data_dir,
        database_url=PG_URL if backend == "postgres" else None,
        database_schema=schema if backend == "postgres" else "public",
        write_tokens=TOKEN,
        write_wait_seconds=write_wait_seconds,
    )
    runtime = bootstrap(settings)
    try:
        yield runtime
    finally:
        runtime.close()
        if backend == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for doomed in (schema, f"{schema}_views"):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


def seed_and_wait(runtime: Runtime) -> Runtime:
    report = seed(runtime.app, through=FIRST_RELEASE)
    assert runtime.projector.wait_for(report.last_position, 30)
    return runtime


def stored_events(runtime: Runtime) -> int:
    """How many events the log holds: a refused command must leave this unchanged."""
    return runtime.app.recorder.max_notification_id() or 0


def unique(prefix: str) -> str:
    """A slug no other test uses, so tests can share one store."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def today() -> date:
    return datetime.now(UTC).date()


def tomorrow() -> str:
    return (today() + timedelta(days=1)).isoformat()


def write_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the FastAPI app that changes the record, found from its routes, not a list."""
    try:  # FastAPI >= 0.16x keeps included routers as one route each; this walks into them
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI flattens included routes itself
        routes = list(app.routes)
    found = {
        (method, route.path)
        for route in routes
        for method in (getattr(route, "methods", None) or ())
        if method in WRITE_METHODS
    }
    return sorted(found)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    """The fields a 422 problem names in its `errors` list."""
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    assert all(isinstance(e.get("field"), str) and e.get("message") for e in errors), errors
    return {e["field"] for e in errors}
