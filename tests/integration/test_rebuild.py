"""Rebuilding the read models from the log gives back exactly the rows the live projection wrote,
whatever the page size, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from api.bootstrap import Runtime
from domain.commands import RecordAct, RecordStatement, Retract
from domain.values import ActKind, Confidence, Position
from projections.projector import Projector
from projections.store import ViewStore
from tests.factories import SOURCES
from tests.integration.support import TABLES, dump


@pytest.fixture
def corrected(seeded: Runtime) -> Runtime:
    """The seeds, then later acts, a backfill, a retracted act and a retracted statement."""
    app = seeded.app
    app.handle(RecordAct(declaration_id="bletchley-declaration", kind=ActKind.WITHDRAWN, party="NZ",
                   occurred_on=date(2025, 3, 1), sources=SOURCES, confidence=Confidence.LOW))
    signed = app.handle(RecordAct(declaration_id="paris-statement", kind=ActKind.SIGNED, party="US",
                            occurred_on=date(2025, 4, 1), sources=SOURCES, confidence=Confidence.MEDIUM))
    app.handle(RecordAct(declaration_id="coe-framework-convention-ai", kind=ActKind.SIGNED, party="NZ",
                   occurred_on=date(2024, 9, 20), sources=SOURCES, confidence=Confidence.HIGH))
    said = app.handle(RecordStatement(party="NZ", speaker="A minister", occurred_on=date(2025, 3, 2),
                                      text="We step back.", about="bletchley-declaration",
                                      position=Position.OPPOSES, sources=SOURCES))
    app.handle(Retract(event_id=signed.event_id, reason="misreported", sources=SOURCES))
    last = app.handle(Retract(event_id=said.event_id, reason="never said", sources=SOURCES))
    assert last.last_position is not None
    assert seeded.projector.wait_for(last.last_position, 10)
    return seeded


def test_every_read_model_table_is_the_same_after_a_rebuild(corrected: Runtime) -> None:
    before = dump(corrected.store)
    assert all(before[t] for t in TABLES)
    assert any("retracted" in repr(row) for row in before["event_log"])

    applied = corrected.projector.rebuild()

    assert applied == len(corrected.app.recorder.select_notifications(start=0, limit=10**6))
    assert corrected.projector.position() == corrected.projector.head()
    assert dump(corrected.store) == before


def test_rebuilding_in_pages_of_7_gives_the_same_rows_as_in_pages_of_500(
    corrected: Runtime, fresh_store: Callable[[], ViewStore]
) -> None:
    app = corrected.app
    small = Projector(app.recorder, app.mapper, fresh_store(), page_size=7, max_page_size=7)
    large = Projector(app.recorder, app.mapper, fresh_store(), page_size=500)
    seen: list[tuple[int, int]] = []

    stored = len(app.recorder.select_notifications(start=0, limit=10**6))

    assert small.rebuild(progress=lambda done, head: seen.append((done, head))) == stored
    assert large.rebuild() == stored

    assert small.position() == large.position() == app.recorder.max_notification_id()
    assert len(seen) >= stored // 7  # one transaction per page of 7
    assert dump(small.store) == dump(large.store) == dump(corrected.store)
