"""domain.values.uuid5 names exactly what the standard library's uuid.uuid5 names: every id the record derives
(aggregates from slugs, events from versions, index entries from event ids) is stored, so it must never move."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import EventIndex, IdempotencyKey
from domain.values import NAMESPACE, aggregate_id, event_id_for, unique_aggregate_id, uuid5


@given(st.uuids(), st.text())
def test_uuid5_is_the_standard_librarys(namespace: uuid.UUID, name: str) -> None:
    ours = uuid5(namespace, name)
    assert ours == uuid.uuid5(namespace, name)
    assert (ours.version, ours.variant, str(ours)) == (5, uuid.RFC_4122, str(uuid.uuid5(namespace, name)))


def test_the_ids_the_record_stores_have_not_moved() -> None:
    # Fixed by the ids already in stores: a change here would orphan every stored event.
    declaration = aggregate_id("declaration", "paris-statement")
    assert declaration == uuid.uuid5(NAMESPACE, "declaration:paris-statement")
    assert event_id_for(declaration, 3) == uuid.uuid5(declaration, "3")
    assert unique_aggregate_id("summit", "x") == aggregate_id("summit", "x")
    event = uuid.UUID("43baf052-3f2b-4c3f-9b68-80e1711475a6")
    assert EventIndex.id_for(event) == uuid.uuid5(NAMESPACE, f"event-index:{event}")
    assert IdempotencyKey.id_for("k") == uuid.uuid5(NAMESPACE, "idempotency-key:k")
