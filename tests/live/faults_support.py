"""Helpers of the concurrency, fault and fuzz tests (not a test module): a store of its own, a real uvicorn
serving the app on a free loopback port, a `diplo project` process, a TCP proxy that can cut a process off
PostgreSQL, and a reader of what the store really holds.

Everything here is bounded: every wait has a deadline, every process is killed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from api.settings import Settings
from domain.declaration import Declaration, first_illegal
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from seeds.organisations import load_organisations

PG_URL = os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "reliability-writer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
REPO = Path(__file__).resolve().parents[2]
SOURCE = {"title": "Reliability report", "url": "https://example.org/reliability", "outlet": "Example Wire"}
ACT_KINDS = ("signed", "declined", "withdrawn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- a store of its own -------------------------------------------------------------------------------


@dataclass
class Store:
    """A data directory (SQLite) or a fresh PostgreSQL schema; `database_url` may point at a proxy."""

    backend: str
    data_dir: Path
    schema: str = field(default_factory=lambda: f"rel_{uuid.uuid4().hex[:12]}")
    database_url: str = PG_URL

    @property
    def postgres(self) -> bool:
        return self.backend == "postgres"

    def env(self, **extra: str) -> dict[str, str]:
        """The DIPLO_* environment of a process on this store (the parent's DIPLO_* are dropped)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
        env |= {"DIPLO_DATA_DIR": str(self.data_dir), "DIPLO_WRITE_TOKENS": TOKEN, "PYTHONUNBUFFERED": "1",
                # The application name marks this test's connections in pg_stat_activity.
                "PGAPPNAME": f"diplo-{self.schema}"}
        if self.postgres:
            env |= {"DIPLO_DATABASE_URL": self.database_url, "DIPLO_DATABASE_SCHEMA": self.schema}
        return env | extra

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, write_tokens=TOKEN,
                        database_url=PG_URL if self.postgres else None,
                        database_schema=self.schema if self.postgres else "public")

    def drop(self) -> None:
        if self.postgres:
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=10) as conn:
                for doomed in (self.schema, f"{self.schema}_views"):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


@contextlib.contextmanager
def store_of_its_own(backend: str, data_dir: Path) -> Iterator[Store]:
    store = Store(backend, data_dir)
    try:
        yield store
    finally:
        store.drop()


# -- processes ----------------------------------------------------------------------------------------

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    # Everything at INFO: the access log, the app's warnings, and the service's concurrency retries.
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"uvicorn": {"level": "INFO"}, "uvicorn.access": {"level": "INFO"}},
}


class Process:
    """A child process whose output goes to a log file; stopped or killed on demand, always reaped."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv, self.env, self.log_path = argv, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


class Server(Process):
    """A real uvicorn serving `api.app:create_app` on a free loopback port, configured by the environment."""

    def __init__(self, store: Store, log_dir: Path, name: str = "api", port: int | None = None,
                 **env: str) -> None:
        self.name = name
        self.port = port or free_port()
        config = log_dir / f"{name}-logging.json"
        config.write_text(json.dumps(LOG_CONFIG), encoding="utf-8")
        argv = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(self.port), "--log-config", str(config), "--timeout-graceful-shutdown", "5"]
        super().__init__(argv, store.env(**env), log_dir / f"{name}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        super().start()

        def answers() -> bool:
            if not self.alive:
                raise AssertionError(f"the server exited:\n{self.log()[-3000:]}")
            return httpx.get(f"{self.url}/healthz", timeout=5).status_code in (200, 503)

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if answers():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within {timeout}s:\n{self.log()[-3000:]}")


def projector_process(store: Store, log_dir: Path, name: str = "projector") -> Process:
    """`diplo project`, the read models in a process of their own."""
    return Process([sys.executable, "-m", "api.cli", "project"], store.env(DIPLO_PROJECTOR="external"),
                   log_dir / f"{name}.log")


@contextlib.contextmanager
def running(*processes: Process) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.stop()


# -- a TCP proxy between a process and PostgreSQL ------------------------------------------------------


class CuttableProxy:
    """Forwards loopback connections to PostgreSQL; `cut()` drops every connection and refuses new ones
    (as a lost network or a restarting server looks to the client) until `restore()`.

    It touches no other client of the server: other test suites share it.
    """

    def __init__(self, target_port: int = 5432) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.closed = threading.Event()
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.cuts = 0
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, base: str = PG_URL) -> str:
        parsed = httpx.URL(base)
        return str(parsed.copy_with(host="127.0.0.1", port=self.port))

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self.lock:
            self.connections.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def cut(self) -> int:
        """Drops every live connection and refuses new ones; returns how many were dropped."""
        self.open.clear()
        self.cuts += 1
        with self.lock:
            doomed = list(self.connections)
        for sock in doomed:
            self._drop(sock)
        return len(doomed) // 2

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        self.cut()


# -- what the store really holds ---------------------------------------------------------------------


@dataclass
class StoredLog:
    """Every event of the log, read through the application's own recorder and mapper."""

    events: list[Any]  # domain events, in log order
    positions: list[int]

    def ids(self) -> Counter[str]:
        """How often each public event id occurs (the ledger's index entries repeat the ids they index)."""
        return Counter(str(e.event_id) for e in self.events
                       if hasattr(e, "event_id") and type(e).__module__ != "domain.ledger")

    def acts(self) -> list[Any]:
        return [e for e in self.events if type(e).__name__ in ("Signed", "Declined", "Withdrawn")]

    def retractions(self) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == "Retracted"]


def record_of(store: Store) -> DiplomaticRecord:
    return DiplomaticRecord(store.settings().eventsourcing_env(), parties=PartyRegistry(load_organisations()))


def read_log(store: Store) -> StoredLog:
    app = record_of(store)
    try:
        events: list[Any] = []
        positions: list[int] = []
        start = 0
        while page := app.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
            for notification in page:
                events.append(app.mapper.to_domain_event(notification))
                positions.append(notification.id)
            start = page[-1].id
        return StoredLog(events, positions)
    finally:
        app.close()


def illegal_sequences(store: Store, declaration_ids: list[str]) -> list[str]:
    """Every (declaration, party) whose live acts, in valid-time order, break the stance rules."""
    app = record_of(store)
    found = []
    try:
        for slug in declaration_ids:
            declaration: Declaration = app.repository.get(Declaration.id_for(slug))
            for party in sorted({a.party for a in declaration.acts.values()}):
                problem = first_illegal(declaration.live_acts(party))
                if problem is not None:
                    found.append(f"{slug} {party}: {problem[2]}")
    finally:
        app.close()
    return found


def public_log(url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The whole log as GET /v1/events pages it."""
    events: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 1000})
            assert page.status_code == 200, page.text
            body = page.json()
            events += body["events"]
            if not body["events"]:
                return events
            after = body["next_after"]


def event_id_counts(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(e["event_id"]) for e in events)


def as_uuid(value: str) -> UUID:
    return UUID(value)
