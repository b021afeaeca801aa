"""Replays the generator's command dicts through the application service's command bus, one command each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from api.command_lines import parse_command
from domain.service import DiplomaticRecord


def replay(
    app: DiplomaticRecord, commands: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> int:
    """Handles every command in order, each in a transaction of its own, as the same lines sent over HTTP would
    be (parsed by the API's request models); returns the last log position stored."""
    last = 0
    for n, command in enumerate(commands, 1):
        receipt = app.handle(parse_command(n, command))
        last = max(last, receipt.last_position or 0)
        if progress is not None and n % 10_000 == 0:
            progress(n)
    return last
