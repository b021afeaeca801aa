"""The organisations that can act as parties, read from seeds/data/organisations.json."""

from __future__ import annotations

import json
from pathlib import Path

from domain.parties import Party

DATA = Path(__file__).parent / "data"


def load_organisations(path: Path = DATA / "organisations.json") -> list[Party]:
    return [
        Party(code=o["code"], name=o["name"], kind=o.get("kind", "organisation"), aliases=tuple(o.get("aliases", ())))
        for o in json.loads(path.read_text(encoding="utf-8"))
    ]
