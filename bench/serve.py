"""Runs the API or the bare floor under the very same uvicorn settings: `python -m bench.serve api|bare PORT`.

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


def build(kind: str) -> FastAPI:
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
