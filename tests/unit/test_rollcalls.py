"""Roll calls and votes in the domain: what each command stores, and why it refuses.

One live vote per party per roll call; a vote is corrected by a retraction and a new vote, as every act is; each
vote has an id of its own, derived from its roll call, so a retraction can name it and find the roll call.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import RecordRollCall, RecordVote, Retract
from domain.errors import Conflict, InvalidInput, NotFound
from domain.rollcall import RollCall, is_rollcall_id, vote_id, vote_ids, votes_key
from domain.service import DiplomaticRecord, Receipt
from domain.values import Body, Confidence, Source, Vote
from seeds.successions import load_registry

TODAY = date(2026, 12, 7)
SOURCES = [Source("UN Digital Library: voting record", "https://digitallibrary.un.org/record/1")]
PARTIES = load_registry()


def new_record() -> DiplomaticRecord:
    return DiplomaticRecord({"PERSISTENCE_MODULE": "eventsourcing.popo"}, parties=PARTIES, today=lambda: TODAY)


def call(record: DiplomaticRecord, id: str = "unga-1", **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {
        "body": Body.UNGA, "date": date(1975, 11, 10), "title": "Elimination of all forms of racial discrimination",
        "session": 30, "resolution": "R/30/3379", "issues": ("hr",),
        "votes": {"US": Vote.NO, "SUHH": Vote.YES, "FR": Vote.ABSTAIN}, "sources": SOURCES,
        "confidence": Confidence.HIGH,
    }
    return record.handle(RecordRollCall(id=id, **{**fields, **overrides}))


def stored(record: DiplomaticRecord) -> int:
    return record.recorder.max_notification_id() or 0


def test_a_roll_call_is_one_event_carrying_every_vote_and_each_vote_has_its_own_id() -> None:
    record = new_record()
    receipt = call(record)
    rollcall: RollCall = record.repository.get(RollCall.id_for("unga-1"))
    assert receipt.kind == "rollcall" and receipt.subject == {"rollcall_id": "unga-1", "votes": 3}
    assert {party: live.vote for party, live in rollcall.votes.items()} == {"US": "no", "SUHH": "yes",
                                                                          "FR": "abstain"}
    ids = {party: rollcall.vote_id_of(party) for party in rollcall.votes}
    assert len(set(ids.values())) == 3 and all(is_rollcall_id(i) for i in ids.values())
    assert all(votes_key(i) == votes_key(rollcall.id) for i in ids.values())
    assert ids["US"] == vote_id(RollCall.id_for("unga-1"), 1, "US")  # deterministic: the same facts, the same ids


def test_a_vote_added_later_is_refused_while_the_party_has_a_live_vote() -> None:
    record = new_record()
    call(record)
    before = stored(record)
    with pytest.raises(Conflict, match="one vote per party per roll call"):
        record.handle(RecordVote(rollcall_id="unga-1", party="US", vote=Vote.YES, sources=SOURCES,
                                 confidence=Confidence.HIGH))
    assert stored(record) == before


def test_a_vote_is_corrected_by_retracting_it_then_recording_the_right_one() -> None:
    record = new_record()
    call(record)
    wrong = vote_id(RollCall.id_for("unga-1"), 1, "FR")
    retraction = record.handle(Retract(event_id=wrong, reason="France voted yes (A/30/PV.2400)", sources=SOURCES))
    assert retraction.kind == "retracted"
    assert retraction.subject == {"retracted_event_id": str(wrong), "retracted_kind": "vote",
                                  "rollcall_id": "unga-1", "party": "FR"}
    right = record.handle(RecordVote(rollcall_id="unga-1", party="fr", vote=Vote.YES, sources=SOURCES,
                                     confidence=Confidence.HIGH))
    assert right.kind == "vote" and right.event_id == vote_id(RollCall.id_for("unga-1"), 3, "FR")
    assert right.position is not None  # the position of the event that carries it
    rollcall: RollCall = record.repository.get(RollCall.id_for("unga-1"))
    assert rollcall.votes["FR"].vote == "yes"
    with pytest.raises(Conflict, match="already been retracted"):
        record.handle(Retract(event_id=wrong, reason="again", sources=SOURCES))


def test_an_unknown_vote_id_is_not_found_even_when_its_roll_call_exists() -> None:
    record = new_record()
    call(record)
    stranger = vote_id(RollCall.id_for("unga-1"), 1, "GB")  # GB did not vote
    with pytest.raises(NotFound):
        record.handle(Retract(event_id=stranger, reason="no such vote", sources=SOURCES))
    with pytest.raises(NotFound):
        record.handle(Retract(event_id=vote_id(RollCall.id_for("unga-9"), 1, "US"), reason="x", sources=SOURCES))
    with pytest.raises(NotFound):
        record.handle(Retract(event_id=uuid4(), reason="x", sources=SOURCES))


@pytest.mark.parametrize(("votes", "field"), [
    ({"DDDE": Vote.YES}, "votes.DDDE"),  # the GDR ended on 1990-10-03
    ({"XX": Vote.YES}, "votes.XX"),
])
def test_a_vote_by_a_party_that_did_not_exist_on_the_day_is_refused(votes: dict[str, Vote], field: str) -> None:
    record = new_record()
    with pytest.raises(InvalidInput) as refused:
        call(record, date=date(1995, 11, 10), votes=votes)
    assert refused.value.field == field
    assert stored(record) == 0


def test_a_former_state_votes_within_its_dates() -> None:
    record = new_record()
    call(record, votes={"DDDE": Vote.YES, "SUHH": Vote.YES})
    assert stored(record) > 0


def test_a_roll_call_in_the_future_or_without_title_or_twice_is_refused() -> None:
    record = new_record()
    with pytest.raises(InvalidInput, match="future"):
        call(record, date=date(2027, 1, 1))
    with pytest.raises(InvalidInput, match="title"):
        call(record, title="  ")
    call(record)
    with pytest.raises(Conflict, match="already exists"):
        call(record)


def test_vote_ids_are_version_8_uuids_with_the_roll_calls_prefix() -> None:
    rollcall = RollCall.id_for("unga-42")
    vote = vote_id(rollcall, 7, "US")
    assert vote.version == 8 and vote.variant == "specified in RFC 4122"
    assert vote.bytes[:6] == rollcall.bytes[:6]
    assert vote != vote_id(rollcall, 7, "GB") != vote_id(rollcall, 8, "US")
    assert isinstance(votes_key(vote), UUID)


def test_a_roll_calls_own_event_cannot_be_retracted() -> None:
    record = new_record()
    receipt = call(record)
    assert is_rollcall_id(receipt.event_id) and votes_key(receipt.event_id) == votes_key(RollCall.id_for("unga-1"))
    with pytest.raises(Conflict, match="not a vote"):
        record.handle(Retract(event_id=receipt.event_id, reason="x", sources=SOURCES))


def test_a_state_that_ended_cannot_act_sign_speak_or_host_after_its_end() -> None:
    """Issue 13, item 7: the GDR does not decline a declaration in 2024, nor the USSR speak or host."""
    from domain.commands import HostSummit, PublishDeclaration, RecordAct, RecordStatement
    from domain.values import ActKind, Precision

    record = new_record()
    record.handle(PublishDeclaration(id="a-text", title="A text", published_on=date(1985, 1, 1), sources=SOURCES,
                                     confidence=Confidence.HIGH))
    refusals = [
        (RecordAct(declaration_id="a-text", kind=ActKind.DECLINED, party="DDDE", occurred_on=date(2024, 5, 1),
                   sources=SOURCES, confidence=Confidence.HIGH), "party"),
        (RecordStatement(party="SUHH", occurred_on=date(2024, 5, 1), text="Words", sources=SOURCES), "party"),
        (HostSummit(id="a-summit", name="A summit", hosts=["FR", "SUHH"], city="Paris", starts_on=date(2024, 5, 1),
                    ends_on=date(2024, 5, 2), sources=SOURCES, confidence=Confidence.HIGH), "hosts[1]"),
    ]
    before = stored(record)
    for command, field in refusals:
        with pytest.raises(InvalidInput, match="did not exist on 2024-05-01") as refused:
            record.handle(command)
        assert refused.value.field == field
    assert stored(record) == before
    # Within its dates it acts; an act known only to its year counts from the year's first day.
    record.handle(RecordAct(declaration_id="a-text", kind=ActKind.SIGNED, party="DDDE", occurred_on=date(1990, 1, 1),
                            precision=Precision.YEAR, sources=SOURCES, confidence=Confidence.HIGH))


@given(st.text(min_size=1, max_size=12), st.integers(min_value=1, max_value=10_000), st.text(min_size=1, max_size=8))
def test_a_vote_ids_text_is_the_vote_id(slug: str, version: int, party: str) -> None:
    rollcall = RollCall.id_for(slug)
    assert vote_ids(rollcall)(version, party) == str(vote_id(rollcall, version, party))
