"""What every read model is: tables, and how a page of domain events changes them, inside the projector's
transaction for that page: the contract each model follows (`ReadModel`) and what a page gathers (`Page`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar, NamedTuple, TypeVar

from domain.declaration import Declaration
from projections.store import Sql


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


class Page:
    """What one page of events does to a model's tables: gathered in memory by the model's handlers, then
    written table by table (one statement per table, not one per event). The base gathers plain rows per
    table, in `rows`; a model whose page also updates rows of earlier pages subclasses it."""

    def __init__(self, model: ReadModel) -> None:
        self.columns = model.columns
        self.rows: dict[str, list[Sequence[Any]]] = {table: [] for table in model.columns}
        # The model's publication dates (its cache, shared by its pages): an act counts from its
        # declaration's publication at the earliest.
        self.published = model.published

    def write(self, sql: Sql) -> None:
        for table, rows in self.rows.items():
            sql.insert(table, self.columns[table], rows)


class ReadModel:
    """A read model: its tables, and how each page of domain events changes them. Unknown events change nothing.

    The contract a model follows:
    - `name`, `tables` and `ddl`, and `version`, bumped with any change to its tables or to what it writes;
    - `reads`: the names of the other models whose tables its queries read (stance history answers join the
      catalogue's declarations): a version change of one of those rebuilds this one too (Projector.setup);
    - handlers, one per event type, all of one signature: `@handles(EventType) def _x(self, item, page)`, which
      gather what the event changes into the page (a `Page`, or the model's `page_type`);
    - `columns`: each table's columns, for the rows the base page inserts;
    - `publication_dates`: when its handlers need declarations' publication dates, the query that finds those
      not kept in memory (`{}` stands for the list of placeholders); `prepare` loads them before the handlers
      run. Override `prepare` to read anything else a page needs, and `forget` to drop anything else kept.

    Handlers are found by the event's type in a table built once per class, rather than through
    functools.singledispatchmethod, which rebuilds its wrapper on every call (docs/benchmarks.md has its cost).
    """

    name: str = ""
    tables: tuple[str, ...] = ()
    ddl: tuple[str, ...] = ()
    # The shape of what the model stores. Bump it with any change to its tables or to what it writes for an
    # event: a store built at another version is then dropped and replayed from the log at the projector's
    # start (Projector.setup), rather than answering from tables the code no longer understands.
    version: int = 1
    reads: tuple[str, ...] = ()
    columns: ClassVar[dict[str, tuple[str, ...]]] = {}
    page_type: ClassVar[type[Page]] = Page
    publication_dates: ClassVar[str | None] = None
    _handlers: ClassVar[dict[type, Callable[..., Any]]] = {}
    _resolved: ClassVar[dict[type, Callable[..., Any] | None]] = {}

    def __init__(self) -> None:
        # Publication date per declaration: a fact that never changes once recorded, kept so an act does
        # not ask the table for it. Dropped by forget(); a miss asks the table once.
        self.published: dict[str, date] = {}

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

    def apply_page(self, sql: Sql, items: Sequence[Item]) -> None:
        """Applies a page of events in log order: what the page needs is read first (`prepare`), each event
        goes through its handler into the page, then the page is written. Events the model does not show are
        skipped, and tracking still moves past them."""
        page = self.page_type(self)
        self.prepare(sql, items, page)
        handler = self.handler
        for item in items:
            found = handler(type(item.event))
            if found is not None:
                found(self, item, page)
        page.write(sql)

    def prepare(self, sql: Sql, items: Sequence[Item], page: Page) -> None:
        """Reads what the page's handlers need: the publication dates of the declarations its acts are on,
        those not kept in memory already."""
        if self.publication_dates is None:
            return
        missing = {item.event.declaration_id for item in items
                   if isinstance(item.event, Declaration.ActRecorded)} - page.published.keys()
        for chunk in chunks(sorted(missing)):
            for row in sql.rows(self.publication_dates.format(", ".join("?" for _ in chunk)), chunk):
                if row["published_on"]:
                    page.published[row["declaration_id"]] = date.fromisoformat(row["published_on"])

    # True while the model has put work off until the projector catches up (see `settle`).
    unsettled: bool = False

    def settle(self, sql: Sql) -> None:
        """Called once the projector has caught up, in a transaction of its own, while `unsettled`: does what the
        model put off while far behind (building an index at once rather than row by row), then clears the flag."""
        self.unsettled = False

    def forget(self) -> None:
        """Drops whatever the model keeps in memory between pages. The projector calls it when a page
        fails or the model's position moves other than by its own last page (another projector, a
        rebuild), so what is kept can never disagree with the tables."""
        self.published = {}
