"""The API's side of the hash chain's guard (storage.chain_guard): started with the server, shown in /healthz,
and a write it refuses answered as a problem that says why."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import problem
from api.settings import Settings
from storage import restore_marker
from storage.chain import ChainRefused
from storage.chain_guard import ChainGuard
from storage.postgres import ChainedPostgresApplicationRecorder
from storage.sqlite import ChainedSQLiteApplicationRecorder

log = logging.getLogger(__name__)


def start_guard(recorder: Any, settings: Settings) -> ChainGuard | None:
    """Refuses a store whose restore never finished (IncompleteRestore: the server does not start); then checks
    the chain's tail now and its whole length in the background (None when DIPLO_CHAIN_CHECK=off or the recorder
    keeps no chain)."""
    if not isinstance(recorder, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder):
        return None  # a recorder without the chain (a test's stand-in) has nothing to check
    restore_marker.refuse_incomplete(recorder)
    if settings.chain_check == "off":
        return None
    guard = ChainGuard(recorder, tail=settings.chain_tail_events)
    try:
        guard.check_tail()
    except Exception as error:  # the store went away after bootstrap: the background walk tries again
        guard.error = f"{type(error).__name__}: {error}"
        log.warning("chain: the check of the last links failed (%s); the whole chain is checked in the background",
                    guard.error)
    if settings.chain_check == "full":
        guard.start()
    return guard


def install(app: FastAPI) -> None:
    """Answers a write refused by the guard with 503 and the reason, never as a generic store error."""

    @app.exception_handler(ChainRefused)
    def chain_refused(_: Request, error: ChainRefused) -> JSONResponse:
        return problem(503, str(error), chain="broken")
