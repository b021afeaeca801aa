"""Where the read models live: a SQLite file beside the event store, or tables in PostgreSQL.

SQL is written once with `?` placeholders and text columns that sort correctly in both engines
(ISO dates and fixed-width UTC timestamps), so every read model runs unchanged on either.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Row = dict[str, Any]


class Sql:
    """A cursor that speaks one placeholder style and returns rows as dicts."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(self._sql(sql), tuple(params))
        if self._postgres:
            return list(self._cursor.fetchall())
        return [dict(r) for r in self._cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))


class ViewStore(ABC):
    postgres: bool

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager giving a Sql cursor in one write transaction (commit on success)."""

    @abstractmethod
    def reading(self) -> Any:
        """A context manager giving a Sql cursor for reads that see one consistent snapshot."""

    @abstractmethod
    def serialise_schema_changes(self, sql: Sql) -> None:
        """Makes concurrent schema set-ups take turns, inside the caller's transaction."""

    @abstractmethod
    def ping(self) -> None:
        """Raises when the store does not answer."""

    @abstractmethod
    def close(self) -> None: ...


class SQLiteViewStore(ViewStore):
    """One file; WAL so readers never block the projector, one connection per thread."""

    postgres = False

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        yield conn

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Sql(conn.cursor(), postgres=False)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def serialise_schema_changes(self, sql: Sql) -> None:
        """BEGIN IMMEDIATE already holds SQLite's single write lock."""

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._connection() as conn:
            conn.execute("BEGIN")
            try:
                yield Sql(conn.cursor(), postgres=False)
            finally:
                conn.execute("ROLLBACK")

    def ping(self) -> None:
        with self.reading() as sql:
            sql.value("SELECT 1")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class PostgresViewStore(ViewStore):
    """Tables in the same database as the events, in the configured schema."""

    postgres = True

    def __init__(self, conninfo: str, schema: str = "public", pool_size: int = 10) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.schema = schema

        def configure(conn: Any) -> None:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.commit()

        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            configure=configure,
            check=ConnectionPool.check_connection,
            open=True,
            timeout=10,
        )

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield Sql(cursor, postgres=True)

    def serialise_schema_changes(self, sql: Sql) -> None:
        # A transaction-scoped advisory lock, keyed by schema, released at commit.
        sql.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"diplo-views:{self.schema}",))

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._pool.connection() as conn:
            try:
                with conn.cursor() as cursor:
                    # The first statement opens the implicit transaction; this makes it one snapshot.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    yield Sql(cursor, postgres=True)
            finally:
                conn.rollback()

    def ping(self) -> None:
        with self.reading() as sql:
            sql.value("SELECT 1")

    def close(self) -> None:
        self._pool.close()
