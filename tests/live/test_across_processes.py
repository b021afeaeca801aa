"""An event stored by any process reaches every subscriber of a server: PostgreSQL wakes the server's one
log follower with NOTIFY, SQLite's follower polls the recorder."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx

from tests.live.support import DIPLO, REPO, Collector, Store, as_entry, finish, post_statement, serving

LATENCY = 3.0  # "within a couple of seconds", with room for a loaded two-core machine


def test_events_stored_by_diplo_seed_and_by_a_second_server_reach_a_subscriber_of_the_first_in_seconds(
    store: Store, tmp_path: Path
) -> None:
    with serving(store, tmp_path, stream_heartbeat_seconds=0.5) as first, \
            Collector(first.url, params={"after": 0}) as subscriber:
        seeding = subprocess.Popen([*DIPLO, "seed", "--only", "ai-summits"], cwd=REPO, env=store.env(),
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        output = finish(seeding, timeout=120)
        seeded_at = time.monotonic()
        assert "stored" in output
        first.wait_projected(first.health()["head"])
        log = first.events()
        arrived = subscriber.wait_for(log[-1]["position"], timeout=30)
        assert len(log) > 200
        assert subscriber.ids() == [e["position"] for e in log]
        assert [as_entry(m) for m in subscriber.messages] == log
        assert arrived - seeded_at < LATENCY

        with serving(store, tmp_path, stream_heartbeat_seconds=0.5) as second, \
                httpx.Client(base_url=second.url, timeout=10) as client:
            receipt = post_statement(client, f"said to the second server {uuid.uuid4().hex}", party="BR")
            answered_at = time.monotonic()
            arrived = subscriber.wait_for(receipt["position"], timeout=30)
        assert arrived - answered_at < LATENCY
        assert subscriber.ids() == [e["position"] for e in log] + [receipt["position"]]
        assert as_entry(subscriber.messages[-1]) == first.events(log[-1]["position"])[-1]
