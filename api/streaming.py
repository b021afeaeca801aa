"""Fans the log follower's events out to every stream subscriber of this process.

Each event is encoded once, in the follower's thread, into the one message every subscriber sends:
with 1,000 subscribers, encoding it per subscriber was most of what the hub added to a delivery.

Each subscriber has a bounded buffer. One that cannot keep up is not allowed to grow memory:
it is detached, gets what its buffer already holds, and is then closed with a retry hint, so
its client reconnects with Last-Event-ID and resumes exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi.sse import ServerSentEvent

from api.metrics import process_metrics
from projections.event_log import PublicEvent
from projections.follower import LogFollower


def message(event: PublicEvent) -> ServerSentEvent:
    """The event as a stream message: id = its log position, event = its kind, data = its JSON.

    The JSON is what FastAPI makes of `ServerSentEvent(data=event.as_dict())` (json.dumps with its
    defaults; the data holds only JSON's own types), made here once instead of once per subscriber."""
    return ServerSentEvent(id=str(event.position), event=event.kind, raw_data=json.dumps(event.as_dict()))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for the subscribers: what filters match on, and the message shared by all who send it."""

    event: PublicEvent
    message: ServerSentEvent


@dataclass(frozen=True)
class StreamFilter:
    parties: frozenset[str] = frozenset()
    declarations: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()

    def matches(self, event: PublicEvent) -> bool:
        return (
            (not self.kinds or event.kind in self.kinds)
            and (not self.declarations or event.declaration_id in self.declarations)
            and (not self.parties or any(p in self.parties for p in event.parties))
        )


@dataclass(eq=False)
class Subscriber:
    filter: StreamFilter
    capacity: int
    queue: asyncio.Queue[Delivery | None] = field(init=False)
    overflowed: bool = False
    closing: bool = False
    released: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.capacity)


class StreamHub:
    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int = 1000) -> None:
        self.loop = loop
        self.capacity = capacity
        self.subscribers: set[Subscriber] = set()
        self.closed_slow = 0
        self.delivered = 0

    def attach(self, follower: LogFollower) -> None:
        follower.listeners.append(self._from_follower)

    def detach(self, follower: LogFollower) -> None:
        with contextlib.suppress(ValueError):
            follower.listeners.remove(self._from_follower)

    def _from_follower(self, events: Sequence[PublicEvent], _position: int) -> None:
        if events:
            # Encoded here, in the follower's thread: the event loop only hands the messages out.
            deliveries = [Delivery(event, message(event)) for event in events]
            self.loop.call_soon_threadsafe(self._publish, deliveries)

    def _publish(self, deliveries: Sequence[Delivery]) -> None:
        for subscriber in list(self.subscribers):
            for delivery in deliveries:
                if not subscriber.filter.matches(delivery.event):
                    continue
                try:
                    subscriber.queue.put_nowait(delivery)
                    self.delivered += 1
                except asyncio.QueueFull:
                    subscriber.overflowed = True
                    self.subscribers.discard(subscriber)
                    self.closed_slow += 1
                    process_metrics().closed_slow.inc()
                    break

    def close_all(self) -> None:
        """Ends every stream cleanly (a shutdown): each gets what it holds, then a retry hint."""
        for subscriber in list(self.subscribers):
            subscriber.closing = True
            self.subscribers.discard(subscriber)
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(None)  # wakes a waiting stream; a full one is ending anyway

    def subscribe(self, stream_filter: StreamFilter) -> Subscriber:
        """A new subscriber, counted in the gauge until it is given back to `unsubscribe` when its stream ends."""
        subscriber = Subscriber(stream_filter, self.capacity)
        self.subscribers.add(subscriber)
        process_metrics().subscribers.inc()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Lets a subscriber go; a second call for the same one changes nothing (the gauge counts it once)."""
        if subscriber.released:
            return
        subscriber.released = True
        self.subscribers.discard(subscriber)
        process_metrics().subscribers.dec()
