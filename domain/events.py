"""The record's aggregates build their events as eventsourcing does, without its per-event generality.

eventsourcing's `Aggregate._create` and `trigger_event` are written for any aggregate: they check that the
event's topic is registered, filter the event's attributes against the signatures of the aggregate's
initialisers, construct the frozen dataclass one `object.__setattr__` per field, and check the event's id and
version against the aggregate they have just read them from. A bulk import builds two events per command, and
that generality was about 5% of its time (docs/benchmarks.md, Round 4).

`RecordAggregate` does the same work directly: the same event class, its attributes in its dataclass field
order (so `vars(event)`, and with it the stored state, is the same dict in the same order), the same
timestamp source, the same `apply`, version and `modified_on`. A call it cannot build that way (a missing or
unexpected attribute, an originator id that is not a UUID, an aggregate whose `__init__` takes arguments) goes
to eventsourcing's own path, which raises as it always did. tests/unit/test_fast_events.py proves that both
paths give equal events, equal stored bytes and equal aggregates for every kind of event the record stores.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

_A = TypeVar("_A", bound="RecordAggregate")

_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN_INIT: dict[type, bool] = {}


def _fields(event_class: type) -> tuple[str, ...]:
    found = _FIELDS.get(event_class)
    if found is None:
        found = _FIELDS[event_class] = tuple(f.name for f in dataclasses.fields(event_class) if f.init)
    return found


def _plain_init(cls: type) -> bool:
    """Whether the aggregate class's __init__ takes no arguments (then the created event passes it none)."""
    found = _PLAIN_INIT.get(cls)
    if found is None:
        init = cls.__init__  # type: ignore[misc]
        if init is object.__init__:
            found = True
        else:
            params = list(inspect.signature(init).parameters.values())
            found = len(params) == 1  # only self
        _PLAIN_INIT[cls] = found
    return found


def new_event(event_class: type, values: dict[str, Any]) -> Any:
    """The event `event_class(**values)` would make, or None when only that call can make (or refuse) it."""
    names = _fields(event_class)
    if len(values) != len(names) or type(values.get("originator_id")) is not UUID:
        return None
    try:
        ordered = {name: values[name] for name in names}
    except KeyError:
        return None
    event: Any = object.__new__(event_class)
    event.__dict__.update(ordered)  # frozen: only __setattr__ is closed, as dataclasses' own __init__ knows
    return event


class RecordAggregate(Aggregate):
    """Base of the record's aggregates: eventsourcing's Aggregate, with its two event builders made direct."""

    @classmethod
    def _create(cls: type[_A], event_class: Any, *, id: Any = None, **kwargs: Any) -> _A:
        if id is None or "timestamp" in kwargs or not _plain_init(cls):
            return super()._create(event_class, id=id, **kwargs)
        timestamp = event_class.create_timestamp()
        version = cls.INITIAL_VERSION
        event = new_event(event_class, {**kwargs, "originator_topic": get_topic(cls), "originator_id": id,
                                        "originator_version": version, "timestamp": timestamp})
        if event is None:
            return super()._create(event_class, id=id, **kwargs)
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(id, version, timestamp)
        aggregate.__init__()  # type: ignore[misc]
        event.apply(aggregate)
        aggregate.pending_events.append(event)
        return aggregate

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        if "timestamp" in kwargs or event_class.__name__ == "Event":
            super().trigger_event(event_class, **kwargs)  # the library's checks and errors
            return
        timestamp = event_class.create_timestamp()
        version = self.version + 1
        event = new_event(event_class, {**kwargs, "originator_id": self.id, "originator_version": version,
                                        "timestamp": timestamp})
        if event is None:
            super().trigger_event(event_class, **kwargs)
            return
        event.apply(self)  # before the version moves, as eventsourcing's mutate does, in case it raises
        self.version = version
        self.modified_on = timestamp
        self.pending_events.append(event)
