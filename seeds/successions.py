"""The states that changed (seeds/data/successions.json): former states no ISO standard codes apart, when
parties existed, who succeeded whom, and how each data set labels them. Builds the full party registry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from domain.parties import Party, PartyRegistry, Period
from domain.succession import Succession, SuccessionKind, Successions
from seeds.organisations import load_organisations

DATA = Path(__file__).parent / "data"
SUCCESSIONS_FILE = DATA / "successions.json"


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class History:
    """What the successions file says."""

    former: list[Party]
    periods: dict[str, tuple[Period, ...]]
    successions: Successions
    # Per data set, how its labels name parties: {"unvotes": {"by_code": {...}, "by_name": {...}}, ...}
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


def load_history(path: Path = SUCCESSIONS_FILE) -> History:
    """Reads the file. The registry bounds only a party's end: a state that ended (the successions say so,
    other than by a change of seat) cannot act after it. Starts are not enforced: sources date some early votes
    by their session (the data set dates Zanzibar's two votes 1963-12-03, before its admission on the 16th), and
    the file's lifespans are periods of UN membership, which do not bound what a state may sign."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    links = [Succession(predecessor=s["predecessor"], successor=s["successor"], on=date.fromisoformat(s["on"]),
                        kind=SuccessionKind(s["kind"]), note=s.get("note"), sources=tuple(s.get("sources", ())))
             for s in data["successions"]]
    ended = {link.predecessor for link in links if link.kind is not SuccessionKind.SEAT}
    ends: dict[str, date] = {}
    for span in [*data.get("lifespans", []), *({"party": p["code"], "to": p.get("to")} for p in data["parties"])]:
        end = _day(span.get("to"))
        if span["party"] in ended and end is not None:
            ends[span["party"]] = max(end, ends.get(span["party"], end))
    former = [Party(code=p["code"], name=p["name"], kind=p.get("kind", "former-state")) for p in data["parties"]]
    periods: dict[str, tuple[Period, ...]] = {code: ((None, end),) for code, end in ends.items()}
    labels = {name: {k: v for k, v in rules.items() if k.startswith("by_")}
              for name, rules in data.get("datasets", {}).items()}
    return History(former, periods, Successions(links), labels)


def load_registry(history: History | None = None) -> PartyRegistry:
    """Every party the record knows: ISO states (pycountry), organisations, and the former states of history."""
    history = history or load_history()
    return PartyRegistry(load_organisations(), former=history.former, periods=history.periods,
                         successions=history.successions)
