"""The stance rules: one party's acts on one declaration, in valid-time order, read as a legal sequence.

See DESIGN.md, "Two times" and "Stance rules". Every test runs against the application service in memory.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.commands import PublishDeclaration
from domain.declaration import first_illegal
from domain.errors import Conflict, Duplicate, InvalidInput, StanceRuleViolation
from domain.service import DiplomaticRecord, Receipt
from domain.values import ActKind, Confidence
from tests.factories import DECLARATION, SOURCES, TODAY, publish, retract
from tests.factories import act as record_act
from tests.factories import new_record as fresh_record

PUBLISHED = date(2025, 2, 10)


def new_record(published_on: date = PUBLISHED) -> DiplomaticRecord:
    record = fresh_record()
    publish(record, published_on=published_on)
    return record


@pytest.fixture
def record() -> DiplomaticRecord:
    return new_record()


def act(record: DiplomaticRecord, kind: str, party: str, day: date, declaration: str = DECLARATION) -> Receipt:
    return record_act(record, kind, party, day, declaration_id=declaration)


def live(record: DiplomaticRecord, party: str) -> list[tuple[str, date]]:
    """The party's acts that count, in valid-time order."""
    return [(str(a.kind), a.occurred_on) for a in record.declaration(DECLARATION).live_acts(party)]


def stance(record: DiplomaticRecord, party: str, on: date) -> str | None:
    current = record.declaration(DECLARATION).stance_of(party, on)
    return str(current.kind) if current else None


class Unchanged:
    """Asserts that a block stored nothing: neither a new log position nor a new aggregate version."""

    def __init__(self, record: DiplomaticRecord) -> None:
        self.record = record

    def __enter__(self) -> Unchanged:
        self.position = self.record.recorder.max_notification_id()
        self.version = self.record.declaration(DECLARATION).version
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.record.recorder.max_notification_id() == self.position
        assert self.record.declaration(DECLARATION).version == self.version


# -- the table, act by act ----------------------------------------------------------------------------


def test_a_party_with_no_stance_can_sign(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    assert stance(record, "EU", date(2025, 2, 11)) == "signed"


def test_a_party_with_no_stance_can_decline(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    assert stance(record, "US", date(2025, 2, 12)) == "declined"


def test_a_party_cannot_decline_while_signed(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="withdraw first"):
        act(record, "declined", "EU", date(2025, 3, 1))


def test_the_refusal_names_the_party_the_act_and_the_stance_then(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    with pytest.raises(StanceRuleViolation) as refused:
        act(record, "declined", "EU", date(2025, 3, 1))
    assert refused.value.message == (
        "EU cannot decline paris-statement on 2025-03-01: its stance then is signed (since 2025-02-11); "
        "it has signed; withdraw first"
    )


def test_signing_twice_in_a_row_is_refused(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="it has already signed"):
        act(record, "signed", "EU", date(2025, 2, 12))


def test_declining_twice_in_a_row_is_refused(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="it has already declined"):
        act(record, "declined", "US", date(2025, 2, 12))


def test_withdrawing_without_a_signature_is_refused(record: DiplomaticRecord) -> None:
    with Unchanged(record), pytest.raises(StanceRuleViolation) as refused:
        act(record, "withdrawn", "EU", date(2025, 2, 11))
    assert "it had no stance then" in refused.value.message
    assert "only a signature can be withdrawn" in refused.value.message


def test_withdrawing_after_declining_is_refused(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="its stance is declined, not signed"):
        act(record, "withdrawn", "US", date(2025, 3, 1))


def test_withdrawing_twice_in_a_row_is_refused(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 3, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="its stance is withdrawn, not signed"):
        act(record, "withdrawn", "EU", date(2025, 4, 1))


def test_a_party_that_declined_can_sign_later(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    act(record, "signed", "US", date(2025, 9, 1))
    assert live(record, "US") == [("declined", date(2025, 2, 11)), ("signed", date(2025, 9, 1))]


def test_signing_again_after_withdrawing_is_allowed(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 3, 1))
    act(record, "signed", "EU", date(2025, 4, 1))
    assert stance(record, "EU", date(2025, 4, 1)) == "signed"


def test_declining_after_withdrawing_is_allowed(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 3, 1))
    act(record, "declined", "EU", date(2025, 4, 1))
    assert stance(record, "EU", date(2025, 4, 1)) == "declined"


def test_a_stance_rule_violation_is_a_conflict() -> None:
    assert issubclass(StanceRuleViolation, Conflict)


def test_the_rules_hold_per_party(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "declined", "US", date(2025, 2, 11))
    assert stance(record, "EU", date(2025, 2, 11)) == "signed"
    assert stance(record, "US", date(2025, 2, 11)) == "declined"


def test_the_rules_hold_per_declaration(record: DiplomaticRecord) -> None:
    record.handle(PublishDeclaration(
        id="bletchley-declaration",
        title="Bletchley Declaration",
        published_on=date(2023, 11, 1),
        sources=SOURCES,
        confidence=Confidence.HIGH,
    ))
    act(record, "signed", "EU", date(2023, 11, 1), declaration="bletchley-declaration")
    act(record, "declined", "EU", date(2025, 2, 11))
    assert stance(record, "EU", date(2025, 2, 11)) == "declined"


# -- dates: publication and today ----------------------------------------------------------------------


def test_act_before_publication_is_refused(record: DiplomaticRecord) -> None:
    with Unchanged(record), pytest.raises(StanceRuleViolation) as refused:
        act(record, "signed", "EU", date(2025, 2, 9))
    assert refused.value.field == "occurred_on"
    assert "it was published on 2025-02-10" in refused.value.message


def test_act_on_the_day_of_publication_is_allowed(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", PUBLISHED)
    assert stance(record, "EU", PUBLISHED) == "signed"


def test_act_in_the_future_is_refused(record: DiplomaticRecord) -> None:
    with Unchanged(record), pytest.raises(InvalidInput) as refused:
        act(record, "signed", "EU", TODAY + timedelta(days=1))
    assert refused.value.field == "occurred_on"
    assert "2026-11-26 is in the future" in refused.value.message


def test_act_today_is_allowed(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", TODAY)
    assert stance(record, "EU", TODAY) == "signed"


# -- valid time: backfills and same-day acts -----------------------------------------------------------


def test_backfilled_decline_is_placed_before_the_signature(record: DiplomaticRecord) -> None:
    act(record, "signed", "US", date(2025, 9, 1))
    act(record, "declined", "US", date(2025, 2, 11))
    assert live(record, "US") == [("declined", date(2025, 2, 11)), ("signed", date(2025, 9, 1))]
    assert stance(record, "US", date(2025, 2, 12)) == "declined"
    assert stance(record, "US", date(2025, 9, 1)) == "signed"


def test_backfilled_act_is_checked_at_its_place_in_time(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 6, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match=r"since 2025-02-11.*withdraw first"):
        act(record, "declined", "EU", date(2025, 3, 1))


def test_backfill_that_makes_a_later_act_illegal_is_refused(record: DiplomaticRecord) -> None:
    later = act(record, "signed", "EU", date(2025, 3, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation) as refused:
        act(record, "signed", "EU", date(2025, 2, 11))
    assert "would make its later act 'signed' on 2025-03-01" in refused.value.message
    assert str(later.event_id) in refused.value.message


def test_backfilled_decline_before_a_decline_is_refused(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 3, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match=r"later act 'declined'.*already declined"):
        act(record, "declined", "US", date(2025, 2, 11))


def test_same_day_acts_are_ordered_by_recording(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 2, 11))
    assert live(record, "EU") == [("signed", date(2025, 2, 11)), ("withdrawn", date(2025, 2, 11))]
    assert stance(record, "EU", date(2025, 2, 11)) == "withdrawn"


def test_a_same_day_withdrawal_recorded_before_its_signature_is_refused(record: DiplomaticRecord) -> None:
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="only a signature can be withdrawn"):
        act(record, "withdrawn", "EU", date(2025, 2, 11))


def test_a_same_day_backfill_is_placed_after_the_acts_already_recorded_that_day(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    act(record, "withdrawn", "EU", date(2025, 3, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation, match="withdraw first"):
        act(record, "declined", "EU", date(2025, 2, 11))


# -- retractions ---------------------------------------------------------------------------------------


def test_a_retracted_act_no_longer_counts_for_the_rules(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    retract(record, signed.event_id)
    act(record, "declined", "EU", date(2025, 3, 1))
    assert live(record, "EU") == [("declined", date(2025, 3, 1))]


def test_retraction_that_leaves_a_later_act_illegal_is_refused(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    withdrawn = act(record, "withdrawn", "EU", date(2025, 3, 1))
    with Unchanged(record), pytest.raises(StanceRuleViolation) as refused:
        retract(record, signed.event_id)
    assert "would leave its later act 'withdrawn' on 2025-03-01" in refused.value.message
    assert str(withdrawn.event_id) in refused.value.message
    assert "retract the later act first" in refused.value.message
    assert live(record, "EU") == [("signed", date(2025, 2, 11)), ("withdrawn", date(2025, 3, 1))]


def test_retracting_a_withdrawal_that_a_later_decline_needs_is_refused(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 2, 11))
    act(record, "signed", "US", date(2025, 3, 1))
    withdrawn = act(record, "withdrawn", "US", date(2025, 4, 1))
    act(record, "declined", "US", date(2025, 5, 1))
    # Without the withdrawal, the decline of 1 May would come while signed.
    with Unchanged(record), pytest.raises(StanceRuleViolation, match=r"later act 'declined'.*withdraw first"):
        retract(record, withdrawn.event_id)


def test_retracting_the_later_act_first_lets_the_earlier_be_retracted(record: DiplomaticRecord) -> None:
    signed = act(record, "signed", "EU", date(2025, 2, 11))
    withdrawn = act(record, "withdrawn", "EU", date(2025, 3, 1))
    retract(record, withdrawn.event_id)
    retract(record, signed.event_id)
    assert live(record, "EU") == []


def test_retracting_the_last_act_returns_the_stance_before_it(record: DiplomaticRecord) -> None:
    act(record, "signed", "EU", date(2025, 2, 11))
    withdrawn = act(record, "withdrawn", "EU", date(2025, 3, 1))
    retract(record, withdrawn.event_id)
    assert stance(record, "EU", date(2025, 6, 1)) == "signed"


# -- property: whatever arrives, in whatever order, the live acts stay legal ---------------------------

PROPERTY_PUBLISHED = TODAY - timedelta(days=10)
PROPERTY_PARTIES = ["EU", "US", "GB"]
FOLLOWS = {  # written out again, independently of domain.declaration.ALLOWED_BEFORE
    "signed": {None, "declined", "withdrawn"},
    "declined": {None, "withdrawn"},
    "withdrawn": {"signed"},
}

acts = st.tuples(
    st.just("act"),
    st.sampled_from(PROPERTY_PARTIES),
    st.sampled_from([str(k) for k in ActKind]),
    st.integers(min_value=-2, max_value=12),  # days after publication; some before it, some after today
)
# A retraction names an accepted act by index: among the live ones, or (False) among all, retracted or not.
retractions = st.tuples(st.just("retract"), st.integers(min_value=0, max_value=40), st.booleans())


def model_is_legal(kinds: list[str]) -> bool:
    before: str | None = None
    for kind in kinds:
        if before not in FOLLOWS[kind]:
            return False
        before = kind
    return True


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(acts, acts, acts, retractions), min_size=8, max_size=40))
def test_any_sequence_of_commands_leaves_every_party_legal(commands: list[tuple]) -> None:
    record = new_record(published_on=PROPERTY_PUBLISHED)
    # The model: every accepted act as [order, party, kind, event_id, live], order = (day, recording order).
    accepted: list[list] = []

    def model_live(party: str) -> list[list]:
        return sorted((a for a in accepted if a[1] == party and a[4]), key=lambda a: a[0])

    for command in commands:
        version = record.declaration(DECLARATION).version
        position = record.recorder.max_notification_id()
        if command[0] == "act":
            _, party, kind, offset = command
            day = PROPERTY_PUBLISHED + timedelta(days=offset)
            candidate = [(day, version + 1), party, kind, None, True]
            if day > TODAY:
                expected: type[Exception] | None = InvalidInput
            elif day < PROPERTY_PUBLISHED:
                expected = StanceRuleViolation
            else:
                kinds = [a[2] for a in sorted([*model_live(party), candidate], key=lambda a: a[0])]
                expected = None if model_is_legal(kinds) else StanceRuleViolation
            try:
                receipt = act(record, kind, party, day)
            except (InvalidInput, StanceRuleViolation) as refused:
                assert type(refused) is expected, (command, refused)
            else:
                assert expected is None, command
                candidate[3] = receipt.event_id
                accepted.append(candidate)
        else:
            _, index, live_only = command
            pool = [a for a in accepted if a[4]] if live_only else accepted
            if not pool:
                continue
            target = pool[index % len(pool)]
            remaining = [a[2] for a in model_live(target[1]) if a is not target]
            if not target[4]:
                expected = Duplicate  # already retracted
            elif model_is_legal(remaining):
                expected = None
            else:
                expected = StanceRuleViolation
            try:
                retract(record, target[3])
            except Conflict as refused:
                assert type(refused) is expected, (command, refused)
            else:
                assert expected is None, command
                target[4] = False

        declaration = record.declaration(DECLARATION)
        if expected is not None:  # a refused command stored nothing
            assert declaration.version == version
            assert record.recorder.max_notification_id() == position
        for party in PROPERTY_PARTIES:
            acts_now = declaration.live_acts(party)
            assert first_illegal(sorted(acts_now, key=lambda a: (a.occurred_on, a.version))) is None
            assert [(a.occurred_on, str(a.kind)) for a in acts_now] == [(a[0][0], a[2]) for a in model_live(party)]
