"""Processes that start at once on a new PostgreSQL schema (the API and a writer, two writers) all set up the
event store: before they took turns, 50 of 60 such set-ups in a stress run failed in the catalogue (a duplicate
key in pg_type, "relation already exists", "tuple concurrently updated"), and a live test's writer died of it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from storage.postgres import ChainedPostgresApplicationRecorder
from tests.conftest import PG_URL

STARTING_AT_ONCE = 6


@pytest.fixture
def new_schema() -> Iterator[str]:
    schema = f"setup_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(3))
def test_recorders_setting_up_a_new_schema_at_the_same_moment_all_succeed(new_schema: str, attempt: int) -> None:
    url = urlparse(PG_URL)
    barrier = threading.Barrier(STARTING_AT_ONCE)
    errors: list[BaseException] = []

    def start() -> None:
        datastore = PostgresDatastore(url.path.lstrip("/"), url.hostname or "127.0.0.1", str(url.port or 5432),
                                      url.username or "postgres", url.password or "", schema=new_schema, pool_size=2)
        try:
            recorder = ChainedPostgresApplicationRecorder(datastore, events_table_name="app_events")
            barrier.wait(10)
            recorder.create_table()
            recorder.insert_events([])  # usable: its tables and types are there
        except BaseException as error:
            errors.append(error)
        finally:
            datastore.close()

    threads = [threading.Thread(target=start) for _ in range(STARTING_AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (new_schema,))}
    assert tables == {"app_events", "app_events_hashes"}
