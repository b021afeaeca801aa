"""An anonymous crowd against a real `diplo serve`: event streams that never read, too many of them from one
address or in all, and what the server holds for them. SQLite and PostgreSQL; loopback only (a second client
address is 127.0.0.2, which the loopback interface answers too)."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.live.support import AUTH, SOURCE, Server, Store, bulk_log, serving
from tests.live.writer import write_statements

OTHER_CLIENT = "127.0.0.2"


def request_stream(server: Server, *, source: str = "127.0.0.1", after: int = 0, receive_buffer: int | None = None,
                   path: str = "/v1/events/stream") -> socket.socket:
    """A stream asked for on a raw socket, which then reads nothing unless told to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.settimeout(20)
    sock.connect(("127.0.0.1", server.port))
    target = f"{path}?after={after}" if path == "/v1/events/stream" else path
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode())
    return sock


def status_of(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and what came of the body so far (a refusal comes whole: it is short)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def problem_of(sock: socket.socket, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    found: dict[str, Any] = json.loads(body)
    return found


def flooding_log(app: Any) -> int:
    """Statements of 20,000 characters, half as much again as the most a socket's send buffer may hold, so a
    client that reads nothing must stall the server's writes."""
    send_buffer_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return write_statements(app, max(300, int(1.5 * (send_buffer_max + (1 << 20)) / 20_000)), "flood", size=20_000,
                            batch=50)


def wait_health(server: Server, ok: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        health = server.health()
        if ok(health):
            return health
        assert time.monotonic() < deadline, health
        time.sleep(0.1)


@contextlib.contextmanager
def held(sockets: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_streams_past_the_limit_of_one_address_are_429_and_past_the_total_503_each_with_retry_after(
    store: Store, tmp_path: Path
) -> None:
    with store.record() as app:
        bulk_log(app, 2)
    with serving(store, tmp_path, max_streams=5, max_streams_per_client=3) as server:
        with held([request_stream(server) for _ in range(3)]) as mine:
            assert [status_of(s)[0] for s in mine] == [200, 200, 200]
            with held([request_stream(server)]) as (fourth,):
                status, headers, body = status_of(fourth)
                assert status == 429, body
                assert headers["content-type"].startswith("application/problem+json")
                assert int(headers["retry-after"]) > 0
                assert "DIPLO_MAX_STREAMS_PER_CLIENT" in problem_of(fourth, body, headers)["detail"]
            with held([request_stream(server, source=OTHER_CLIENT) for _ in range(2)]) as others:
                assert [status_of(s)[0] for s in others] == [200, 200]
                with held([request_stream(server, source=OTHER_CLIENT)]) as (sixth,):
                    status, headers, body = status_of(sixth)
                    assert status == 503, body
                    assert int(headers["retry-after"]) > 0
                    assert "DIPLO_MAX_STREAMS" in problem_of(sixth, body, headers)["detail"]
                health = server.health()
                assert health["limits"]["streams"]["open"] == 5
                assert health["limits"]["streams"]["refused"] == 2
                # Reads, writes and health are not streams: the crowd leaves them alone.
                assert httpx.get(f"{server.url}/v1/parties/US", timeout=10).status_code == 200
        # Closed streams give their places back.
        wait_health(server, lambda h: h["limits"]["streams"]["open"] == 0 and h["stream"]["subscribers"] == 0)
        with held([request_stream(server) for _ in range(3)]) as again:
            assert [status_of(s)[0] for s in again] == [200, 200, 200]


def test_a_catching_up_stream_whose_client_reads_nothing_is_cut_off(store: Store, tmp_path: Path) -> None:
    with store.record() as app:
        head = flooding_log(app)
    with serving(store, tmp_path, write_stall_seconds=1) as server:
        with held([request_stream(server, receive_buffer=4096)]) as (stalled,):
            wait_health(server, lambda h: h["stream"]["subscribers"] == 1)
            started = time.monotonic()
            health = wait_health(server, lambda h: h["stream"]["subscribers"] == 0, timeout=60)
            waited = time.monotonic() - started
            assert health["limits"]["streams"]["open"] == 0
            assert "read nothing of its answer" in server.log()
            # What reached the client is a stream without its end: it knows to resume with Last-Event-ID.
            received = b""
            stalled.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                while chunk := stalled.recv(1 << 20):
                    received += chunk
            ids = [int(line[4:]) for line in received.decode(errors="replace").splitlines() if line.startswith("id: ")]
            assert ids and ids[-1] < head and not received.endswith(b"0\r\n\r\n")
        print(f"\nstalled catch-up stream of {head} events cut off {waited:.1f} s after it filled its buffers, "
              f"after {len(ids)} events reached the client")


@pytest.mark.slow
def test_a_crowd_of_streams_that_never_read_holds_bounded_memory_and_health_answers(
    store: Store, tmp_path: Path
) -> None:
    crowd = 200
    with store.record() as app:
        head = bulk_log(app, 60)
    with serving(store, tmp_path, max_streams=crowd, max_streams_per_client=crowd, write_stall_seconds=600,
                 max_connections=crowd + 50) as server:
        with held([request_stream(server, receive_buffer=4096)]) as (_warm,):  # the first stream's one-off costs
            wait_health(server, lambda h: h["stream"]["subscribers"] == 1)
        wait_health(server, lambda h: h["stream"]["subscribers"] == 0)
        baseline = server.rss_kib()
        grown, after, timings = [], [], []
        for _ in range(2):  # a second crowd, the same size: the memory the first left is reused, not added to
            with held([request_stream(server, receive_buffer=4096) for _ in range(crowd)]):
                wait_health(server, lambda h: h["stream"]["subscribers"] == crowd, timeout=120)
                time.sleep(2)  # every stream has read what it can and stalled
                grown.append(server.rss_kib() - baseline)
                for _ in range(10):
                    started = time.monotonic()
                    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
                    timings.append(time.monotonic() - started)
            wait_health(server, lambda h: h["stream"]["subscribers"] == 0, timeout=60)
            time.sleep(1)
            after.append(server.rss_kib() - baseline)
    per_stream = grown[0] / crowd
    timings.sort()
    print(f"\n{crowd} stalled catch-up streams over {head} events: +{grown[0] / 1024:.1f} MiB "
          f"({per_stream:.0f} KiB each), {after[0] / 1024:.1f} MiB above the baseline once closed; a second crowd "
          f"+{grown[1] / 1024:.1f} MiB, {after[1] / 1024:.1f} MiB once closed; /healthz p50 "
          f"{timings[len(timings) // 2] * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms")
    assert per_stream < 400, f"each stalled stream held {per_stream:.0f} KiB"
    assert grown[1] < grown[0] * 1.25 + 8 * 1024, f"a second crowd grew the server again: {grown}"
    assert timings[-1] < 5


# -- exports ------------------------------------------------------------------------------------------------

EXPORT = "/v1/export/events?format=jsonl"


def answered_within(server: Server, method: str, path: str, **kwargs: Any) -> float:
    started = time.monotonic()
    response = httpx.request(method, f"{server.url}{path}", timeout=30, **kwargs)
    assert response.status_code in (200, 201, 202), response.text
    return time.monotonic() - started


def test_fifty_stalled_exports_get_their_limit_and_reads_writes_and_health_answer_meanwhile(
    store: Store, tmp_path: Path
) -> None:
    with store.record() as app:
        flooding_log(app)  # every export admitted stalls: more than the sockets' buffers hold
    with serving(store, tmp_path, max_exports=4, max_exports_per_client=1, write_stall_seconds=600) as server:
        with held([request_stream(server, source="127.0.0.10", path=EXPORT, receive_buffer=4096)]) as (first,):
            assert status_of(first)[0] == 200
            with held([request_stream(server, source="127.0.0.10", path=EXPORT)]) as (again,):
                status, headers, body = status_of(again)
                assert status == 429 and int(headers["retry-after"]) > 0
                assert "DIPLO_MAX_EXPORTS_PER_CLIENT" in problem_of(again, body, headers)["detail"]
            crowd = [request_stream(server, source=f"127.0.0.{11 + i}", path=EXPORT, receive_buffer=4096)
                     for i in range(49)]
            with held(crowd):
                statuses = [status_of(sock)[0] for sock in crowd]
                assert statuses.count(200) == 3 and statuses.count(503) == 46, statuses
                timings = {
                    "health": answered_within(server, "GET", "/healthz"),
                    "read": answered_within(server, "GET", "/v1/parties/FR/history"),
                    "write": answered_within(server, "POST", "/v1/statements", headers=AUTH, json={
                        "party": "FR", "occurred_on": "2025-02-12", "text": "while exports stall",
                        "sources": [SOURCE]}),
                }
                health = server.health()
                assert health["limits"]["exports"]["open"] == 4
        print("\n50 exports at once: 4 admitted and stalled, 1 refused 429, 45 refused 503; meanwhile "
              + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))
        assert max(timings.values()) < 5


class RawTables:
    """The events table reached behind the server's back, to make a running export fail part-way."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = f'"{store.schema}".diplo_events' if store.postgres else "stored_events"

    def execute(self, statement: str) -> None:
        if self.store.postgres:
            with psycopg.connect(self.store.database_url, autocommit=True) as conn:
                conn.execute(statement)
        else:
            with contextlib.closing(sqlite3.connect(self.store.data_dir / "events.sqlite3", timeout=30)) as conn:
                conn.execute(statement)
                conn.commit()

    def hide(self) -> None:
        self.execute(f"ALTER TABLE {self.table} RENAME TO {self.away}")

    def restore(self) -> None:
        away = f'"{self.store.schema}".{self.away}' if self.store.postgres else self.away
        self.execute(f"ALTER TABLE {away} RENAME TO {self.name}")

    @property
    def name(self) -> str:
        return "diplo_events" if self.store.postgres else "stored_events"

    @property
    def away(self) -> str:
        return "events_away"


def read_to_the_end(sock: socket.socket) -> bytes:
    received = b""
    sock.settimeout(30)
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(1 << 20):
            received += chunk
    return received


def test_an_export_that_fails_part_way_says_so_and_never_ends_cleanly(store: Store, tmp_path: Path) -> None:
    with store.record() as app:
        head = bulk_log(app, 200)  # pages of 1,000 events, far more of them than the sockets' buffers hold
    tables = RawTables(store)
    with serving(store, tmp_path, write_stall_seconds=600) as server:
        for fmt in ("jsonl", "csv"):
            with held([request_stream(server, path=f"/v1/export/events?format={fmt}", receive_buffer=4096)]) as (
                sock,
            ):
                status, headers, body = status_of(sock)
                assert status == 200 and headers["transfer-encoding"] == "chunked"
                time.sleep(1)  # the server has written what the buffers take, and waits
                tables.hide()
                try:
                    body += read_to_the_end(sock)
                finally:
                    tables.restore()
            text = body.decode(errors="replace")
            assert "this download is incomplete" in text, text[-500:]
            assert not body.endswith(b"0\r\n\r\n"), "the transfer ended as if it were complete"
            lines = [line for line in text.splitlines() if "incomplete" in line]
            if fmt == "jsonl":
                assert any('"incomplete": true' in line for line in lines)
            else:
                assert any(line.startswith("#error") for line in lines)
        assert "an export failed" in server.log()
        assert "Exception in ASGI application" not in server.log()  # said, not crashed
        assert server.health()["head"] >= head
