"""Summits and declarations as clients list them, with their sources."""

from __future__ import annotations

import json
from typing import Any

from domain.declaration import Declaration
from domain.summit import Summit
from projections.readmodel import Item, Page, ReadModel, as_json, handles
from projections.store import Sql


class Catalogue(ReadModel):
    name = "catalogue"
    tables = ("summits", "summit_hosts", "declarations")
    ddl = (
        """CREATE TABLE IF NOT EXISTS summits (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            hosts TEXT NOT NULL,
            city TEXT NOT NULL,
            starts_on TEXT NOT NULL,
            ends_on TEXT NOT NULL,
            notes TEXT,
            sources TEXT NOT NULL,
            confidence TEXT NOT NULL,
            event_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS summit_hosts (
            party TEXT NOT NULL,
            summit_id TEXT NOT NULL,
            PRIMARY KEY (party, summit_id)
        )""",
        """CREATE TABLE IF NOT EXISTS declarations (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            summit_id TEXT,
            published_on TEXT NOT NULL,
            notes TEXT,
            sources TEXT NOT NULL,
            confidence TEXT NOT NULL,
            event_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS declarations_by_summit ON declarations (summit_id)",
    )

    # Acts and statements are not part of the catalogue.
    columns = {
        "summits": ("id", "name", "hosts", "city", "starts_on", "ends_on", "notes", "sources", "confidence",
                    "event_id", "position", "recorded_at"),
        "summit_hosts": ("party", "summit_id"),
        "declarations": ("id", "title", "summit_id", "published_on", "notes", "sources", "confidence", "event_id",
                         "position", "recorded_at"),
    }

    @handles(Summit.Hosted)
    def _hosted(self, item: Item, page: Page) -> None:
        event = item.event
        page.rows["summits"].append((event.slug, event.name, as_json(event.hosts), event.city,
                                     event.starts_on.isoformat(), event.ends_on.isoformat(), event.notes,
                                     as_json(event.sources), event.confidence, str(event.event_id), item.position,
                                     item.recorded_at))
        page.rows["summit_hosts"].extend((host, event.slug) for host in event.hosts)

    @handles(Declaration.Published)
    def _published(self, item: Item, page: Page) -> None:
        event = item.event
        page.rows["declarations"].append((event.slug, event.title, event.summit_id, event.published_on.isoformat(),
                                          event.notes, as_json(event.sources), event.confidence, str(event.event_id),
                                          item.position, item.recorded_at))


def _summit(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "hosts": json.loads(row["hosts"]), "sources": json.loads(row["sources"])}


def _declaration(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "sources": json.loads(row["sources"])}


def list_summits(sql: Sql) -> list[dict[str, Any]]:
    return [_summit(r) for r in sql.rows("SELECT * FROM summits ORDER BY starts_on, id")]


def get_summit(sql: Sql, summit_id: str) -> dict[str, Any] | None:
    row = sql.one("SELECT * FROM summits WHERE id = ?", (summit_id,))
    return _summit(row) if row else None


def list_declarations(
    sql: Sql, summit_id: str | None = None, known_at: str | None = None
) -> list[dict[str, Any]]:
    """Declarations in publication order; with `known_at`, only those the record held by then."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if summit_id is not None:
        where.append("summit_id = ?")
        params.append(summit_id)
    if known_at is not None:
        where.append("recorded_at <= ?")
        params.append(known_at)
    rows = sql.rows(f"SELECT * FROM declarations WHERE {' AND '.join(where)} ORDER BY published_on, id", params)
    return [_declaration(r) for r in rows]


def get_declaration(sql: Sql, declaration_id: str, known_at: str | None = None) -> dict[str, Any] | None:
    row = sql.one("SELECT * FROM declarations WHERE id = ?", (declaration_id,))
    if row is None or (known_at is not None and row["recorded_at"] > known_at):
        return None
    return _declaration(row)


def summits_hosted_by(sql: Sql, party: str) -> list[str]:
    return [r["summit_id"] for r in sql.rows("SELECT summit_id FROM summit_hosts WHERE party = ?", (party,))]
