"""A fresh store per benchmark run: a SQLite directory, or a PostgreSQL schema of its own (dropped after)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from api.settings import Settings

BACKENDS = ("sqlite", "postgres")


@dataclass
class Workspace:
    """Where one backend's run keeps its data, and how to reach it without the engine."""

    backend: str
    settings: Settings
    directory: Path
    postgres_url: str | None = None
    schema: str | None = None
    extra_schemas: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The DIPLO_* environment a subprocess (`diplo project`, uvicorn) needs to reach this store."""
        env = {"DIPLO_DATA_DIR": str(self.directory), "DIPLO_WRITE_TOKENS": "bench-token"}
        if self.postgres_url:
            env |= {"DIPLO_DATABASE_URL": self.postgres_url, "DIPLO_DATABASE_SCHEMA": self.schema or "public"}
        return env

    def events_table(self) -> str:
        """The qualified name of eventsourcing's events table."""
        if self.backend == "sqlite":
            return "stored_events"
        return f'"{self.schema}"."diplo_events"'

    def raw_connection(self) -> Any:
        """A plain driver connection to the event store (sqlite3 or psycopg), for the floors."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.directory / "events.sqlite3", isolation_level=None)
            return conn
        return psycopg.connect(self.postgres_url or "", autocommit=False)

    def other_schema(self, suffix: str) -> str:
        """A further schema to drop at the end (a floor's table, a rebuilt view store)."""
        name = f"{self.schema}_{suffix}"
        self.extra_schemas.append(name)
        return name


@contextmanager
def workspace(backend: str, root: Path, postgres_url: str) -> Iterator[Workspace]:
    """A fresh, empty store; everything it made is removed afterwards."""
    tag = uuid.uuid4().hex[:10]
    directory = root / f"{backend}-{tag}"
    directory.mkdir(parents=True)
    if backend == "sqlite":
        ws = Workspace(backend, Settings(data_dir=directory, write_tokens="bench-token"), directory)
    else:
        schema = f"bench_{tag}"
        ws = Workspace(
            backend,
            Settings(data_dir=directory, database_url=postgres_url, database_schema=schema, write_tokens="bench-token"),
            directory, postgres_url, schema,
        )
    try:
        yield ws
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if ws.schema is not None:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                for doomed in (ws.schema, f"{ws.schema}_views", *ws.extra_schemas):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')
