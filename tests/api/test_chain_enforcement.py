"""A broken hash chain is enforced, not only reported: the server checks the chain's tail at start and its whole
length in the background (progress in /healthz), says `chain: broken at N` there and in its log, and refuses
writes with a problem that says why; `diplo rebuild` refuses a broken chain unless told to accept it.
SQLite and PostgreSQL; the log is altered with plain SQL, as an intruder with database access would."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from api.settings import Settings
from tests.api.support import AUTH, SOURCE, assert_problem, running, seed_and_wait, stored_events
from tests.live.support import DIPLO, REPO

STATEMENT = {"party": "FR", "occurred_on": "2025-02-12", "text": "after the tampering", "sources": [SOURCE]}


@pytest.fixture
def seeded(backend: str, tmp_path: Path) -> Iterator[Runtime]:
    with running(backend, tmp_path) as runtime:
        yield seed_and_wait(runtime)


def alter(settings: Settings, position: int, old: bytes | None = None, new: bytes | None = None) -> None:
    """Changes the stored state of one event behind the application's back (one byte, or `old` for `new`)."""
    if settings.database_url is not None:
        table = f'"{settings.database_schema}".diplo_events'
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            row = conn.execute(f"SELECT state FROM {table} WHERE notification_id = %s", (position,)).fetchone()
            assert row is not None
            conn.execute(f"UPDATE {table} SET state = %s WHERE notification_id = %s",
                         (_changed(bytes(row[0]), old, new), position))
        return
    with closing(sqlite3.connect(settings.data_dir / "events.sqlite3")) as conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (_changed(bytes(state), old, new), position))
        conn.commit()


def _changed(state: bytes, old: bytes | None, new: bytes | None) -> bytes:
    if old is not None and new is not None:
        assert old in state
        return state.replace(old, new, 1)
    return state[:-2] + bytes([state[-2] ^ 1]) + state[-1:]  # one bit of the last value's last character


@contextmanager
def served(runtime: Runtime, **settings: Any) -> Iterator[TestClient]:
    changed = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=settings))
    with TestClient(create_app(runtime=changed), raise_server_exceptions=False) as client:
        yield client


def wait_check(client: TestClient, done: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get("/healthz").json()
        if done(body["chain_check"]):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_an_intact_chain_is_checked_whole_and_writes_go_on(seeded: Runtime) -> None:
    with served(seeded) as client:
        body = wait_check(client, lambda c: c["state"] == "ok")
        head = stored_events(seeded)
        assert body["status"] == "ok"
        assert body["chain_check"]["tail_checked"] and body["chain_check"]["of"] == head
        assert body["chain_check"]["checked"] == head
        assert client.post("/v1/statements", json=STATEMENT, headers=AUTH).status_code in (201, 202)


def test_a_recent_event_altered_is_found_at_start_and_every_write_is_refused_saying_why(
    seeded: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    head = stored_events(seeded)
    alter(seeded.settings, head)
    with caplog.at_level(logging.ERROR, logger="storage.chain_guard"), served(seeded, chain_check="tail") as client:
        body = client.get("/healthz").json()  # no waiting: the tail is checked before the first request
        assert body["status"] == "degraded"
        check = body["chain_check"]
        assert (check["state"], check["broken_at"], check["kind"]) == ("broken", head, "altered")
        assert check["detail"].startswith(f"chain: broken at {head} (altered)")
        assert f"chain: broken at {head}" in caplog.text

        refused = assert_problem(client.post("/v1/statements", json=STATEMENT, headers=AUTH), 503)
        assert f"chain: broken at {head}" in refused["detail"] and "writes are refused" in refused["detail"]
        assert stored_events(seeded) == head
        # Reads still answer: the record can be examined.
        assert client.get("/v1/parties/US/stances", params={"at": "2025-02-12"}).status_code == 200


def test_an_old_event_altered_is_found_by_the_background_walk_and_writes_are_refused_from_then_on(
    seeded: Runtime,
) -> None:
    victim = 5
    alter(seeded.settings, victim)
    with served(seeded, chain_check="tail", chain_tail_events=10) as client:
        tail = client.get("/healthz").json()["chain_check"]
        assert tail["state"] == "tail-ok" and "broken_at" not in tail  # the last 10 links alone cannot see it
    with served(seeded, chain_tail_events=10) as client:
        body = wait_check(client, lambda c: c["state"] != "checking")
        assert body["chain_check"]["state"] == "broken" and body["chain_check"]["broken_at"] == victim
        refused = assert_problem(client.post("/v1/statements", json=STATEMENT, headers=AUTH), 503)
        assert f"chain: broken at {victim}" in refused["detail"]


def diplo(settings: Settings, *args: str) -> tuple[int, str]:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    env |= {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_WRITE_TOKENS": "x", "NO_COLOR": "1", "COLUMNS": "200"}
    if settings.database_url is not None:
        env |= {"DIPLO_DATABASE_URL": settings.database_url, "DIPLO_DATABASE_SCHEMA": settings.database_schema}
    done = subprocess.run([*DIPLO, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    return done.returncode, done.stdout + done.stderr


def test_diplo_rebuild_refuses_a_broken_chain_unless_told_to_accept_it(seeded: Runtime) -> None:
    settings = seeded.settings
    victim = next(p for p in range(1, stored_events(seeded) + 1) if _holds(settings, p, b"Vance"))
    alter(settings, victim, b"Vance", b"Vanse")
    seeded.close()  # the command runs in a process of its own, as an operator's would

    code, output = diplo(settings, "rebuild")
    assert code == 1, output
    assert f"chain: broken at {victim} (altered)" in output and "--accept-broken-chain" in output

    code, output = diplo(settings, "rebuild", "--accept-broken-chain")
    assert code == 0, output
    assert "rebuilding anyway" in output


def _holds(settings: Settings, position: int, needle: bytes) -> bool:
    if settings.database_url is not None:
        with psycopg.connect(settings.database_url) as conn:
            table = f'"{settings.database_schema}".diplo_events'
            row = conn.execute(f"SELECT state FROM {table} WHERE notification_id = %s", (position,)).fetchone()
    else:
        with closing(sqlite3.connect(settings.data_dir / "events.sqlite3")) as conn:
            row = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
    return row is not None and needle in bytes(row[0])


def test_the_background_walk_can_be_turned_off(seeded: Runtime) -> None:
    with served(seeded, chain_check="off") as client:
        assert "chain_check" not in client.get("/healthz").json()
