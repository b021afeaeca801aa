"""A new generation of the read models, once promoted, is what every later read answers from: on PostgreSQL
even on a pooled connection that prepared its statements in the generation before; on SQLite the file
built without waiting for the disk is made durable before anyone is sent to it. A page the live projector is
writing when a promote comes is written to one generation whole."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

import psycopg
import pytest

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import RecordStatement
from projections.projector import Projector, default_read_models
from projections.readmodel import Item
from projections.stance_history import stances_of
from projections.store import PostgresViewStore, Sql, SQLiteViewStore, ViewStore
from tests.conftest import PG_URL
from tests.factories import SOURCES
from tests.integration.support import dump

NOW = "9999-12-31T00:00:00.000000+00:00"
ASKED = "SELECT * FROM answers WHERE said <> ?"  # `*`: its columns are whatever the generation's table has


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"g_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def prepared_statements(store: PostgresViewStore, like: str) -> tuple[int, int]:
    """The backend answering `store`'s next reading, and how many statements like `like` it holds prepared."""
    with store.reading() as sql:
        pid = sql.value("SELECT pg_backend_pid()")
        count = sql.value("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?", (like,))
    return int(pid), int(count)


@pytest.mark.postgres
def test_a_statement_prepared_before_a_promote_answers_from_the_new_generation_on_the_same_connection(
    pg_schema: str,
) -> None:
    api = PostgresViewStore(PG_URL, pg_schema, pool_size=1)  # one connection: the one that prepared it
    rebuild = PostgresViewStore(PG_URL, pg_schema)  # `diplo rebuild`, as another process would
    try:
        with api.transaction() as sql:
            sql.execute("CREATE TABLE answers (said TEXT NOT NULL)")
            sql.execute("INSERT INTO answers VALUES ('from the old generation')")
        for _ in range(6):  # past psycopg's prepare_threshold
            with api.reading() as sql:
                assert sql.rows(ASKED, ("-",)) == [{"said": "from the old generation"}]
        pid, prepared = prepared_statements(api, "%FROM answers%")
        assert prepared == 1

        generation = rebuild.new_generation()
        with generation.transaction() as sql:  # a later release's table: one column more
            sql.execute("CREATE TABLE answers (said TEXT NOT NULL, why TEXT NOT NULL)")
            sql.execute("INSERT INTO answers VALUES ('from the new generation', 'rebuilt')")
        rebuild.promote(generation)

        # Without dropping the plan first: "cached plan must not change result type".
        with api.reading() as sql:
            assert sql.rows(ASKED, ("-",)) == [{"said": "from the new generation", "why": "rebuilt"}]
        assert prepared_statements(api, "%FROM answers%") == (pid, 0)  # same connection, stale plan gone
    finally:
        api.close()
        rebuild.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_reads_after_a_rebuild_beside_come_from_the_rebuilt_generation_not_a_plan_of_the_old(
    seeded: Runtime,
) -> None:
    settings = seeded.settings
    assert settings.database_url is not None
    api = PostgresViewStore(settings.database_url, settings.views_schema, pool_size=1)
    try:
        with api.reading() as sql:
            truth = stances_of(sql, "US", "2025-06-01", NOW)
        # The live generation says something the log does not: only a read of the old one can answer it.
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f'UPDATE "{settings.views_schema}".declarations SET title = %s', ("stale generation",))
        for _ in range(6):
            with api.reading() as sql:
                assert {s["title"] for s in stances_of(sql, "US", "2025-06-01", NOW)} == {"stale generation"}
        pid, prepared = prepared_statements(api, "%FROM stance_spans%")
        assert prepared >= 1

        seeded.projector.rebuild_beside()  # what `diplo rebuild` runs

        with api.reading() as sql:
            assert stances_of(sql, "US", "2025-06-01", NOW) == truth
        assert prepared_statements(api, "%FROM stance_spans%") == (pid, 0)
    finally:
        api.close()


def test_a_sqlite_generation_is_built_without_syncing_and_promoted_only_once_on_disk(tmp_path: Path) -> None:
    live = SQLiteViewStore(tmp_path / "views.sqlite3")
    generation = live.new_generation()
    assert isinstance(generation, SQLiteViewStore)
    with generation.transaction() as sql:
        assert sql.value("PRAGMA synchronous") == 0  # OFF: nothing waits for the disk while it is built
        sql.execute("CREATE TABLE answers (said TEXT NOT NULL)")
        sql.executemany("INSERT INTO answers VALUES (?)", [(f"row {i}",) for i in range(1000)])
    wal = generation.path.with_name(generation.path.name + "-wal")
    assert wal.stat().st_size > 0  # the rows are in the WAL, not yet in the file

    live.promote(generation)

    assert live.path == generation.path
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed into the file, with syncs on both sides
    with live.reading() as sql:
        assert sql.value("SELECT count(*) FROM answers") == 1000
    with live.transaction() as sql:
        assert sql.value("PRAGMA synchronous") == 1  # NORMAL again for the live generation's writes
    live.close()


@pytest.mark.postgres
def test_a_reading_leaves_a_postgres_connection_ready_for_a_writing_transaction(pg_schema: str) -> None:
    store = PostgresViewStore(PG_URL, pg_schema, pool_size=1)
    try:
        with store.reading() as sql:
            assert sql.value("SHOW transaction_read_only") == "on"
            assert sql.value("SHOW transaction_isolation") == "repeatable read"
        with store.transaction() as sql:  # the same pooled connection, writing
            assert sql.value("SHOW transaction_read_only") == "off"
            sql.execute("CREATE TABLE written (x INT)")
    finally:
        store.close()


@pytest.mark.postgres
def test_a_glance_is_one_statement_without_a_transaction_and_leaves_the_connection_as_it_found_it(
    pg_schema: str,
) -> None:
    store = PostgresViewStore(PG_URL, pg_schema, pool_size=1)
    alone = "SELECT now() = statement_timestamp()"  # true only for a statement that is its own transaction
    try:
        with store.glance() as sql:
            assert sql.value(alone) is True  # no BEGIN sent before it: half a reading's round trips
            assert sql.generation is not None  # the pool's check named the generation, as for a reading
        with store.reading() as sql:  # the same pooled connection
            sql.value("SELECT 1")
            assert sql.value(alone) is False
            assert sql.value("SHOW transaction_read_only") == "on"
        with store.transaction() as sql:
            sql.execute("CREATE TABLE written (x INT)")
            sql.execute("INSERT INTO written VALUES (1)")
        with pytest.raises(RuntimeError), store.transaction() as sql:  # still one transaction, all or nothing
            sql.execute("INSERT INTO written VALUES (2)")
            raise RuntimeError("refused")
        with store.glance() as sql:
            assert sql.value("SELECT count(*) FROM written") == 1
    finally:
        store.close()


def test_a_glance_on_sqlite_is_a_reading(tmp_path: Path) -> None:
    store = SQLiteViewStore(tmp_path / "views.sqlite3")
    try:
        with store.glance() as sql:
            assert sql.value("SELECT 1") == 1 and sql.generation is not None
    finally:
        store.close()


# -- a promote while the live projector writes a page ------------------------------------------------------


@pytest.fixture
def quiet(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose projector runs only when the test says (no thread, no follower)."""
    runtime = bootstrap(settings, start_projector=False, follow=False)
    yield runtime
    runtime.close()


def say(runtime: Runtime, text: str) -> None:
    runtime.app.handle(RecordStatement(party="FR", occurred_on=date(2025, 2, 11), text=text, sources=SOURCES))


def blocked_or_done(promote: threading.Thread, settings: Settings, timeout: float = 60) -> None:
    """Waits until the promote has finished or waits on a lock (of the page's transaction, which it cannot
    finish before), so the page's next statements run after all the promote can do meanwhile."""
    deadline = time.monotonic() + timeout
    while promote.is_alive():
        if settings.database_url is not None:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database() AND position(%s in query) > 0",
                                       (settings.views_schema,)).fetchone()
            if waiting and waiting[0]:
                return
        assert time.monotonic() < deadline, "the promote neither finished nor waited"
        promote.join(0.05)


def test_a_promote_during_a_page_of_the_live_projector_leaves_the_new_generation_whole_and_applied_once(
    quiet: Runtime, settings: Settings, fresh_store: Callable[[], ViewStore]
) -> None:
    """Regression (issue 13, item 9: lag stuck after `diplo rebuild` on PostgreSQL): a page whose transaction
    began in the generation a promote retires went on, after the swap, in the generation it brought in: its
    tracking moved in the old one, its rows went into the new one, whose tracking stayed behind them, so the
    projector applied those events there again (a duplicate key: the projector stuck, its lag never 0)."""
    app, live = quiet.app, quiet.projector
    for i in range(5):
        say(quiet, f"before the rebuild {i}")
    live.catch_up()
    generation = quiet.store.new_generation()
    Projector(app.recorder, app.mapper, generation, live.read_models_factory()).catch_up()
    for i in range(3):  # stored after the new generation was built: the live projector's next page
        say(quiet, f"during the rebuild {i}")

    promote = threading.Thread(target=quiet.store.promote, args=(generation,))
    first = live.read_models[0]
    original = first.apply_page

    def switch_then_apply(sql: Sql, items: Sequence[Item]) -> None:
        promote.start()  # the rebuild's switch, between the page's tracking and its rows
        blocked_or_done(promote, settings)
        original(sql, items)

    first.apply_page = switch_then_apply  # type: ignore[method-assign]
    try:
        assert live.run_once() > 0
    finally:
        first.apply_page = original  # type: ignore[method-assign]
    promote.join(60)
    assert not promote.is_alive()

    live.catch_up()
    assert live.position() == live.head()
    reference = fresh_store()
    Projector(app.recorder, app.mapper, reference).catch_up()
    assert dump(quiet.store) == dump(reference)


# -- a process starting (its projector's setup) while the live projector writes a page ---------------------


def waits_on_a_lock(url: str, application: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                             "AND wait_event_type = 'Lock'", (application,)).fetchone()
    return bool(found and found[0])


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_a_process_setting_up_its_projector_while_the_live_one_writes_a_page_is_no_deadlock(
    quiet: Runtime, settings: Settings
) -> None:
    """Regression (test_rebuild_live, `diplo rebuild` failing at its start with DeadlockDetected): every process
    runs Projector.setup, whose CREATE INDEX IF NOT EXISTS locks a model's table; the live projector's page, which
    holds its tracking rows, waited for that table while setup waited for one of those rows."""
    assert settings.database_url is not None
    app = quiet.app
    names = {role: f"diplo-{role}-{uuid.uuid4().hex[:8]}" for role in ("live", "starting")}
    stores = {role: PostgresViewStore(f"{settings.database_url}?application_name={name}", settings.views_schema)
              for role, name in names.items()}
    try:
        live = Projector(app.recorder, app.mapper, stores["live"])
        for i in range(3):
            say(quiet, f"before the start {i}")
        live.catch_up()
        for i in range(3):  # the live projector's next page
            say(quiet, f"during the start {i}")

        holding = threading.Event()
        errors: list[BaseException] = []
        models = default_read_models()
        timeline = next(m for m in models if m.name == "timeline")
        create = timeline.create

        def create_then_let_the_page_start(sql: Sql) -> None:
            create(sql)  # the models before it are set up, and its table is locked by its indexes
            holding.set()
            deadline = time.monotonic() + 60
            while not waits_on_a_lock(settings.database_url or "", names["live"]):
                assert time.monotonic() < deadline, "the live projector's page never waited"
                time.sleep(0.05)

        timeline.create = create_then_let_the_page_start  # type: ignore[method-assign]

        def start() -> None:
            try:
                Projector(app.recorder, app.mapper, stores["starting"], models)
            except BaseException as error:
                errors.append(error)

        starting = threading.Thread(target=start)
        starting.start()
        assert holding.wait(60)
        live.run_once()  # waits for the setup, which then goes on: before the fix one of the two was killed
        starting.join(60)
        assert not starting.is_alive()
        assert not errors
        assert live.position() == live.head()
    finally:
        for store in stores.values():
            store.close()
