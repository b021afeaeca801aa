"""The party registry: states from pycountry, organisations handed in from a data file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

import pycountry

from domain.errors import InvalidInput, NotFound
from domain.succession import Successions

# When a party existed: [from, to) with None for an open end; a party with no periods has no known limits.
Period = tuple[date | None, date | None]


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    kind: str  # "state", "former-state" or an organisation's kind
    official_name: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    periods: tuple[Period, ...] = field(default_factory=tuple)

    def existed_on(self, day: date) -> bool:
        """Whether the party existed on that day, as far as the record knows (no periods: no known limits)."""
        return not self.periods or any((start is None or start <= day) and (end is None or day < end)
                                       for start, end in self.periods)


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

    def __init__(self, organisations: Iterable[Party] = (), *, former: Iterable[Party] = (),
                 periods: dict[str, tuple[Period, ...]] | None = None,
                 successions: Successions | None = None) -> None:
        """`former`: states no ISO standard codes apart (Zanzibar); `periods`: when parties existed, by code."""
        self._by_code: dict[str, Party] = {}
        for party in [*_states(), *organisations, *former]:
            if party.code in self._by_code:
                raise ValueError(f"party code {party.code} is defined twice")
            self._by_code[party.code] = party
        for code, spans in (periods or {}).items():
            if code not in self._by_code:
                raise ValueError(f"periods given for unknown party {code}")
            self._by_code[code] = replace(self._by_code[code], periods=spans)
        self.successions = successions or Successions()
        for link in self.successions:
            for code in (link.predecessor, link.successor):
                if code not in self._by_code:
                    raise ValueError(f"succession names unknown party {code}")

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

    def bounded(self) -> set[str]:
        """The codes of parties with known limits: only these need a date checked."""
        return {code for code, party in self._by_code.items() if party.periods}

    def require_on(self, code: str, day: date, field: str = "party") -> str:
        """As `require`, and the party must have existed on that day (the USSR does not act in 2024)."""
        party = self._by_code[self.require(code, field)]
        if not party.existed_on(day):
            spans = "; ".join(
                f"until {end}" if start is None else f"from {start}" if end is None else f"from {start} until {end}"
                for start, end in party.periods)
            raise InvalidInput(
                f"{party.code} ({party.name}) did not exist on {day.isoformat()} (it existed {spans}); "
                "record the act under the party that acted then",
                field=field,
            )
        return party.code
