"""States that changed: which party came after which, from what day, and how.

A vote or an act is recorded under the party that cast it then: the USSR's before 1991-12-24, the Russian
Federation's after. These links let a reader follow a state through them (`lineage`, for `include=predecessors`)
and let an importer name the party a data set's label meant on a day (`resolve`). The facts, with their sources,
come from a data file handed in (seeds/data/successions.json); nothing here knows where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class SuccessionKind(StrEnum):
    """How a successor followed its predecessor."""

    CONTINUATION = "continuation"  # the successor continues the predecessor's membership (USSR -> Russia)
    SEAT = "seat"  # the successor took the predecessor's seat (the ROC's seat -> the PRC, 1971)
    MERGER = "merger"  # the predecessor joined the successor (GDR -> Germany)
    DISSOLUTION = "dissolution"  # the predecessor ended; the successor is one of the states that followed


class Include(StrEnum):
    """What a per-party read of votes takes in beside the party itself."""

    PREDECESSORS = "predecessors"  # its predecessors, each before the day it was succeeded


# Links that carry a state's own line: followed first, and the only ones a data set's label is walked along.
LINE_KINDS = frozenset({SuccessionKind.CONTINUATION, SuccessionKind.SEAT})


@dataclass(frozen=True)
class Succession:
    """From `on`, `successor` acts where `predecessor` acted before: acts dated before `on` are the predecessor's."""

    predecessor: str
    successor: str
    on: date
    kind: SuccessionKind
    note: str | None = None
    sources: tuple[dict[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LineMember:
    """One party of a state's line, and the day before which its acts count for the line (None: always)."""

    party: str
    until: date | None
    via: SuccessionKind | None  # how it joins the line (None: the party itself)


class Successions:
    """The links between parties, looked up both ways."""

    def __init__(self, links: Iterable[Succession] = ()) -> None:
        self._links = sorted(links, key=lambda s: (s.on, s.predecessor, s.successor))
        self._before: dict[str, list[Succession]] = {}
        self._after: dict[str, list[Succession]] = {}
        for link in self._links:
            self._before.setdefault(link.successor, []).append(link)
            self._after.setdefault(link.predecessor, []).append(link)

    def __iter__(self) -> Any:
        return iter(self._links)

    def predecessors(self, party: str) -> list[Succession]:
        return list(self._before.get(party, ()))

    def successors(self, party: str) -> list[Succession]:
        return list(self._after.get(party, ()))

    def lineage(self, party: str) -> list[LineMember]:
        """The party, then its predecessors: those of its own line (continuation, seat) before those reached
        through a merger or a dissolution, nearer before farther. Each counts for the line only before the day
        it was succeeded. On one roll call, the first of these that voted speaks for the line."""
        found: list[tuple[int, int, str, LineMember]] = []
        seen = {party}
        frontier: list[tuple[str, date | None, int]] = [(party, None, 0)]
        depth = 0
        while frontier:
            depth += 1
            following: list[tuple[str, date | None, int]] = []
            for member, until, rank in frontier:
                for link in sorted(self._before.get(member, ()), key=lambda s: s.predecessor):
                    if link.predecessor in seen:
                        continue
                    seen.add(link.predecessor)
                    bound = link.on if until is None else min(link.on, until)
                    path_rank = max(rank, 0 if link.kind in LINE_KINDS else 1)
                    found.append((path_rank, depth, link.predecessor, LineMember(link.predecessor, bound, link.kind)))
                    following.append((link.predecessor, bound, path_rank))
            frontier = following
        return [LineMember(party, None, None), *(member for *_, member in sorted(found, key=lambda f: f[:3]))]

    def resolve(self, party: str, on: date) -> str:
        """The party of this one's own line that acted on a day: walks continuation links back while the day
        is before the link. (A data set that labels the USSR's votes 'RU' means SUHH before 1991-12-24.)"""
        current = party
        while True:
            earlier = next((s for s in self._before.get(current, ())
                            if s.kind is SuccessionKind.CONTINUATION and on < s.on), None)
            if earlier is None:
                return current
            current = earlier.predecessor
