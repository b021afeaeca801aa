"""Backup and restore of the whole log (`diplo export --all`, `diplo import`), from either backend to either,
and restoring the JSON-lines export of public events (`diplo export events --format jsonl`).

What is compared after a restore:
- the log, event by event: position, aggregate id, version, topic and the stored state's bytes (which hold
  each event's id and timestamp) -- for a backup, every event; for a public export, every public event
  byte for byte, and each regenerated index entry equal but for its timestamp;
- every table of every read model, and the tracking table, row by row -- positions included. Where the
  source log had gaps (PostgreSQL), the restored log is dense and each source position is mapped to the
  restored position of the same event (same aggregate, same version) before comparing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from typer.testing import CliRunner

from api import cli
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import RecordAct, RecordStatement, Retract
from domain.service import Idempotency
from domain.values import ActKind, Confidence, Position
from projections.backup import FORMAT
from seeds.loader import seed
from tests.factories import FIRST_RELEASE, SOURCES

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG = pytest.mark.postgres
LogRow = tuple[int, str, int, str, bytes]


def _pg_url() -> str:
    import os

    return os.environ.get("DIPLO_TEST_DATABASE_URL", PG_URL)


@contextmanager
def store(backend: str, data_dir: Path) -> Iterator[Settings]:
    """Settings for an empty store of its own (a fresh PostgreSQL schema, dropped afterwards)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    postgres = backend == "postgres"
    yield Settings(data_dir=data_dir, database_url=_pg_url() if postgres else None,
                   database_schema=schema if postgres else "public", write_tokens="test-writer-token")
    if postgres:
        with psycopg.connect(_pg_url(), autocommit=True) as conn:
            for doomed in (schema, f"{schema}_views"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


@contextmanager
def opened(settings: Settings) -> Iterator[Runtime]:
    runtime = bootstrap(settings, start_projector=False, follow=False)
    try:
        runtime.projector.catch_up()
        yield runtime
    finally:
        runtime.close()


def diplo(settings: Settings, *args: str) -> Any:
    env = {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_DATABASE_URL": settings.database_url,
           "DIPLO_DATABASE_SCHEMA": settings.database_schema, "DIPLO_WRITE_TOKENS": "unused"}
    return CliRunner().invoke(cli.app, list(args), env=env)


def log_of(runtime: Runtime) -> list[LogRow]:
    rows: list[LogRow] = []
    position = 0
    while True:
        page = runtime.app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
        if not page:
            return rows
        rows += [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in page]
        position = page[-1].id


def views_of(runtime: Runtime, moved: dict[int, int] | None = None) -> dict[str, list[str]]:
    """Every row of every read-model table and of the tracking table, log positions mapped by `moved`."""
    tables = [t for model in runtime.projector.read_models for t in model.tables] + ["view_tracking"]
    out: dict[str, list[str]] = {}
    with runtime.store.reading() as sql:
        for table in tables:
            rows = []
            for row in sql.rows(f"SELECT * FROM {table}"):
                for column in ("position", "retraction_position"):  # not position_on: a statement's position
                    if moved and isinstance(row.get(column), int):
                        row[column] = moved.get(row[column], row[column])
                rows.append(json.dumps(row, sort_keys=True, default=str))
            out[table] = sorted(rows)
    return out


def positions_moved(source: list[LogRow], restored: list[LogRow]) -> dict[int, int]:
    """Source position -> restored position of the same event (same aggregate and version)."""
    where = {(r[1], r[2]): r[0] for r in restored}
    return {r[0]: where[(r[1], r[2])] for r in source if (r[1], r[2]) in where}


def write_corrections(runtime: Runtime) -> None:
    """After the seeds: a later act, a backfill, a retracted act, a retracted statement, an act with an
    idempotency key, and a statement whose text needs escaping everywhere."""
    app = runtime.app
    app.handle(RecordAct(declaration_id="bletchley-declaration", kind=ActKind.WITHDRAWN, party="NZ",
                   occurred_on=date(2025, 3, 1), sources=SOURCES, confidence=Confidence.LOW))
    signed = app.handle(RecordAct(declaration_id="paris-statement", kind=ActKind.SIGNED, party="GB",
                            occurred_on=date(2025, 3, 1), sources=SOURCES, confidence=Confidence.LOW))
    app.handle(Retract(event_id=signed.event_id, reason="The wire report was wrong.", sources=SOURCES))
    app.handle(RecordAct(declaration_id="coe-framework-convention-ai", kind=ActKind.SIGNED, party="NZ",
                   occurred_on=date(2024, 9, 20), sources=SOURCES, confidence=Confidence.HIGH),
               Idempotency("backfill-nz-coe", "hash-1"))
    said = app.handle(RecordStatement(party="FR", occurred_on=date(2025, 2, 11), sources=SOURCES,
                                text='Nous signons, "avec joie"\net sans réserve — 署名', about="paris-statement",
                                position=Position.SUPPORTS))
    app.handle(Retract(event_id=said.event_id, reason="Misattributed.", sources=SOURCES))


def make_source(backend: str, data_dir: Path) -> Iterator[Settings]:
    with store(backend, data_dir) as settings, opened(settings) as runtime:
        seed(runtime.app, through=FIRST_RELEASE)
        write_corrections(runtime)
        runtime.projector.catch_up()
        yield settings


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield from make_source("sqlite", tmp_path_factory.mktemp("source-sqlite"))


@pytest.fixture(scope="module")
def postgres_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield from make_source("postgres", tmp_path_factory.mktemp("source-postgres"))


def source_for(request: pytest.FixtureRequest, backend: str) -> Settings:
    found: Settings = request.getfixturevalue(f"{backend}_source")
    return found


def backup(settings: Settings, out: Path) -> Path:
    result = diplo(settings, "export", "--all", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def restore_into(settings: Settings, file: Path) -> Any:
    result = diplo(settings, "import", str(file), "--batch-size", "97")  # batches that do not divide the log
    assert result.exit_code == 0, result.output
    return result


# -- the whole log, from either backend to either ---------------------------------------------------------------

ROUND_TRIPS = [
    pytest.param("sqlite", "postgres", marks=PG, id="sqlite-to-postgres"),
    pytest.param("postgres", "sqlite", marks=PG, id="postgres-to-sqlite"),
    pytest.param("sqlite", "sqlite", id="sqlite-to-sqlite"),
]


@pytest.mark.parametrize(("source_backend", "target_backend"), ROUND_TRIPS)
def test_a_backup_restored_into_an_empty_store_gives_back_the_same_log_and_read_models(
    request: pytest.FixtureRequest, tmp_path: Path, source_backend: str, target_backend: str
) -> None:
    source = source_for(request, source_backend)
    file = backup(source, tmp_path / "log.jsonl")
    with store(target_backend, tmp_path / "target") as target:
        result = restore_into(target, file)
        assert "every event kept its position" in result.output
        with opened(source) as before, opened(target) as after:
            original, restored = log_of(before), log_of(after)
            assert [r[0] for r in original] == list(range(1, len(original) + 1)), "the source log is contiguous"
            assert restored == original  # positions, ids, versions, topics and state bytes (ids, timestamps)
            assert views_of(after) == views_of(before)
            assert after.projector.position() == original[-1][0]


def test_a_backup_holds_every_stored_event_between_a_header_and_an_end_line(
    sqlite_source: Settings, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in backup(sqlite_source, tmp_path / "log.jsonl").read_text().splitlines()]
    header, events, end = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == FORMAT and header["head"] == len(events) == end["events"]
    topics = {e["topic"] for e in events}
    assert {"diplo:internal.EventIndex.Indexed", "diplo:internal.IdempotencyKey.Claimed",
            "diplo:Declaration.Signed", "diplo:Statement.Retracted"} <= topics
    assert all("state" in e and "timestamp" in e["state"] for e in events)  # readable JSON, not base64


def test_a_restored_store_takes_new_writes_and_remembers_idempotency_keys(
    sqlite_source: Settings, tmp_path: Path
) -> None:
    file = backup(sqlite_source, tmp_path / "log.jsonl")
    with store("sqlite", tmp_path / "target") as target:
        restore_into(target, file)
        with opened(target) as runtime:
            again = runtime.app.handle(RecordAct(
                declaration_id="coe-framework-convention-ai", kind=ActKind.SIGNED, party="NZ",
                occurred_on=date(2024, 9, 20), sources=SOURCES, confidence=Confidence.HIGH),
                Idempotency("backfill-nz-coe", "hash-1"))
            assert again.replayed
            new = runtime.app.handle(RecordAct(declaration_id="paris-statement", kind=ActKind.SIGNED, party="US",
                                         occurred_on=date(2025, 4, 1), sources=SOURCES, confidence=Confidence.LOW))
            assert new.position == len(log_of(runtime)) - 1  # the act, then its index entry


@pytest.mark.postgres
def test_a_postgres_log_with_gaps_is_restored_densely_in_the_same_order(tmp_path: Path) -> None:
    with store("postgres", tmp_path / "source") as source, opened(source) as runtime:
        seed(runtime.app, through=FIRST_RELEASE)
        first = runtime.app.recorder.select_notifications(start=1, limit=1)[0]
        with pytest.raises(IntegrityError):  # a rolled-back insert consumes a position
            runtime.app.recorder.insert_events([first])
        write_corrections(runtime)
        runtime.projector.catch_up()
        original = log_of(runtime)
        assert [r[0] for r in original] != list(range(1, len(original) + 1)), "the source log has a gap"
        file = backup(source, tmp_path / "log.jsonl")
        with store("sqlite", tmp_path / "target") as target:
            result = restore_into(target, file)
            assert "took new positions" in result.output
            with opened(target) as after:
                restored = log_of(after)
                assert [r[0] for r in restored] == list(range(1, len(original) + 1))
                assert [r[1:] for r in restored] == [r[1:] for r in original]
                assert views_of(after) == views_of(runtime, positions_moved(original, restored))


# -- refusals: nothing is inserted ---------------------------------------------------------------------------------


def test_import_refuses_a_store_that_is_not_empty(sqlite_source: Settings, tmp_path: Path) -> None:
    file = backup(sqlite_source, tmp_path / "log.jsonl")
    with opened(sqlite_source) as runtime:
        head = runtime.app.recorder.max_notification_id()
    result = diplo(sqlite_source, "import", str(file))
    assert result.exit_code == 2
    assert "already holds events" in result.output and "empty store only" in result.output
    with opened(sqlite_source) as runtime:
        assert runtime.app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: lines[:-1], "truncated"),
        (lambda lines: lines[:-40] + lines[-1:], "the end line counts"),
        (lambda lines: [*lines[:5], "{not json", *lines[5:]], "line 6: not a stored event"),
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "does not follow"),
        (lambda lines: [lines[0], lines[1].replace('"confidence":"high"', '"confidence":"low"'), *lines[2:]],
         "was changed"),
        (lambda lines: [json.dumps({"hello": "world"})], "neither the header"),
        (lambda lines: [], "empty"),
    ],
    ids=["no-end-line", "lines-missing", "not-json", "out-of-order", "altered", "not-a-backup", "empty"],
)
def test_a_damaged_backup_is_refused_whole_and_inserts_nothing(
    sqlite_source: Settings, tmp_path: Path, damage: Any, message: str
) -> None:
    lines = backup(sqlite_source, tmp_path / "log.jsonl").read_text().splitlines()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(line + "\n" for line in damage(lines)))
    with store("sqlite", tmp_path / "target") as target:
        result = diplo(target, "import", str(damaged))
        assert result.exit_code == 2, result.output
        assert message in result.output
        with opened(target) as runtime:
            assert not runtime.app.recorder.max_notification_id()


def test_a_page_of_v1_events_without_its_log_part_is_refused_with_the_way_to_export(
    sqlite_source: Settings, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    assert diplo(sqlite_source, "export", "events", "--out", str(events)).exit_code == 0
    stripped = tmp_path / "stripped.jsonl"
    stripped.write_text("".join(
        json.dumps({k: v for k, v in json.loads(line).items() if k != "log"}) + "\n"
        for line in events.read_text().splitlines()
    ))
    with store("sqlite", tmp_path / "target") as target:
        result = diplo(target, "import", str(stripped))
        assert result.exit_code == 2 and "without its `log` part" in result.output


# -- the public export of events restores the same read models (issue 4) -----------------------------------------


@pytest.mark.parametrize(("source_backend", "target_backend"), ROUND_TRIPS)
def test_importing_the_json_lines_export_of_events_gives_the_same_read_models(
    request: pytest.FixtureRequest, tmp_path: Path, source_backend: str, target_backend: str
) -> None:
    source = source_for(request, source_backend)
    events = tmp_path / "events.jsonl"
    result = diplo(source, "export", "events", "--format", "jsonl", "--out", str(events))
    assert result.exit_code == 0, result.output
    with store(target_backend, tmp_path / "target") as target:
        restored_output = restore_into(target, events).output
        assert "index entries regenerated" in restored_output
        with opened(source) as before, opened(target) as after:
            original, restored = log_of(before), log_of(after)
            public = [r for r in original if not r[3].startswith("diplo:internal.")]
            assert [r for r in restored if not r[3].startswith("diplo:internal.")] == [
                (positions_moved(original, restored)[r[0]], *r[1:]) for r in public
            ]  # every public event byte for byte (ids, timestamps), in the same order
            # The source's one idempotency key is not in a public export: the events after it move up by one.
            assert len(restored) == len(original) - 1
            assert views_of(after, None) == views_of(before, positions_moved(original, restored))


def test_a_store_restored_from_the_events_export_can_retract_its_acts(
    sqlite_source: Settings, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    assert diplo(sqlite_source, "export", "events", "--out", str(events)).exit_code == 0
    with store("sqlite", tmp_path / "target") as target:
        restore_into(target, events)
        with opened(target) as runtime:
            with runtime.store.reading() as sql:
                act = sql.one("SELECT event_id FROM timeline WHERE party = 'US' AND declaration_id = 'paris-statement'")
            assert act is not None
            receipt = runtime.app.handle(Retract(event_id=uuid.UUID(act["event_id"]), reason="test", sources=SOURCES))
            assert receipt.kind == "retracted"


def test_index_entries_regenerated_from_the_events_export_differ_only_in_their_timestamp(
    sqlite_source: Settings, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    assert diplo(sqlite_source, "export", "events", "--out", str(events)).exit_code == 0
    with store("sqlite", tmp_path / "target") as target:
        restore_into(target, events)
        with opened(sqlite_source) as before, opened(target) as after:
            def index_entries(runtime: Runtime) -> dict[str, dict[str, Any]]:
                found = {}
                for _, originator_id, _, topic, state in log_of(runtime):
                    if topic == "diplo:internal.EventIndex.Indexed":
                        fields = json.loads(state)
                        del fields["timestamp"]
                        found[originator_id] = fields
                return found

            assert index_entries(after) == index_entries(before)
