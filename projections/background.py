"""The one loop the projector and the log follower run in: a step repeated until stopped, a pause when
nothing is waiting (cut short by wake()), and, in a thread that must outlive a store that is briefly away,
a doubling wait between failed steps."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

MAX_BACKOFF = 5.0  # seconds: a store back after a long outage is noticed within this


class Loop:
    name = "diplo-loop"

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self.last_error: BaseException | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> bool:
        """One step of the work; True when more is waiting (no pause before the next)."""
        raise NotImplementedError

    def wake(self, *_: Any) -> None:
        """Cuts the pause short: something new was stored (a local save, or a notification)."""
        self._wake.set()

    def start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.repeat, args=(self._stop,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def repeat(self, stop: threading.Event, *, survive: bool = True) -> None:
        """Steps until `stop`. A failed step is retried after a wait doubling up to MAX_BACKOFF when `survive`
        (a thread of the API: the store may be briefly away); otherwise it is raised (a process of its own,
        which exits and is restarted by its supervisor)."""
        backoff = self.poll_interval
        while not stop.is_set():
            try:
                more = self.step()
            except Exception as error:
                if not survive:
                    raise
                self.last_error = error
                log.warning("%s: a step failed (%s: %s); retrying in %.1fs", self.name, type(error).__name__, error,
                            backoff, exc_info=log.isEnabledFor(logging.DEBUG))
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self.last_error = None
            backoff = self.poll_interval
            if not more:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
