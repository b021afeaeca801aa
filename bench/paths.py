"""The in-process benchmarks, each with its floor measured right beside it in the same run.

- import: `diplo import` of the commands as a command file (parsed, decided by the service's rules on
  aggregates held in memory, stored in one transaction), against a raw bulk insert of the very rows it
  stored (executemany / COPY into a table shaped like eventsourcing's events table); and, for context,
  the same commands one transaction each, as the HTTP API writes them;
- rebuild: Projector.catch_up into a fresh view store, against a raw read of the same events;
- stance at a date: projections.stance_history.stances_of on one reading connection, against the same
  SQL on a bare driver connection (the floor) and the naive path that folds declaration aggregates.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from api.bootstrap import Runtime, bootstrap
from bench.commands import replay
from bench.stats import ratio, summary_ms, timed
from bench.stores import Workspace, workspace
from domain.declaration import Declaration
from projections.projector import Projector
from projections.readmodel import timestamp
from projections.stance_history import EVERY_DECLARATION, ONE_PAIR, both_times, stance_of, stances_of
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore, postgres_placeholders

Log = Callable[[str], None]


def _events_count(ws: Workspace) -> int:
    conn = ws.raw_connection()
    try:
        row = conn.execute(f"SELECT COUNT(*) FROM {ws.events_table()}").fetchone()
        return int(row[0])
    finally:
        conn.close()


# -- import -------------------------------------------------------------------------------------------


def bulk_import(rt: Runtime, commands: list[dict[str, Any]], ws: Workspace, log: Log) -> dict[str, Any]:
    """`diplo import` of the commands written as a command file, in process (no interpreter start, and the
    read models' catch-up left out: the rebuild measures it): read and check every line, decide every
    command by the service's rules on aggregates held in memory, store all events in one transaction."""
    from api.command_lines import read_commands
    from domain.bulk import BulkImport

    path = ws.directory / "commands.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for command in commands:
            out.write(json.dumps(command) + "\n")
    with timed() as watch, path.open(encoding="utf-8") as handle:
        result = BulkImport(rt.app).run(read_commands(handle), progress=lambda n: log(f"  decided {n:,} commands"),
                                        every=100_000)
    rows = _events_count(ws)
    return {"commands": result.commands, "events": rows, "last_position": result.last_position,
            "file_mib": round(path.stat().st_size / 2**20, 1), "seconds": round(watch.seconds, 3),
            "commands_per_s": round(result.commands / watch.seconds, 1), "events_per_s": round(rows / watch.seconds, 1)}


def import_one_by_one(commands: list[dict[str, Any]], backend: str, root: Path, postgres_url: str,
                      log: Log) -> dict[str, Any]:
    """For context: every command through DiplomaticRecord, one transaction each, as the HTTP API writes,
    into a fresh store of the same backend, with its own floor (the rows it stored, inserted raw)."""
    with workspace(backend, root, postgres_url) as ws:
        rt = bootstrap(ws.settings, start_projector=False, follow=False)
        try:
            found = import_through_service(rt, commands, ws, log)
            found["floor"] = import_floor(ws)
            found["ratio"] = ratio(found["events_per_s"], found["floor"]["floor_rows_per_s"])
        finally:
            rt.close()
    return found


def import_through_service(rt: Runtime, commands: list[dict[str, Any]], ws: Workspace, log: Log) -> dict[str, Any]:
    """Every command through DiplomaticRecord, one transaction each, as `diplo seed` and the API do."""
    with timed() as watch:
        last = replay(rt.app, commands, progress=lambda n: log(f"  import: {n}/{len(commands)} commands"))
    rows = _events_count(ws)
    return {"commands": len(commands), "events": rows, "last_position": last, "seconds": round(watch.seconds, 3),
            "commands_per_s": round(len(commands) / watch.seconds, 1), "events_per_s": round(rows / watch.seconds, 1)}


def _stored_rows(ws: Workspace) -> list[tuple[Any, ...]]:
    conn = ws.raw_connection()
    try:
        order = "rowid" if ws.backend == "sqlite" else "notification_id"
        return list(conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {ws.events_table()} ORDER BY {order}"
        ).fetchall())
    finally:
        conn.close()


def import_floor(ws: Workspace) -> dict[str, Any]:
    """The same rows, inserted raw in one transaction into a table shaped like the events table."""
    rows = _stored_rows(ws)
    found: dict[str, Any] = {"rows": len(rows)}
    if ws.backend == "sqlite":
        path = ws.directory / "floor.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # as eventsourcing sets it
        conn.execute("CREATE TABLE floor_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
                     " state BLOB, PRIMARY KEY (originator_id, originator_version))")
        with timed() as watch:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO floor_events VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        conn.close()
        found["executemany"] = {"seconds": round(watch.seconds, 4), "rows_per_s": round(len(rows) / watch.seconds, 1)}
    else:
        schema = ws.other_schema("floor")
        with psycopg.connect(ws.postgres_url or "", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            for method in ("executemany", "copy"):
                table = f'"{schema}"."floor_{method}"'
                conn.execute(f"CREATE TABLE {table} (LIKE {ws.events_table()} INCLUDING ALL)")
                with timed() as watch, conn.transaction(), conn.cursor() as cursor:
                    if method == "executemany":
                        cursor.executemany(f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
                                           " VALUES (%s, %s, %s, %s)", rows)
                    else:
                        with cursor.copy(f"COPY {table} (originator_id, originator_version, topic, state)"
                                         " FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                found[method] = {"seconds": round(watch.seconds, 4), "rows_per_s": round(len(rows) / watch.seconds, 1)}
    best = max(v["rows_per_s"] for k, v in found.items() if isinstance(v, dict))
    found["floor_rows_per_s"] = best
    return found


def diplo_import_available() -> bool:
    """`diplo import` (api/cli_export.py, projections/backup.py): restores a backup into an empty store."""
    return importlib.util.find_spec("projections.backup") is not None


def diplo_import(rt: Runtime, ws: Workspace, root: Path, postgres_url: str) -> dict[str, Any]:
    """`diplo export --all` of the imported log to JSON lines, then `diplo import` of that file into a fresh
    store, as the command does it (check every line first, holding them, then insert in batches of 1,000), in process:
    no interpreter start, and the read models' catch-up left out (the rebuild measures it)."""
    from projections.backup import backup_lines, read_file, restore

    path = ws.directory / "backup.jsonl"
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in backup_lines(rt.app.recorder, page_size=1000):
            out.write(chunk)
    with workspace(ws.backend, root, postgres_url) as fresh:
        frt = bootstrap(fresh.settings, start_projector=False, follow=False)
        try:
            with timed() as total:
                with path.open(encoding="utf-8", newline="") as handle:
                    kind, events = read_file(handle, frt.app.mapper)
                    kept = list(events)  # checked once and held, as the command does for a file of this size
                    lines = len(kept)
                with timed() as insert:
                    restore(frt.app.recorder, kind, kept, batch_size=1000)
            rows = _events_count(fresh)
            floor = import_floor(fresh)
        finally:
            frt.close()
    return {"file_mib": round(path.stat().st_size / 2**20, 1), "lines": lines, "events": rows,
            "seconds": round(total.seconds, 3), "events_per_s": round(rows / total.seconds, 1),
            "insert_seconds": round(insert.seconds, 3), "insert_events_per_s": round(rows / insert.seconds, 1),
            "floor": floor, "ratio": ratio(rows / total.seconds, floor["floor_rows_per_s"])}


# -- rebuild ------------------------------------------------------------------------------------------


def fresh_view_store(ws: Workspace, name: str) -> ViewStore:
    if ws.backend == "sqlite":
        return SQLiteViewStore(ws.directory / f"{name}.sqlite3", fixed=True)
    return PostgresViewStore(ws.postgres_url or "", ws.other_schema(name), pool_size=2)


def rebuild(rt: Runtime, ws: Workspace, name: str = "rebuilt") -> tuple[dict[str, Any], ViewStore]:
    """Projector.catch_up from position 0 into an empty view store, with the app's page size."""
    store = fresh_view_store(ws, name)
    head = rt.projector.head()
    projector = Projector(rt.app.recorder, rt.app.mapper, store, page_size=rt.settings.page_size)
    with timed() as watch:
        projector.catch_up()
    return {"events": head, "seconds": round(watch.seconds, 3), "events_per_s": round(head / watch.seconds, 1),
            "page_size": rt.settings.page_size}, store


def read_floors(rt: Runtime, ws: Workspace) -> dict[str, Any]:
    """Reading the same events without processing them: raw SQL, then the recorder's pages, then decoding."""
    head = rt.projector.head()
    found: dict[str, Any] = {"events": head}
    conn = ws.raw_connection()
    order = "rowid" if ws.backend == "sqlite" else "notification_id"
    with timed() as watch:
        cursor = conn.execute(f"SELECT {order}, originator_id, originator_version, topic, state"
                              f" FROM {ws.events_table()} ORDER BY {order}")
        n = 0
        while batch := cursor.fetchmany(rt.settings.page_size):
            n += len(batch)
    conn.close()
    found["raw_sql"] = {"rows": n, "seconds": round(watch.seconds, 4), "events_per_s": round(n / watch.seconds, 1)}

    def pages(decode: bool) -> tuple[int, float]:
        start, n = 0, 0
        with timed() as watch:
            while True:
                page = rt.app.recorder.select_notifications(start=start, limit=rt.settings.page_size,
                                                            inclusive_of_start=False)
                if not page:
                    break
                if decode:
                    for notification in page:
                        rt.app.mapper.to_domain_event(notification)
                n += len(page)
                start = page[-1].id
        return n, watch.seconds

    n, seconds = pages(decode=False)
    found["notification_pages"] = {"rows": n, "seconds": round(seconds, 4), "events_per_s": round(n / seconds, 1)}
    n, seconds = pages(decode=True)
    found["pages_and_decode"] = {"rows": n, "seconds": round(seconds, 4), "events_per_s": round(n / seconds, 1)}
    found["floor_events_per_s"] = found["raw_sql"]["events_per_s"]
    return found


# -- stance at a date ---------------------------------------------------------------------------------


def _sample(store: ViewStore, n: int, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(party, at) questions over the parties that have stances, and (party, declaration, at) for one pair."""
    rng = random.Random(seed)
    with store.reading() as sql:
        parties = sorted(r["party"] for r in sql.rows("SELECT DISTINCT party FROM stance_acts"))
        pairs = [(r["party"], r["declaration_id"], r["published_on"]) for r in sql.rows(
            "SELECT DISTINCT a.party, a.declaration_id, d.published_on FROM stance_acts a"
            " JOIN stance_declarations d ON d.declaration_id = a.declaration_id ORDER BY a.party, a.declaration_id")]
    first, last = date(1995, 1, 1), date(2025, 6, 30)
    questions = [(rng.choice(parties), (first + timedelta(days=rng.randrange((last - first).days))).isoformat())
                 for _ in range(n)]
    single = []
    for _ in range(n):
        party, declaration, published = rng.choice(pairs)
        low = date.fromisoformat(published)
        single.append((party, declaration, (low + timedelta(days=rng.randrange((last - low).days + 1))).isoformat()))
    return questions, single


def _raw_view_connection(ws: Workspace, store: ViewStore) -> Any:
    if isinstance(store, SQLiteViewStore):
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.execute("BEGIN")
        return conn
    assert isinstance(store, PostgresViewStore)
    conn = psycopg.connect(ws.postgres_url or "", autocommit=False)
    conn.execute(f'SET search_path TO "{store.schema}"')
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    return conn


def stance_in_process(rt: Runtime, ws: Workspace, store: ViewStore, *, queries: int, naive_full: int,
                      seed: int = 11) -> dict[str, Any]:
    """p50/p99 of one stance question, four ways, on the same questions."""
    questions, single = _sample(store, queries, seed)
    known_at = timestamp(datetime.now(UTC))
    found: dict[str, Any] = {"queries": queries}

    # Every way below is timed on a warm cache: asked first on a cold one (a 3.5 GB view store at 1M), a way paid
    # for reading the pages from disk and was then compared with a floor timed on the pages it had just loaded
    # (the one pair at 1M measured 2.11x its floor so). So each question is asked once, untimed, first.
    # The floors run the engine's very statements on a bare driver, in its placeholders.
    raw_sql, pair_sql = ((EVERY_DECLARATION, ONE_PAIR) if ws.backend == "sqlite"
                         else (postgres_placeholders(EVERY_DECLARATION), postgres_placeholders(ONE_PAIR)))
    conn = _raw_view_connection(ws, store)
    for party, at in questions:
        conn.execute(raw_sql, (party, *both_times(at, known_at, "low"))).fetchall()
    for party, declaration, at in single:
        conn.execute(pair_sql, (party, declaration, *both_times(at, known_at, "low"))).fetchall()

    # the floor: the same SQL on a bare driver connection, rows left as the driver gives them
    times = []
    for party, at in questions:
        start = time.perf_counter()
        conn.execute(raw_sql, (party, *both_times(at, known_at, "low"))).fetchall()
        times.append(time.perf_counter() - start)
    conn.rollback() if ws.backend == "postgres" else conn.execute("ROLLBACK")
    conn.close()
    found["floor_raw_sql"] = summary_ms(times)

    # the read model, as the CLI and the API ask it: stances_of on one reading connection
    times, answers = [], 0
    with store.reading() as sql:
        for party, at in questions:
            start = time.perf_counter()
            answers += len(stances_of(sql, party, at, known_at))
            times.append(time.perf_counter() - start)
    found["stances_of"] = summary_ms(times) | {"mean_rows": round(answers / queries, 2)}

    # the same, with a reading transaction opened per question (what one HTTP request costs the store)
    times = []
    for party, at in questions[: max(1, queries // 2)]:
        start = time.perf_counter()
        with store.reading() as sql:
            stances_of(sql, party, at, known_at)
        times.append(time.perf_counter() - start)
    found["stances_of_own_transaction"] = summary_ms(times)

    # one pair, the question of docs/design.md ("what was this country's stance on that date"): the engine's
    # stance_of, one indexed lookup with the declaration in the WHERE clause ...
    times, stances_read = [], []
    with store.reading() as sql:
        for party, declaration, at in single:
            start = time.perf_counter()
            row = stance_of(sql, party, declaration, at, known_at)
            times.append(time.perf_counter() - start)
            stances_read.append(row["stance"] if row else None)
    found["one_pair_read_model"] = summary_ms(times)
    # ... against its floor, the same SQL on a bare driver connection ...
    conn = _raw_view_connection(ws, store)
    times = []
    for party, declaration, at in single:
        start = time.perf_counter()
        conn.execute(pair_sql, (party, declaration, *both_times(at, known_at, "low"))).fetchall()
        times.append(time.perf_counter() - start)
    conn.rollback() if ws.backend == "postgres" else conn.execute("ROLLBACK")
    conn.close()
    found["one_pair_floor_raw_sql"] = summary_ms(times)
    # ... against the party's every stance filtered in Python (what the route did before stance_of) ...
    times, stances_filtered = [], []
    with store.reading() as sql:
        for party, declaration, at in single:
            start = time.perf_counter()
            rows = [r for r in stances_of(sql, party, at, known_at) if r["declaration_id"] == declaration]
            times.append(time.perf_counter() - start)
            stances_filtered.append(rows[0]["stance"] if rows else None)
    found["one_pair_filtered_in_python"] = summary_ms(times) | {"answers_agree": stances_filtered == stances_read}
    # ... and against the naive path a library user would write: fold the declaration's events per question.
    times, stances_naive = [], []
    for party, declaration, at in single:
        start = time.perf_counter()
        aggregate: Declaration = rt.app.repository.get(Declaration.id_for(declaration))
        act = aggregate.stance_of(party, date.fromisoformat(at))
        times.append(time.perf_counter() - start)
        stances_naive.append(str(act.kind) if act else None)
    found["one_pair_naive_fold"] = summary_ms(times)
    found["one_pair_answers_agree"] = stances_read == stances_naive

    # a party's stance on everything, naively: fold every declaration on every question
    with store.reading() as sql:
        slugs = [r["declaration_id"] for r in sql.rows("SELECT declaration_id FROM stance_declarations")]
    times = []
    for party, at in questions[:naive_full]:
        start = time.perf_counter()
        day = date.fromisoformat(at)
        for slug in slugs:
            rt.app.repository.get(Declaration.id_for(slug)).stance_of(party, day)
        times.append(time.perf_counter() - start)
    found["all_declarations_naive_fold"] = summary_ms(times)

    found["speedup_over_naive_one_pair"] = ratio(found["one_pair_naive_fold"].get("p50_ms"),
                                                 found["one_pair_read_model"].get("p50_ms"))
    found["speedup_over_naive_all"] = ratio(found["all_declarations_naive_fold"].get("p50_ms"),
                                            found["stances_of"].get("p50_ms"))
    return found
