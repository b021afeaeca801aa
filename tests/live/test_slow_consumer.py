"""A consumer that stops reading is detached once its bounded buffer is full, instead of growing the server's
memory: it gets what was buffered, a closing comment with a retry hint, and resumes from its last id. A
consumer that keeps up, on the same server at the same time, is not disturbed."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.support import (
    Collector,
    Server,
    Store,
    Stream,
    finish,
    ids,
    last_position,
    run_writer,
    serving,
)
from tests.live.writer import write_statements
from tests.prometheus_text import parse, value

BUFFER = 20
TEXT = 20_000  # characters per statement (the API's maximum)


def flood_size() -> int:
    """Enough statements that what the server sends is half as much again as the most the kernel lets a
    socket's send buffer hold (~7 MB here), so a reader that stops must stall the server's stream."""
    send_buffer_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return max(350, int(1.5 * (send_buffer_max + 512 * 1024) / TEXT))


def wait_health(server: Server, ok: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        health = server.health()
        if ok(health):
            return health
        assert time.monotonic() < deadline, health
        time.sleep(0.05)


@pytest.mark.slow
def test_a_consumer_that_stops_reading_is_detached_with_bounded_memory_and_resumes_every_remaining_event_once(
    store: Store, tmp_path: Path
) -> None:
    # A modest receive buffer on the stalled client's socket, so the stall reaches the server sooner.
    modest = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)])
    # Writes are paced and SQLite polled often, so no single hand-over of events exceeds the small buffer:
    # only not reading may get a consumer detached.
    # A stall long enough that the buffer guard, not the write-stall cut-off, is what ends the slow stream.
    with serving(store, tmp_path, stream_buffer=BUFFER, stream_heartbeat_seconds=0.5, stream_retry_ms=250,
                 write_stall_seconds=600, poll_interval=0.02) as server:
        # Warm the server up (a stream, a few writes) before taking its memory as the baseline.
        with store.record() as app:
            warm_up = write_statements(app, 30, "warm-up", batch=10)
        with Stream(server.url, params={"after": 0}) as warm:
            server.wait_projected(warm_up)
            warm.until(server.events()[-1]["position"])
        baseline = server.rss_kib()
        start = server.health()["head"]

        with Stream(server.url, params={"after": start}, transport=modest, timeout=120) as slow, \
                Collector(server.url, params={"after": start}) as fast:
            for line in slow.raw_lines():  # the greeting and the retry hint; then it stops reading
                if not line:
                    break
            wait_health(server, lambda h: h["stream"]["subscribers"] == 2)
            events = flood_size()
            flood = run_writer(store, events, f"flood-{uuid.uuid4().hex[:8]}", size=TEXT,
                               pause=0 if store.postgres else 0.004)
            last = last_position(finish(flood, timeout=120))
            health = wait_health(server, lambda h: h["stream"]["closed_slow"] >= 1 and h["position"] >= last)
            expected = [e["position"] for e in server.events(start)]
            fast.wait_for(expected[-1], timeout=30)
            health = server.health()
            grown = server.rss_kib() - baseline

            assert health["stream"]["closed_slow"] == 1  # the stalled one, not the one that kept up
            assert health["stream"]["subscribers"] == 1  # nothing is buffered for the stalled one any more
            metrics = parse(httpx.get(f"{server.url}/metrics", timeout=10).text)  # and the same for Prometheus
            assert value(metrics, "diplo_stream_closed_slow_total") == 1
            assert value(metrics, "diplo_stream_subscribers") == 2  # open connections: the stalled one still drains
            assert fast.ids() == expected

            buffered = slow.rest()  # reading again: what was buffered, then the server ends the stream

        assert len(expected) == events
        assert buffered and len(buffered) < events
        assert ids(buffered) == expected[: len(buffered)]  # in order, no gap, nothing twice
        tail = [line[:100] for line in slow.lines[-4:]]
        assert any(line.startswith(": too slow") for line in tail), tail
        assert "retry: 250" in tail, tail

        with Stream(server.url, headers={"Last-Event-ID": buffered[-1]["id"]}, timeout=120) as resumed:
            rest = resumed.until(expected[-1])
        assert ids(buffered) + ids(rest) == expected
        wait_health(server, lambda h: h["stream"]["subscribers"] == 0)  # every stream closed is let go

    # Megabytes went through the server; a buffer that kept them all for the stalled client would show here.
    assert grown < 64 * 1024, f"the server grew by {grown} KiB while a consumer stalled"
