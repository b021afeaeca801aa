"""A store being restored says so until its last event is in: a restore killed half-way leaves a store that no
server serves and `diplo verify` fails, instead of one that passes every check with half the log.

The mark is a one-row table beside the events (`restore_in_progress` in `events.sqlite3`, `diplo_restore_in_progress`
in PostgreSQL), written before the first batch is inserted and removed after the last is committed.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder


class IncompleteRestore(RuntimeError):
    """The store holds a restore that never finished."""

    def __init__(self, note: str) -> None:
        super().__init__(
            f"this store holds an incomplete restore ({note}): it lacks the end of the log. Restore the backup "
            "again into an empty store (a new DIPLO_DATA_DIR, or DIPLO_DATABASE_SCHEMA)"
        )
        self.note = note


def _table(recorder: Any) -> str:
    if isinstance(recorder, PostgresApplicationRecorder):
        return f'"{recorder.datastore.schema}".diplo_restore_in_progress'
    return "restore_in_progress"


def _run(recorder: Any, statement: str, params: tuple[Any, ...] = (), *, fetch: bool = False) -> Any:
    if isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(statement.replace("?", "%s"), params)
            return curs.fetchone() if fetch else None
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=not fetch) as c:
            c.execute(statement, params)
            return c.fetchone() if fetch else None
    raise TypeError(f"{type(recorder).__name__} cannot be marked")


def mark(recorder: Any, note: str) -> None:
    """Marks the store as being restored (before anything is inserted)."""
    _run(recorder, f"CREATE TABLE IF NOT EXISTS {_table(recorder)} (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
    _run(recorder, f"DELETE FROM {_table(recorder)}")
    _run(recorder, f"INSERT INTO {_table(recorder)} (id, note) VALUES (1, ?)", (note,))


def clear(recorder: Any) -> None:
    """The last event is in: the store is whole."""
    _run(recorder, f"DROP TABLE IF EXISTS {_table(recorder)}")


def pending(recorder: Any) -> str | None:
    """The note of a restore that never finished, or None."""
    if isinstance(recorder, PostgresApplicationRecorder):
        exists = _run(recorder, "SELECT to_regclass(?) IS NOT NULL AS found", (_table(recorder),), fetch=True)
        if not (exists and (exists["found"] if isinstance(exists, dict) else exists[0])):
            return None
    else:
        exists = _run(recorder, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      ("restore_in_progress",), fetch=True)
        if exists is None:
            return None
    row = _run(recorder, f"SELECT note FROM {_table(recorder)}", fetch=True)
    if row is None:
        return None
    return str(row["note"] if isinstance(row, dict) else row[0])


def refuse_incomplete(recorder: Any) -> None:
    """Raises IncompleteRestore when the store holds a restore that never finished."""
    note = pending(recorder)
    if note is not None:
        raise IncompleteRestore(note)
