"""Runs the API or the bare floor under the very same uvicorn settings: `python -m bench.serve api|bare PORT`.

`api-prototype` is the API with a proposed fix applied in this process only (see patch_sqlite_reading).

The API reads its store from the DIPLO_* environment, as `diplo serve` does.
"""

from __future__ import annotations

import resource
import sys

import uvicorn
from fastapi import FastAPI

# One socket per SSE subscriber: 1,000 of them need more than the usual 1,024 descriptors.
OPEN_FILES = 8192


def raise_open_files(wanted: int = OPEN_FILES) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def patch_sqlite_reading() -> None:
    """PROTOTYPE of a fix, not the engine: SQLiteViewStore.reading() hands each reader a connection of its
    own from a pool, instead of the calling thread's. FastAPI enters and leaves a generator dependency in
    different worker threads, so with a per-thread connection two requests can meet on one connection
    ("cannot start a transaction within a transaction", answered 503)."""
    import queue
    import sqlite3
    from collections.abc import Iterator
    from contextlib import contextmanager

    from projections.store import Sql, SQLiteViewStore

    pools: dict[int, queue.SimpleQueue[tuple[sqlite3.Connection, object]]] = {}

    @contextmanager
    def reading(self: SQLiteViewStore) -> Iterator[Sql]:
        self._follow_pointer()
        pool = pools.setdefault(id(self), queue.SimpleQueue())
        conn: sqlite3.Connection | None = None
        try:
            conn, path = pool.get_nowait()
            if path != self.path:
                conn.close()
                conn = None
        except queue.Empty:
            pass
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("BEGIN")
        try:
            yield Sql(conn.cursor(), postgres=False)
        finally:
            conn.execute("ROLLBACK")
            pool.put((conn, self.path))

    SQLiteViewStore.reading = reading  # type: ignore[method-assign]


def build(kind: str) -> FastAPI:
    if kind == "api-prototype":
        patch_sqlite_reading()
        kind = "api"
    if kind == "api":
        from api.app import create_app
        from api.settings import Settings

        return create_app(Settings())
    from bench.bare import bare_app

    return bare_app()


def main(argv: list[str]) -> int:
    kind, port = argv[0], int(argv[1])
    raise_open_files()
    uvicorn.run(build(kind), host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
