"""The global event log, as clients read it: every public event in log order, with its data as JSON."""

from __future__ import annotations

import json
from functools import singledispatchmethod
from typing import Any

from domain.declaration import Declaration
from domain.statement import Statement
from domain.summit import Summit
from projections.readmodel import Applied, ReadModel, as_json
from projections.store import Sql


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "UUID":
        return str(value)
    return value


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields, as stored, minus the aggregate bookkeeping."""
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic", "event_id"}
    return {k: _public(v) for k, v in vars(event).items() if k not in skip}


class EventLog(ReadModel):
    name = "event_log"
    tables = ("event_log",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS event_log (
            position BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            occurred_on TEXT,
            recorded_at TEXT NOT NULL,
            party TEXT,
            declaration_id TEXT,
            data TEXT NOT NULL
        )""",
    )

    @singledispatchmethod
    def apply(self, event: Any, at: Applied) -> None:
        """Bookkeeping events are not part of the public log."""

    def _insert(self, event: Any, at: Applied, kind: str, occurred_on: str | None,
                party: str | None, declaration_id: str | None) -> None:
        at.sql.execute(
            "INSERT INTO event_log (position, event_id, kind, occurred_on, recorded_at, party, declaration_id, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (at.position, str(event.event_id), kind, occurred_on, at.recorded_at, party, declaration_id,
             as_json(event_data(event))),
        )

    @apply.register
    def _(self, event: Summit.Hosted, at: Applied) -> None:
        self._insert(event, at, "hosted", event.starts_on.isoformat(), None, None)

    @apply.register
    def _(self, event: Declaration.Published, at: Applied) -> None:
        self._insert(event, at, "published", event.published_on.isoformat(), None, event.slug)

    @apply.register
    def _(self, event: Declaration.ActRecorded, at: Applied) -> None:
        self._insert(event, at, str(event.kind), event.occurred_on.isoformat(), event.party, event.declaration_id)

    @apply.register
    def _(self, event: Declaration.Retracted, at: Applied) -> None:
        self._insert(event, at, "retracted", None, event.party, event.declaration_id)

    @apply.register
    def _(self, event: Statement.Issued, at: Applied) -> None:
        self._insert(event, at, "statement", event.occurred_on.isoformat(), event.party, event.about)

    @apply.register
    def _(self, event: Statement.Retracted, at: Applied) -> None:
        self._insert(event, at, "retracted", None, event.party, event.about)


def list_events(sql: Sql, after: int, limit: int) -> list[dict[str, Any]]:
    rows = sql.rows(
        "SELECT position, event_id, kind, occurred_on, recorded_at, data FROM event_log"
        " WHERE position > ? ORDER BY position LIMIT ?",
        (after, limit),
    )
    for row in rows:
        row["data"] = json.loads(row["data"])
    return rows


def find_event(sql: Sql, event_id: str) -> dict[str, Any] | None:
    row = sql.one(
        "SELECT position, event_id, kind, occurred_on, recorded_at, data FROM event_log WHERE event_id = ?",
        (event_id,),
    )
    if row is not None:
        row["data"] = json.loads(row["data"])
    return row
