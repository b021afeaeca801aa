"""`diplo project`: the read models in a process of their own. Killed with SIGKILL at random moments of a large
catch-up and restarted, it ends with exactly the rows of a from-scratch projection; it stops cleanly on
SIGTERM, and exits non-zero when it loses its database, so that a supervisor restarts it."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from projections.projector import Projector
from projections.store import ViewStore
from seeds.loader import seed
from tests.integration.support import TABLES, dump
from tests.live.support import DIPLO, PG_URL, REPO, Lines, Proxy, Store, bulk_log, kill_process, tracking
from tests.live.writer import write_statements

# Declarations in the large log: with the seeds, ~20,500 events on SQLite. PostgreSQL projects a page more
# slowly (each statement a round trip), so there ~11,000 events: still 200 pages of 50, enough that six kills
# land before the catch-up ends (40 declarations were no longer enough once pages were written in bulk),
# and the suite's time budget kept.
LARGE = {"sqlite": 230, "postgres": 120}


def start_projector(store: Store, **env: str | float | int) -> subprocess.Popen[str]:
    return subprocess.Popen([*DIPLO, "project"], cwd=REPO, env=store.env(projector="external", **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def lowest(views: ViewStore) -> int:
    positions = tracking(views)
    return min(positions.values()) if positions else -1


def wait_until(check: Any, timeout: float, what: str, poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(poll)


@pytest.mark.slow
def test_the_projector_killed_with_sigkill_six_times_during_a_large_catch_up_ends_equal_to_a_rebuild(
    store: Store, tmp_path: Path
) -> None:
    rng = random.Random()
    with store.record() as app:
        seed(app)
        head = bulk_log(app, LARGE[store.backend])
        assert head >= (20_000 if store.backend == "sqlite" else 10_000)

        # The reference: one projector, never interrupted, in a store of its own (built meanwhile, in a thread).
        reference = store.fresh_views("reference")
        built: list[BaseException | None] = []

        def build() -> None:
            try:
                Projector(app.recorder, app.mapper, reference, page_size=500).catch_up()
                built.append(None)
            except BaseException as error:
                built.append(error)

        builder = threading.Thread(target=build)
        builder.start()
        views = store.views()
        try:
            kills: list[int] = []
            while len(kills) < 6:
                before = lowest(views)
                projector = start_projector(store, page_size=50, max_page_size=50)
                try:
                    floor = max(before, 0)  # progress is a page applied, not just the tables made
                    wait_until(lambda at=floor: lowest(views) > at, 60, f"no progress from {before}")
                    time.sleep(rng.uniform(0, 0.25))
                finally:
                    kill_process(projector)  # SIGKILL: no page finishes, no clean-up runs
                    projector.communicate()
                assert projector.returncode == -signal.SIGKILL
                kills.append(lowest(views))
                assert kills[-1] < head, f"the catch-up ended before kill {len(kills)}; make the log larger"
            assert kills == sorted(kills) and len(set(kills)) == len(kills)  # each run moved it on

            projector = start_projector(store, page_size=50, max_page_size=50)
            try:
                wait_until(lambda: lowest(views) >= head, 180, "the last projector did not catch up", poll=0.1)
                projector.send_signal(signal.SIGTERM)
                output, _ = projector.communicate(timeout=30)
            finally:
                kill_process(projector)
            assert projector.returncode == 0, output  # a supervisor's stop is a clean exit, not a failure

            builder.join(180)
            assert built == [None]
            assert tracking(views) == dict.fromkeys(tracking(reference), head)
            live, rebuilt = dump(views), dump(reference)
            assert all(rebuilt[t] for t in TABLES)
            for table in TABLES:
                assert live[table] == rebuilt[table], table  # nothing lost, nothing applied twice
        finally:
            builder.join(180)
            views.close()
            reference.close()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_the_projector_exits_non_zero_when_it_loses_its_postgresql_connection(store: Store) -> None:
    with store.record() as app:
        head = write_statements(app, 20, "before-the-cut")
    database = urlparse(PG_URL)
    proxy = Proxy((database.hostname or "127.0.0.1", database.port or 5432))  # its only way to PostgreSQL
    cut_off = Store(store.backend, store.data_dir, schema=store.schema, database_url=proxy.url(PG_URL))
    projector = start_projector(cut_off)
    output = Lines(projector)
    views = store.views()
    try:
        wait_until(lambda: lowest(views) >= head, 60, "the projector did not catch up", poll=0.1)
        proxy.cut()  # the database is gone: every connection closed, new ones refused
        projector.wait(90)
    finally:
        kill_process(projector)
        lines = output.join()
        proxy.cut()
        views.close()
    assert projector.returncode not in (0, -signal.SIGKILL), lines
    assert any("projector stopped" in line for line in lines), lines
