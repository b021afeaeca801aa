"""The command line against live processes: `diplo status` shows each read model's lag, `diplo follow` prints
events from a real server and resumes without duplicates when the server is restarted under it."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.live.support import (
    DIPLO,
    REPO,
    Lines,
    Server,
    Store,
    Stream,
    kill_process,
    post_statement,
    run_diplo,
)
from tests.live.writer import write_statements

READ_MODELS = ("event_log", "catalogue", "timeline", "stance_history")


def status_rows(output: str) -> dict[str, tuple[int, int]]:
    """The (position, lag) `diplo status` prints for each read model."""
    rows = {}
    for line in output.splitlines():
        for name in READ_MODELS:
            if re.search(rf"\b{name}\b", line):
                position, lag = (int(n) for n in re.findall(r"\b\d+\b", line)[-2:])
                rows[name] = (position, lag)
    return rows


def printed_positions(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.match(r"\s*#(\d+)\s", line))]


def test_diplo_status_prints_each_read_model_with_its_position_and_lag_zero_when_caught_up(
    seeded_server: Server,
) -> None:
    head = seeded_server.wait_projected(seeded_server.health()["head"])["head"]
    shown = run_diplo(seeded_server.store, "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"head of the log: {head}" in shown.stdout
    assert status_rows(shown.stdout) == dict.fromkeys(READ_MODELS, (head, 0))


def test_diplo_status_shows_the_whole_log_as_lag_before_the_projector_ever_ran(store: Store) -> None:
    with store.record() as app:
        head = write_statements(app, 12, "unprojected")
    shown = run_diplo(store, "status", projector="external")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "projector: external" in " ".join(shown.stdout.split())  # the title may wrap
    assert status_rows(shown.stdout) == dict.fromkeys(READ_MODELS, (0, head))


def test_diplo_follow_after_n_with_limit_k_prints_exactly_the_k_events_after_n(seeded_server: Server) -> None:
    log = [e["position"] for e in seeded_server.events()]
    after, limit = log[30], 25
    followed = run_diplo(seeded_server.store, "follow", "--url", seeded_server.url, "--after", str(after),
                         "--limit", str(limit))
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert printed_positions(followed.stdout.splitlines()) == [p for p in log if p > after][:limit]


def test_diplo_follow_filters_by_party_and_kind_like_the_stream(seeded_server: Server) -> None:
    with Stream(seeded_server.url, params={"after": 0, "party": "GB", "kind": ["declined", "statement"]}) as stream:
        expected = [int(m["id"]) for m in stream.take(3)]
    followed = run_diplo(seeded_server.store, "follow", "--url", seeded_server.url, "--after", "0", "--party", "GB",
                         "--kind", "declined", "--kind", "statement", "--limit", "3")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert printed_positions(followed.stdout.splitlines()) == expected


@pytest.mark.slow
def test_diplo_follow_resumes_without_duplicates_when_the_server_is_restarted_under_it(
    store: Store, tmp_path: Path
) -> None:
    server = Server(store, tmp_path, stream_retry_ms=200, stream_heartbeat_seconds=0.5).start()
    follower: subprocess.Popen[str] | None = None
    output: Lines | None = None
    try:
        head = server.health()["head"]
        follower = subprocess.Popen(
            [*DIPLO, "follow", "--url", server.url, "--after", str(head), "--limit", "15"], cwd=REPO,
            env=store.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        output = Lines(follower)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(5):
                post_statement(client, f"before the restart {i} {uuid.uuid4().hex}")
        output.wait_for(lambda lines: len(printed_positions(lines)) >= 5, 30)

        assert server.process is not None
        kill_process(server.process)  # the server dies under the follower (abruptly, as a crash would)
        server.stop()
        with store.record() as app:  # stored while no server runs: the follower must not miss these
            write_statements(app, 5, f"while-down-{uuid.uuid4().hex}")
        server = Server(store, tmp_path, port=server.port, stream_retry_ms=200, stream_heartbeat_seconds=0.5).start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(5):
                post_statement(client, f"after the restart {i} {uuid.uuid4().hex}")

        follower.wait(60)
        expected = [e["position"] for e in server.events(head)]
    finally:
        if follower is not None:
            kill_process(follower)
        if output is not None:
            output.join()
        server.stop()
    lines = output.lines
    assert follower.returncode == 0, lines
    assert any("connection lost" in line for line in lines), lines  # it really was cut off, and came back
    assert len(expected) == 15
    assert printed_positions(lines) == expected, lines
    assert any("connection lost" in line for line in lines), lines


@pytest.mark.parametrize("backend", ["sqlite"])  # the same on PostgreSQL: this is uvicorn and the stream
def test_a_server_with_a_subscriber_stops_within_seconds_of_sigterm(store: Store, tmp_path: Path) -> None:
    server = Server(store, tmp_path, stream_heartbeat_seconds=0.5).start()
    try:
        with Stream(server.url, params={"after": 0}) as stream:
            assert server.health()["stream"]["subscribers"] == 1
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                server.process.wait(5)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"still running {time.monotonic() - started:.0f}s after SIGTERM") from None
            stream.rest()  # the server ended the stream; the client sees its end
    finally:
        if server.process is not None:
            kill_process(server.process)
        server.stop()
