"""A large insert (a restore's batch, a bulk import) goes by COPY on PostgreSQL and by executemany on SQLite;
either way it stores every event at the position it answers, links them all into the hash chain, and with one
duplicate among them stores nothing at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from storage.chain import verify
from storage.postgres import COPY_FROM


@pytest.fixture
def quiet(settings: Settings) -> Iterator[Runtime]:
    """A store with no projector and no follower: these events are not the domain's, and nothing decodes them."""
    runtime = bootstrap(settings, start_projector=False, follow=False)
    yield runtime
    runtime.close()


def events(count: int, originator: uuid.UUID | None = None, first_version: int = 1) -> list[StoredEvent]:
    # Awkward states on purpose: bytes COPY's text format must escape (backslash, tab, newline, NUL).
    originator = originator or uuid.uuid4()
    return [StoredEvent(originator_id=originator, originator_version=first_version + n, topic="tests:Thing",
                        state=b'{"n":%d,"raw":"\\\\ \t \n"}\x00\xff' % n) for n in range(count)]


def test_a_large_insert_stores_each_event_at_the_position_it_answers_and_links_them_all(quiet: Runtime) -> None:
    recorder = quiet.app.recorder
    small, large = events(3), events(COPY_FROM + 50)
    positions = [*(recorder.insert_events(small) or []), *(recorder.insert_events(large) or [])]
    stored = recorder.select_notifications(start=0, limit=1000)
    assert [n.id for n in stored] == positions == sorted(positions)
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in stored] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in small + large]
    report = verify(recorder)  # type: ignore[arg-type]
    assert report.ok and report.linked == len(small) + len(large)


def test_a_large_insert_with_one_duplicate_stores_nothing_and_the_chain_goes_on(quiet: Runtime) -> None:
    recorder = quiet.app.recorder
    first = events(5)
    recorder.insert_events(first)
    clashing = events(COPY_FROM) + events(1, first[2].originator_id, first[2].originator_version)
    with pytest.raises(IntegrityError):
        recorder.insert_events(clashing)
    assert len(recorder.select_notifications(start=0, limit=1000)) == 5
    later = recorder.insert_events(events(COPY_FROM)) or []
    assert len(recorder.select_notifications(start=0, limit=1000)) == 5 + COPY_FROM
    report = verify(recorder)  # type: ignore[arg-type]
    assert report.ok and report.linked == 5 + COPY_FROM and report.head_position == max(later)
