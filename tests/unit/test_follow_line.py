"""`diplo follow` prints an act known only to its month or year as that period, marked `~` as the replay marks
it, so a reader never takes the period's first day for the day it happened."""

from __future__ import annotations

from typing import Any

from api.follow import describe


def line(occurred_on: str, precision: str, approximate: bool) -> str:
    event: dict[str, Any] = {"position": 9, "kind": "signed", "occurred_on": occurred_on, "approximate": approximate,
                             "data": {"declaration_id": "d", "party": "FR", "precision": precision}}
    return describe(event)


def test_a_day_is_printed_as_the_day() -> None:
    assert " 2025-02-11 " in line("2025-02-11", "day", False)


def test_a_month_or_a_year_is_printed_as_the_period_marked_approximate() -> None:
    assert " 2025-02~ " in line("2025-02-01", "month", True)
    assert " 2025~ " in line("2025-01-01", "year", True)
    assert "2025-02-01" not in line("2025-02-01", "month", True)
