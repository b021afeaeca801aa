"""Helpers of the live tests (not a test module): stores of their own, real `diplo` processes on loopback,
a streaming SSE client, a generator of large logs and a TCP proxy that can cut a process off its database.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx
import psycopg
import pytest

from api.follow import parse_sse
from api.settings import Settings
from domain.declaration import Declaration
from domain.ledger import EventIndex
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from domain.statement import Statement
from domain.values import ActKind, Source
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from seeds.organisations import load_organisations

PG_URL = os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "live-writer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
REPO = Path(__file__).resolve().parents[2]
DIPLO = [sys.executable, "-m", "api.cli"]
WRITER = [sys.executable, "-m", "tests.live.writer"]
SOURCE = {"title": "Live report", "url": "https://example.org/live", "outlet": "Example Wire"}


# -- stores -----------------------------------------------------------------------------------------


@dataclass
class Store:
    """One store of its own: a data directory (SQLite) or a fresh PostgreSQL schema."""

    backend: str
    data_dir: Path
    schema: str = field(default_factory=lambda: f"t_{uuid.uuid4().hex[:12]}")
    database_url: str = PG_URL
    more_schemas: list[str] = field(default_factory=list)  # made by a test beside the store, dropped with it

    @property
    def postgres(self) -> bool:
        return self.backend == "postgres"

    def env(self, **extra: str | float | int) -> dict[str, str]:
        """The environment of a `diplo` process on this store; no DIPLO_* setting leaks in from outside."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
        env |= {"DIPLO_DATA_DIR": str(self.data_dir), "DIPLO_WRITE_TOKENS": TOKEN, "PYTHONUNBUFFERED": "1",
                "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
        if self.postgres:
            env |= {"DIPLO_DATABASE_URL": self.database_url, "DIPLO_DATABASE_SCHEMA": self.schema}
        env |= {f"DIPLO_{k.upper()}": str(v) for k, v in extra.items()}
        return env

    def settings(self, **extra: Any) -> Settings:
        if self.postgres:
            return Settings(data_dir=self.data_dir, database_url=self.database_url, database_schema=self.schema,
                            write_tokens=TOKEN, **extra)
        return Settings(data_dir=self.data_dir, write_tokens=TOKEN, **extra)

    @contextlib.contextmanager
    def record(self) -> Iterator[DiplomaticRecord]:
        """The application service on this store, in this process, as any other writer would open it."""
        settings = self.settings()
        if self.postgres:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        app = DiplomaticRecord(settings.eventsourcing_env(), parties=PartyRegistry(load_organisations()))
        try:
            yield app
        finally:
            app.close()

    def drop(self) -> None:
        if not self.postgres:
            return
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for doomed in (self.schema, f"{self.schema}_views", *self.more_schemas):
                conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')

    def views(self) -> ViewStore:
        """The live read models of this store, opened as any reader would (close it after use)."""
        if self.postgres:
            return PostgresViewStore(self.database_url, f"{self.schema}_views", pool_size=2)
        return SQLiteViewStore(self.data_dir / "views.sqlite3")

    def fresh_views(self, name: str) -> ViewStore:
        """An empty view store beside this store's, for a reference projection."""
        if self.postgres:
            schema = f"{self.schema}_{name}"
            self.more_schemas.append(schema)
            return PostgresViewStore(self.database_url, schema, pool_size=2)
        return SQLiteViewStore(self.data_dir / name / "views.sqlite3")


def tracking(views: ViewStore) -> dict[str, int]:
    """Each read model's tracking position ({} while the projector has not yet made its tables)."""
    try:
        with views.reading() as sql:
            return {r["name"]: int(r["position"]) for r in sql.rows("SELECT name, position FROM view_tracking")}
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return {}


@contextlib.contextmanager
def new_store(backend: str, data_dir: Path) -> Iterator[Store]:
    store = Store(backend, data_dir)
    try:
        yield store
    finally:
        store.drop()


# -- processes --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def stop_process(process: subprocess.Popen[Any], *, grace: float = 5.0) -> int:
    """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return int(process.returncode)


def kill_process(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)


def run_diplo(store: Store, *args: str, timeout: float = 60,
              **env: str | float | int) -> subprocess.CompletedProcess[str]:
    """Runs one `diplo` command to its end on this store."""
    return subprocess.run([*DIPLO, *args], cwd=REPO, env=store.env(**env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_writer(store: Store, count: int, prefix: str, *, pause: float = 0.0, size: int = 0,
               batch: int = 1) -> subprocess.Popen[str]:
    """Starts a writer process (DiplomaticRecord on the same store) storing `count` statements."""
    command = [*WRITER, str(count), prefix, "--pause", str(pause), "--size", str(size), "--batch", str(batch)]
    return subprocess.Popen(command, cwd=REPO, env=store.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def last_position(output: str) -> int:
    """The last position a writer process says it stored."""
    return int(output.split()[-1])


def finish(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """Waits for a process that must succeed; returns its output."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


class Server:
    """A real `diplo serve` (uvicorn) on a free loopback port, with a store and settings of its own."""

    def __init__(self, store: Store, log_dir: Path, port: int | None = None, args: Sequence[str] = (),
                 **env: str | float | int) -> None:
        self.store = store
        self.args = list(args)  # more options of `diplo serve`
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environment = store.env(**env)
        self.log_path = log_dir / f"server-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60, attempts: int = 3) -> Server:
        if self._log is None:
            self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [*DIPLO, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args], cwd=REPO,
            env=self.environment,
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "address already in use" in self.log() and not self.fixed_port and attempts > 1:
                    self.port = free_port()  # another process took the free port meanwhile: take another
                    self.url = f"http://127.0.0.1:{self.port}"
                    return self.start(timeout, attempts - 1)
                self.stop()
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not answer /healthz in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=3)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def health(self) -> dict[str, Any]:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            response = retrying(client, "GET", "/healthz")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        """Every entry of GET /v1/events after a position, page by page."""
        found: list[dict[str, Any]] = []
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while True:
                response = retrying(client, "GET", "/v1/events", params={"after": after, "limit": 1000})
                assert response.status_code == 200, response.text
                page = response.json()["events"]
                if not page:
                    return found
                found += page
                after = page[-1]["position"]

    def wait_projected(self, position: int, timeout: float = 30) -> dict[str, Any]:
        """Waits until every read model has reached `position` (and the lag is 0 if nothing else came)."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if health["position"] >= position:
                return health
            assert time.monotonic() < deadline, f"read models stuck at {health} waiting for {position}"
            time.sleep(0.05)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)


@contextlib.contextmanager
def serving(store: Store, log_dir: Path, args: Sequence[str] = (), **env: str | float | int) -> Iterator[Server]:
    server = Server(store, log_dir, args=args, **env)
    try:
        yield server.start()
    finally:
        server.stop()


def retrying(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request that, like any careful client, tries again when the server answers 503 with Retry-After
    (the API's "try again shortly"). Only for the helpers around what a test is about."""
    for _ in range(10):
        response = client.request(method, url, **kwargs)
        if response.status_code != 503 or "retry-after" not in response.headers:
            return response
        time.sleep(0.1)
    return response


def post_statement(client: httpx.Client, text: str, party: str = "FR", about: str | None = None) -> dict[str, Any]:
    """A statement written through the HTTP API (with an Idempotency-Key, so that a retry stores it once)."""
    body: dict[str, Any] = {"party": party, "speaker": "Live speaker", "occurred_on": "2025-02-12", "text": text,
                            "sources": [SOURCE]}
    if about:
        body["about"] = about
    headers = {**AUTH, "Idempotency-Key": uuid.uuid4().hex}
    response = retrying(client, "POST", "/v1/statements", json=body, headers=headers)
    assert response.status_code in (201, 202), response.text
    receipt: dict[str, Any] = response.json()
    return receipt


# -- the streaming client -----------------------------------------------------------------------------


class Stream:
    """A real streaming HTTP client of GET /v1/events/stream: httpx.stream, parsed with api.follow.parse_sse.

    `messages()` yields each event message (id, event, data); every raw line is kept in `lines`, so
    comments (greeting, heartbeats, the too-slow notice) and retry hints can be checked too. A deadline
    makes a stuck stream fail the test instead of hanging it.
    """

    def __init__(self, url: str, *, params: Any = None, headers: dict[str, str] | None = None,
                 timeout: float = 30, transport: httpx.HTTPTransport | None = None) -> None:
        self.client = httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=timeout), transport=transport)
        self.params = params
        self.headers = {"Accept": "text/event-stream", **(headers or {})}
        self.lines: list[str] = []
        self.deadline = time.monotonic() + timeout
        self._stack = contextlib.ExitStack()
        self.response: httpx.Response | None = None
        self._lines: Iterator[str] | None = None
        self._messages: Iterator[dict[str, str]] | None = None
        self.stopping = threading.Event()  # another thread asks the reader to stop at its next line

    def __enter__(self) -> Stream:
        self._stack.enter_context(self.client)
        try:
            self.response = self._stack.enter_context(
                self.client.stream("GET", "/v1/events/stream", params=self.params, headers=self.headers)
            )
            assert self.response.status_code == 200, (self.response.status_code, self.response.read())
        except BaseException:
            self._stack.close()
            raise
        self._lines = self._read_lines()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._messages = None
        self._stack.close()

    def _read_lines(self) -> Iterator[str]:
        assert self.response is not None
        for line in self.response.iter_lines():
            if self.stopping.is_set():
                return
            self.lines.append(line)
            if time.monotonic() > self.deadline:
                raise AssertionError(f"stream deadline passed; last lines {[x[:120] for x in self.lines[-5:]]}")
            yield line

    def raw_lines(self) -> Iterator[str]:
        """The stream's lines as they come (the same iterator `messages()` parses: stop at a blank line)."""
        assert self._lines is not None, "use the stream as a context manager"
        return self._lines

    def messages(self) -> Iterator[dict[str, str]]:
        if self._messages is None:
            self._messages = parse_sse(self.raw_lines())
        return self._messages

    def take(self, n: int) -> list[dict[str, str]]:
        """The next n event messages."""
        got = []
        for message in self.messages():
            got.append(message)
            if len(got) == n:
                break
        assert len(got) == n, f"the stream ended after {len(got)} of {n} messages"
        return got

    def until(self, position: int) -> list[dict[str, str]]:
        """Every message up to and including the one with id `position` (which must arrive)."""
        got = []
        for message in self.messages():
            got.append(message)
            if int(message["id"]) >= position:
                return got
        raise AssertionError(f"the stream ended before position {position}; last {got[-1:] if got else None}")

    def rest(self) -> list[dict[str, str]]:
        """Every message until the server ends the stream."""
        return list(self.messages())

    def comments(self) -> list[str]:
        return [line for line in self.lines if line.startswith(":")]


class Collector:
    """Reads a stream in a thread of its own, noting when each message arrived (heartbeats let it stop)."""

    def __init__(self, url: str, *, params: Any = None, headers: dict[str, str] | None = None,
                 timeout: float = 120) -> None:
        self.stream = Stream(url, params=params, headers=headers, timeout=timeout)
        self.messages: list[dict[str, str]] = []
        self.arrived: dict[int, float] = {}
        self.error: BaseException | None = None
        self.done = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Collector:
        self.stream.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.stopping.set()
        self._thread.join(10)
        self.stream.close()

    def _run(self) -> None:
        try:
            for message in self.stream.messages():
                with self._changed:
                    self.messages.append(message)
                    self.arrived[int(message["id"])] = time.monotonic()
                    self._changed.notify_all()
        except BaseException as error:
            self.error = error
        finally:
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def wait_for(self, position: int, timeout: float = 60) -> float:
        """Waits for the message with this id; returns when it arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while position not in self.arrived:
                remaining = deadline - time.monotonic()
                if self.done or remaining <= 0:
                    last = self.messages[-1]["id"] if self.messages else None
                    raise AssertionError(f"position {position} never arrived (last {last}, error {self.error!r})")
                self._changed.wait(min(remaining, 0.2))
            return self.arrived[position]

    def ids(self) -> list[int]:
        with self._changed:
            return ids(self.messages)


def ids(messages: list[dict[str, str]]) -> list[int]:
    return [int(m["id"]) for m in messages]


def as_entry(message: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(message["data"])
    return entry


# -- a process's output, line by line ----------------------------------------------------------------


class Lines:
    """Collects a subprocess's stdout lines in a thread, so a test can wait for the next one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._thread.is_alive()):
                    break
                self._changed.wait(min(remaining, 0.2))
            return list(self.lines)

    def join(self, timeout: float = 10) -> list[str]:
        """Every line, once the process has ended and its output is closed."""
        self._thread.join(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return list(self.lines)


# -- a large log, written quickly --------------------------------------------------------------------


def bulk_log(app: DiplomaticRecord, declarations: int, *, parties: int = 30, seed: int = 3, batch: int = 8) -> int:
    """Writes a bench-like log straight through the application: many declarations, each signed, declined,
    withdrawn from and re-signed by many parties (some acts retracted), statements about them, and the
    event index the service keeps beside every act. Saved a few aggregates per transaction, so 20,000 events
    take seconds. Returns the head position."""
    rng = random.Random(seed)
    codes = sorted(p.code for p in app.parties if p.kind == "state" and len(p.code) == 2)[:parties]
    sources = [Source("Bulk wire", "https://example.org/bulk", "Bulk Wire").as_dict()]
    today = date.today()
    scripts = [[ActKind.SIGNED], [ActKind.DECLINED], [ActKind.SIGNED, ActKind.WITHDRAWN],
               [ActKind.SIGNED, ActKind.WITHDRAWN, ActKind.SIGNED], [ActKind.DECLINED, ActKind.SIGNED]]
    pending: list[Any] = []
    head = 0

    def index(event_id: Any, target: Any, kind: str) -> None:
        pending.append(EventIndex.index(event_id=event_id, target=target, kind=kind))

    for d in range(declarations):
        published = date(2015, 1, 1) + timedelta(days=7 * d)
        declaration = Declaration.publish(
            slug=f"bulk-{d:05d}", title=f"Bulk declaration {d}", summit_id=None, published_on=published,
            notes=None, sources=sources, confidence="high", today=today,
        )
        index(declaration.pending_events[0].event_id, declaration.id, "published")  # type: ignore[attr-defined]
        for code in rng.sample(codes, rng.randint(parties // 2, parties)):
            day = published + timedelta(days=rng.randint(0, 40))
            last = None
            for kind in rng.choice(scripts):
                last = declaration.record_act(
                    kind=kind, party=code, occurred_on=day, precision=rng.choice(["day", "day", "month"]),
                    reason=None, note=None, sources=sources, confidence=rng.choice(["high", "medium", "low"]),
                    today=today,
                )
                index(last, declaration.id, str(kind))
                day += timedelta(days=rng.randint(40, 400))
            if last is not None and rng.random() < 0.1:
                retraction = declaration.retract(target_event_id=last, reason="misreported", sources=sources)
                index(retraction, declaration.id, "retracted")
        pending.append(declaration)
        for s in range(rng.randint(0, 3)):
            statement = Statement.issue(
                party=rng.choice(codes), speaker="Bulk speaker", occurred_on=published + timedelta(days=s),
                precision="day", text=f"On bulk declaration {d}, number {s}", about=declaration.slug,
                position=rng.choice(["supports", "opposes", "neutral"]), note=None, sources=sources,
                confidence="high", today=today,
            )
            index(statement.issued_event_id, statement.id, "statement")
            if rng.random() < 0.2:
                index(statement.retract(target_event_id=statement.issued_event_id, reason="denied",
                                        sources=sources), statement.id, "retracted")
            pending.append(statement)
        if d % batch == batch - 1 or d == declarations - 1:
            recordings = app.save(*pending)
            head = max(r.notification.id for r in recordings)
            pending.clear()
    return head


# -- a TCP proxy that can cut a process off its database ----------------------------------------------


class Proxy:
    """Forwards a loopback port to PostgreSQL; `cut()` closes every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 0.5)
                if self._closed:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except OSError:
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()

    def cut(self) -> None:
        with self._lock:
            self._closed = True
            self.listener.close()
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(5)

    def url(self, database_url: str) -> str:
        from urllib.parse import urlparse

        parsed = urlparse(database_url)
        netloc = parsed.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return parsed._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()
