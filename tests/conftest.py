"""Fixtures shared by every test: one backend fixture parametrised over SQLite and PostgreSQL.

PostgreSQL tests use the real server named by DIPLO_TEST_DATABASE_URL (default: the local one),
each test in a schema of its own that is dropped afterwards. They fail, never skip, when the
server cannot be reached: CI must not pass by testing less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from seeds.loader import seed
from tests.factories import FIRST_RELEASE

PG_URL = os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "test-writer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: os.PathLike[str]) -> Iterator[Settings]:
    if backend == "sqlite":
        yield Settings(data_dir=tmp_path, write_tokens=TOKEN, write_wait_seconds=5)
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=schema, write_tokens=TOKEN,
                   write_wait_seconds=5)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for doomed in (schema, f"{schema}_views"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = bootstrap(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    report = seed(runtime.app, through=FIRST_RELEASE)
    assert runtime.projector.wait_for(report.last_position, 30)
    return runtime


@pytest.fixture
def seeded_client(seeded: Runtime, client: TestClient) -> TestClient:
    return client


def stored_events(runtime: Runtime) -> int:
    """How many events the log holds: a refused command must leave this unchanged."""
    return runtime.app.recorder.max_notification_id() or 0
