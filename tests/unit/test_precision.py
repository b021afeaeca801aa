"""Acts known only to their month or year: they count from the first day of their period (or from the
declaration's publication, when the period includes it), and the stance rules place them there."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import StanceRuleViolation
from domain.service import DiplomaticRecord
from domain.values import (
    effective_on,
    is_approximate,
    period_end,
    period_start,
)
from tests.factories import DECLARATION, act, new_record, publish

PUBLISHED = date(2025, 2, 11)


@pytest.fixture
def record() -> DiplomaticRecord:
    record = new_record()
    publish(record, title="Paris statement", published_on=PUBLISHED)
    return record


def stance(record: DiplomaticRecord, party: str, on: date) -> str | None:
    current = record.declaration(DECLARATION).stance_of(party, on)
    return str(current.kind) if current else None


# -- the pure functions -----------------------------------------------------------------------------------


def test_a_period_starts_on_its_day_its_month_or_its_year() -> None:
    day = date(2025, 3, 20)
    assert period_start(day, "day") == day
    assert period_start(day, "month") == date(2025, 3, 1)
    assert period_start(day, "year") == date(2025, 1, 1)


def test_a_period_ends_on_its_day_the_last_of_its_month_or_the_last_of_its_year() -> None:
    assert period_end(date(2025, 3, 20), "day") == date(2025, 3, 20)
    assert period_end(date(2024, 2, 3), "month") == date(2024, 2, 29)
    assert period_end(date(2025, 12, 3), "month") == date(2025, 12, 31)
    assert period_end(date(2025, 3, 20), "year") == date(2025, 12, 31)


def test_an_approximate_act_counts_from_the_publication_when_its_period_began_before_it() -> None:
    assert effective_on(date(2025, 2, 20), "month", PUBLISHED) == PUBLISHED
    assert effective_on(date(2025, 3, 20), "month", PUBLISHED) == date(2025, 3, 1)
    assert effective_on(date(2025, 6, 1), "year", PUBLISHED) == PUBLISHED
    assert effective_on(date(2024, 6, 1), "year") == date(2024, 1, 1)  # a statement has no publication


def test_only_day_precision_is_exact() -> None:
    assert [is_approximate(p) for p in ("day", "month", "year")] == [False, True, True]


@given(day=st.dates(date(1, 1, 1), date(9999, 12, 31)), precision=st.sampled_from(["day", "month", "year"]))
def test_every_day_lies_in_its_own_period(day: date, precision: str) -> None:
    assert period_start(day, precision) <= day <= period_end(day, precision)
    assert period_start(period_end(day, precision), precision) == period_start(day, precision)


# -- the stance rules use the same date ---------------------------------------------------------------------


def test_a_month_act_whose_month_holds_the_publication_is_accepted_and_counts_from_the_publication(
    record: DiplomaticRecord,
) -> None:
    act(record, "signed", "FR", date(2025, 2, 1), precision="month")
    (stored,) = record.declaration(DECLARATION).live_acts("FR")
    assert stored.occurred_on == date(2025, 2, 1)  # kept as recorded
    assert stored.effective_on == PUBLISHED
    assert stance(record, "FR", date(2025, 2, 10)) is None
    assert stance(record, "FR", PUBLISHED) == "signed"


def test_a_month_act_wholly_before_the_publication_is_refused_naming_its_month(record: DiplomaticRecord) -> None:
    with pytest.raises(StanceRuleViolation) as refused:
        act(record, "signed", "FR", date(2025, 1, 15), precision="month")
    assert refused.value.field == "occurred_on"
    assert refused.value.message == (
        "FR cannot sign paris-statement in 2025-01 (known only to the month): "
        "it was published on 2025-02-11"
    )


def test_a_year_act_in_the_year_of_publication_counts_from_the_publication(record: DiplomaticRecord) -> None:
    act(record, "declined", "US", date(2025, 7, 1), precision="year")
    assert stance(record, "US", PUBLISHED) == "declined"
    with pytest.raises(StanceRuleViolation):
        act(record, "declined", "GB", date(2024, 7, 1), precision="year")


def test_a_month_act_is_placed_at_the_start_of_its_month_before_a_day_act_later_that_month(
    record: DiplomaticRecord,
) -> None:
    act(record, "signed", "FR", date(2025, 3, 10))
    # Known only as "March 2025": it counts from 1 March, so it comes before the signature of 10 March.
    receipt = act(record, "declined", "FR", date(2025, 3, 25), precision="month")
    assert receipt.subject["previous"] is None
    assert stance(record, "FR", date(2025, 3, 5)) == "declined"
    assert stance(record, "FR", date(2025, 3, 10)) == "signed"


def test_a_month_withdrawal_cannot_come_before_the_signature_it_withdraws(record: DiplomaticRecord) -> None:
    act(record, "signed", "FR", date(2025, 3, 10))
    with pytest.raises(StanceRuleViolation) as refused:
        act(record, "withdrawn", "FR", date(2025, 3, 25), precision="month")
    assert refused.value.message == (
        "FR cannot withdraw from paris-statement in 2025-03 (known only to the month, counted from 2025-03-01): "
        "it had no stance then; only a signature can be withdrawn"
    )


def test_the_receipt_names_the_stance_before_the_date_an_approximate_act_counts_from(
    record: DiplomaticRecord,
) -> None:
    act(record, "signed", "FR", date(2025, 2, 20))
    withdrawn = act(record, "withdrawn", "FR", date(2025, 4, 30), precision="month")
    assert withdrawn.subject["previous"] == "signed"
    assert stance(record, "FR", date(2025, 4, 1)) == "withdrawn"
