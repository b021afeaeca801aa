"""The party registry: states from pycountry, organisations handed in from a data file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pycountry

from domain.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    kind: str  # "state", "former-state" or an organisation's kind
    official_name: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def _states() -> list[Party]:
    parties = [
        Party(
            code=c.alpha_2,
            name=getattr(c, "common_name", None) or c.name,
            kind="state",
            official_name=getattr(c, "official_name", None),
        )
        for c in pycountry.countries
    ]
    # ISO 3166-3 four-letter codes name states that no longer exist (SUHH, YUCS, ...).
    parties += [
        Party(code=c.alpha_4, name=c.name, kind="former-state") for c in pycountry.historic_countries
    ]
    return parties


class PartyRegistry:
    """Looks parties up by code; codes are upper case, and lookups forgive lower case."""

    def __init__(self, organisations: Iterable[Party] = ()) -> None:
        self._by_code: dict[str, Party] = {}
        for party in [*_states(), *organisations]:
            if party.code in self._by_code:
                raise ValueError(f"party code {party.code} is defined twice")
            self._by_code[party.code] = party

    def __iter__(self) -> Iterator[Party]:
        return iter(sorted(self._by_code.values(), key=lambda p: p.code))

    def __len__(self) -> int:
        return len(self._by_code)

    def find(self, code: str) -> Party | None:
        return self._by_code.get(code.strip().upper())

    def get(self, code: str) -> Party:
        """The party with this code; NotFound for a code in a path."""
        party = self.find(code)
        if party is None:
            raise NotFound(f"unknown party code {code!r}", field="code")
        return party

    def require(self, code: str, field: str = "party") -> str:
        """The canonical code of a party named in a command body; InvalidInput if unknown."""
        party = self.find(code)
        if party is None:
            raise InvalidInput(
                f"unknown party code {code!r}: use an ISO 3166-1 alpha-2 code (US, GB), "
                "an ISO 3166-3 code for a former state, or a registered organisation code (EU, AFRICAN_UNION)",
                field=field,
            )
        return party.code
