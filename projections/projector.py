"""Runs the read models over the event log: in pages, one transaction per page, exactly once.

Each page's transaction first advances every read model's tracking row by compare-and-set from the
position it read; if another projector moved it meanwhile, the page rolls back whole. So a crash at
any moment, or two projectors on one store, can neither lose an event nor apply one twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

from domain.ledger import INTERNAL_TOPIC_PREFIX
from projections.background import Loop
from projections.catalogue import Catalogue
from projections.event_log import EventLog
from projections.readmodel import Item, ReadModel, timestamp
from projections.stance_history import StanceHistory
from projections.store import Sql, ViewStore
from projections.timeline import Timeline
from projections.votes import Votes

log = logging.getLogger(__name__)

TRACKING_DDL = "CREATE TABLE IF NOT EXISTS view_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
# The version of each model as built; a tracked model without a row here predates versions (built at 0).
VERSIONS_DDL = "CREATE TABLE IF NOT EXISTS view_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"


def default_read_models() -> list[ReadModel]:
    return [EventLog(), Catalogue(), Timeline(), StanceHistory(), Votes()]


CATCH_UP_PAGE_MAX = 5000  # the largest page, while far behind (a rebuild, a projector back from a pause)


class StaleTracking(Exception):
    """Another projector applied this page first; nothing was written."""


@dataclass(frozen=True)
class PageApplied:
    """One committed page, for whoever watches the projector (metrics, traces)."""

    read: int  # notifications read, bookkeeping included
    items: Sequence[Item]  # the public events among them, as the read models were given them
    first: int
    last: int
    started_ns: int  # wall clock (time.time_ns), so a trace can place the page
    ended_ns: int


PageListener = Callable[[PageApplied], None]


class Projector(Loop):
    name = "diplo-projector"

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        store: ViewStore,
        read_models: Sequence[ReadModel] | None = None,
        *,
        page_size: int = 500,
        max_page_size: int | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.store = store
        self.read_models = list(read_models) if read_models is not None else default_read_models()
        # A rebuild needs fresh instances of the same read models for its new generation.
        self.read_models_factory: Callable[[], list[ReadModel]] = lambda: [type(m)() for m in self.read_models]
        self.page_size = page_size
        self.max_page_size = max(page_size, CATCH_UP_PAGE_MAX if max_page_size is None else max_page_size)
        self._limit = page_size  # the next page's size: grows while catching up (run_once)
        self.more_waiting = False  # the last page was full
        super().__init__(poll_interval)
        self._progress = threading.Condition()
        self.page_listeners: list[PageListener] = []  # told of each page this projector commits
        # Each model's position after this projector's last committed page: while it still stands
        # there, what the model keeps in memory (publication dates) matches its tables.
        self._kept: dict[str, int] = {}
        self.setup()

    # -- schema -----------------------------------------------------------------------------------

    def dependants(self) -> dict[str, set[str]]:
        """For each model, the models that read its tables (ReadModel.reads), directly or through another."""
        owner = {table: model.name for model in self.read_models for table in model.tables}
        readers: dict[str, set[str]] = {model.name: set() for model in self.read_models}
        for model in self.read_models:
            for table in model.reads:
                if table in owner and owner[table] != model.name:
                    readers[owner[table]].add(model.name)
        found: dict[str, set[str]] = {}
        for name in readers:
            seen: set[str] = set()
            todo = list(readers[name])
            while todo:
                reader = todo.pop()
                if reader not in seen:
                    seen.add(reader)
                    todo.extend(readers[reader])
            found[name] = seen
        return found

    def setup(self) -> None:
        """Creates what is missing. A model built at another version than the code's is dropped and starts
        again from position 0, so it replays the log as a newly added model does (the others keep theirs);
        so is every model that reads its tables (ReadModel.reads), whose answers joined what was dropped."""
        with self.store.transaction() as sql:
            # CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin on PostgreSQL.
            self.store.serialise_schema_changes(sql)
            sql.execute(TRACKING_DDL)
            sql.execute(VERSIONS_DDL)
            if sql.postgres:
                # Before any model's DDL: CREATE INDEX IF NOT EXISTS locks the model's table against writes, and a
                # live projector's page, holding its tracking rows, waited for that table while this waited for one
                # of those rows (a deadlock: `diplo rebuild` died at its start). Here the page under way finishes
                # first, and the next one waits until this commits.
                sql.execute("LOCK TABLE view_tracking IN SHARE ROW EXCLUSIVE MODE")
            tracked = {r["name"] for r in sql.rows("SELECT name FROM view_tracking")}
            built = {r["name"]: int(r["version"]) for r in sql.rows("SELECT name, version FROM view_versions")}
            changed = {m.name for m in self.read_models if m.name in tracked and built.get(m.name, 0) != m.version}
            dependants = self.dependants()
            replayed = changed | {reader for name in changed for reader in dependants[name] if reader in tracked}
            for model in self.read_models:
                was = built.get(model.name, 0)
                if model.name in replayed:
                    if model.name in changed:
                        log.warning("read model %s was built at version %s; this release writes version %s: "
                                    "replaying it from the log", model.name, was, model.version)
                    else:
                        log.warning("read model %s reads the tables of a model replayed from the log: replaying "
                                    "it too", model.name)
                    model.drop(sql)
                    sql.execute("DELETE FROM view_tracking WHERE name = ?", (model.name,))
                model.create(sql)
                sql.execute(
                    "INSERT INTO view_tracking (name, position) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
                    (model.name,),
                )
                sql.execute(
                    "INSERT INTO view_versions (name, version) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                    (model.name, model.version),
                )

    def rebuild_beside(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Builds a new generation of the read models beside the live one, then switches every
        reader to it atomically. Readers keep answering from the live generation meanwhile."""
        generation = self.store.new_generation()
        try:
            builder = Projector(self.recorder, self.mapper, generation, self.read_models_factory(),
                                page_size=self.page_size, max_page_size=self.max_page_size)
            applied = builder.catch_up(progress)
            # Close the gap to the head once more right before the switch; whatever is stored
            # after it, the live projector applies to the new generation from its tracking.
            applied += builder.catch_up(progress)
            self.store.promote(generation)
        except BaseException:
            generation.discard()
            raise
        with self._progress:
            self._progress.notify_all()
        return applied

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Drops the read models in place and replays the whole log into them (readers see the gap)."""
        with self.store.transaction() as sql:
            for model in self.read_models:
                model.drop(sql)
                sql.execute("DELETE FROM view_tracking WHERE name = ?", (model.name,))
        self.setup()
        return self.catch_up(progress)

    # -- positions --------------------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        """Each read model's tracking position."""
        with self.store.reading() as sql:
            return self._positions(sql)

    def position(self) -> int:
        """The position every read model has reached."""
        with self.store.reading() as sql:
            return self._position(sql)

    def _position(self, sql: Sql) -> int:
        return min(self._positions(sql).values())

    def _positions(self, sql: Sql) -> dict[str, int]:
        names = [m.name for m in self.read_models]
        rows = sql.rows(
            f"SELECT name, position FROM view_tracking WHERE name IN ({', '.join('?' for _ in names)})", names
        )
        found = {r["name"]: int(r["position"]) for r in rows}
        return {n: found.get(n, 0) for n in names}

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    # -- processing -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Applies the next page of events; returns how many were read.

        Read models may stand at different positions (one added in a later release, say): the page
        starts at the lowest, and each model is given only the events past its own position.
        """
        started_ns = time.time_ns()
        with self.store.reading() as sql:
            positions = self._positions(sql)
        start = min(positions.values())
        limit = self._limit
        notifications = self.recorder.select_notifications(start=start, limit=limit, inclusive_of_start=False)
        self.more_waiting = len(notifications) >= limit
        if not notifications:
            self._settle()
            self._limit = self.page_size
            return 0
        end = notifications[-1].id
        items = self._decode(notifications)
        for model in self.read_models:
            if self._kept.get(model.name) != positions[model.name]:
                model.forget()  # moved by someone else: what it kept may not match its tables
        try:
            with self.store.transaction() as sql:
                for model in self.read_models:
                    mine = positions[model.name]
                    moved = sql.execute(
                        "UPDATE view_tracking SET position = ? WHERE name = ? AND position = ?",
                        (max(end, mine), model.name, mine),
                    )
                    if moved != 1:
                        raise StaleTracking(model.name)
                for model in self.read_models:
                    mine = positions[model.name]
                    theirs = items if mine <= start else [i for i in items if i.position > mine]
                    if not theirs:
                        continue
                    model.apply_page(sql, theirs)
        except BaseException:
            self._kept.clear()
            raise
        self._kept = {m.name: max(end, positions[m.name]) for m in self.read_models}
        if not self.more_waiting:
            self._settle()
        # A full page means more are waiting: the next page doubles (to max_page_size), so a catch-up from
        # far behind commits a few large pages; a partial page means caught up, back to page_size.
        self._limit = min(limit * 2, self.max_page_size) if self.more_waiting else self.page_size
        with self._progress:
            self._progress.notify_all()
        if self.page_listeners:
            self._tell(PageApplied(len(notifications), items, notifications[0].id, end, started_ns, time.time_ns()))
        return len(notifications)

    def _tell(self, page: PageApplied) -> None:
        for listener in self.page_listeners:
            try:
                listener(page)
            except Exception:  # a watcher's fault must not stop the read models
                log.exception("projector page listener failed")

    def _settle(self) -> None:
        """Caught up: the models that put work off while far behind (an index built once, rather than kept up row by
        row through a whole catch-up) do it now."""
        waiting = [m for m in self.read_models if m.unsettled]
        if waiting:
            with self.store.transaction() as sql:
                # Its CREATE INDEX IF NOT EXISTS is not safe against a twin projector settling at the same moment
                # on PostgreSQL (a duplicate key in pg_class): they take turns, as setup() does.
                self.store.serialise_schema_changes(sql)
                for model in waiting:
                    model.settle(sql)

    def _decode(self, notifications: Sequence[Notification]) -> list[Item]:
        """The page's public events, decoded; bookkeeping (half the log) is skipped before decoding,
        since no read model shows it."""
        to_domain_event = self.mapper.to_domain_event
        items = []
        for notification in notifications:
            if notification.topic.startswith(INTERNAL_TOPIC_PREFIX):
                continue
            event = to_domain_event(notification)
            items.append(Item(event, notification.id, timestamp(event.timestamp)))  # type: ignore[attr-defined]
        return items

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> int:
        total = 0
        while True:
            try:
                n = self.run_once()
            except StaleTracking:
                continue
            total += n
            if progress is not None:
                progress(self.position(), self.head())
            if not self.more_waiting:
                return total

    def wait_for(self, position: int, timeout: float) -> bool:
        """Blocks until every read model has reached `position`, or the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.position() >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._progress:
                # Woken by a local page; the short cap also notices a projector in another process.
                self._progress.wait(min(remaining, 0.05))

    # -- the background thread (projections.background.Loop) ----------------------------------------

    def step(self) -> bool:
        try:
            self.run_once()
        except StaleTracking:
            return True  # another projector applied that page: read the next at once
        return self.more_waiting

    def start(self) -> None:
        """Runs the read models in a thread of this process, through any store outage."""
        self.start_thread()

    def run_forever(self, stop: threading.Event) -> None:
        """The projector process: catch up, then apply new events as they are woken, until `stop`.

        Unlike the in-process thread, store errors are raised, so the process exits non-zero and
        its supervisor restarts it; it then resumes from the tracking positions.
        """
        self.repeat(stop, survive=False)
