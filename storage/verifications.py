"""What `diplo verify` found, kept beside the log it verified, so the API's /metrics can say it (and how long ago).

One row a run, in a table next to the events and their links (`<events table>_verifications`), made by the first
run that records; nothing else writes it, and nothing in the chain covers it: it is a note about the chain, not
part of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

_COLUMNS = "verified_at, ok, linked, head_position, first_break"


@dataclass(frozen=True)
class Verification:
    verified_at: float  # seconds since the epoch
    ok: bool
    linked: int  # events the chain covered
    head_position: int | None  # the last linked position
    first_break: int | None  # where it broke, when it did


def _table(recorder: Any) -> str:
    return f"{recorder.events_table_name}_verifications"


def record(recorder: Any, verification: Verification) -> None:
    """Adds one run's result (the table is made on first use)."""
    values = (verification.verified_at, verification.ok, verification.linked, verification.head_position,
              verification.first_break)
    if isinstance(recorder, PostgresApplicationRecorder):
        table = SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(_table(recorder)))
        with recorder.datastore.transaction(commit=True) as curs:
            # Two first runs at once would collide in the catalogue: take the turn the recorder's set-up takes.
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"diplo-events:{recorder.datastore.schema}",))
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, verified_at double precision "
                             "NOT NULL, ok boolean NOT NULL, linked bigint NOT NULL, head_position bigint, "
                             "first_break bigint)").format(table))
            curs.execute(SQL("INSERT INTO {} (" + _COLUMNS + ") VALUES (%s, %s, %s, %s, %s)").format(table), values)
        return
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(f"CREATE TABLE IF NOT EXISTS {_table(recorder)} (id INTEGER PRIMARY KEY, verified_at REAL NOT NULL, "
                  "ok INTEGER NOT NULL, linked INTEGER NOT NULL, head_position INTEGER, first_break INTEGER)")
        c.execute(f"INSERT INTO {_table(recorder)} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)", values)


def latest(recorder: Any) -> Verification | None:
    """The last recorded run, or None if `diplo verify` never recorded one here."""
    if isinstance(recorder, PostgresApplicationRecorder):
        schema, name = recorder.datastore.schema, _table(recorder)
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (f'"{schema}"."{name}"',))
            found = curs.fetchone()
            if not found or not found["present"]:
                return None
            curs.execute(SQL("SELECT " + _COLUMNS + " FROM {}.{} ORDER BY id DESC LIMIT 1")
                         .format(Identifier(schema), Identifier(name)))
            row = curs.fetchone()
        return None if row is None else _verification(tuple(row.values()))
    with recorder.datastore.transaction(commit=False) as c:
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_table(recorder),))
        if c.fetchone() is None:
            return None
        c.execute(f"SELECT {_COLUMNS} FROM {_table(recorder)} ORDER BY id DESC LIMIT 1")
        row = c.fetchone()
    return None if row is None else _verification(tuple(row))


def _verification(row: tuple[Any, ...]) -> Verification:
    verified_at, ok, linked, head, first_break = row
    return Verification(float(verified_at), bool(ok), int(linked), None if head is None else int(head),
                        None if first_break is None else int(first_break))
