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

from projections.background import Loop
from projections.event_log import Publications, PublicEvent, describe

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[PublicEvent], int], None]


def public_events(mapper: Mapper[Any], notifications: Sequence[Notification],
                  publications: Publications) -> list[PublicEvent]:
    """The public events among stored notifications, in log order."""
    found = []
    for notification in notifications:
        public = describe(mapper.to_domain_event(notification), notification.id, publications)
        if public is not None:
            found.append(public)
    return found


class LogFollower(Loop):
    """One reader of the store for the whole process; listeners get (public events, last position)."""

    name = "diplo-log-follower"

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any], publications: Publications, *,
                 poll_interval: float = 0.1, page_size: int = 500) -> None:
        super().__init__(poll_interval)
        self.recorder = recorder
        self.mapper = mapper
        # Shared with the streams' catch-up and the events export, which describe events read from the log too.
        self.publications = publications
        self.page_size = page_size
        self.position = 0
        self.listeners: list[Listener] = []

    @property
    def notifies(self) -> bool:
        return isinstance(self.recorder, PostgresApplicationRecorder)

    def start(self, after: int | None = None) -> None:
        """Follows from `after` (default: the head now, so only new events are handed on)."""
        self.position = (self.recorder.max_notification_id() or 0) if after is None else after
        self.start_thread()

    def _hand_on(self, notifications: Sequence[Notification]) -> None:
        events = public_events(self.mapper, notifications, self.publications)
        self.position = notifications[-1].id
        for listener in self.listeners:
            try:
                listener(events, self.position)
            except Exception:  # one faulty listener must not stop the others
                log.exception("log follower listener failed")

    def step(self) -> bool:
        """PostgreSQL: follow the notifications until stopped (or the subscription ends: an error, retried).
        SQLite: hand on the next page after the last position seen; True when the page was full."""
        if self.notifies:
            self._follow_notifications()
            return False
        page = self.recorder.select_notifications(start=self.position, limit=self.page_size, inclusive_of_start=False)
        if page:
            self._hand_on(page)
        return len(page) == self.page_size

    def _follow_notifications(self) -> None:
        subscription = self.recorder.subscribe(gt=self.position)
        done = threading.Event()
        stopper = threading.Thread(target=self._stop_when_asked, args=(subscription, done), daemon=True)
        try:
            with subscription:
                stopper.start()
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
