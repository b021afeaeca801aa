"""Fixtures of the live tests: real `diplo` processes on loopback, each on a store of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seeds.loader import seed
from tests.live.support import BACKENDS, Server, Store, new_store, serving


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One seeded store per backend and a real server on it, shared by the tests that only add events to it.

    Heartbeats every half second and a short retry hint, so idle streams and reconnects are quick to see.
    """
    backend = str(request.param)
    with new_store(backend, tmp_path_factory.mktemp(f"seeded-{backend}")) as store:
        with store.record() as app:
            seed(app)
        with serving(store, store.data_dir, stream_heartbeat_seconds=0.5, stream_retry_ms=500) as server:
            yield server


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Store]:
    """An empty store of the test's backend (a fresh PostgreSQL schema, dropped with its views afterwards)."""
    with new_store(backend, tmp_path) as fresh:
        yield fresh
