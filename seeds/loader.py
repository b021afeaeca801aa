"""Replays the seed file through the application service's command bus, so seeding makes real events.

Idempotent: what the record already holds (a summit or declaration id, the same act by the same
party on the same day, the same statement) is skipped, so a second run stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from domain.commands import HostSummit, PublishDeclaration, RecordAct, RecordStatement
from domain.service import DiplomaticRecord
from domain.values import ActKind, Confidence, Position, Precision, Source

# Release 1 of the AI-summit record, which every existing store was seeded from. Later releases sit beside it
# (seeds/data/ai-summits/<date>.json) and are loaded over it by the release reconciliation.
SEED_FILE = Path(__file__).parent / "data" / "ai-summits" / "2026-11-25.json"


@dataclass
class SeedReport:
    stored: dict[str, int] = field(
        default_factory=lambda: {"summits": 0, "declarations": 0, "acts": 0, "statements": 0}
    )
    skipped: int = 0
    last_position: int = 0

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())


def _sources(items: list[dict[str, Any]]) -> list[Source]:
    return [Source.from_dict(s) for s in items]


def seed(
    app: DiplomaticRecord, path: Path = SEED_FILE, progress: Callable[[int, int], None] | None = None
) -> SeedReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    report = SeedReport()
    total = sum(len(data[k]) for k in ("summits", "declarations", "acts", "statements"))
    done = 0

    def step(kind: str | None, receipt_position: int | None = None) -> None:
        nonlocal done
        done += 1
        if kind is None:
            report.skipped += 1
        else:
            report.stored[kind] += 1
            report.last_position = max(report.last_position, receipt_position or 0)
        if progress is not None:
            progress(done, total)

    for s in data["summits"]:
        if app.summit_exists(s["id"]):
            step(None)
            continue
        r = app.handle(HostSummit(
            id=s["id"], name=s["name"], hosts=s["hosts"], city=s["city"],
            starts_on=date.fromisoformat(s["starts_on"]), ends_on=date.fromisoformat(s["ends_on"]),
            sources=_sources(s["sources"]), confidence=Confidence(s["confidence"]), notes=s.get("notes"),
        ))
        step("summits", r.last_position)

    for d in data["declarations"]:
        if app.declaration_exists(d["id"]):
            step(None)
            continue
        r = app.handle(PublishDeclaration(
            id=d["id"], title=d["title"], summit_id=d.get("summit_id"),
            published_on=date.fromisoformat(d["published_on"]), sources=_sources(d["sources"]),
            confidence=Confidence(d["confidence"]), notes=d.get("notes"),
        ))
        step("declarations", r.last_position)

    for a in data["acts"]:
        kind, occurred_on = ActKind(a["kind"]), date.fromisoformat(a["occurred_on"])
        if app.declaration(a["declaration_id"]).has_act(a["party"], kind, occurred_on):
            step(None)
            continue
        r = app.handle(RecordAct(
            declaration_id=a["declaration_id"], kind=kind, party=a["party"], occurred_on=occurred_on,
            precision=Precision(a.get("precision") or Precision.DAY), reason=a.get("reason"), note=a.get("note"),
            sources=_sources(a["sources"]), confidence=Confidence(a["confidence"]),
        ))
        step("acts", r.last_position)

    for st in data["statements"]:
        occurred_on = date.fromisoformat(st["occurred_on"])
        if app.statement_exists(st["party"], occurred_on, st.get("speaker"), st["text"]):
            step(None)
            continue
        r = app.handle(RecordStatement(
            party=st["party"], speaker=st.get("speaker"), occurred_on=occurred_on, text=st["text"],
            about=st.get("about"), position=Position(st["position"]) if st.get("position") else None,
            note=st.get("note"), sources=_sources(st["sources"]), confidence=Confidence(st["confidence"]),
        ))
        step("statements", r.last_position)
    return report
