"""Tamper evidence: every stored event is linked to the one before it by a SHA-256 hash, written in the
transaction that stores it, and `diplo verify` names the first position that was altered, inserted or
removed behind the application's back (here, with plain SQL on the events table, on both backends)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import HostSummit
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from domain.values import Confidence
from projections.store import postgres_placeholders
from seeds.loader import seed
from seeds.organisations import load_organisations
from storage import chain
from storage import postgres as chained_postgres
from storage import sqlite as chained_sqlite
from storage.chain import (
    BrokenChain,
    ChainReport,
    ChainRow,
    StoredFields,
    canonical,
    genesis,
    link,
    parse_anchor,
    verify,
    verify_rows,
)
from storage.log import open_chained_log
from tests.factories import SOURCES

ROOT = Path(__file__).resolve().parents[2]
PAGE = 37  # small and odd, so pages end in awkward places around the damage


class RawLog:
    """The events table and its links, reached with plain SQL behind the application's back."""

    def __init__(self, settings: Settings) -> None:
        self.postgres = settings.database_url is not None
        if settings.database_url is not None:
            schema = settings.database_schema
            self.events, self.hashes, self.pos = f'"{schema}".diplo_events', f'"{schema}".diplo_events_hashes', \
                "notification_id"
            self.pg = psycopg.connect(settings.database_url, autocommit=True)
        else:
            self.events, self.hashes, self.pos = "stored_events", "stored_events_hashes", "rowid"
            self.lite = sqlite3.connect(settings.data_dir / "events.sqlite3", isolation_level=None)

    def sql(self, template: str, *params: Any) -> list[tuple[Any, ...]]:
        """Runs one statement; `{events}`, `{hashes}`, `{pos}` name the tables and the position column."""
        statement = template.format(events=self.events, hashes=self.hashes, pos=self.pos)
        if self.postgres:
            cursor = self.pg.execute(postgres_placeholders(statement), params)
            return list(cursor.fetchall()) if cursor.description else []
        return self.lite.execute(statement, params).fetchall()

    def new_originator(self) -> object:
        return uuid.uuid4() if self.postgres else uuid.uuid4().hex

    def positions(self) -> list[int]:
        return [int(r[0]) for r in self.sql("SELECT {pos} FROM {events} ORDER BY {pos}")]

    def position_holding(self, needle: bytes) -> int:
        return next(int(p) for p, state in self.sql("SELECT {pos}, state FROM {events} ORDER BY {pos}")
                    if needle in bytes(state))

    def close(self) -> None:
        if self.postgres:
            self.pg.close()
        else:
            self.lite.close()


@pytest.fixture
def record(settings: Settings) -> Iterator[Runtime]:
    """The application on the test's backend, without projector or follower."""
    runtime = bootstrap(settings, start_projector=False, follow=False)
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def seeded_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Settings]]:
    """One seeded store per backend for the module; each test gets a byte-for-byte copy of its log."""
    made: dict[str, Settings] = {}
    yield made
    for settings in made.values():
        if settings.database_url is not None:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                for doomed in (settings.database_schema, settings.views_schema):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


def seeded_template(templates: dict[str, Settings], settings: Settings, where: Path) -> Settings:
    backend = "sqlite" if settings.database_url is None else "postgres"
    if backend not in templates:
        template = settings.model_copy(update={"data_dir": where, "database_schema": f"t_{uuid.uuid4().hex[:12]}"})
        templates[backend] = template
        runtime = bootstrap(template, start_projector=False, follow=False)
        try:
            seed(runtime.app)
        finally:
            runtime.close()
    return templates[backend]


@pytest.fixture
def raw(settings: Settings, record: Runtime) -> Iterator[RawLog]:
    log = RawLog(settings)
    yield log
    log.close()


@pytest.fixture
def seeded_log(record: Runtime, raw: RawLog, settings: Settings, seeded_templates: dict[str, Settings],
               tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The seeds' log: the same events, positions and links as `diplo seed` stores (copied, for speed)."""
    template = seeded_template(seeded_templates, settings, tmp_path_factory.mktemp("template"))
    columns = "originator_id, originator_version, topic, state"
    if raw.postgres:
        source = f'"{template.database_schema}"'
        raw.sql(f"INSERT INTO {{events}} (notification_id, {columns}) "
                f"SELECT notification_id, {columns} FROM {source}.diplo_events")
        raw.sql(f"INSERT INTO {{hashes}} SELECT * FROM {source}.diplo_events_hashes")
        raw.sql("SELECT setval(pg_get_serial_sequence(?, 'notification_id'), (SELECT max(notification_id) "
                "FROM {events}))", raw.events)
    else:
        raw.sql("ATTACH DATABASE ? AS template", str(template.data_dir / "events.sqlite3"))
        raw.sql(f"INSERT INTO {{events}} (rowid, {columns}) SELECT rowid, {columns} FROM template.stored_events")
        raw.sql("INSERT INTO {hashes} SELECT * FROM template.stored_events_hashes")
        raw.sql("DETACH DATABASE template")
    return record


def check(settings: Settings, **options: Any) -> ChainReport:
    """`diplo verify`'s own function, on a recorder of its own."""
    with open_chained_log(DiplomaticRecord.name, settings.eventsourcing_env()) as recorder:
        return verify(recorder, page_size=PAGE, **options)


@dataclass
class Ran:
    returncode: int
    stdout: str


def diplo_verify(settings: Settings, *args: str, process: bool = False) -> Ran:
    """`diplo verify` with the settings' store: in this process, or (`process`) as a user runs it."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DIPLO_")}
    env["DIPLO_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url is not None:
        env["DIPLO_DATABASE_URL"] = settings.database_url
        env["DIPLO_DATABASE_SCHEMA"] = settings.database_schema
    if not process:
        result = CliRunner().invoke(cli.app, ["verify", *args], env=env)
        return Ran(result.exit_code, result.output)
    plain = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    done = subprocess.run([sys.executable, "-m", "api.cli", "verify", *args], cwd=ROOT, env=plain,
                          capture_output=True, text=True, timeout=120, check=False)
    return Ran(done.returncode, done.stdout + done.stderr)


def forged_events(count: int) -> list[StoredEvent]:
    return [StoredEvent(originator_id=uuid.uuid4(), originator_version=1, topic="tests.forged:Event",
                        state=b'{"n": %d}' % i) for i in range(count)]


# -- a log nobody touched -----------------------------------------------------------------------------------


def test_a_seeded_log_verifies_whole_and_names_its_head_hash(seeded_log: Runtime, settings: Settings,
                                                             raw: RawLog) -> None:
    report = check(settings)
    positions = raw.positions()
    assert report.ok, report.breaks
    assert report.events == report.linked == len(positions) > 400
    assert (report.starts_at, report.head_position) == (positions[0], positions[-1])
    assert report.unlinked_before_start == 0
    head = seeded_log.app.recorder.chain_head()  # type: ignore[attr-defined]
    assert head == (report.head_position, report.head_hash)

    done = diplo_verify(settings, process=True)
    assert done.returncode == 0, done.stdout
    assert "chain OK" in done.stdout
    assert f"{report.head_position}:{report.head_hash.hex()}" in done.stdout  # type: ignore[union-attr]


def test_every_link_is_the_hash_of_the_link_before_and_the_stored_event(seeded_log: Runtime, raw: RawLog) -> None:
    rows = raw.sql("SELECT e.{pos}, e.originator_id, e.originator_version, e.topic, e.state, h.hash "
                   "FROM {events} e JOIN {hashes} h ON h.position = e.{pos} ORDER BY e.{pos}")
    before = genesis(0)
    for position, oid, version, topic, state, stored in rows:
        text = str(uuid.UUID(str(oid)))
        assert bytes(stored) == link(before, position, text, version, topic, bytes(state))
        before = bytes(stored)


# -- a log changed behind the application's back -------------------------------------------------------------


@pytest.mark.parametrize("column", ["state", "topic", "originator_version"])
def test_an_altered_event_is_reported_at_exactly_its_position(seeded_log: Runtime, settings: Settings,
                                                               raw: RawLog, column: str) -> None:
    position = raw.position_holding(b"Vance")
    change = {"state": "state = ?", "topic": "topic = topic || 'x'",
              "originator_version": "originator_version = originator_version + 1000"}[column]
    params: tuple[Any, ...] = ()
    if column == "state":
        (state,) = raw.sql("SELECT state FROM {events} WHERE {pos} = ?", position)[0]
        params = (bytes(state).replace(b"Vance", b"Vanse"),)
    raw.sql(f"UPDATE {{events}} SET {change} WHERE {{pos}} = ?", *params, position)

    report = check(settings)
    assert [(b.position, b.kind) for b in report.breaks] == [(position, "altered")]

    done = diplo_verify(settings, process=column == "state")
    assert done.returncode == 1
    assert f"chain BROKEN at position {position} (altered)" in done.stdout


def test_a_deleted_event_is_reported_where_it_was(seeded_log: Runtime, settings: Settings, raw: RawLog) -> None:
    position = raw.positions()[100]
    raw.sql("DELETE FROM {events} WHERE {pos} = ?", position)

    report = check(settings)
    assert [(b.position, b.kind) for b in report.breaks] == [(position, "removed")]
    done = diplo_verify(settings)
    assert done.returncode == 1
    assert f"chain BROKEN at position {position} (removed)" in done.stdout


def test_an_event_deleted_with_its_link_breaks_the_link_after_the_gap(seeded_log: Runtime, settings: Settings,
                                                                      raw: RawLog) -> None:
    positions = raw.positions()
    position, following = positions[100], positions[101]
    raw.sql("DELETE FROM {events} WHERE {pos} = ?", position)
    raw.sql("DELETE FROM {hashes} WHERE position = ?", position)

    report = check(settings)
    assert [(b.position, b.kind) for b in report.breaks] == [(following, "broken")]
    assert f"from position {positions[99]}" in report.breaks[0].detail


@pytest.mark.parametrize("where", ["at the end", "before the first event"])
def test_a_forged_event_is_reported_where_it_was_inserted(seeded_log: Runtime, settings: Settings, raw: RawLog,
                                                          where: str) -> None:
    copied = raw.position_holding(b"Vance")
    if where == "at the end":
        raw.sql("INSERT INTO {events} (originator_id, originator_version, topic, state) "
                "SELECT ?, originator_version, topic, state FROM {events} WHERE {pos} = ?",
                raw.new_originator(), copied)
        forged = raw.positions()[-1]
    else:
        forged = 0
        raw.sql("INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
                "SELECT 0, ?, originator_version, topic, state FROM {events} WHERE {pos} = ?",
                raw.new_originator(), copied)

    report = check(settings)
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.kind) == (forged, "inserted")
    assert len(report.breaks) == 1
    done = diplo_verify(settings)
    assert done.returncode == 1
    assert f"chain BROKEN at position {forged} (inserted)" in done.stdout


def test_a_chain_recomputed_wholesale_passes_alone_but_fails_against_an_anchor(seeded_log: Runtime,
                                                                               settings: Settings,
                                                                               raw: RawLog) -> None:
    before = check(settings)
    anchor = f"{before.head_position}:{before.head_hash.hex()}"  # type: ignore[union-attr]
    position = raw.position_holding(b"Vance")
    (state,) = raw.sql("SELECT state FROM {events} WHERE {pos} = ?", position)[0]
    raw.sql("UPDATE {events} SET state = ? WHERE {pos} = ?", bytes(state).replace(b"Vance", b"Vanse"), position)
    # Whoever can write the tables can also recompute every link after the change...
    (previous,) = raw.sql("SELECT hash FROM {hashes} WHERE position < ? ORDER BY position DESC LIMIT 1", position)[0]
    chained = bytes(previous)
    for pos, oid, version, topic, stored in raw.sql(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} WHERE {pos} >= ? "
            "ORDER BY {pos}", position):
        chained = link(chained, pos, str(uuid.UUID(str(oid))), version, topic, bytes(stored))
        raw.sql("UPDATE {hashes} SET hash = ? WHERE position = ?", chained, pos)

    assert check(settings).ok  # ...so the chain alone cannot tell,
    report = check(settings, anchor=parse_anchor(anchor))  # but a head hash kept elsewhere can.
    assert [(b.position, b.kind) for b in report.breaks] == [(before.head_position, "anchor")]
    assert diplo_verify(settings, "--anchor", anchor).returncode == 1
    assert diplo_verify(settings).returncode == 0


def test_a_write_after_the_last_event_was_deleted_never_hides_the_deletion(seeded_log: Runtime,
                                                                           settings: Settings,
                                                                           raw: RawLog) -> None:
    last = raw.positions()[-1]
    raw.sql("DELETE FROM {events} WHERE {pos} = ?", last)
    recorder = seeded_log.app.recorder
    if settings.database_url is None:
        # SQLite would give the next event the deleted one's rowid: its link is already there, so refuse.
        with pytest.raises(BrokenChain):
            recorder.insert_events(forged_events(1))
    else:
        recorder.insert_events(forged_events(1))  # PostgreSQL's sequence never reuses a position
    report = check(settings)
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.kind) == (last, "removed")


# -- links are written with their events, or not at all --------------------------------------------------------


def link_rows(raw: RawLog) -> int:
    return int(raw.sql("SELECT count(*) FROM {hashes}")[0][0])


def test_a_refused_insert_stores_neither_events_nor_links(seeded_log: Runtime, settings: Settings,
                                                          raw: RawLog) -> None:
    events, links = len(raw.positions()), link_rows(raw)
    existing = seeded_log.app.recorder.select_notifications(start=None, limit=1)[0]
    duplicate = StoredEvent(existing.originator_id, existing.originator_version, existing.topic, existing.state)
    with pytest.raises(IntegrityError):
        seeded_log.app.recorder.insert_events([*forged_events(2), duplicate])
    assert (len(raw.positions()), link_rows(raw)) == (events, links)
    assert check(settings).ok


def test_a_failure_while_linking_stores_no_event(record: Runtime, settings: Settings, raw: RawLog,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    record.app.recorder.insert_events(forged_events(3))

    def broken_link(*_: object) -> bytes:
        raise RuntimeError("the hash could not be computed")

    module = chained_postgres if settings.database_url is not None else chained_sqlite
    monkeypatch.setattr(module, "link", broken_link)
    with pytest.raises(RuntimeError, match="could not be computed"):
        record.app.recorder.insert_events(forged_events(2))
    assert (len(raw.positions()), link_rows(raw)) == (3, 3)

    monkeypatch.undo()
    record.app.recorder.insert_events(forged_events(2))
    report = check(settings)
    assert report.ok and report.linked == 5




def test_concurrent_writers_keep_one_valid_chain(settings: Settings, record: Runtime, raw: RawLog) -> None:
    writers, summits_each = 4, 15
    parties = PartyRegistry(load_organisations())
    apps = [DiplomaticRecord(settings.eventsourcing_env(), parties=parties) for _ in range(writers)]
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(app: DiplomaticRecord, n: int) -> None:
        try:
            start.wait()
            for i in range(summits_each):
                app.handle(HostSummit(id=f"summit-{n}-{i}", name=f"Summit {n}.{i}", hosts=["FR"], city="Paris",
                                starts_on=date(2025, 2, 10), ends_on=date(2025, 2, 11), sources=SOURCES,
                                confidence=Confidence.HIGH))
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(app, n)) for n, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for app in apps:
        app.close()
    assert not errors, errors
    stored = len(raw.positions())
    assert stored >= writers * summits_each * 2  # each summit stores itself and its index entry
    report = check(settings)
    assert report.ok, report.breaks
    assert report.linked == report.events == stored == link_rows(raw)


# -- a store from before tamper evidence ---------------------------------------------------------------------


def test_an_upgraded_store_reports_where_its_chain_starts(settings: Settings, raw: RawLog) -> None:
    parties = PartyRegistry(load_organisations())

    def host(app: DiplomaticRecord, slug: str) -> None:
        app.handle(HostSummit(id=slug, name=slug, hosts=["GB"], city="London", starts_on=date(2024, 1, 1),
                        ends_on=date(2024, 1, 2), sources=SOURCES, confidence=Confidence.HIGH))

    # The plain eventsourcing recorder, as before this feature (the table of links is simply not written).
    plain = DiplomaticRecord({**settings.eventsourcing_env(), "APPLICATION_RECORDER_TOPIC": ""}, parties=parties)
    assert not hasattr(plain.recorder, "chain_head")
    host(plain, "old-1")
    host(plain, "old-2")
    plain.close()
    unlinked = len(raw.positions())
    chained = DiplomaticRecord(settings.eventsourcing_env(), parties=parties)
    host(chained, "new-1")
    chained.close()

    report = check(settings)
    assert report.ok
    assert report.unlinked_before_start == unlinked == 4
    assert report.starts_at == raw.positions()[unlinked]
    assert report.linked == 2
    done = diplo_verify(settings)
    assert done.returncode == 0
    assert f"the chain starts at position {report.starts_at}: 4 event(s)" in done.stdout
    assert diplo_verify(settings, "--strict").returncode == 1

    # An event slipped in before the start now breaks the first link: the start binds what came before it.
    raw.sql("INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
            "SELECT 0, ?, originator_version, topic, state FROM {events} WHERE {pos} = ?",
            raw.new_originator(), raw.positions()[0])
    assert [b.position for b in check(settings).breaks] == [report.starts_at]


# -- the chain itself, without a database -----------------------------------------------------------------------


def rows_of(events: Sequence[tuple[int, bytes]]) -> list[ChainRow]:
    """A well-formed chain over (position, state) pairs."""
    rows, before = [], genesis(0)
    for position, state in events:
        fields = StoredFields("0b7c3a52-6a8f-4a8e-9d47-1f3c0e6a2b11", position, "t:T", state)
        before = link(before, position, fields.originator_id, fields.originator_version, fields.topic, fields.state)
        rows.append(ChainRow(position, fields, before))
    return rows


def test_fields_are_delimited_so_moving_bytes_between_them_changes_the_link() -> None:
    assert canonical(1, "a", 1, "ab", b"c") != canonical(1, "a", 1, "a", b"bc")
    assert canonical(1, "a", 1, "t", b"1") != canonical(1, "a", 1, "t", "1")


@pytest.mark.parametrize("event", [(7, str(uuid.uuid4()), 1, "domain.summit:Summit.Hosted", b'{"a": 1}'),
                                   (-(2**63), "é\udc80", 0, "", b""), (2**63 - 1, "x", 2**40, "t" * 300, b"\0" * 9)])
def test_the_fast_path_for_inserted_events_gives_the_same_bytes_as_the_general_one(event: tuple[Any, ...]) -> None:
    assert canonical(*event) == b"".join(chain._field(value) for value in event)


def test_an_event_slipped_into_a_gap_with_a_forged_link_is_named() -> None:
    # PostgreSQL leaves gaps where an insert rolled back; a forger who fills one and links it properly
    # still breaks the link of the event after it, which chains over the forged one.
    rows = rows_of([(1, b"a"), (2, b"b"), (4, b"d")])
    fields = StoredFields("0b7c3a52-6a8f-4a8e-9d47-1f3c0e6a2b11", 3, "t:T", b"forged")
    forged = ChainRow(3, fields, link(rows[1].hash or b"", 3, fields.originator_id, 3, "t:T", b"forged"))
    report = verify_rows([*rows[:2], forged, rows[2]])
    assert [(b.position, b.kind) for b in report.breaks] == [(3, "inserted")]


def test_an_anchor_must_be_a_position_and_a_sha256_hash() -> None:
    digest = "ab" * 32
    assert parse_anchor(f"12:{digest}") == (12, bytes.fromhex(digest))
    for bad in ("12", f"x:{digest}", "12:abcd", f"0:{digest}"):
        with pytest.raises(ValueError):
            parse_anchor(bad)


def test_healthz_shows_the_head_link(seeded_log: Runtime, settings: Settings) -> None:
    report = check(settings)
    assert report.head_hash is not None
    with TestClient(create_app(runtime=seeded_log)) as client:
        body = client.get("/healthz").json()
    assert body["chain"] == {"position": report.head_position, "hash": report.head_hash.hex()}
