"""The one check of a read's filters, for every route and command: each party, declaration and date range a
question is narrowed by must name something the record knows, or the question is malformed (422 naming the
field), never answered with nothing. A party in a path is looked up here too (404)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from api.bootstrap import Runtime
from domain.errors import InvalidInput, NotFound
from domain.parties import Party
from projections.catalogue import get_declaration
from projections.store import Sql


@dataclass(frozen=True)
class Filters:
    """A read's filters, checked: canonical party codes and declaration ids, each once, and ISO dates."""

    parties: tuple[str, ...] = ()
    declarations: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None


def _spaced(value: str) -> bool:
    # The registry forgives spaces around a code; a filter must not, or ` GB` answers as GB in one place
    # and as nothing in another.
    return value != value.strip()


def party_code(runtime: Runtime, value: str, field: str = "party") -> str:
    """The canonical code of a party named in a filter (lower case is forgiven, spaces are not)."""
    if _spaced(value):
        raise InvalidInput(f"unknown party code {value!r}: no spaces around a code", field=field)
    return runtime.parties.require(value, field)


def party_in_path(runtime: Runtime, code: str) -> Party:
    """The party a path names; NotFound (404) when the registry has no such code."""
    if _spaced(code):
        raise NotFound(f"unknown party code {code!r}", field="code")
    return runtime.parties.get(code)


def date_range(date_from: date | None, date_to: date | None, names: tuple[str, str] = ("from", "to")
               ) -> tuple[str | None, str | None]:
    """The range as ISO text; InvalidInput naming the first when it is after the last."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInput(f"{names[0]} {date_from.isoformat()} is after {names[1]} {date_to.isoformat()}",
                           field=names[0])
    return (date_from.isoformat() if date_from else None, date_to.isoformat() if date_to else None)


def checked_filters(
    runtime: Runtime, sql: Sql | None = None, *, parties: Iterable[str] | None = None,
    declarations: Iterable[str] | None = None, date_from: date | None = None, date_to: date | None = None,
    range_names: tuple[str, str] = ("from", "to"),
) -> Filters:
    """Every filter of a question checked, in the caller's reading, or (with no `sql`) in a reading of its own
    opened only when there are declarations to look up."""
    codes = tuple(dict.fromkeys(party_code(runtime, p) for p in parties or ()))
    wanted = tuple(dict.fromkeys(declarations or ()))
    if wanted:
        if sql is not None:
            _known_declarations(sql, wanted)
        else:
            with runtime.store.reading() as own:
                _known_declarations(own, wanted)
    first, last = date_range(date_from, date_to, range_names)
    return Filters(codes, wanted, first, last)


def _known_declarations(sql: Sql, wanted: tuple[str, ...]) -> None:
    for declaration_id in wanted:
        if _spaced(declaration_id) or get_declaration(sql, declaration_id) is None:
            raise InvalidInput(f"unknown declaration {declaration_id!r}", field="declaration")
