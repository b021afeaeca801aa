"""What a connection may hold on a real `diplo serve`: headers that never finish, idle connections, too many
connections; and what never reaches a log or another account: a token in a query string, the development token
after its first showing, the store's files."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live.support import DIPLO, REPO, Server, free_port, new_store, serving, stop_process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with new_store("sqlite", tmp_path) as store, serving(store, tmp_path, header_timeout_seconds=1,
                                                         keep_alive_seconds=1, max_connections=30) as running:
        yield running


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=20)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """How long until the server closed the connection (None if it had not within `seconds`)."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
        if data == b"":
            return time.monotonic() - started
    return None


def test_headers_that_never_finish_are_cut_off_after_the_header_timeout(server: Server) -> None:
    silent, dribbling = connect(server), connect(server)
    dribbling.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for sock in (silent, dribbling):
        waited = closed_within(sock, 15)
        assert waited is not None, "a connection with unfinished headers was still open after 15 s"
        sock.close()
    assert "headers were not complete" in server.log()
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_a_connection_idle_after_its_answer_is_closed_after_the_keep_alive_time(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert closed_within(sock, 15) is not None


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[Server]:
    """A server with a cap of 30 connections, and a header time-out far longer than the test: the connections
    that fill the cap send nothing, and must not be closed for it however slow the machine is (with the
    `server` fixture's 1 s, a stall of 0.7 s between filling the cap and asking once more let the ask in)."""
    with new_store("sqlite", tmp_path) as store, serving(store, tmp_path, header_timeout_seconds=600,
                                                         max_connections=30) as running:
        yield running


def one_more(server: Server) -> bytes:
    """The start of the answer to one more connection's request."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        sock.settimeout(30)
        return sock.recv(200)


def test_connections_beyond_the_cap_are_answered_503(capped: Server) -> None:
    held = [connect(capped) for _ in range(30)]
    try:
        # Until the server has accepted all 30, one more may still get in: it is asked again until refused.
        deadline = time.monotonic() + 60
        while not (answer := one_more(capped)).startswith(b"HTTP/1.1 503"):
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert time.monotonic() < deadline, "one more connection than the cap was still answered after 60 s"
            time.sleep(0.1)
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 60
    while httpx.get(f"{capped.url}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the server did not answer again once the connections were gone"
        time.sleep(0.2)


# -- secrets --------------------------------------------------------------------------------------------------


def test_a_token_in_a_query_string_is_redacted_in_the_access_log(server: Server) -> None:
    secret = "qs-secret-7c1f0b"
    for name in ("access_token", "token", "api_key", "Authorization", "key"):
        httpx.get(f"{server.url}/v1/parties", params={name: secret, "limit": "5"}, timeout=10)
    deadline = time.monotonic() + 60
    while server.log().count("/v1/parties?") < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server.log()
    assert log.count("/v1/parties?") == 5, log
    assert secret not in log
    assert log.count("=[redacted]") == 5
    assert "limit=5" in log  # what is not a secret stays readable


def serve_once(data_dir: Path, seconds: float = 60) -> str:
    """`diplo serve` with no write tokens configured, until it answers; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    env |= {"DIPLO_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen([*DIPLO, "serve", "--port", str(port)], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + seconds
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            stop_process(process)
    return log.read_text()


def test_the_development_token_is_shown_once_and_the_store_is_its_owners_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    outputs = [serve_once(data_dir), serve_once(data_dir)]
    token = (data_dir / "dev-write-token").read_text().strip()
    assert sum(output.count(token) for output in outputs) == 1, outputs
    assert token in outputs[0] and "dev-write-token" in outputs[1]

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert {"events.sqlite3", "views.sqlite3", "dev-write-token"} <= {p.name for p in files}
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if stat.S_IMODE(p.stat().st_mode) != 0o600}
    assert loose == {}
