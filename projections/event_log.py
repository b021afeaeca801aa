"""The global event log, as clients read it: every public event in log order, with its data as JSON.

`describe` is the one definition of what a public event looks like; the event-log table and the
live stream both use it, so `/v1/events` and `/v1/events/stream` always say the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import singledispatch
from typing import Any
from uuid import UUID

from domain.declaration import Declaration
from domain.statement import Statement
from domain.summit import Summit
from projections.readmodel import Applied, ReadModel, as_json, timestamp
from projections.store import Sql

PUBLIC_KINDS = ("hosted", "published", "signed", "declined", "withdrawn", "statement", "retracted")


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields, as stored, minus the aggregate bookkeeping."""
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic", "event_id"}
    return {k: _public(v) for k, v in vars(event).items() if k not in skip}


@dataclass(frozen=True)
class PublicEvent:
    """One event as clients see it, with what filters match on."""

    position: int
    event_id: str
    kind: str
    occurred_on: str | None
    recorded_at: str
    parties: tuple[str, ...]
    declaration_id: str | None
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id, "kind": self.kind,
                "occurred_on": self.occurred_on, "recorded_at": self.recorded_at, "data": self.data}


@dataclass(frozen=True)
class _Shape:
    kind: str
    occurred_on: str | None
    parties: tuple[str, ...]
    declaration_id: str | None


@singledispatch
def _shape(event: Any) -> _Shape | None:
    """Bookkeeping events (the event index, idempotency keys) are not public."""
    return None


@_shape.register
def _(event: Summit.Hosted) -> _Shape:
    return _Shape("hosted", event.starts_on.isoformat(), tuple(event.hosts), None)


@_shape.register
def _(event: Declaration.Published) -> _Shape:
    return _Shape("published", event.published_on.isoformat(), (), event.slug)


@_shape.register
def _(event: Declaration.ActRecorded) -> _Shape:
    return _Shape(str(event.kind), event.occurred_on.isoformat(), (event.party,), event.declaration_id)


@_shape.register
def _(event: Declaration.Retracted) -> _Shape:
    return _Shape("retracted", None, (event.party,), event.declaration_id)


@_shape.register
def _(event: Statement.Issued) -> _Shape:
    return _Shape("statement", event.occurred_on.isoformat(), (event.party,), event.about)


@_shape.register
def _(event: Statement.Retracted) -> _Shape:
    return _Shape("retracted", None, (event.party,), event.about)


def describe(event: Any, position: int) -> PublicEvent | None:
    """The public form of a domain event at a log position, or None for bookkeeping."""
    shape = _shape(event)
    if shape is None:
        return None
    return PublicEvent(position, str(event.event_id), shape.kind, shape.occurred_on, timestamp(event.timestamp),
                       shape.parties, shape.declaration_id, event_data(event))


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

    def apply(self, event: Any, at: Applied) -> None:
        public = describe(event, at.position)
        if public is None:
            return
        at.sql.execute(
            "INSERT INTO event_log (position, event_id, kind, occurred_on, recorded_at, party, declaration_id, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (public.position, public.event_id, public.kind, public.occurred_on, public.recorded_at,
             public.parties[0] if len(public.parties) == 1 else None, public.declaration_id, as_json(public.data)),
        )


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
