"""`diplo serve`: uvicorn with one process or several workers, our logging, and streams that end cleanly on a
shutdown."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import Any

from api import logging_setup
from api.connections import apply_protocol_settings, uvicorn_settings
from api.settings import Settings
from api.streaming import StreamHub

log = logging.getLogger(__name__)

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def streams_end_on_signal(hub: StreamHub) -> Iterator[None]:
    """On SIGTERM or SIGINT, ends every open event stream (each gets what it holds and a retry hint, so its client
    resumes with Last-Event-ID), then lets the server's own handler run.

    Streams never end by themselves, and uvicorn waits for open connections before it shuts the app down; so they
    are ended first, whether uvicorn runs one process or workers. Only a handler already installed (a server's) is
    wrapped, from the main thread; elsewhere (a test client) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in EXIT_SIGNALS}

    def handler(sig: int, frame: FrameType | None) -> None:
        hub.loop.call_soon_threadsafe(hub.close_all)
        then = previous[signal.Signals(sig)]
        if callable(then):
            then(sig, frame)

    wrapped = [sig for sig, then in previous.items() if callable(then)]
    for sig in wrapped:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig in wrapped:
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous[sig])


def run(settings: Settings, *, host: str, port: int, workers: int, log_level: str, log_format: str,
        proxy_headers: bool, forwarded_allow_ips: str | None, root_path: str, grace_seconds: int) -> None:
    """Serves the API until a signal: in this process, or in `workers` processes sharing the socket (each builds
    the app from the environment, and their metrics are added up through a directory made for the run)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api import metrics

    logging_setup.configure(log_level, log_format)  # for what is said before uvicorn configures it the same way
    options: dict[str, Any] = {
        "host": host, "port": port, "log_config": logging_setup.config(log_level, log_format), "log_level": log_level,
        "proxy_headers": proxy_headers, "forwarded_allow_ips": forwarded_allow_ips, "root_path": root_path,
        "timeout_graceful_shutdown": grace_seconds,
        **uvicorn_settings(settings),  # connections bounded (docs/operations.md, "Limits under load")
    }
    # Several workers count into files of a directory made for the run; one worker too, if the operator names one.
    shared = workers > 1 or bool(os.environ.get(metrics.MULTIPROC_ENV))
    with metrics.multiprocess_directory() if shared else nullcontext(None) as directory:
        if directory is not None:
            log.info("metrics of %d workers are added up in %s", workers, directory)
        if workers == 1:
            from api.app import create_app

            single = uvicorn.Config(create_app(), **options)
            apply_protocol_settings(single, settings)
            uvicorn.Server(single).run()
            return
        # An import string: each worker process builds its own app (uvicorn spawns them afresh).
        config = uvicorn.Config("api.app:create_app", factory=True, workers=workers, **options)
        apply_protocol_settings(config, settings)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
