"""The record's aggregates build their events directly (domain.events.RecordAggregate) rather than through
eventsourcing's general `_create` and `trigger_event`, and a bulk import writes its index entries' stored events
itself (domain.bulk.IndexRows): the same commands must store the very same bytes.

Each scenario runs twice on fresh in-memory records with the same clock (every event's timestamp taken from one
fixed sequence): once as it runs, once with the direct builder switched off so that every event goes through the
library's own path. Every stored event (aggregate, version, topic, state bytes) and every aggregate's state must
be equal, for every kind of event the record stores: summits, declarations, the three acts, retractions of acts,
statements and their reissue, roll calls, votes and their retraction, idempotency keys, and the event index.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing import domain as es_domain

from api.command_lines import parse_command
from bench.generate import Generator
from domain import events as fast
from domain.bulk import BulkImport, IndexRow, IndexRows
from domain.commands import RecordRollCall, RecordVote, Retract
from domain.declaration import Declaration
from domain.ledger import EventIndex
from domain.rollcall import RollCall
from domain.service import DiplomaticRecord, Idempotency
from domain.values import Body, Confidence, EventKind, Source, Vote
from seeds.successions import load_registry
from tests import factories

TODAY = date(2026, 11, 25)
SOURCES = [Source("UN Digital Library: voting record", "https://digitallibrary.un.org/record/1")]
PARTIES = load_registry()


@contextmanager
def fixed_clock() -> Iterator[None]:
    """Every event's timestamp from the same sequence: 2026-01-01T00:00:00Z, then one microsecond more each."""
    ticks = iter(range(10**9))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    original = es_domain.datetime_now_with_tzinfo
    es_domain.datetime_now_with_tzinfo = lambda: start + timedelta(microseconds=next(ticks))
    try:
        yield
    finally:
        es_domain.datetime_now_with_tzinfo = original


@contextmanager
def library_path(monkeypatch: pytest.MonkeyPatch, on: bool) -> Iterator[None]:
    if on:  # every event through eventsourcing's own path, index entries of a bulk import as aggregates too
        monkeypatch.delattr(fast.RecordAggregate, "_create")
        monkeypatch.delattr(fast.RecordAggregate, "trigger_event")
        monkeypatch.setattr(IndexRows, "row", lambda self, **entry: EventIndex.index(**entry))
    try:
        yield
    finally:
        monkeypatch.undo()


def new_record() -> DiplomaticRecord:
    return DiplomaticRecord({"PERSISTENCE_MODULE": "eventsourcing.popo"}, parties=PARTIES, today=lambda: TODAY)


def stored(record: DiplomaticRecord) -> list[tuple[Any, ...]]:
    notifications = record.recorder.select_notifications(start=1, limit=10**6)
    return [(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def aggregates(record: DiplomaticRecord) -> dict[Any, dict[str, Any]]:
    ids: set[Any] = {n.originator_id for n in record.recorder.select_notifications(start=1, limit=10**6)}
    return {i: {k: v for k, v in vars(record.repository.get(i)).items() if k != "_pending_events"} for i in ids}


def generated(record: DiplomaticRecord) -> None:
    """The generated record (summits, declarations, backfilled acts, retractions, statements): the first half
    through the service, one command each (with idempotency keys), the rest as one bulk import."""
    commands = list(Generator(300, seed=3))
    half = len(commands) // 2
    for n, line in enumerate(commands[:half], 1):
        record.handle(parse_command(n, line), Idempotency(f"key-{n}", f"hash-{n}") if n % 7 == 0 else None)
    BulkImport(record).run((n, parse_command(n, line)) for n, line in enumerate(commands[half:], half + 1))


def by_hand(record: DiplomaticRecord) -> None:
    """What the generated record may lack: a withdrawal and its retraction, a statement retracted and reissued;
    then a roll call, a vote added later, a vote retracted, then recorded again."""
    factories.host(record)
    factories.publish(record, summit_id=factories.SUMMIT)
    factories.act(record, "signed", "FR", date(2025, 2, 11))
    withdrawn = factories.act(record, "withdrawn", "FR", date(2025, 3, 1))
    factories.retract(record, withdrawn.event_id)
    said = factories.say(record, about=factories.DECLARATION)
    factories.retract(record, said.event_id)
    factories.say(record, about=factories.DECLARATION)
    receipt = record.handle(RecordRollCall(
        id="unga-1", body=Body.UNGA, date=date(1975, 11, 10), title="Racial discrimination", session=30,
        resolution="R/30/3379", issues=("hr",), votes={"US": Vote.NO, "SUHH": Vote.YES}, sources=SOURCES,
        confidence=Confidence.HIGH))
    assert receipt.kind == "rollcall"
    vote = record.handle(RecordVote(rollcall_id="unga-1", party="FR", vote=Vote.ABSTAIN, sources=SOURCES,
                                    confidence=Confidence.HIGH))
    record.handle(Retract(event_id=vote.event_id, reason="misread", sources=SOURCES))
    record.handle(RecordVote(rollcall_id="unga-1", party="FR", vote=Vote.YES, sources=SOURCES,
                             confidence=Confidence.HIGH))


@pytest.mark.parametrize("scenario", [generated, by_hand])
def test_the_direct_builder_stores_the_bytes_the_library_stores(
        scenario: Callable[[DiplomaticRecord], None], monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    for library in (False, True):
        record = new_record()
        with fixed_clock(), library_path(monkeypatch, library):
            scenario(record)
        runs.append((stored(record), aggregates(record)))
    (direct_log, direct_aggregates), (library_log, library_aggregates) = runs
    assert len(direct_log) > 10
    assert direct_log == library_log
    assert direct_aggregates == library_aggregates


def test_every_kind_of_event_was_compared() -> None:
    record = new_record()
    with fixed_clock():
        generated(record)
        by_hand(record)
    topics = {row[2] for row in stored(record)}
    assert {Declaration.Published.TOPIC, Declaration.Signed.TOPIC, Declaration.Declined.TOPIC,
            Declaration.Withdrawn.TOPIC, Declaration.Retracted.TOPIC, EventIndex.Indexed.TOPIC,
            "diplo:Summit.Hosted", "diplo:Statement.Issued", "diplo:Statement.Retracted", "diplo:Statement.Reissued",
            "diplo:internal.IdempotencyKey.Claimed",
            *RollCall.TOPICS[:3]} <= topics


def test_what_the_direct_builder_cannot_build_goes_to_the_library_which_refuses_it_as_before() -> None:
    declaration = Declaration.publish(slug="d", title="T", summit_id=None, published_on=date(2020, 1, 1), notes=None,
                                      sources=[], confidence="high", today=TODAY)
    with pytest.raises(TypeError):
        declaration.trigger_event(Declaration.Signed, event_id=None)  # attributes missing
    with pytest.raises(es_domain.ProgrammingError):
        declaration.trigger_event(Declaration.Event)
    assert declaration.version == 1 and len(declaration.pending_events) == 1


def test_a_bulk_import_writes_its_index_entries_directly_only_where_the_mapper_spells_them_so() -> None:
    record = new_record()
    rows = IndexRows(record.mapper)
    assert set(rows.kinds) == set(EventKind)  # the transcoder of a plain store: every kind
    event_id, target = uuid.uuid4(), uuid.uuid4()
    row = rows.row(event_id=event_id, target=target, kind=EventKind.SIGNED)
    assert isinstance(row, IndexRow) and (row.id, row.event_id, row.target_id, row.kind) == (
        EventIndex.id_for(event_id), event_id, target, "signed")
    assert not isinstance(rows.row(event_id=event_id, target=target, kind="not-a-kind"), IndexRow)
    compressed = DiplomaticRecord({"PERSISTENCE_MODULE": "eventsourcing.popo",
                                   "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"},
                                  parties=PARTIES, today=lambda: TODAY)
    assert IndexRows(compressed.mapper).kinds == {}  # other bytes: every entry an EventIndex aggregate
