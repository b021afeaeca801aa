"""Follows the global log from a position, in one thread per process, and hands new events on.

On PostgreSQL it is woken by LISTEN/NOTIFY through eventsourcing's subscription, so an event
stored by any process arrives at once; on SQLite, which has no notifications, it polls the
recorder (and a local save wakes it early). Positions may have gaps; the follower never assumes
they do not: it always asks for what comes after the last position it has seen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.postgres import PostgresApplicationRecorder

from projections.event_log import PublicEvent, describe

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[PublicEvent], int], None]


def public_events(mapper: Mapper[Any], notifications: Sequence[Notification]) -> list[PublicEvent]:
    """The public events among stored notifications, in log order."""
    found = []
    for notification in notifications:
        public = describe(mapper.to_domain_event(notification), notification.id)
        if public is not None:
            found.append(public)
    return found


class LogFollower:
    """One reader of the store for the whole process; listeners get (public events, last position)."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any], *, poll_interval: float = 0.1,
                 page_size: int = 500) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.poll_interval = poll_interval
        self.page_size = page_size
        self.position = 0
        self.listeners: list[Listener] = []
        self.last_error: BaseException | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def notifies(self) -> bool:
        return isinstance(self.recorder, PostgresApplicationRecorder)

    def start(self, after: int | None = None) -> None:
        """Follows from `after` (default: the head now, so only new events are handed on)."""
        self.position = (self.recorder.max_notification_id() or 0) if after is None else after
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="diplo-log-follower", daemon=True)
        self._thread.start()

    def wake(self, *_: Any) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _hand_on(self, notifications: Sequence[Notification]) -> None:
        events = public_events(self.mapper, notifications)
        self.position = notifications[-1].id
        for listener in self.listeners:
            try:
                listener(events, self.position)
            except Exception:  # one faulty listener must not stop the others
                log.exception("log follower listener failed")

    def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stop.is_set():
            try:
                if self.notifies:
                    self._follow_notifications()
                else:
                    self._poll()
                backoff = self.poll_interval
            except Exception as error:  # the store went away; resume from the last position seen
                self.last_error = error
                log.warning("log follower lost the store (%s); retrying in %.1fs", error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _poll(self) -> None:
        while not self._stop.is_set():
            page = self.recorder.select_notifications(
                start=self.position, limit=self.page_size, inclusive_of_start=False
            )
            if page:
                self.last_error = None
                self._hand_on(page)
                if len(page) == self.page_size:
                    continue
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _follow_notifications(self) -> None:
        subscription = self.recorder.subscribe(gt=self.position)
        done = threading.Event()
        stopper = threading.Thread(target=self._stop_when_asked, args=(subscription, done), daemon=True)
        try:
            with subscription:
                stopper.start()
                self.last_error = None
                for notification in subscription:
                    self._hand_on([notification])
        finally:
            done.set()
        if not self._stop.is_set():
            raise ConnectionError("the PostgreSQL subscription ended")

    def _stop_when_asked(self, subscription: Any, done: threading.Event) -> None:
        # The subscription's iterator blocks; only stop() from another thread ends it.
        while not done.is_set():
            if self._stop.wait(0.25):
                subscription.stop()
                return
