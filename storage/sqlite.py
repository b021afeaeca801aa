"""eventsourcing's SQLite application recorder, linking every event it inserts into the hash chain.

The links live in a table of their own beside the events table (`stored_events_hashes`: position, hash),
not in an added column: eventsourcing's statements name the events table's columns by position
(`INSERT ... VALUES (?,?,?,?)`, `SELECT rowid, *`), a store from before the chain keeps its table as it
is, and a position is only known after the insert, so a column would mean writing each row twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

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

_UUID_HEX = re.compile("[0-9a-f]{32}")
# From this many events an insert is one executemany (a bulk import's, a restore's batches); an API write stores two
# or three, on eventsourcing's own statement per row.
EXECUTEMANY_FROM = 32


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """Links each inserted event to the one before it, in the transaction that inserts it."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        # The base initialiser builds the CREATE statements, so the links table needs its name first.
        self.hashes_table_name = f"{events_table_name}_hashes"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.hashes_table_name} "
            "(position INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
        ]

    # Set by storage.chain_guard once the chain is known to be broken: every insert is then refused, saying why.
    write_refusal: str | None = None

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if self.write_refusal is not None:
            raise ChainRefused(self.write_refusal)
        if len(stored_events) >= EXECUTEMANY_FROM:
            positions = self._insert_many(c, stored_events)
        else:
            positions = [int(p) for p in super()._insert_events(c, stored_events, **kwargs) or ()]
        if positions:
            # The INSERT above took SQLite's one write lock, held until this transaction ends: no other
            # writer can add a link meanwhile, so the link read next is the one just before these events.
            self._link(c, positions, stored_events)
        return positions

    def _insert_many(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """One executemany for the whole batch (eventsourcing runs one statement per row to read each rowid).

        The positions are read back instead: the first row inserted takes SQLite's one write lock, so no other
        writer adds a row until this transaction ends, and a rowid table without AUTOINCREMENT gives each new row
        the largest rowid so far plus one. So the batch holds the consecutive positions that end at the largest
        rowid after it. That rule has one exception (a table whose largest rowid reached 2**63-1 takes random
        ones): the count of rows in that range proves it, or the insert is refused and rolled back."""
        c.executemany(self.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id, s.originator_version,
             s.topic, s.state) for s in stored_events])
        n = len(stored_events)
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        last = int(c.fetchone()[0])
        c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid > ?", (last - n,))
        if int(c.fetchone()[0]) != n:
            raise PersistenceError("the events inserted did not take consecutive positions; nothing was stored")
        return list(range(last - n + 1, last + 1))

    def _link(self, c: SQLiteCursor, positions: list[int], stored_events: Sequence[StoredEvent]) -> None:
        first = min(positions)
        c.execute(f"SELECT position FROM {self.hashes_table_name} WHERE position >= ? LIMIT 1", (first,))
        clash = c.fetchone()
        if clash is not None:
            # Only a hand-edited table gets here (a deleted last event lets SQLite reuse its rowid).
            raise BrokenChain(f"the chain already has a link at position {clash[0]}; run `diplo verify`")
        c.execute(f"SELECT hash FROM {self.hashes_table_name} WHERE position < ? ORDER BY position DESC LIMIT 1",
                  (first,))
        row = c.fetchone()
        if row is None:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid < ?", (first,))
            before = genesis(int(c.fetchone()[0]))
        else:
            before = bytes(row[0])
        links = []
        for position, event in sorted(zip(positions, stored_events, strict=True), key=lambda pair: pair[0]):
            before = link(before, position, originator_text(event.originator_id), event.originator_version,
                          event.topic, event.state)
            links.append((position, before))
        c.executemany(f"INSERT INTO {self.hashes_table_name} (position, hash) VALUES (?, ?)", links)

    # -- reading the chain back (for `diplo verify`) -------------------------------------------------

    def _originator(self, stored: object) -> str:
        """The stored id in the chain's form; anything but exactly what eventsourcing writes fails to match."""
        if isinstance(stored, str) and self.datastore.originator_id_type == "uuid":
            if _UUID_HEX.fullmatch(stored):  # UUID.hex, as eventsourcing writes it: give it its dashes
                return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
            return f"\x00stored as {stored!r}"
        return stored if isinstance(stored, str) else f"\x00stored as {stored!r}"

    def chain_stop(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT MAX(p) FROM (SELECT MAX(rowid) AS p FROM {self.events_table_name} "
                      f"UNION ALL SELECT MAX(position) FROM {self.hashes_table_name})")
            return int(c.fetchone()[0] or 0)

    def chain_rows(self, after: int | None, stop: int, limit: int) -> list[ChainRow]:
        start = LOWEST_POSITION if after is None else after
        statement = (
            f"WITH e AS (SELECT rowid AS position, originator_id, originator_version, topic, state "
            f"           FROM {self.events_table_name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?),"
            f"     h AS (SELECT position, hash FROM {self.hashes_table_name} "
            f"           WHERE position > ? AND position <= ? ORDER BY position LIMIT ?) "
            "SELECT e.position, e.originator_id, e.originator_version, e.topic, e.state, h.hash, 1 "
            "FROM e LEFT JOIN h ON h.position = e.position "
            "UNION ALL "
            "SELECT h.position, NULL, NULL, NULL, NULL, h.hash, 0 FROM h "
            "WHERE h.position NOT IN (SELECT position FROM e) "
            "ORDER BY 1"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (start, stop, limit, start, stop, limit))
            rows = [(int(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in c.fetchall()]
        return merge_page(rows, limit, stop, self._originator)

    def chain_head(self) -> tuple[int, bytes] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, hash FROM {self.hashes_table_name} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))
