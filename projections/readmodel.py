"""What every read model is: tables, and a handler per event type applied inside the projector's page."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.store import Sql


@dataclass(frozen=True)
class Applied:
    """Where an event sits in the two times: its log position and when it was recorded."""

    sql: Sql
    position: int
    recorded_at: str


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so comparisons sort correctly in SQLite and PostgreSQL alike."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class ReadModel(ABC):
    """A read model: its tables and how each domain event changes them. Unknown events change nothing."""

    name: str = ""
    tables: tuple[str, ...] = ()
    ddl: tuple[str, ...] = ()

    def create(self, sql: Sql) -> None:
        for statement in self.ddl:
            sql.execute(statement)

    def drop(self, sql: Sql) -> None:
        for table in self.tables:
            sql.execute(f"DROP TABLE IF EXISTS {table}")

    @abstractmethod
    def apply(self, event: Any, at: Applied) -> None:
        """Each read model defines this as its own singledispatchmethod over event types;
        events it does not show are skipped, and tracking still moves past them."""
