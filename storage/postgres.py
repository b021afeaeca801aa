"""eventsourcing's PostgreSQL application recorder, linking every event it inserts into the hash chain.

The links live in a table of their own beside the events table (`<app>_events_hashes`: position, hash),
for the reasons given in `storage.sqlite`. Inserts are already serialised by eventsourcing's
`LOCK TABLE ... IN EXCLUSIVE MODE` on the events table, taken first in each inserting transaction, so
"the link before" is well defined: the last committed one, read under that lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.errors import DuplicateObject
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from storage.chain import (
    LOWEST_POSITION,
    BrokenChain,
    ChainRefused,
    ChainRow,
    genesis,
    link,
    merge_page,
    originator_text,
)

INSERT_SLICE = 1000  # events per INSERT statement within one inserting transaction
# From this many events an insert goes by COPY: a restore's batches (1,000) and a bulk import's one transaction.
# An API write stores two or three, on eventsourcing's own INSERT.
COPY_FROM = 200


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """Links each inserted event to the one before it, in the transaction that inserts it."""

    # Set by storage.chain_guard once the chain is known to be broken: every insert is then refused, saying why.
    write_refusal: str | None = None

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            # The stored function inserts without linking; this recorder's insert path is the chain's.
            raise ProgrammingError("the hash chain needs POSTGRES_ENABLE_DB_FUNCTIONS off")
        super().__init__(datastore, events_table_name=events_table_name)
        self.hashes_table_name = f"{events_table_name}_hashes"
        self.check_identifier_length(self.hashes_table_name)
        schema, events, hashes = (Identifier(self.datastore.schema), Identifier(events_table_name),
                                  Identifier(self.hashes_table_name))
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {schema}.{hashes} (position bigint PRIMARY KEY, hash bytea NOT NULL)")
            .format(schema=schema, hashes=hashes)
        )
        # RETURNING each row's key beside its position pairs every event with its position exactly,
        # whatever order the rows come back in.
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{events} AS t (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state "
            "FROM unnest(%s::{schema}.{stored_event_type}[]) "
            "RETURNING notification_id, originator_id, originator_version"
        ).format(schema=schema, events=events, stored_event_type=Identifier(self.stored_event_type_name))
        # COPY returns no rows, so the new rows are read back: under the table lock, every row past the last
        # committed position is this transaction's (the sequence only grows).
        self.copy_events_statement = SQL(
            "COPY {schema}.{events} (originator_id, originator_version, topic, state) FROM STDIN"
        ).format(schema=schema, events=events)
        self.sql_last_position = SQL(
            "SELECT max(notification_id) AS last FROM {schema}.{events}"
        ).format(schema=schema, events=events)
        self.sql_inserted_after = SQL(
            "SELECT notification_id, originator_id, originator_version FROM {schema}.{events} "
            "WHERE notification_id > %s"
        ).format(schema=schema, events=events)
        # One round trip: the link before the new events, and any link already at or after their place.
        self.sql_before = SQL(
            "SELECT (SELECT hash FROM {schema}.{hashes} WHERE position < %(first)s ORDER BY position DESC LIMIT 1) "
            "AS hash, (SELECT position FROM {schema}.{hashes} WHERE position >= %(first)s LIMIT 1) AS clash"
        ).format(schema=schema, hashes=hashes)
        self.sql_count_before = SQL(
            "SELECT count(*) AS n FROM {schema}.{events} WHERE notification_id < %s"
        ).format(schema=schema, events=events)
        self.sql_insert_links = SQL(
            "INSERT INTO {schema}.{hashes} (position, hash) SELECT * FROM unnest(%s::bigint[], %s::bytea[])"
        ).format(schema=schema, hashes=hashes)
        self.sql_stop = SQL(
            "SELECT GREATEST((SELECT max(notification_id) FROM {schema}.{events}), "
            "(SELECT max(position) FROM {schema}.{hashes})) AS stop"
        ).format(schema=schema, events=events, hashes=hashes)
        self.sql_head = SQL("SELECT position, hash FROM {schema}.{hashes} ORDER BY position DESC LIMIT 1").format(
            schema=schema, hashes=hashes)
        self.sql_rows = SQL(
            "WITH e AS (SELECT notification_id AS position, originator_id, originator_version, topic, state "
            "           FROM {schema}.{events} WHERE notification_id > %(start)s AND notification_id <= %(stop)s "
            "           ORDER BY notification_id LIMIT %(limit)s),"
            "     h AS (SELECT position, hash FROM {schema}.{hashes} "
            "           WHERE position > %(start)s AND position <= %(stop)s ORDER BY position LIMIT %(limit)s) "
            "SELECT e.position, e.originator_id::text AS originator_id, e.originator_version, e.topic, e.state, "
            "       h.hash, true AS has_event "
            "FROM e LEFT JOIN h ON h.position = e.position "
            "UNION ALL "
            "SELECT h.position, NULL, NULL, NULL, NULL, h.hash, false FROM h "
            "WHERE h.position NOT IN (SELECT position FROM e) "
            "ORDER BY 1"
        ).format(schema=schema, events=events, hashes=hashes)

    def create_table(self) -> None:
        """eventsourcing's create_table, with processes starting at once on a new schema taking turns.

        Its statements are `IF NOT EXISTS`, and a type's creation that finds the type made is forgiven; but two
        processes creating at the same moment (a writer and the API, two writers) collided in the catalogue:
        a duplicate key in pg_type, "relation already exists", "tuple concurrently updated". A transaction-scoped
        advisory lock, keyed by schema, makes each wait for the other's commit, and then find what it made.
        """
        for statement in self.sql_create_statements:
            if "CREATE TYPE" in statement.as_string():
                # Its own transaction, as eventsourcing does it: CREATE TYPE has no IF NOT EXISTS.
                with self.datastore.transaction(commit=True) as curs, contextlib.suppress(DuplicateObject):
                    self._take_turn(curs)
                    curs.execute(statement, prepare=False)
        with self.datastore.transaction(commit=True) as curs:
            self._take_turn(curs)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    def _take_turn(self, curs: Cursor[DictRow]) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"diplo-events:{self.datastore.schema}",))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing's insert (or, from COPY_FROM events, a COPY), then the links, in one transaction.

        The base method catches any exception raised after its INSERT and still leaves its transaction
        block normally (it re-raises afterwards, to keep psycopg's pipeline quiet), so an error while
        linking would commit events without links. Here the error is re-raised inside the transaction,
        which rolls the events back with it: events and links are stored together or not at all.
        """
        if self.write_refusal is not None:
            raise ChainRefused(self.write_refusal)
        if not stored_events:
            return None
        if len(stored_events) >= COPY_FROM:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                return self._link(curs, self._copy_in(curs, stored_events), stored_events)
        pg_stored_events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.transaction():
            error: Exception | None = None
            with conn.pipeline() as pipeline, conn.cursor() as curs:
                try:
                    self._lock_table(curs)
                    self._notify_channel(curs)
                    curs.execute(self.insert_events_statement, (pg_stored_events,), prepare=True)
                    pipeline.sync()  # a duplicate (a lost race) raises IntegrityError here
                    inserted = curs.fetchall()
                except Exception as e:  # raised below, once the pipeline is closed
                    error = e
            if error is not None:
                raise error
            with conn.cursor() as curs:
                return self._link(curs, inserted, stored_events)

    def _copy_in(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> list[DictRow]:
        """Many events at once, by COPY under eventsourcing's table lock: a restore's batch, a bulk import.

        psycopg adapts the INSERT's array of composites far worse than linearly, and even in slices it ran at
        0.08 of a raw COPY in a 1M restore. A duplicate (aggregate, version) fails the COPY with the same
        IntegrityError as the INSERT, and the transaction stores nothing."""
        if len(stored_events) > INSERT_SLICE:
            # A bulk import: between its round trips the client maps and hashes millions of events (seconds),
            # which eventsourcing's idle_in_transaction_session_timeout (5 s) took for an abandoned
            # transaction. A client that dies still closes its socket, which ends it.
            curs.execute("SET LOCAL idle_in_transaction_session_timeout = '120s'")
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.sql_last_position)
        row = curs.fetchone()
        last = int(row["last"]) if row and row["last"] is not None else 0
        with curs.copy(self.copy_events_statement) as copy:
            for event in stored_events:
                copy.write_row((event.originator_id, event.originator_version, event.topic, event.state))
        curs.execute(self.sql_inserted_after, (last,))
        return curs.fetchall()

    def _link(self, curs: Cursor[DictRow], inserted: list[DictRow], stored_events: Sequence[StoredEvent]) -> list[int]:
        position_of = {(row["originator_id"], row["originator_version"]): int(row["notification_id"])
                       for row in inserted}
        positions = [position_of[(e.originator_id, e.originator_version)] for e in stored_events]
        first = min(positions)
        curs.execute(self.sql_before, {"first": first}, prepare=True)
        row = curs.fetchone()
        assert row is not None
        if row["clash"] is not None:
            raise BrokenChain(f"the chain already has a link at position {row['clash']}; run `diplo verify`")
        if row["hash"] is None:
            curs.execute(self.sql_count_before, (first,))
            counted = curs.fetchone()
            before = genesis(int(counted["n"]) if counted else 0)
        else:
            before = bytes(row["hash"])
        ordered = sorted(zip(positions, stored_events, strict=True), key=lambda pair: pair[0])
        # Linked and inserted a slice at a time: hashing a whole bulk import (2M events) before one INSERT left
        # the transaction idle past idle_in_transaction_session_timeout, and the server dropped it.
        for start in range(0, len(ordered), INSERT_SLICE):
            chunk = ordered[start:start + INSERT_SLICE]
            links = []
            for position, event in chunk:
                before = link(before, position, originator_text(event.originator_id), event.originator_version,
                              event.topic, event.state)
                links.append(before)
            curs.execute(self.sql_insert_links, ([p for p, _ in chunk], links), prepare=True)
        return positions

    # -- reading the chain back (for `diplo verify`) -------------------------------------------------

    def _originator(self, stored: object) -> str:
        # Read as text (`::text`): PostgreSQL's uuid type has one text form, the very one `str(UUID)` gives.
        return stored if isinstance(stored, str) else f"\x00stored as {stored!r}"

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_stop(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_stop)
            row = curs.fetchone()
        return int(row["stop"] or 0) if row else 0

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_rows(self, after: int | None, stop: int, limit: int) -> list[ChainRow]:
        start = LOWEST_POSITION if after is None else after
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_rows, {"start": start, "stop": stop, "limit": limit}, prepare=True)
            rows = [(int(r["position"]), r["originator_id"], r["originator_version"], r["topic"], r["state"],
                     r["hash"], bool(r["has_event"])) for r in curs.fetchall()]
        return merge_page(rows, limit, stop, self._originator)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_head(self) -> tuple[int, bytes] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_head)
            row = curs.fetchone()
        return None if row is None else (int(row["position"]), bytes(row["hash"]))
