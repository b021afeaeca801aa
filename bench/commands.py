"""Replays the generator's command dicts through the application service, one method call each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from domain.service import DiplomaticRecord, Receipt
from domain.values import ActKind, Confidence, Position, Precision, Source


def _sources(items: list[dict[str, Any]]) -> list[Source]:
    return [Source.from_dict(s) for s in items]


def apply_command(app: DiplomaticRecord, command: dict[str, Any]) -> Receipt:
    """Calls the service method the command names, with its arguments typed as the service wants."""
    c = command
    match c["command"]:
        case "host_summit":
            return app.host_summit(
                id=c["id"], name=c["name"], hosts=c["hosts"], city=c["city"],
                starts_on=date.fromisoformat(c["starts_on"]), ends_on=date.fromisoformat(c["ends_on"]),
                sources=_sources(c["sources"]), confidence=Confidence(c["confidence"]),
            )
        case "publish_declaration":
            return app.publish_declaration(
                id=c["id"], title=c["title"], summit_id=c.get("summit_id"),
                published_on=date.fromisoformat(c["published_on"]), sources=_sources(c["sources"]),
                confidence=Confidence(c["confidence"]),
            )
        case "record_act":
            return app.record_act(
                declaration_id=c["declaration_id"], kind=ActKind(c["kind"]), party=c["party"],
                occurred_on=date.fromisoformat(c["occurred_on"]), precision=Precision(c.get("precision", "day")),
                reason=c.get("reason"), sources=_sources(c["sources"]), confidence=Confidence(c["confidence"]),
            )
        case "record_statement":
            return app.record_statement(
                party=c["party"], occurred_on=date.fromisoformat(c["occurred_on"]), text=c["text"],
                speaker=c.get("speaker"), about=c.get("about"),
                position=Position(c["position"]) if c.get("position") else None,
                sources=_sources(c["sources"]), confidence=Confidence(c["confidence"]),
            )
        case "retract":
            return app.retract(event_id=UUID(c["event_id"]), reason=c["reason"], sources=_sources(c["sources"]))
    raise ValueError(f"unknown command {c['command']!r}")


def replay(
    app: DiplomaticRecord, commands: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> int:
    """Applies every command in order; returns the last log position stored."""
    last = 0
    for n, command in enumerate(commands, 1):
        receipt = apply_command(app, command)
        last = max(last, receipt.last_position or 0)
        if progress is not None and n % 10_000 == 0:
            progress(n)
    return last
