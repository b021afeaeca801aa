"""The global event log, as clients read it: every public event in log order, with its data as JSON.

`describe` is the one definition of what a public event looks like; the event-log table and the
live stream both use it, so `/v1/events` and `/v1/events/stream` always say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

import orjson

from domain.declaration import Declaration
from domain.releases import Release
from domain.rollcall import RollCall, vote_id
from domain.statement import Statement
from domain.summit import Summit
from domain.values import EventKind, effective_on, is_approximate
from projections.readmodel import Item, Page, ReadModel, handles, timestamp
from projections.store import Sql


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


_BOOKKEEPING = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "event_id"})


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields, as stored, minus the aggregate bookkeeping."""
    return {k: _public(v) for k, v in vars(event).items() if k not in _BOOKKEEPING}


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
    version: int = 0  # the event's version in its aggregate: with a roll call's, it names the votes it casts
    effective_on: str | None = None  # the date it counts from (`counts_from`)

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id, "kind": self.kind,
                "occurred_on": self.occurred_on, "effective_on": self.effective_on,
                "approximate": approximate(self.data), "recorded_at": self.recorded_at, "data": self.data,
                "votes": cast_votes(self.kind, self.data, self.version)}


PublishedOn = Callable[[str], date | None]  # a declaration's publication date, by its id


def counts_from(event: Any, occurred_on: str | None, published_on: PublishedOn) -> str | None:
    """The date an event counts from, as the stance rules and the timeline use it: a formal act's effective date
    (the first day of its period, or its declaration's publication if later), a statement's first day of its
    period; anything else its own date, as recorded (a roll call's votes count from its date)."""
    if isinstance(event, Declaration.ActRecorded):
        return effective_on(event.occurred_on, event.precision, published_on(event.declaration_id)).isoformat()
    if isinstance(event, Statement.Issued | Statement.Reissued):
        return effective_on(event.occurred_on, event.precision).isoformat()
    return occurred_on


class Publications:
    """Declarations' publication dates, for the events described from the log itself (the live stream, the events
    export) rather than from a read model: learned from the publications described, and asked of `lookup` once
    for a declaration published before them. A publication date never changes once recorded."""

    def __init__(self, lookup: PublishedOn) -> None:
        self._lookup = lookup
        self._known: dict[str, date] = {}

    def learn(self, event: Any) -> None:
        if isinstance(event, Declaration.Published):
            self._known[event.slug] = event.published_on

    def __call__(self, declaration_id: str) -> date | None:
        found = self._known.get(declaration_id)
        if found is None:
            found = self._lookup(declaration_id)
            if found is not None:
                self._known[declaration_id] = found
        return found


def cast_votes(kind: str, data: dict[str, Any], version: int) -> list[dict[str, str]] | None:
    """The votes an event casts, each with its own id (derived, so not stored): a roll call's, or votes added to
    one. None for any other event."""
    if kind not in (EventKind.ROLLCALL, EventKind.VOTE):
        return None
    slug = data.get("slug") or data["rollcall_id"]
    rollcall = RollCall.id_for(slug)
    return [{"party": party, "vote": vote, "event_id": str(vote_id(rollcall, version, party))}
            for party, vote in data["votes"].items()]


def approximate(data: dict[str, Any]) -> bool:
    """An act or statement known only to its month or year, so a reader of the log does not take its
    `occurred_on` (the period's first day) for the day it happened."""
    precision = data.get("precision")
    return precision is not None and is_approximate(precision)


class _Shape(NamedTuple):
    kind: str
    occurred_on: str | None
    parties: tuple[str, ...]
    declaration_id: str | None


# What each public event type looks like; looked up by the event's exact type, then along its bases.
_SHAPES: dict[type, Callable[[Any], _Shape]] = {
    Summit.Hosted: lambda e: _Shape(EventKind.HOSTED, e.starts_on.isoformat(), tuple(e.hosts), None),
    Declaration.Published: lambda e: _Shape(EventKind.PUBLISHED, e.published_on.isoformat(), (), e.slug),
    Declaration.ActRecorded: lambda e: _Shape(str(e.kind), e.occurred_on.isoformat(), (e.party,), e.declaration_id),
    Declaration.Retracted: lambda e: _Shape(EventKind.RETRACTED, None, (e.party,), e.declaration_id),
    Statement.Issued: lambda e: _Shape(EventKind.STATEMENT, e.occurred_on.isoformat(), (e.party,), e.about),
    Statement.Reissued: lambda e: _Shape(EventKind.STATEMENT, e.occurred_on.isoformat(), (e.party,), e.about),
    Statement.Retracted: lambda e: _Shape(EventKind.RETRACTED, None, (e.party,), e.about),
    # A roll call's event carries its votes; the parties it names are the ones that voted in it.
    RollCall.Called: lambda e: _Shape(EventKind.ROLLCALL, e.date.isoformat(), tuple(e.votes), None),
    RollCall.VotesCast: lambda e: _Shape(EventKind.VOTE, None, tuple(e.votes), None),
    RollCall.VotesRetracted: lambda e: _Shape(EventKind.RETRACTED, None, tuple(e.parties), None),
    RollCall.DetailsCorrected: lambda e: _Shape(EventKind.CORRECTED, None, (), None),
    Release.Loaded: lambda e: _Shape(EventKind.RELEASE, e.published_on.isoformat() if e.published_on else None, (),
                                     None),
}
_SHAPE_OF: dict[type, Callable[[Any], _Shape] | None] = {}


def _shape(event: Any) -> _Shape | None:
    """None for bookkeeping events (the event index, idempotency keys): they are not public."""
    kind = type(event)
    try:
        shaper = _SHAPE_OF[kind]
    except KeyError:
        shaper = _SHAPE_OF[kind] = next((_SHAPES[t] for t in kind.__mro__ if t in _SHAPES), None)
    return None if shaper is None else shaper(event)


def describe(event: Any, position: int, publications: Publications | None = None) -> PublicEvent | None:
    """The public form of a domain event at a log position, or None for bookkeeping. Without `publications`, an
    act's effective_on is left out (None): only the rebuild of an exported event, which never shows it, asks so."""
    shape = _shape(event)
    if shape is None:
        return None
    counts = None
    if publications is not None:
        publications.learn(event)
        counts = counts_from(event, shape.occurred_on, publications)
    return PublicEvent(position, str(event.event_id), shape.kind, shape.occurred_on, timestamp(event.timestamp),
                       shape.parties, shape.declaration_id, event_data(event), event.originator_version, counts)


def _public_scalar(value: Any) -> Any:
    """What _public makes of a value JSON cannot encode, and as_json of what _public leaves."""
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


_DATA_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_public_scalar)


def event_data_json(event: Any) -> str:
    """as_json(event_data(event)), in one pass, by orjson: UUIDs and dates come out as `_public` writes them (the
    hyphenated form, ISO 8601), anything else it lacks through `_public_scalar`."""
    data = {k: v for k, v in vars(event).items() if k not in _BOOKKEEPING}
    return orjson.dumps(data, default=_public_scalar).decode()


class EventLog(ReadModel):
    name = "event_log"
    tables = ("event_log",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS event_log (
            position BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            occurred_on TEXT,
            effective_on TEXT,
            recorded_at TEXT NOT NULL,
            party TEXT,
            declaration_id TEXT,
            data TEXT NOT NULL,
            version INTEGER NOT NULL
        )""",
    )
    # 2: each event's version in its aggregate (a roll call's names the votes it casts); 3: effective_on
    version = 3

    columns = {"event_log": ("position", "event_id", "kind", "occurred_on", "effective_on", "recorded_at", "party",
                             "declaration_id", "data", "version")}
    publication_dates = (f"SELECT declaration_id, occurred_on AS published_on FROM event_log"
                         f" WHERE kind = '{EventKind.PUBLISHED}' AND declaration_id IN ({{}})")

    @handles(*_SHAPES)
    def _public(self, item: Item, page: Page) -> None:
        """Every public event, as describe() shows it."""
        event, position, recorded_at = item
        shape = _shape(event)
        assert shape is not None
        if isinstance(event, Declaration.Published):
            page.published[event.slug] = event.published_on
        page.rows["event_log"].append((position, str(event.event_id), shape.kind, shape.occurred_on,
                                       counts_from(event, shape.occurred_on, page.published.get), recorded_at,
                                       shape.parties[0] if len(shape.parties) == 1 else None, shape.declaration_id,
                                       event_data_json(event), event.originator_version))


def _public_row(row: dict[str, Any]) -> dict[str, Any]:
    row["data"] = json.loads(row["data"])
    row["approximate"] = approximate(row["data"])
    row["votes"] = cast_votes(row["kind"], row["data"], row.pop("version"))
    return row


def list_events(sql: Sql, after: int, limit: int) -> list[dict[str, Any]]:
    rows = sql.rows(
        "SELECT position, event_id, kind, occurred_on, effective_on, recorded_at, data, version FROM event_log"
        " WHERE position > ? ORDER BY position LIMIT ?",
        (after, limit),
    )
    return [_public_row(row) for row in rows]


def find_event(sql: Sql, event_id: str) -> dict[str, Any] | None:
    row = sql.one(
        "SELECT position, event_id, kind, occurred_on, effective_on, recorded_at, data, version FROM event_log"
        " WHERE event_id = ?",
        (event_id,),
    )
    return None if row is None else _public_row(row)
