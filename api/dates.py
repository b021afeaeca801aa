"""The one definition of a date and of a moment in the HTTP API: ISO 8601 text, strictly.

pydantic alone takes a number for a date (Unix seconds: `0` is 1970-01-01), digits in a string the same way, and
a datetime at midnight for its day; Python's `fromisoformat` takes the basic format and week dates. None of that
is what a client of a record of dates means to send, so every date of a body or a query is `IsoDate`, and every
moment (`known_at`) goes through `moment`: anything else is a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from domain.errors import InvalidInput

CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The extended format with a zone (RFC 3339's profile of ISO 8601): seconds and their fraction optional.
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")
DATE_FORMAT = "an ISO 8601 calendar date, YYYY-MM-DD"
MOMENT_FORMAT = "an ISO 8601 datetime with a zone (2025-03-01T12:00:00Z) or a date (YYYY-MM-DD)"


def calendar_date(value: Any) -> date:
    """A date written YYYY-MM-DD (a date object passes: the command line and the tests hand those in)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and CALENDAR_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_value", "{value} is not a day of the calendar: expected {expected}",
                                      {"value": value, "expected": DATE_FORMAT}) from None
    raise PydanticCustomError("date_format", "expected {expected}, got {got}",
                              {"expected": DATE_FORMAT, "got": repr(value)[:40]})


# Still `date` to pydantic, so the schema stays {"type": "string", "format": "date"}; the check runs first.
IsoDate = Annotated[date, BeforeValidator(calendar_date)]


def moment(value: str, field: str = "known_at") -> datetime:
    """A moment with a zone, or a bare date meaning the end of that day in UTC; InvalidInput naming `field`."""
    text = value.strip().replace(" ", "+")  # a '+' left unencoded in a query string arrives as a space
    try:
        if CALENDAR_DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        if MOMENT.fullmatch(text):
            return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not a moment of the calendar: expected {MOMENT_FORMAT}",
                           field=field) from None
    if MOMENT.fullmatch(text + "Z"):
        raise InvalidInput(f"{field} needs a time zone, e.g. 2025-03-01T12:00:00Z", field=field)
    raise InvalidInput(f"{field} must be {MOMENT_FORMAT}, got {value!r}", field=field)
