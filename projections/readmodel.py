"""What every read model is: tables, and how a page of domain events changes them, inside the projector's
transaction for that page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple, TypeVar

from projections.store import Sql


@dataclass(frozen=True)
class Applied:
    """Where an event sits in the two times: its log position and when it was recorded."""

    sql: Sql
    position: int
    recorded_at: str


class Item(NamedTuple):
    """One event of a page, decoded, with its log position and when it was recorded."""

    event: Any
    position: int
    recorded_at: str


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so comparisons sort correctly in SQLite and PostgreSQL alike."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# One encoder for every call: json.dumps with options builds a new one each time, which costs more
# than encoding the small values read models store.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def as_json(value: Any) -> str:
    return _ENCODER.encode(value)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def chunks(values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices of at most `size`, so a statement's parameters stay well under SQLite's limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def handles(*event_types: type) -> Callable[[F], F]:
    """Marks a read model's method as its handler for these event types (and their subclasses)."""

    def mark(function: F) -> F:
        function.__handles__ = event_types  # type: ignore[attr-defined]
        return function

    return mark


class ReadModel:
    """A read model: its tables and how each domain event changes them. Unknown events change nothing.

    Handlers are found by the event's type in a table built once per class, rather than through
    functools.singledispatchmethod, which rebuilds its wrapper on every call (8% of a rebuild).
    """

    name: str = ""
    tables: tuple[str, ...] = ()
    ddl: tuple[str, ...] = ()
    # The shape of what the model stores. Bump it with any change to its tables or to what it writes for an
    # event: a store built at another version is then dropped and replayed from the log at the projector's
    # start (Projector.setup), rather than answering from tables the code no longer understands.
    version: int = 1
    _handlers: ClassVar[dict[type, Callable[..., Any]]] = {}
    _resolved: ClassVar[dict[type, Callable[..., Any] | None]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[type, Callable[..., Any]] = {}
        for klass in reversed(cls.__mro__):
            for member in vars(klass).values():
                for event_type in getattr(member, "__handles__", ()):
                    table[event_type] = member
        cls._handlers, cls._resolved = table, {}

    @classmethod
    def handler(cls, event_type: type) -> Callable[..., Any] | None:
        """The handler registered for this type or its nearest registered base, or None."""
        try:
            return cls._resolved[event_type]
        except KeyError:
            found = next((cls._handlers[t] for t in event_type.__mro__ if t in cls._handlers), None)
            cls._resolved[event_type] = found
            return found

    def create(self, sql: Sql) -> None:
        for statement in self.ddl:
            sql.execute(statement)

    def drop(self, sql: Sql) -> None:
        for table in self.tables:
            sql.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, event: Any, at: Applied) -> None:
        """Applies one event through its handler; events the model does not show are skipped, and
        tracking still moves past them."""
        handler = self.handler(type(event))
        if handler is not None:
            handler(self, event, at)

    def apply_page(self, sql: Sql, items: Sequence[Item]) -> None:
        """Applies a page of events in log order. Models that write many rows override it to write
        each table once per page; this default applies the events one at a time."""
        for event, position, recorded_at in items:
            self.apply(event, Applied(sql, position, recorded_at))

    def forget(self) -> None:
        """Drops whatever the model keeps in memory between pages. The projector calls it when a page
        fails or the model's position moves other than by its own last page (another projector, a
        rebuild), so what is kept can never disagree with the tables."""
