"""`diplo rebuild` builds fresh read models beside the live ones and switches readers over at once: reads
through a real server keep answering, never from an empty or half-built model, and writes go on."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from projections.projector import Projector
from seeds.loader import seed
from tests.integration.support import TABLES, dump
from tests.live.support import (
    AUTH,
    PG_URL,
    SOURCE,
    Server,
    Store,
    bulk_log,
    post_statement,
    run_diplo,
    serving,
)

READS = ("/v1/declarations/paris-statement/signatories", "/v1/parties/US/stances")


def answer(response: httpx.Response) -> Any:
    body = response.json()
    body.pop("known_at", None)  # "now", by default: the one part of the answer that moves
    return body


def generation(store: Store) -> object:
    """What names the live generation of the read models: it changes when a rebuild switches readers over."""
    if store.postgres:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (f"{store.schema}_views",)).fetchone()
            return row[0] if row else None
    pointer = store.data_dir / "views.current"
    return pointer.read_text() if pointer.exists() else None


def test_reads_during_diplo_rebuild_always_answer_the_full_model_and_writes_go_on_and_show_up(
    store: Store, tmp_path: Path
) -> None:
    with store.record() as app:
        seed(app)
        bulk_log(app, 4, seed=11)  # a few hundred more events, so the rebuild takes a moment
    with serving(store, tmp_path) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        expected = {path: answer(client.get(path)) for path in READS}
        assert len(expected[READS[0]]["signed"]) > 50 and expected[READS[0]]["declined"]
        assert len(expected[READS[1]]["stances"]) > 5
        before = generation(store)

        reads: list[tuple[float, str, int, bool]] = []
        written: list[int] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def read_and_write() -> None:
            """Reads both answers in a loop and, every few rounds, writes a statement by another party about
            nothing, which must not move them."""
            try:
                with httpx.Client(base_url=server.url, timeout=30) as reader:
                    while not stop.is_set():
                        for path in READS:
                            response = reader.get(path)
                            same = response.status_code == 200 and answer(response) == expected[path]
                            reads.append((time.monotonic(), path, response.status_code, same))
                        if len(reads) % 10 == 0:
                            said = post_statement(reader, f"during the rebuild {uuid.uuid4().hex}")
                            written.append(said["position"])
            except BaseException as error:
                errors.append(error)

        client_thread = threading.Thread(target=read_and_write)
        client_thread.start()
        try:
            time.sleep(0.3)
            started = time.monotonic()
            rebuilt = run_diplo(store, "rebuild", timeout=300)
            ended = time.monotonic()
            time.sleep(0.5)
        finally:
            stop.set()
            client_thread.join(60)

        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "rebuilt the read models" in rebuilt.stdout
        assert generation(store) != before  # readers really were switched to another generation
        assert not errors, server.log()[-3000:]
        during = [r for r in reads if started <= r[0] <= ended]
        assert len(during) >= 20, f"only {len(during)} reads while the rebuild ran"
        failed = [r for r in reads if not r[3]]
        problems = sorted({line for line in server.log().splitlines() if "error" in line.lower()})
        assert not failed, f"{len(failed)} of {len(reads)} reads were not the full answer: {failed[:5]} {problems}"
        assert written

        deadline = time.monotonic() + 60  # a busy machine; a stuck projector never gets there
        while (health := server.health())["lag"] != 0:
            assert time.monotonic() < deadline, health
            time.sleep(0.1)

        # Writes still work, and the rebuilt models show them.
        us = next(s for s in expected[READS[1]]["stances"] if s["declaration_id"] == "paris-statement")
        assert us["stance"] == "declined"
        signed = client.post("/v1/declarations/paris-statement/acts", headers=AUTH, json={
            "kind": "signed", "party": "US", "occurred_on": "2025-06-02", "confidence": "high", "sources": [SOURCE]})
        assert signed.status_code == 201, signed.text
        assert "US" in {s["party"] for s in client.get(READS[0]).json()["signed"]}
        stances = {s["declaration_id"]: s["stance"] for s in client.get(READS[1]).json()["stances"]}
        assert stances["paris-statement"] == "signed"
        logged = {e["position"] for e in server.events()}
        assert set(written) | {signed.json()["position"]} <= logged

    # Nothing written during the rebuild was lost or applied twice: the models equal a from-scratch projection.
    with store.record() as app:
        reference = store.fresh_views("reference")
        views = store.views()
        try:
            Projector(app.recorder, app.mapper, reference).catch_up()
            live, rebuilt_rows = dump(views), dump(reference)
            for table in TABLES:
                assert live[table] == rebuilt_rows[table], table
        finally:
            views.close()
            reference.close()


def test_four_clients_reading_at_once_while_one_writes_always_get_answers(seeded_server: Server) -> None:
    """Regression: SQLite read-model connections were per thread while FastAPI moves a request's read between
    worker threads, so concurrent requests shared one and got 503 (fixed in ee6d83f by a connection pool)."""
    server = seeded_server
    codes: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    paths = (*READS, "/v1/events?limit=1", "/v1/declarations/bletchley-declaration")

    def note(status: int) -> None:
        codes.append(status)
        if status not in (200, 201):
            stop.set()  # one is enough to tell; no need to hammer on

    def read() -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=30) as reader:
                while not stop.is_set():
                    for path in paths:
                        note(reader.get(path).status_code)
        except BaseException as error:
            errors.append(error)

    def write() -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=30) as writer:
                while not stop.is_set():
                    note(writer.post("/v1/statements", headers=AUTH, json={
                        "party": "FR", "occurred_on": "2025-02-12", "text": uuid.uuid4().hex, "sources": [SOURCE]
                    }).status_code)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    stop.wait(3)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(codes) > 50
    assert set(codes) <= {200, 201}, {code: codes.count(code) for code in set(codes)}
