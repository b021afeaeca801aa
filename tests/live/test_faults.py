"""Faults injected into running processes, and a count of what was acknowledged against what is stored.

- PostgreSQL lost in the middle of a write burst, as a restart looks to the API (the server ends its
  sessions by application name, then a TCP proxy refuses new connections; no other client of the shared
  server is touched): writes meanwhile are answered 503
  with Retry-After, never 500; nothing half-written is stored; the API recovers by itself.
- The projector process killed (SIGKILL) again and again during a burst, and restarted: the read models
  end exactly as a fresh projection of the same log, nothing lost, nothing applied twice.
- The API killed (SIGKILL) and restarted while clients stream: they resume with Last-Event-ID and end
  with every event of the log exactly once, in order.

Every client retries the way the API asks: on 503 or a dropped connection, the same request with the
same Idempotency-Key, so a write that was stored but not answered is answered on the retry, not stored twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import psycopg_pool
import pytest
from eventsourcing import persistence

from projections.projector import Projector
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from tests.integration.support import dump
from tests.live.faults_support import (
    AUTH,
    BACKENDS,
    PG_URL,
    SOURCE,
    CuttableProxy,
    Process,
    Server,
    Store,
    StoredLog,
    event_id_counts,
    projector_process,
    public_log,
    read_log,
    record_of,
    running,
    store_of_its_own,
    wait_until,
)
from tests.live.test_concurrent_writers import record

PARTIES = ("FR", "DE", "JP", "BR", "KE", "IN")
OUTAGE_SECONDS = 15
# Between the pools' fifth and sixth retries (31 and 63 s after the loss): far from both, so without the cap
# the next retry comes some 20 s after the database is back, longer than any request waits (measured: 25 s).
LONG_OUTAGE_SECONDS = 40


# -- a client that writes statements and retries as the API asks -------------------------------------------


@dataclass
class Writer:
    """Writes `count` statements, each with its own Idempotency-Key, retrying one until it is acknowledged."""

    url: str
    prefix: str
    count: int
    pause: float = 0.02
    deadline: float = field(default_factory=lambda: time.monotonic() + 240)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> event id
    statuses: Counter[int] = field(default_factory=Counter)
    dropped: int = 0  # connections refused or cut before an answer
    without_retry_after: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def body(self, i: int) -> dict[str, Any]:
        return {"party": PARTIES[i % len(PARTIES)], "speaker": f"{self.prefix} speaker", "occurred_on": "2025-02-11",
                "text": f"{self.prefix} statement {i}", "sources": [SOURCE]}

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=60) as client:
            for i in range(self.count):
                key = f"{self.prefix}-{i}"
                while time.monotonic() < self.deadline:
                    try:
                        response = client.post("/v1/statements", json=self.body(i), headers={"Idempotency-Key": key})
                    except httpx.TransportError:
                        self.dropped += 1
                        time.sleep(0.2)
                        continue
                    self.statuses[response.status_code] += 1
                    if response.status_code in (201, 202):
                        self.acknowledged[key] = response.json()["event_id"]
                        break
                    if response.status_code == 503:
                        retry_after = response.headers.get("Retry-After")
                        if retry_after is None or not response.headers["content-type"].startswith(
                                "application/problem+json"):
                            self.without_retry_after.append(response.text[:200])
                        time.sleep(min(float(retry_after or 1), 1.0))
                        continue
                    self.unexpected.append(f"{response.status_code} {response.text[:200]}")
                    break
                time.sleep(self.pause)


@contextlib.contextmanager
def writing(*writers: Writer) -> Iterator[list[threading.Thread]]:
    threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        for thread in threads:
            thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer did not finish within 5 minutes"


def statements_stored(log: StoredLog) -> dict[str, list[str]]:
    """Text -> the event ids of the statements stored with it."""
    found: dict[str, list[str]] = {}
    for event in log.events:
        if type(event).__qualname__ == "Statement.Issued":
            found.setdefault(event.text, []).append(str(event.event_id))
    return found


def assert_acknowledged_exactly_once(writers: list[Writer], log: StoredLog) -> int:
    """Every acknowledged write is stored once with the event id it was answered with; returns how many."""
    stored = statements_stored(log)
    acknowledged = 0
    for writer in writers:
        assert writer.unexpected == [], writer.unexpected
        assert len(writer.acknowledged) == writer.count, (writer.prefix, len(writer.acknowledged), writer.statuses)
        for i in range(writer.count):
            ids = stored.get(f"{writer.prefix} statement {i}", [])
            assert ids == [writer.acknowledged[f"{writer.prefix}-{i}"]], (writer.prefix, i, ids)
            acknowledged += 1
    return acknowledged


def assert_nothing_half_written(log: StoredLog) -> None:
    """A write saves its event, its index entry and its idempotency key in one transaction: all or none."""
    kinds = Counter(type(e).__qualname__ for e in log.events)
    assert kinds["Statement.Issued"] == kinds["EventIndex.Indexed"] - kinds["Declaration.Published"] \
        - kinds["Summit.Hosted"], kinds
    assert kinds["IdempotencyKey.Claimed"] == kinds["Statement.Issued"], kinds


def terminate_sessions(application_name: str) -> int:
    """pg_terminate_backend on the sessions of one application name; returns how many were ended."""
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                            (application_name,)).fetchall()
    return sum(1 for (ended,) in rows if ended)


def healthy(url: str) -> bool:
    answer = httpx.get(f"{url}/healthz", timeout=10)
    return answer.status_code == 200 and answer.json()["lag"] == 0


# -- PostgreSQL lost in the middle of a write burst ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_writes_during_a_postgres_outage_are_503_with_retry_after_and_all_land_once_after_it(tmp_path: Path) -> None:
    proxy = CuttableProxy()
    with contextlib.closing(proxy), store_of_its_own("postgres", tmp_path / "store") as store:
        store.database_url = proxy.url(PG_URL)
        server = Server(store, tmp_path, DIPLO_WRITE_WAIT_SECONDS="3")
        with running(server):
            server.start()
            writers = [Writer(server.url, f"outage{n}-{uuid.uuid4().hex[:6]}", 40, pause=0.05) for n in range(4)]
            health: list[int] = []
            reads: list[tuple[int, str | None]] = []

            def ask_health() -> None:
                with contextlib.suppress(httpx.HTTPError):
                    health.append(httpx.get(f"{server.url}/healthz", timeout=90).status_code)

            def read() -> None:
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.get(f"{server.url}/v1/events", params={"after": 0}, timeout=90)
                    reads.append((answer.status_code, answer.headers.get("Retry-After")))

            with writing(*writers):
                time.sleep(1.5)  # the burst is under way
                # As a restart looks: the server ends this API's sessions (FATAL: terminating connection due
                # to administrator command), then refuses connections. Only this test's sessions, by name.
                terminated = terminate_sessions(f"diplo-{store.schema}")
                cut_connections = proxy.cut()
                probers = [threading.Thread(target=ask_health), threading.Thread(target=read)]
                for prober in probers:
                    prober.start()
                # Longer than a write waits for a connection (eventsourcing tries 10 times, 1 s each).
                time.sleep(OUTAGE_SECONDS)
                proxy.restore()
                for prober in probers:
                    prober.join(timeout=90)
            # Recovered by itself: no restart, no help.
            wait_until(lambda: healthy(server.url), 60, "the API to recover from the outage")
            published = public_log(server.url)
            server_log = server.log()
        log = read_log(store)

    answered = sum((w.statuses for w in writers), Counter())
    assert answered[503] > 0, answered  # the outage was really met
    assert terminated > 0
    assert health == [503], health
    assert reads == [(503, "2")], reads
    assert not any(code >= 500 and code != 503 for code in answered), answered
    assert all(w.without_retry_after == [] for w in writers)
    acknowledged = assert_acknowledged_exactly_once(writers, log)
    assert_nothing_half_written(log)
    in_api = event_id_counts(published)
    assert all(in_api[event_id] == 1 for w in writers for event_id in w.acknowledged.values())
    assert "unexpected error" not in server_log
    record(tmp_path, "faults-postgres-outage", {
        "writes": acknowledged, "requests": sum(answered.values()) + sum(w.dropped for w in writers),
        "answered": dict(sorted(answered.items())),
        "dropped_connections_seen_by_clients": sum(w.dropped for w in writers),
        "outages": 1, "sessions_terminated": terminated, "connections_cut": cut_connections,
        "connections_refused": proxy.refused,
        "outage_seconds": OUTAGE_SECONDS, "stored": acknowledged, "lost": 0, "duplicated": 0,
    })


@pytest.mark.slow
@pytest.mark.postgres
def test_after_a_long_outage_the_first_read_and_write_once_postgres_is_back_are_answered(tmp_path: Path) -> None:
    """psycopg's pools retry a lost connection with a doubling wait (1, 3, 7, 15, 31, 63 s after the loss):
    after 40 s away, their next try came some 20 s after the database was back, longer than a read or a write
    waits for a connection, so both were 503s (the first 200 came 25 s after). The pools now give a lost
    connection up after a few seconds, and the next request opens one afresh (measured: answered in 1 s)."""
    proxy = CuttableProxy()
    with contextlib.closing(proxy), store_of_its_own("postgres", tmp_path / "store") as store:
        store.database_url = proxy.url(PG_URL)
        server = Server(store, tmp_path)
        with running(server):
            server.start()
            wait_until(lambda: healthy(server.url), 60, "the API to start")
            terminate_sessions(f"diplo-{store.schema}")
            proxy.cut()
            time.sleep(LONG_OUTAGE_SECONDS)
            proxy.restore()
            read = httpx.get(f"{server.url}/v1/events", params={"after": 0, "limit": 1}, timeout=60)
            write = httpx.post(f"{server.url}/v1/statements", headers=AUTH, timeout=60, json={
                "party": "FR", "occurred_on": "2025-02-11", "text": "Back after the outage", "sources": [SOURCE]})
            server_log = server.log()
    assert (read.status_code, write.status_code) == (200, 201), (read.text, write.text)
    assert "unexpected error" not in server_log


# -- the projector process killed again and again ----------------------------------------------------------


def fresh_projection(store: Store, where: Path) -> ViewStore:
    """The read models projected anew, in one go, from the same log: what the live ones must equal."""
    views: ViewStore
    if store.postgres:
        views = PostgresViewStore(PG_URL, f"{store.schema}_fresh")
    else:
        views = SQLiteViewStore(where / "fresh-views.sqlite3", fixed=True)
    app = record_of(store)
    try:
        Projector(app.recorder, app.mapper, views).catch_up()
    finally:
        app.close()
    return views


def live_views(store: Store) -> ViewStore:
    if store.postgres:
        return PostgresViewStore(PG_URL, store.settings().views_schema)
    return SQLiteViewStore(store.settings().views_path())


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_projector_killed_mid_burst_and_restarted_leaves_read_models_equal_to_a_fresh_projection(
    backend: str, tmp_path: Path
) -> None:
    with store_of_its_own(backend, tmp_path / "store") as store:
        server = Server(store, tmp_path, DIPLO_PROJECTOR="external", DIPLO_WRITE_WAIT_SECONDS="1",
                        DIPLO_PAGE_SIZE="7", DIPLO_MAX_PAGE_SIZE="7")  # small pages: a kill lands mid-catch-up
        projectors: list[Process] = []
        with running(server):
            server.start()
            writers = [Writer(server.url, f"projector{n}-{uuid.uuid4().hex[:6]}", 60) for n in range(3)]
            kills = 0
            with writing(*writers) as threads:
                while any(t.is_alive() for t in threads) and kills < 6:
                    projector = projector_process(store, tmp_path, f"projector-{kills}")
                    projector.env["DIPLO_PAGE_SIZE"] = projector.env["DIPLO_MAX_PAGE_SIZE"] = "7"
                    projectors.append(projector)
                    projector.start()
                    time.sleep(1.0 + 0.3 * kills)
                    projector.kill()
                    kills += 1
                    time.sleep(0.5)
            last = projector_process(store, tmp_path, "projector-last")
            projectors.append(last)
            with running(last):
                last.start()
                wait_until(lambda: healthy(server.url), 90, "the restarted projector to catch up")
                published = public_log(server.url)
        log = read_log(store)
        live, fresh = live_views(store), fresh_projection(store, tmp_path)
        try:
            assert dump(live) == dump(fresh)  # nothing lost, nothing applied twice, in any read model
        finally:
            live.close()
            fresh.close()
            if store.postgres:
                import psycopg

                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}_fresh" CASCADE')

    answered = sum((w.statuses for w in writers), Counter())
    assert set(answered) <= {201, 202}, answered
    assert answered[202] > 0, answered  # some writes met a dead projector and said so
    acknowledged = assert_acknowledged_exactly_once(writers, log)
    assert_nothing_half_written(log)
    assert sorted(event_id_counts(published).values()) == [1] * len(published)
    assert len(published) == acknowledged
    record(tmp_path, f"faults-projector-killed-{backend}", {
        "backend": backend, "writes": acknowledged, "answered": dict(sorted(answered.items())),
        "projector_kills": kills, "stored": acknowledged, "projected": len(published), "lost": 0, "duplicated": 0,
    })


# -- the API killed while clients stream ---------------------------------------------------------------------


@dataclass
class Follower:
    """A stream client that reconnects with Last-Event-ID after every dropped connection."""

    url: str
    stop: threading.Event
    received: list[tuple[int, str]] = field(default_factory=list)  # (position, event id)
    reconnections: int = 0

    def run(self) -> None:
        deadline = time.monotonic() + 300
        while not self.stop.is_set() and time.monotonic() < deadline:
            headers = {"Last-Event-ID": str(self.received[-1][0])} if self.received else {}
            with contextlib.suppress(httpx.TransportError, httpx.StreamError, AssertionError):
                self._follow(headers)
            if self.stop.is_set():
                return
            self.reconnections += 1
            time.sleep(0.2)

    def _follow(self, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=httpx.Timeout(10, read=5)) as client, client.stream(
                "GET", f"{self.url}/v1/events/stream", params={"after": 0}, headers=headers) as response:
            assert response.status_code == 200
            message: dict[str, str] = {}
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line:
                    name, _, value = line.partition(":")
                    message[name] = value[1:] if value.startswith(" ") else value
                    continue
                if "id" in message and "data" in message:
                    self.received.append((int(message["id"]), json.loads(message["data"])["event_id"]))
                message = {}


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_clients_resume_with_last_event_id_across_api_kills_and_miss_nothing(
    backend: str, tmp_path: Path
) -> None:
    with store_of_its_own(backend, tmp_path / "store") as store:
        env = {"DIPLO_STREAM_HEARTBEAT_SECONDS": "1", "DIPLO_WRITE_WAIT_SECONDS": "3"}
        server = Server(store, tmp_path, name="api-0", **env)
        servers = [server]
        stop = threading.Event()
        followers = [Follower(server.url, stop) for _ in range(3)]
        threads = [threading.Thread(target=f.run, daemon=True) for f in followers]
        kills = 0
        try:
            server.start()
            for thread in threads:
                thread.start()
            writers = [Writer(server.url, f"stream{n}-{uuid.uuid4().hex[:6]}", 50, pause=0.05) for n in range(2)]
            with writing(*writers) as writing_threads:
                while any(t.is_alive() for t in writing_threads) and kills < 3:
                    time.sleep(1.5)
                    servers[-1].kill()  # SIGKILL while clients stream and writers write
                    kills += 1
                    time.sleep(0.5)
                    restarted = Server(store, tmp_path, name=f"api-{kills}", port=server.port, **env)
                    servers.append(restarted)
                    restarted.start()
            wait_until(lambda: healthy(server.url), 60, "the read models to reach the head")
            published = public_log(server.url)
            expected = [(e["position"], e["event_id"]) for e in published]
            wait_until(lambda: all(len(f.received) >= len(expected) for f in followers), 60,
                       "every stream client to receive the whole log")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            for s in servers:
                s.stop()
        log = read_log(store)

    acknowledged = assert_acknowledged_exactly_once(writers, log)
    assert_nothing_half_written(log)
    for follower in followers:
        # Every event of the log, once each, in log order: no gap and no duplicate across the restarts.
        assert follower.received == expected, (len(follower.received), len(expected))
        assert follower.reconnections >= kills
    assert len(expected) == acknowledged
    answered = sum((w.statuses for w in writers), Counter())
    assert not any(code >= 500 and code != 503 for code in answered), answered
    record(tmp_path, f"faults-api-killed-{backend}", {
        "backend": backend, "writes": acknowledged, "api_kills": kills, "stream_clients": len(followers),
        "reconnections": [f.reconnections for f in followers],
        "dropped_requests_retried": sum(w.dropped for w in writers), "answered": dict(sorted(answered.items())),
        "events_received_per_client": len(expected), "lost": 0, "duplicated": 0,
    })


# -- every way a store can be unavailable is a 503 with Retry-After -----------------------------------------


class Unavailable:
    """Stands in for a store (or the application) whose every use raises `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise self.error

        return fail


STORE_ERRORS = [
    sqlite3.OperationalError("database is locked"),
    psycopg.OperationalError("server closed the connection unexpectedly"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.InterfaceError("the connection is closed"),
    psycopg_pool.PoolTimeout("couldn't get a connection after 1.00 sec"),
    persistence.OperationalError("couldn't get a connection after 1.00 sec"),
    persistence.InterfaceError("the connection is closed"),
]


@pytest.fixture(scope="module")
def quiet_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.api.support import running as api_running

    with api_running("sqlite", tmp_path_factory.mktemp("unavailable")) as runtime:
        yield runtime


@pytest.mark.parametrize("error", STORE_ERRORS, ids=lambda e: f"{type(e).__module__}.{type(e).__name__}")
def test_every_kind_of_store_outage_is_a_503_problem_with_retry_after(quiet_runtime: Any, error: Exception) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.api.support import AUTH as API_AUTH

    broken = dataclasses.replace(quiet_runtime, store=Unavailable(error), app=Unavailable(error))
    body = {"party": "FR", "occurred_on": "2025-02-11", "text": "words", "sources": [SOURCE]}
    with TestClient(create_app(runtime=broken), raise_server_exceptions=False) as client:
        for response in (client.get("/v1/events"), client.get("/v1/parties/US/stances"),
                         client.post("/v1/statements", json=body, headers=API_AUTH)):
            assert response.status_code == 503, (response.request.url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert int(response.headers["Retry-After"]) >= 1
