"""The commands of the application service: what each stores, what it answers, and why it refuses.

A refused command stores nothing and raises a DomainError naming the reason (and the field, for bad input).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from domain.declaration import Declaration
from domain.errors import Conflict, DomainError, Duplicate, InvalidInput, NotFound, StanceRuleViolation
from domain.service import DiplomaticRecord, Idempotency
from domain.statement import Statement
from domain.summit import Summit
from domain.values import ActKind, Position, Source, event_id_for
from tests.factories import DECLARATION, SOURCES, SUMMIT, TODAY, act, host, new_record, publish, retract, say


@pytest.fixture
def record() -> DiplomaticRecord:
    record = new_record()
    host(record)
    publish(record, summit_id=SUMMIT)
    return record


def last_position(record: DiplomaticRecord) -> int | None:
    return record.recorder.max_notification_id()


def topic_at(record: DiplomaticRecord, position: int) -> str:
    (notification,) = record.recorder.select_notifications(start=position, limit=1)
    assert notification.id == position
    return notification.topic


# -- summits -------------------------------------------------------------------------------------------


def test_hosting_a_summit_answers_a_hosted_receipt() -> None:
    record = new_record()
    receipt = host(record)
    assert receipt.kind == "hosted"
    assert receipt.subject == {"summit_id": SUMMIT}
    assert record.summit_exists(SUMMIT)


def test_lower_case_host_codes_are_accepted_and_stored_upper_case() -> None:
    record = new_record()
    host(record, hosts=["fr", " in "])
    summit: Summit = record.repository.get(Summit.id_for(SUMMIT))
    assert summit.hosts == ["FR", "IN"]


def test_a_duplicate_summit_id_is_a_conflict(record: DiplomaticRecord) -> None:
    with pytest.raises(Conflict) as refused:
        host(record, name="Another summit")
    assert refused.value.field == "id"
    assert f"summit {SUMMIT!r} already exists" in refused.value.message


def test_an_unknown_host_is_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        host(new_record(), hosts=["FR", "XX"])
    assert refused.value.field == "hosts[1]"
    assert "unknown party code 'XX'" in refused.value.message


def test_a_host_named_twice_is_refused_even_in_another_case() -> None:
    with pytest.raises(InvalidInput, match="hosts lists a party twice"):
        host(new_record(), hosts=["FR", "fr"])


def test_a_summit_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        host(new_record(), starts_on=date(2025, 2, 11), ends_on=date(2025, 2, 10))
    assert refused.value.field == "ends_on"


def test_a_summit_that_has_not_started_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        host(new_record(), starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=2))
    assert refused.value.field == "starts_on"
    assert "in the future" in refused.value.message


def test_a_summit_under_way_may_end_after_today() -> None:
    receipt = host(new_record(), starts_on=TODAY, ends_on=TODAY + timedelta(days=2))
    assert receipt.kind == "hosted"


def test_a_summit_id_that_is_not_a_slug_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        host(new_record(), id="Paris Summit")
    assert refused.value.field == "id"
    assert "slug" in refused.value.message


# -- declarations --------------------------------------------------------------------------------------


def test_publishing_a_declaration_answers_a_published_receipt() -> None:
    record = new_record()
    receipt = publish(record)
    assert receipt.kind == "published"
    assert receipt.subject == {"declaration_id": DECLARATION, "summit_id": None}
    assert record.declaration(DECLARATION).published_on == date(2025, 2, 10)


def test_a_declaration_may_belong_to_a_summit(record: DiplomaticRecord) -> None:
    assert record.declaration(DECLARATION).summit_id == SUMMIT


def test_a_duplicate_declaration_id_is_a_conflict(record: DiplomaticRecord) -> None:
    with pytest.raises(Conflict) as refused:
        publish(record, title="Another title")
    assert refused.value.field == "id"
    assert f"declaration {DECLARATION!r} already exists" in refused.value.message


def test_a_declaration_of_an_unknown_summit_is_not_found() -> None:
    with pytest.raises(NotFound) as refused:
        publish(new_record(), summit_id="no-such-summit")
    assert refused.value.field == "summit_id"
    assert "unknown summit 'no-such-summit'" in refused.value.message


def test_a_declaration_published_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        publish(new_record(), published_on=TODAY + timedelta(days=1))
    assert refused.value.field == "published_on"


def test_a_declaration_without_a_title_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        publish(new_record(), title="  ")
    assert refused.value.field == "title"


# -- acts ----------------------------------------------------------------------------------------------


def test_lower_case_party_codes_are_accepted_and_stored_upper_case(record: DiplomaticRecord) -> None:
    receipt = act(record, "signed", "eu", date(2025, 2, 11))
    assert receipt.subject["party"] == "EU"
    (stored,) = record.declaration(DECLARATION).live_acts()
    assert stored.party == "EU"


def test_an_act_by_a_party_in_another_case_counts_for_the_same_party(record: DiplomaticRecord) -> None:
    act(record, "signed", "eu", date(2025, 2, 11))
    with pytest.raises(StanceRuleViolation, match="already signed"):
        act(record, "signed", "EU", date(2025, 2, 12))


def test_unknown_party_is_refused_with_the_field_named(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(record, "signed", "XX", date(2025, 2, 11))
    assert refused.value.field == "party"
    assert "unknown party code 'XX'" in refused.value.message


def test_an_act_on_an_unknown_declaration_is_not_found(record: DiplomaticRecord) -> None:
    with pytest.raises(NotFound) as refused:
        act(record, "signed", "EU", date(2025, 2, 11), declaration_id="no-such-declaration")
    assert refused.value.field == "declaration_id"
    assert "unknown declaration 'no-such-declaration'" in refused.value.message


def test_missing_sources_are_refused_naming_sources(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(record, "signed", "EU", date(2025, 2, 11), sources=[])
    assert refused.value.field == "sources"
    assert "at least one source" in refused.value.message


def test_a_bad_source_url_is_refused_naming_the_field(record: DiplomaticRecord) -> None:
    sources = [*SOURCES, Source("Report", "example.org/no-scheme")]
    with pytest.raises(InvalidInput) as refused:
        act(record, "signed", "EU", date(2025, 2, 11), sources=sources)
    assert refused.value.field == "sources[1].url"
    assert "http(s) URL" in refused.value.message


def test_a_source_without_a_title_is_refused_naming_the_field(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(record, "signed", "EU", date(2025, 2, 11), sources=[Source(" ", "https://example.org/r")])
    assert refused.value.field == "sources[0].title"


def test_an_act_keeps_its_sources_in_the_stored_event(record: DiplomaticRecord) -> None:
    source = Source("Report", "https://example.org/r", outlet="Le Monde", published_on=date(2025, 2, 12))
    receipt = act(record, "signed", "EU", date(2025, 2, 11), sources=[source])
    (notification,) = record.recorder.select_notifications(start=receipt.position, limit=1)
    event = record.mapper.to_domain_event(notification)
    assert event.sources == [source.as_dict()]
    assert Source.from_dict(event.sources[0]) == source


def test_receipts_carry_the_position_of_the_act_in_the_log(record: DiplomaticRecord) -> None:
    before = last_position(record)
    receipt = act(record, "signed", "EU", date(2025, 2, 11))
    assert before is not None and receipt.position is not None and receipt.last_position is not None
    assert before < receipt.position <= receipt.last_position == last_position(record)
    assert topic_at(record, receipt.position) == "diplo:Declaration.Signed"


def test_positions_strictly_increase_from_command_to_command(record: DiplomaticRecord) -> None:
    receipts = [
        act(record, "signed", "EU", date(2025, 2, 11)),
        act(record, "declined", "US", date(2025, 2, 11)),
        act(record, "withdrawn", "EU", date(2025, 3, 1)),
    ]
    positions = [r.position for r in receipts]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


def test_receipts_carry_the_previous_stance(record: DiplomaticRecord) -> None:
    first = act(record, "signed", "EU", date(2025, 2, 11))
    second = act(record, "withdrawn", "EU", date(2025, 3, 1))
    third = act(record, "signed", "EU", date(2025, 4, 1))
    assert [r.subject["previous"] for r in (first, second, third)] == [None, "signed", "withdrawn"]
    assert third.subject == {
        "declaration_id": DECLARATION,
        "party": "EU",
        "occurred_on": "2025-04-01",
        "stance": "signed",
        "previous": "withdrawn",
    }


def test_a_backfilled_receipt_names_the_stance_before_it_in_valid_time(record: DiplomaticRecord) -> None:
    act(record, "signed", "US", date(2025, 9, 1))
    backfilled = act(record, "declined", "US", date(2025, 2, 11))
    assert backfilled.subject["previous"] is None


def test_a_same_day_receipt_names_the_act_recorded_before_it_that_day(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    withdrawn = act(record, "withdrawn", "EU", date(2025, 2, 11))
    assert withdrawn.subject["previous"] == "signed"


def test_event_ids_are_deterministic() -> None:
    def history(record: DiplomaticRecord) -> list[UUID]:
        receipts = [host(record), publish(record, summit_id=SUMMIT)]
        receipts.append(act(record, "signed", "EU", date(2025, 2, 11)))
        receipts.append(say(record))
        receipts.append(retract(record, receipts[2].event_id))
        return [r.event_id for r in receipts]

    assert history(new_record()) == history(new_record())


def test_an_acts_event_id_is_derived_from_its_declaration_and_version(record: DiplomaticRecord) -> None:
    receipt = act(record, "signed", "EU", date(2025, 2, 11))
    assert receipt.event_id == event_id_for(Declaration.id_for(DECLARATION), 2)


def test_event_ids_are_unique(record: DiplomaticRecord) -> None:
    other = new_record()
    receipts = [
        act(record, "signed", "EU", date(2025, 2, 11)),
        act(record, "withdrawn", "EU", date(2025, 3, 1)),
        act(record, "declined", "US", date(2025, 2, 11)),
        say(record),
        say(record, text="We have concerns."),
        publish(record, id="bletchley-declaration", published_on=date(2023, 11, 1)),
        host(other, id="bletchley-park-summit"),
        publish(other),
    ]
    receipts.append(retract(record, receipts[1].event_id))
    ids = [r.event_id for r in receipts]
    assert len(set(ids)) == len(ids)


# -- statements ----------------------------------------------------------------------------------------


def test_a_statement_answers_a_statement_receipt(record: DiplomaticRecord) -> None:
    receipt = say(record, party="us", about=DECLARATION, position=Position.OPPOSES)
    assert receipt.kind == "statement"
    assert receipt.subject["party"] == "US"
    assert receipt.subject["about"] == DECLARATION
    assert record.statement_exists("US", date(2025, 2, 11), "JD Vance", "We will not sign.")


def test_statements_never_change_a_stance(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    version = record.declaration(DECLARATION).version
    say(record, about=DECLARATION, position=Position.SUPPORTS, occurred_on=date(2025, 3, 1))
    declaration = record.declaration(DECLARATION)
    assert declaration.version == version
    current = declaration.stance_of("US", date(2025, 3, 1))
    assert current is not None and current.kind is ActKind.DECLINED


def test_a_statement_about_an_unknown_declaration_is_not_found(record: DiplomaticRecord) -> None:
    with pytest.raises(NotFound) as refused:
        say(record, about="no-such-declaration")
    assert refused.value.field == "about"
    assert "unknown declaration 'no-such-declaration'" in refused.value.message


def test_the_same_statement_twice_is_a_conflict(record: DiplomaticRecord) -> None:
    say(record)
    with pytest.raises(Conflict, match="already recorded"):
        say(record)


def test_the_same_statement_with_padded_text_is_a_conflict(record: DiplomaticRecord) -> None:
    say(record)
    with pytest.raises(Conflict, match="already recorded"):
        say(record, text="  We will not sign.  ")


def test_the_same_statement_with_a_padded_speaker_is_a_conflict(record: DiplomaticRecord) -> None:
    say(record)
    with pytest.raises(Conflict, match="already recorded"):
        say(record, speaker="JD Vance ")


def test_a_position_without_a_declaration_is_refused(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        say(record, position=Position.OPPOSES)
    assert refused.value.field == "about"


def test_an_empty_statement_is_refused(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        say(record, text="   ")
    assert refused.value.field == "text"


def test_a_statement_by_an_unknown_party_is_refused_with_the_field_named(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        say(record, party="XX")
    assert refused.value.field == "party"


def test_a_statement_in_the_future_is_refused(record: DiplomaticRecord) -> None:
    with pytest.raises(InvalidInput) as refused:
        say(record, occurred_on=TODAY + timedelta(days=1))
    assert refused.value.field == "occurred_on"


# -- retractions ---------------------------------------------------------------------------------------


def test_retracting_an_act_takes_it_out_of_the_live_acts(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    receipt = retract(record, signed.event_id)
    assert receipt.kind == "retracted"
    assert receipt.subject == {
        "retracted_event_id": str(signed.event_id),
        "retracted_kind": "signed",
        "declaration_id": DECLARATION,
        "party": "EU",
    }
    assert record.declaration(DECLARATION).live_acts("EU") == []
    assert topic_at(record, receipt.position) == "diplo:Declaration.Retracted"


def test_retracting_a_statement(record: DiplomaticRecord) -> None:
    statement = say(record, about=DECLARATION)
    receipt = retract(record, statement.event_id)
    assert receipt.kind == "retracted"
    assert receipt.subject["retracted_kind"] == "statement"
    assert receipt.subject["statement_id"] == statement.subject["statement_id"]
    stored: Statement = record.repository.get(UUID(statement.subject["statement_id"]))
    assert stored.retracted


def test_retracting_an_act_twice_is_a_duplicate(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    retract(record, signed.event_id)
    with pytest.raises(Conflict) as refused:
        retract(record, signed.event_id)
    assert type(refused.value) is Duplicate
    assert refused.value.field == "event_id"
    assert "already been retracted" in refused.value.message


def test_retracting_a_statement_twice_is_a_conflict(record: DiplomaticRecord) -> None:
    statement = say(record)
    retract(record, statement.event_id)
    with pytest.raises(Conflict, match="already been retracted"):
        retract(record, statement.event_id)


def test_retracting_a_published_event_is_a_conflict(record: DiplomaticRecord) -> None:
    published = publish(record, id="bletchley-declaration", published_on=date(2023, 11, 1))
    with pytest.raises(Conflict) as refused:
        retract(record, published.event_id)
    assert refused.value.field == "event_id"
    assert "is a published event" in refused.value.message


def test_retracting_a_hosted_event_is_a_conflict() -> None:
    record = new_record()
    hosted = host(record)
    with pytest.raises(Conflict) as refused:
        retract(record, hosted.event_id)
    assert refused.value.field == "event_id"
    assert "is a hosted event" in refused.value.message


def test_retracting_a_retraction_is_a_conflict(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    retraction = retract(record, signed.event_id)
    with pytest.raises(Conflict, match="is a retracted event"):
        retract(record, retraction.event_id)


def test_retracting_an_unknown_event_id_is_not_found(record: DiplomaticRecord) -> None:
    unknown = uuid4()
    with pytest.raises(NotFound) as refused:
        retract(record, unknown)
    assert refused.value.field == "event_id"
    assert f"unknown event {unknown}" in refused.value.message


def test_a_retraction_without_a_reason_is_refused(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    with pytest.raises(InvalidInput) as refused:
        retract(record, signed.event_id, reason=" ")
    assert refused.value.field == "reason"


def test_a_retraction_without_sources_is_refused_naming_sources(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    with pytest.raises(InvalidInput) as refused:
        retract(record, signed.event_id, sources=[])
    assert refused.value.field == "sources"


# -- idempotency ---------------------------------------------------------------------------------------


def test_the_same_key_and_request_returns_the_first_receipt(record: DiplomaticRecord) -> None:
    key = Idempotency("key-1", "hash-a")
    first = act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    again = act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    assert again.replayed and not first.replayed
    assert (again.event_id, again.kind, again.subject) == (first.event_id, first.kind, first.subject)


def test_the_same_key_and_request_stores_nothing_new(record: DiplomaticRecord) -> None:
    key = Idempotency("key-1", "hash-a")
    act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    before = last_position(record)
    act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    assert last_position(record) == before
    assert len(record.declaration(DECLARATION).live_acts("EU")) == 1


def test_a_replayed_receipt_names_the_first_event_and_leaves_its_position_to_the_read_side(
    record: DiplomaticRecord,
) -> None:
    # The position is assigned by the store after the key is saved; the API reads it from the event log.
    key = Idempotency("key-1", "hash-a")
    first = act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    again = act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    assert (again.event_id, again.replayed, again.position) == (first.event_id, True, None)


def test_a_replay_answers_even_when_the_act_would_now_be_refused(record: DiplomaticRecord) -> None:
    key = Idempotency("key-1", "hash-a")
    first = act(record, "signed", "EU", date(2025, 2, 11), idempotency=key)
    # Without the key, the same act is now a second signature.
    assert act(record, "signed", "EU", date(2025, 2, 11), idempotency=key).event_id == first.event_id


def test_a_replayed_retraction_is_not_a_second_retraction(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    key = Idempotency("key-r", "hash-r")
    first = retract(record, signed.event_id, idempotency=key)
    before = last_position(record)
    again = retract(record, signed.event_id, idempotency=key)
    assert again.replayed and again.event_id == first.event_id
    assert last_position(record) == before


def test_the_same_key_with_another_request_is_a_conflict(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11), idempotency=Idempotency("key-1", "hash-a"))
    before = last_position(record)
    with pytest.raises(Conflict) as refused:
        act(record, "declined", "US", date(2025, 2, 11), idempotency=Idempotency("key-1", "hash-b"))
    assert refused.value.field == "Idempotency-Key"
    assert "different request" in refused.value.message
    assert last_position(record) == before
    assert record.declaration(DECLARATION).live_acts("US") == []


def test_a_refused_command_does_not_claim_its_idempotency_key(record: DiplomaticRecord) -> None:
    with pytest.raises(StanceRuleViolation):
        act(record, "withdrawn", "EU", date(2025, 2, 11), idempotency=Idempotency("key-1", "hash-a"))
    receipt = act(record, "signed", "EU", date(2025, 2, 11), idempotency=Idempotency("key-1", "hash-b"))
    assert not receipt.replayed


# -- every refusal stores nothing and says why ---------------------------------------------------------

Command = Callable[[DiplomaticRecord], object]
REFUSALS: list[tuple[str, Command, type[DomainError], str]] = [
    ("duplicate summit", lambda r: host(r), Duplicate, "already exists"),
    ("unknown host", lambda r: host(r, id="other-summit", hosts=["ZZ"]), InvalidInput, "unknown party code"),
    ("duplicate declaration", lambda r: publish(r), Duplicate, "already exists"),
    ("unknown summit", lambda r: publish(r, id="other", summit_id="nope"), NotFound, "unknown summit"),
    (
        "future declaration",
        lambda r: publish(r, id="other", published_on=TODAY + timedelta(days=1)),
        InvalidInput,
        "in the future",
    ),
    ("unknown party", lambda r: act(r, "signed", "ZZ", date(2025, 2, 11)), InvalidInput, "unknown party code"),
    (
        "unknown declaration",
        lambda r: act(r, "signed", "EU", date(2025, 2, 11), declaration_id="nope"),
        NotFound,
        "unknown declaration",
    ),
    (
        "no sources",
        lambda r: act(r, "signed", "EU", date(2025, 2, 11), sources=[]),
        InvalidInput,
        "at least one source",
    ),
    (
        "bad url",
        lambda r: act(r, "signed", "EU", date(2025, 2, 11), sources=[Source("T", "ftp://x")]),
        InvalidInput,
        "http(s) URL",
    ),
    ("future act", lambda r: act(r, "signed", "EU", TODAY + timedelta(days=1)), InvalidInput, "in the future"),
    (
        "act before publication",
        lambda r: act(r, "signed", "EU", date(2025, 1, 1)),
        StanceRuleViolation,
        "it was published on",
    ),
    (
        "withdraw unsigned",
        lambda r: act(r, "withdrawn", "EU", date(2025, 2, 11)),
        StanceRuleViolation,
        "only a signature can be withdrawn",
    ),
    ("statement about nothing", lambda r: say(r, about="nope"), NotFound, "unknown declaration"),
    ("retract unknown", lambda r: retract(r, uuid4()), NotFound, "unknown event"),
    (
        "retract published",
        lambda r: retract(r, event_id_for(Declaration.id_for(DECLARATION), 1)),
        Conflict,
        "only acts (signed, declined, withdrawn), statements and votes can be retracted",
    ),
]


@pytest.mark.parametrize(
    ("command", "error", "reason"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_a_refused_command_stores_nothing_and_says_why(
    record: DiplomaticRecord, command: Command, error: type[DomainError], reason: str
) -> None:
    before = last_position(record)
    with pytest.raises(error, match=re.escape(reason)) as refused:
        command(record)
    assert type(refused.value) is error
    assert last_position(record) == before
