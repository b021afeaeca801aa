"""The projector applies every event exactly once: under two concurrent projectors, across a page that fails
midway, and when another writer stores the events; and it says when it has not caught up in time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import PublishDeclaration, RecordAct
from domain.service import DiplomaticRecord
from domain.values import ActKind, Confidence
from projections.catalogue import Catalogue
from projections.event_log import EventLog
from projections.projector import Projector, StaleTracking
from projections.stance_history import StanceHistory, stances_of
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from projections.timeline import Timeline
from projections.votes import Votes
from seeds.loader import seed
from tests.factories import SOURCES
from tests.integration.support import Dump, dump


def tracking(store: ViewStore) -> dict[str, int]:
    with store.reading() as sql:
        return {r["name"]: int(r["position"]) for r in sql.rows("SELECT name, position FROM view_tracking")}


@pytest.fixture
def open_store(
    settings: Settings, fresh_store: Callable[[], ViewStore]
) -> Iterator[Callable[[str | None], ViewStore]]:
    """Opens view stores of the test's backend: the runtime's own database (None) or a new, empty one (any
    name, which only says what the test uses it for)."""
    opened: list[ViewStore] = []

    def make(name: str | None) -> ViewStore:
        if name is not None:
            return fresh_store()
        store: ViewStore = (SQLiteViewStore(settings.views_path()) if settings.database_url is None
                            else PostgresViewStore(settings.database_url, settings.views_schema))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def unprojected(settings: Settings) -> Iterator[Runtime]:
    """The seeds stored, and no projector running: the read models are still empty."""
    runtime = bootstrap(settings, start_projector=False)
    seed(runtime.app)
    yield runtime
    runtime.close()


def reference(runtime: Runtime, open_store: Callable[[str | None], ViewStore]) -> Dump:
    """What one projector alone makes of the whole log, in a store of its own."""
    alone = Projector(runtime.app.recorder, runtime.app.mapper, open_store("reference"))
    alone.catch_up()
    return dump(alone.store)


def test_two_projectors_catching_up_at_once_write_the_rows_of_one(
    unprojected: Runtime, open_store: Callable[[str | None], ViewStore]
) -> None:
    app = unprojected.app
    projectors = [
        Projector(app.recorder, app.mapper, unprojected.store, page_size=10),
        Projector(app.recorder, app.mapper, open_store(None), page_size=10),  # a second connection, as if elsewhere
    ]
    start = threading.Barrier(len(projectors))
    applied: list[int] = []
    errors: list[BaseException] = []

    def run(projector: Projector) -> None:
        try:
            start.wait()
            applied.append(projector.catch_up())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(p,)) for p in projectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    head = unprojected.projector.head()
    stored = len(app.recorder.select_notifications(start=0, limit=10**6))
    assert sum(applied) == stored  # each event was applied by exactly one of them
    assert set(tracking(unprojected.store).values()) == {head}
    rows = dump(unprojected.store)
    assert len(rows["stance_spans"]) == len(set(rows["stance_spans"]))
    assert rows == reference(unprojected, open_store)


def test_a_page_that_fails_midway_moves_neither_rows_nor_tracking_and_the_next_run_applies_it_whole(
    unprojected: Runtime, open_store: Callable[[str | None], ViewStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = unprojected.app
    projector = Projector(app.recorder, app.mapper, unprojected.store, page_size=100, max_page_size=100)
    assert projector.run_once() == 100
    before_rows, before_tracking = dump(unprojected.store), tracking(unprojected.store)

    stances = next(m for m in projector.read_models if isinstance(m, StanceHistory))  # the last model of a page
    original = stances.apply_page
    written: list[int] = []

    def write_36_then_fail(sql: Any, items: Any) -> None:
        original(sql, items[:36])  # the other models and 36 of the page's events are written, then the store goes
        written.append(len(items[:36]))
        raise RuntimeError("the store went away mid-page")

    monkeypatch.setattr(stances, "apply_page", write_36_then_fail)
    with pytest.raises(RuntimeError, match="mid-page"):
        projector.run_once()
    assert written == [36]
    assert tracking(unprojected.store) == before_tracking == {m.name: 100 for m in projector.read_models}
    assert dump(unprojected.store) == before_rows

    monkeypatch.setattr(stances, "apply_page", original)
    assert projector.run_once() == 100
    assert projector.position() == 200
    projector.catch_up()
    assert projector.position() == projector.head()
    assert dump(unprojected.store) == reference(unprojected, open_store)


def test_waiting_for_a_position_beyond_the_head_returns_false_after_the_timeout(seeded: Runtime) -> None:
    beyond = seeded.projector.head() + 5
    started = time.monotonic()
    assert seeded.projector.wait_for(beyond, 0.3) is False
    waited = time.monotonic() - started
    assert 0.3 <= waited < 2.0
    assert seeded.projector.wait_for(seeded.projector.head(), 0.3) is True


def test_the_in_process_projector_picks_up_events_another_writer_stored_within_a_second(runtime: Runtime) -> None:
    other = DiplomaticRecord(runtime.settings.eventsourcing_env(), parties=runtime.parties)
    try:
        other.handle(PublishDeclaration(id="elsewhere-accord", title="Elsewhere Accord", published_on=date(2025, 5, 1),
                                  sources=SOURCES, confidence=Confidence.HIGH))
        receipt = other.handle(RecordAct(declaration_id="elsewhere-accord", kind=ActKind.SIGNED, party="NZ",
                                   occurred_on=date(2025, 5, 2), sources=SOURCES, confidence=Confidence.HIGH))
        written = time.monotonic()
        assert receipt.last_position is not None
        assert runtime.projector.wait_for(receipt.last_position, 1.0)
        assert time.monotonic() - written < 1.0
    finally:
        other.close()
    with runtime.store.reading() as sql:
        stances = stances_of(sql, "NZ", "2025-05-02", "9999-12-31T00:00:00.000000+00:00")
    assert [(s["declaration_id"], s["stance"], s["since"]) for s in stances] == [
        ("elsewhere-accord", "signed", "2025-05-02")
    ]


def test_a_read_model_added_to_a_caught_up_store_is_caught_up_too(
    unprojected: Runtime, open_store: Callable[[str | None], ViewStore]
) -> None:
    app = unprojected.app
    older = Projector(app.recorder, app.mapper, unprojected.store, read_models=[EventLog(), Catalogue()])
    older.catch_up()
    assert older.position() == older.head()

    newer = Projector(app.recorder, app.mapper, unprojected.store)  # the same two models, and two more
    for _ in range(20):  # what catch_up() does, bounded: it would spin forever on StaleTracking
        try:
            if newer.run_once() == 0:
                break
        except StaleTracking:
            continue

    assert newer.position() == newer.head()
    assert dump(unprojected.store) == reference(unprojected, open_store)


def test_a_read_model_built_at_another_version_is_dropped_and_replayed_and_the_others_keep_their_place(
    unprojected: Runtime, open_store: Callable[[str | None], ViewStore]
) -> None:
    app, store = unprojected.app, unprojected.store
    Projector(app.recorder, app.mapper, store).catch_up()
    head = app.recorder.max_notification_id()
    with store.transaction() as sql:  # a store from before versions, whose stance tables an old release wrote
        sql.execute("DELETE FROM view_versions WHERE name = 'stance_history'")
        sql.execute("DELETE FROM stance_spans WHERE party = 'GB'")
        sql.execute("UPDATE stance_acts SET confidence = 'low'")

    newer = Projector(app.recorder, app.mapper, store)
    assert tracking(store) == {"event_log": head, "catalogue": head, "timeline": head, "stance_history": 0,
                               "votes": head}
    newer.catch_up()
    assert dump(store) == reference(unprojected, open_store)

    class Reshaped(StanceHistory):
        version = StanceHistory.version + 1  # a release that changes what the model writes

    with store.transaction() as sql:
        sql.execute("DELETE FROM stance_spans WHERE party = 'US'")
    Projector(app.recorder, app.mapper, store, read_models=[EventLog(), Catalogue(), Reshaped()])
    assert tracking(store)["stance_history"] == 0 and tracking(store)["event_log"] == head
    Projector(app.recorder, app.mapper, store).catch_up()  # and back: the version differs again, so again
    assert dump(store) == reference(unprojected, open_store)
    with store.reading() as sql:
        assert {r["name"]: r["version"] for r in sql.rows("SELECT name, version FROM view_versions")} == {
            "event_log": EventLog.version, "catalogue": 1, "timeline": 1, "stance_history": 1, "votes": Votes.version}


def test_a_model_replayed_for_a_new_version_replays_the_models_that_read_its_tables(
    unprojected: Runtime, open_store: Callable[[str | None], ViewStore]
) -> None:
    app, store = unprojected.app, unprojected.store
    Projector(app.recorder, app.mapper, store).catch_up()
    head = app.recorder.max_notification_id()

    class ReshapedCatalogue(Catalogue):
        version = Catalogue.version + 1  # a release that changes the declarations stance answers join

    models = [EventLog(), ReshapedCatalogue(), Timeline(), StanceHistory(), Votes()]
    newer = Projector(app.recorder, app.mapper, store, read_models=models)
    assert newer.dependants()["catalogue"] == {"stance_history", "timeline"}
    assert newer.dependants()["stance_history"] == set() and newer.dependants()["event_log"] == {"votes", "timeline"}
    # The catalogue, and the two models whose answers read its tables, replay; the others keep their place. (The
    # event log's dependants: the votes model reads it, and the timeline reads the votes model's tables.)
    assert tracking(store) == {"event_log": head, "catalogue": 0, "timeline": 0, "stance_history": 0, "votes": head}
    newer.catch_up()
    assert dump(store) == reference(unprojected, open_store)


def wait_until_blocked_by(settings: Settings, pids: list[int]) -> None:
    """Returns once a connection waits on the backend holding the first setup open (PostgreSQL),
    or after a pause (SQLite, whose second setup busy-waits on BEGIN IMMEDIATE)."""
    if settings.database_url is None:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                               (pids[0],)).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second setup never waited on the first")


def test_projectors_setting_up_an_empty_store_at_once_all_start(
    settings: Settings, open_store: Callable[[str | None], ViewStore], request: pytest.FixtureRequest
) -> None:
    store = open_store("empty")
    runtime = bootstrap(settings, start_projector=False)
    created, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    holder: list[int] = []

    class SlowToCreate(EventLog):
        """Holds the first projector's setup transaction open, its tables created but not committed."""

        def create(self, sql: Any) -> None:
            super().create(sql)
            if settings.uses_postgres:
                holder.append(int(sql.value("SELECT pg_backend_pid()")))
            created.set()
            release.wait(10)

    def set_up(models: list[Any] | None) -> None:
        try:
            Projector(runtime.app.recorder, runtime.app.mapper, store, read_models=models)
        except BaseException as error:
            errors.append(error)

    first = threading.Thread(target=set_up, args=([SlowToCreate()],))
    second = threading.Thread(target=set_up, args=(None,))
    try:
        first.start()
        assert created.wait(10)
        second.start()
        wait_until_blocked_by(settings, holder)  # the second setup is now waiting on the first one's transaction
        release.set()
        first.join(30)
        second.join(30)
    finally:
        release.set()
        runtime.close()

    assert not errors
    assert set(tracking(store)) == {"event_log", "catalogue", "timeline", "stance_history", "votes"}
