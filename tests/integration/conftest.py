"""Fixtures the integration tests share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from api.settings import Settings
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore


@pytest.fixture
def fresh_store(settings: Settings, tmp_path: Any) -> Iterator[Callable[[], ViewStore]]:
    """Makes empty view stores of the test's backend: a new file, or a new PostgreSQL schema."""
    made: list[tuple[ViewStore, str | None]] = []

    def make() -> ViewStore:
        if settings.database_url is None:
            store: ViewStore = SQLiteViewStore(tmp_path / f"views-{uuid.uuid4().hex[:8]}.sqlite3")
            made.append((store, None))
            return store
        schema = f"v_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        store = PostgresViewStore(settings.database_url, schema, pool_size=2)
        made.append((store, schema))
        return store

    yield make
    for store, schema in made:
        store.close()
        if schema is not None and settings.database_url is not None:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
