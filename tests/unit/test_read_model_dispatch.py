"""Read models find their handler by the event's type, once per type; the event log writes the data of an
event exactly as describe() gives it to the live stream."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from domain.declaration import Declaration
from domain.ledger import EventIndex
from domain.statement import Statement
from domain.summit import Summit
from projections.event_log import describe, event_data, event_data_json
from projections.readmodel import ReadModel, as_json, handles


def event(cls: type, **fields: Any) -> Any:
    """An event object as the mapper makes one from a stored event."""
    made: Any = object.__new__(cls)
    object.__setattr__(made, "__dict__", {"originator_id": uuid.uuid4(), "originator_version": 3,
                                          "timestamp": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), **fields})
    return made


SOURCES = [{"title": "Agence « Wire »", "url": "https://example.org/w", "outlet": None, "published_on": "2025-01-02"}]
EVENTS = [
    event(Summit.Hosted, event_id=uuid.uuid4(), slug="s", name="Summit", hosts=["FR", "IN"], city="Paris",
          starts_on=date(2025, 2, 10), ends_on=date(2025, 2, 11), notes=None, sources=SOURCES, confidence="high"),
    event(Declaration.Published, event_id=uuid.uuid4(), slug="d", title="Déclaration", summit_id="s",
          published_on=date(2025, 2, 11), notes="n", sources=SOURCES, confidence="medium"),
    event(Declaration.Signed, event_id=uuid.uuid4(), declaration_id="d", party="FR", occurred_on=date(2025, 2, 11),
          precision="day", reason=None, note=None, sources=SOURCES, confidence="low"),
    event(Declaration.Retracted, event_id=uuid.uuid4(), declaration_id="d", party="FR", target_event_id=uuid.uuid4(),
          target_kind="signed", reason="r", sources=SOURCES),
    event(Statement.Issued, event_id=uuid.uuid4(), party="FR", speaker=None, occurred_on=date(2025, 3, 1),
          precision="month", text="Nous signons.", about="d", position=None, note=None, sources=SOURCES,
          confidence="high"),
    event(Statement.Retracted, event_id=uuid.uuid4(), party="FR", about="d", target_event_id=uuid.uuid4(),
          reason="r", sources=SOURCES),
]


def test_the_event_logs_data_is_the_json_of_what_describe_gives_the_stream() -> None:
    for each in EVENTS:
        public = describe(each, 7)
        assert public is not None
        assert event_data_json(each) == as_json(event_data(each)) == as_json(public.data)
    assert describe(event(EventIndex.Indexed, event_id=uuid.uuid4(), aggregate_id=uuid.uuid4(), kind="x"), 8) is None


def test_the_stream_marks_an_act_known_only_to_its_month_as_approximate_and_nothing_else() -> None:
    flags = [(public.kind, public.as_dict()["approximate"]) for public in (describe(each, 7) for each in EVENTS)
             if public is not None]
    assert flags == [("hosted", False), ("published", False), ("signed", False), ("retracted", False),
                     ("statement", True), ("retracted", False)]


class Acts(ReadModel):
    name = "acts"

    @handles(Declaration.ActRecorded)
    def _act(self, event: Any, at: Any) -> None: ...

    @handles(Declaration.Retracted, Statement.Retracted)
    def _retracted(self, event: Any, at: Any) -> None: ...


class MoreActs(Acts):
    @handles(Declaration.Signed)
    def _signed(self, event: Any, at: Any) -> None: ...


def test_a_handler_serves_the_subclasses_of_its_event_type_unless_one_has_its_own() -> None:
    assert Acts.handler(Declaration.Signed) is Acts.handler(Declaration.Withdrawn) is Acts.__dict__["_act"]
    assert Acts.handler(Statement.Retracted) is Acts.handler(Declaration.Retracted) is Acts.__dict__["_retracted"]
    assert Acts.handler(Declaration.Published) is None
    assert Acts.handler(EventIndex.Indexed) is None
    assert MoreActs.handler(Declaration.Signed) is MoreActs.__dict__["_signed"]
    assert MoreActs.handler(Declaration.Declined) is Acts.__dict__["_act"]
    assert Acts.handler(Declaration.Signed) is Acts.__dict__["_act"]  # the subclass's table is its own
