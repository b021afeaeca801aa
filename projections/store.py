"""Where the read models live: a SQLite file beside the event store, or tables in PostgreSQL.

SQL is written once with `?` placeholders and text columns that sort correctly in both engines
(ISO dates and fixed-width UTC timestamps), so every read model runs unchanged on either: for PostgreSQL,
`postgres_placeholders` turns each `?` outside quotes into psycopg's `%s`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql

from projections.private_files import private_dir, private_file

Row = dict[str, Any]


@lru_cache(maxsize=4096)  # a handful of statements, asked again and again: translated once each
def postgres_placeholders(sql: str) -> str:
    """SQL written with `?` placeholders, in psycopg's style: each `?` outside a quoted literal, identifier or
    comment becomes `%s`, and every `%` (a LIKE pattern, a modulo, inside quotes or not) is doubled, since
    psycopg reads `%` as a placeholder wherever it stands once parameters are passed. A `?` inside quotes or
    a comment stays as written."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":  # a literal or a quoted identifier, to its closing quote (a doubled quote is inside)
            j = i + 1
            while j < n and not (sql[j] == c and not sql.startswith(c * 2, j)):
                j += 2 if sql.startswith(c * 2, j) else 1
            out.append(sql[i:j + 1].replace("%", "%%"))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        else:
            out.append("%s" if c == "?" else "%%" if c == "%" else c)
            i += 1
    return "".join(out)


class Sql:
    """A cursor that speaks one placeholder style and returns rows as dicts."""

    def __init__(self, cursor: Any, postgres: bool, generation: object = None) -> None:
        self._cursor = cursor
        self._postgres = postgres
        self._generation = generation

    @property
    def generation(self) -> object:
        """Which generation of the read models a reading reads (another one after a rebuild), for answers kept
        between readings; None where the store did not say."""
        return self._generation

    @property
    def postgres(self) -> bool:
        """Whether the statements run on PostgreSQL (for the few that differ, such as a table's storage)."""
        return self._postgres

    def _sql(self, sql: str) -> str:
        return postgres_placeholders(sql) if self._postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            # The drivers take any sequence per row; a page's rows are tuples or lists already (copying 870,109 of
            # them cost a tenth of a record's projection).
            self._cursor.executemany(self._sql(sql), rows)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Plain rows into a table: one COPY stream on PostgreSQL, one executemany on SQLite (in an A/B of the
        100k rebuild, COPY and psycopg's pipelined executemany ran level: docs/benchmarks.md, round 2)."""
        names = ", ".join(columns)
        if not self._postgres:
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})", rows)
        elif rows:
            with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def rows(self, sql: str, params: Sequence[Any] = (), *, planned_each_time: bool = False) -> list[Row]:
        """`planned_each_time`: never a prepared statement on PostgreSQL, for a query whose best plan changes as
        its tables grow: a plan cached while a rebuild's tables were nearly empty (a scan) would stay."""
        if self._postgres:
            self._cursor.execute(postgres_placeholders(sql), tuple(params),
                                 prepare=False if planned_each_time else None)
            return list(self._cursor.fetchall())
        self._cursor.execute(sql, tuple(params))
        # Plain tuples zipped with the names once: several times cheaper than dict(sqlite3.Row) per row.
        found = self._cursor.fetchall()
        names = [column[0] for column in self._cursor.description] if found else []
        return [dict(zip(names, row, strict=True)) for row in found]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))


class ViewStore(ABC):
    postgres: bool
    # Whether a read of one indexed statement is short enough to run on the event loop (a local file: tens of
    # microseconds, no network to wait on); PostgreSQL's round trips are not (api/lean_routes.py).
    reads_at_once: bool = False

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager giving a Sql cursor in one write transaction (commit on success)."""

    @abstractmethod
    def reading(self) -> Any:
        """A context manager giving a Sql cursor for reads that see one consistent snapshot."""

    def glance(self) -> Any:
        """A context manager giving a Sql cursor for ONE statement, which is its own snapshot: no transaction of
        its own where that costs round trips (PostgreSQL). For a key read before a reading, e.g. whether a kept
        answer still holds (api/routes/rollcalls.py); two statements in one glance may see two moments."""
        return self.reading()

    @abstractmethod
    def serialise_schema_changes(self, sql: Sql) -> None:
        """Makes concurrent schema set-ups take turns, inside the caller's transaction."""

    @abstractmethod
    def new_generation(self) -> ViewStore:
        """An empty store beside this one, to build a new generation of the read models in."""

    @abstractmethod
    def promote(self, generation: ViewStore) -> None:
        """Makes a fully built generation the live one, atomically, for every process."""

    @abstractmethod
    def discard(self) -> None:
        """Removes a generation that will not be promoted."""

    @abstractmethod
    def ping(self) -> None:
        """Raises when the store does not answer."""

    @abstractmethod
    def close(self) -> None: ...


def _sync_directory(directory: Path) -> None:
    """A rename or a new file survives a crash once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SQLiteViewStore(ViewStore):
    """One file per generation of the read models; WAL so readers never block the projector.

    `views.current`, beside the files, names the live generation. Every connection checks it
    (one stat call), so when a rebuild promotes a new file, readers and projectors in every
    process move to it at their next transaction, and the old file is never half-built.
    """

    postgres = False
    reads_at_once = True

    def __init__(self, path: Path, *, fixed: bool = False, building: bool = False) -> None:
        self.base = path
        self.fixed = fixed  # a generation being built ignores the pointer
        # A generation being built is thrown away unless promoted, and promote makes it durable first:
        # until then its commits need not wait for the disk.
        self.building = building
        self.path = path
        private_dir(path.parent)
        self._pointer = path.with_name(path.stem + ".current")
        self._pointer_seen: tuple[int, int] | None = None
        # A pool, not one connection per thread: FastAPI may open a request's read on one thread
        # and close it on another, and a thread-bound connection would then be reused mid-transaction.
        self._idle: list[tuple[Path, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._follow_pointer()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    def _follow_pointer(self) -> None:
        if self.fixed:
            return
        try:
            stat = self._pointer.stat()
        except FileNotFoundError:
            return
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen != self._pointer_seen:
            self._pointer_seen = seen
            name = self._pointer.read_text(encoding="utf-8").strip()
            if name:
                self.path = self.base.with_name(name)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to the live generation, held by one caller at a time, then given back."""
        with self._connection_to() as (_, conn):
            yield conn

    @contextmanager
    def _connection_to(self) -> Iterator[tuple[Path, sqlite3.Connection]]:
        """`_connection`, with the file (the generation) the connection reads."""
        self._follow_pointer()
        path, conn = self.path, None
        with self._lock:
            while self._idle:
                idle_path, idle = self._idle.pop()
                if idle_path == path:
                    conn = idle
                    break
                idle.close()  # a rebuild promoted another generation
        if conn is None:
            conn = sqlite3.connect(private_file(path), timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=OFF" if self.building else "PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            # 32 MiB of page cache rather than 2: a catch-up inserting the record's 870,109 votes touches an index
            # far larger than 2 MiB at random (measured: 10% of the insert's time; an upper bound, not an allocation).
            conn.execute("PRAGMA cache_size=-32768")
        try:
            yield path, conn
        finally:
            with self._lock:
                # A connection still inside a transaction is in an unknown state: never hand it on.
                if self._closed or conn.in_transaction:
                    conn.close()
                else:
                    self._idle.append((path, conn))

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
        with self._connection_to() as (path, conn):
            conn.execute("BEGIN")
            try:
                yield Sql(conn.cursor(), postgres=False, generation=path.name)
            finally:
                conn.execute("ROLLBACK")

    def new_generation(self) -> SQLiteViewStore:
        """An empty store beside this one, to build read models in while this one serves."""
        name = f"{self.base.stem}-{uuid.uuid4().hex[:12]}{self.base.suffix}"
        return SQLiteViewStore(self.base.with_name(name), fixed=True, building=True)

    def _make_durable(self) -> None:
        """Everything committed to this file on disk, in the file itself, before anyone is sent to it."""
        self.close()
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            # NORMAL, in WAL mode: the checkpoint syncs the WAL before it and the database file after it.
            conn.execute("PRAGMA synchronous=NORMAL")
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise sqlite3.OperationalError(f"{self.path.name} is still in use: not promoted")
        finally:
            conn.close()
        _sync_directory(self.path.parent)  # the new file's own name

    def promote(self, generation: ViewStore) -> None:
        """Makes `generation` the live one for every process at once; removes the old file."""
        assert isinstance(generation, SQLiteViewStore)
        generation._make_durable()
        self._follow_pointer()
        old = self.path
        temporary = self._pointer.with_suffix(".tmp")
        with os.fdopen(os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600), "w", encoding="utf-8") as f:
            f.write(generation.path.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self._pointer)  # atomic: readers see the old name or the new one
        _sync_directory(self._pointer.parent)
        self._follow_pointer()
        if old != self.path:
            for leftover in (old, old.with_name(old.name + "-wal"), old.with_name(old.name + "-shm")):
                leftover.unlink(missing_ok=True)  # open connections keep reading it until they move

    def discard(self) -> None:
        """Removes a generation that was never promoted."""
        self.close()
        for leftover in (self.path, self.path.with_name(self.path.name + "-wal"),
                         self.path.with_name(self.path.name + "-shm")):
            leftover.unlink(missing_ok=True)

    def ping(self) -> None:
        with self.reading() as sql:
            sql.value("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, conn in self._idle:
                conn.close()
            self._idle.clear()


class PostgresViewStore(ViewStore):
    """The read models in a schema of their own (`<schema>_views`), in the events' database.

    A rebuild builds a new generation in another schema, then swaps the two by renaming them in
    one transaction: connections find tables by name through search_path, so every reader and
    projector moves to the new generation at its next statement.

    Statements asked often are prepared on the server (psycopg's prepare_threshold). A prepared plan
    must not outlive a swap (a new release's tables may have other columns: "cached plan must not
    change result type"), so each connection remembers the generation it prepared its statements in
    (the schema's oid: a swap puts another schema under the name), and the pool's check, run each
    time a connection is taken, answers a changed generation with DEALLOCATE ALL before any use.
    """

    postgres = True

    def __init__(self, conninfo: str, schema: str, pool_size: int = 10, *,
                 reconnect_timeout: float = 5 * 60.0) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.conninfo = conninfo
        self.schema = schema
        self.pool_size = pool_size
        self._write_lock = self._generation_lock("_shared")
        # The generation each pooled connection prepared its statements in (None: no such schema).
        self._prepared_in: weakref.WeakKeyDictionary[psycopg.Connection[Any], int | None] = (
            weakref.WeakKeyDictionary()
        )
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn, contextlib.suppress(
            psycopg.errors.UniqueViolation  # a twin process created it at the same moment
        ):
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.execute(f'SET search_path TO "{schema}"')
            self._prepared_in[conn] = self._generation(conn)
            conn.commit()

        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            configure=configure,
            check=self._check,
            open=True,
            timeout=10,
            reconnect_timeout=reconnect_timeout,
        )

    def _generation(self, conn: psycopg.Connection[Any]) -> int | None:
        """Which schema holds the name now: its oid changes when a rebuild swaps generations."""
        row = conn.execute("SELECT to_regnamespace(%s)::oid AS oid", (f'"{self.schema}"',), prepare=True).fetchone()
        return None if row is None or row["oid"] is None else int(row["oid"])

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        """The pool's check of a connection it hands out: one round trip, as ConnectionPool.check_connection
        makes, that also asks for the generation, and drops every plan prepared in an earlier one."""
        conn.autocommit = True
        try:
            generation = self._generation(conn)
            if self._prepared_in.get(conn) != generation:
                conn.execute("DEALLOCATE ALL")  # psycopg sees the command and forgets its statements too
                self._prepared_in[conn] = generation
        finally:
            with contextlib.suppress(Exception):  # a broken connection keeps its error, not this one
                conn.autocommit = False

    def _generation_lock(self, mode: str) -> str:
        """The advisory lock that keeps a promote out of a writing transaction (`_shared`) and writers out of
        a promote's swap. Its key is written out, not a parameter, so pg_stat_activity shows whose it is."""
        return pgsql.SQL("SELECT pg_advisory_xact_lock{}(hashtext({}))").format(
            pgsql.SQL(mode), pgsql.Literal(f"diplo-views-generation:{self.schema}")).as_string(None)

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            # Names are looked up at each statement: without this lock, a promote committed mid-transaction sent
            # the statements after it to the new generation, so a projector page moved the old generation's
            # tracking and wrote its rows into the new one, which then applied them again.
            cursor.execute(self._write_lock)
            yield Sql(cursor, postgres=True)

    def serialise_schema_changes(self, sql: Sql) -> None:
        # A transaction-scoped advisory lock, keyed by schema, released at commit.
        sql.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"diplo-views:{self.schema}",))

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._pool.connection() as conn:
            # One snapshot, read only, said in psycopg's BEGIN rather than a statement of its own.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            try:
                with conn.cursor() as cursor:
                    # The schema's oid the pool's check saw as the connection was taken (`_check`).
                    yield Sql(cursor, postgres=True, generation=self._prepared_in.get(conn))
                # Commit, not rollback: the two are the same for a transaction that wrote nothing, but on
                # a rollback psycopg forgets (and deallocates) every statement it prepared.
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                # Back to the defaults a writing transaction needs (done here, not in the pool's reset,
                # which would hand every returned connection to a worker thread).
                try:
                    conn.isolation_level = conn.read_only = None
                except psycopg.Error:
                    conn.close()  # not idle after all: never hand a reading's settings on to a writer

    @contextmanager
    def glance(self) -> Iterator[Sql]:
        # Autocommit: the statement alone, without BEGIN and COMMIT (two of a reading's four round trips).
        with self._pool.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor() as cursor:
                    yield Sql(cursor, postgres=True, generation=self._prepared_in.get(conn))
            finally:
                try:
                    conn.autocommit = False
                except psycopg.Error:
                    conn.close()  # never hand an autocommit connection on to a writer

    def new_generation(self) -> PostgresViewStore:
        name = f"{self.schema}_next_{uuid.uuid4().hex[:8]}"
        return PostgresViewStore(self.conninfo, name, pool_size=2)

    def promote(self, generation: ViewStore) -> None:
        assert isinstance(generation, PostgresViewStore)
        retired = f"{self.schema}_old_{uuid.uuid4().hex[:8]}"
        generation.close()
        with psycopg.connect(self.conninfo, autocommit=False, connect_timeout=5) as conn:
            with conn.transaction():
                # Waits for the writing transactions under way (each whole in the old generation); those that
                # start meanwhile wait for the swap, then write to the new generation alone.
                conn.execute(self._generation_lock(""))
                conn.execute(f'ALTER SCHEMA "{self.schema}" RENAME TO "{retired}"')
                conn.execute(f'ALTER SCHEMA "{generation.schema}" RENAME TO "{self.schema}"')
            # Separately, so that readers never queue behind the drop's locks during the swap.
            with conn.transaction():
                conn.execute(f'DROP SCHEMA "{retired}" CASCADE')

    def discard(self) -> None:
        self.close()
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def ping(self) -> None:
        with self.reading() as sql:
            sql.value("SELECT 1")

    def close(self) -> None:
        self._pool.close()
