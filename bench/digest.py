"""A SHA-256 per read-model table of a view store, to show that a change left every read model the same.

    python -m bench.digest                                   # the store DIPLO_* names (as `diplo` reads it)
    python -m bench.digest --sqlite var/views.sqlite3        # a SQLite view store (follows views.current)
    python -m bench.digest --postgres URL --schema diplo     # the views of DIPLO_DATABASE_SCHEMA=diplo

Each table's digest covers its column names and every row, in an order that depends on nothing but the
values: ORDER BY every column, ascending, NULLs first, text by code point (PostgreSQL's "C" collation, SQLite's
BINARY), each row encoded as a JSON array. So two stores holding the same rows give the same digest, on either
backend. Nothing is left out of a table: positions, event ids and recorded_at come from the log (a restored
backup keeps them), so a store projected again from the same log must give them back exactly. What is not
digested is the projector's own bookkeeping, `view_tracking` and `view_versions` (where each model stands, and
at which version it was built): a version bump changes it without changing a row a reader sees.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.settings import Settings
from projections.store import PostgresViewStore, Sql, SQLiteViewStore, ViewStore

BOOKKEEPING = frozenset({"view_tracking", "view_versions"})
TEXT_TYPES = frozenset({"text", "character varying", "character"})


def _tables(sql: Sql, postgres: bool) -> list[str]:
    if postgres:
        rows = sql.rows("SELECT table_name AS name FROM information_schema.tables"
                        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    else:
        rows = sql.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(str(r["name"]) for r in rows if r["name"] not in BOOKKEEPING)


def _columns(sql: Sql, table: str, postgres: bool) -> list[tuple[str, bool]]:
    """(name, is text) of each column, in the table's order."""
    if postgres:
        rows = sql.rows("SELECT column_name AS name, data_type AS type FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                        (table,))
        return [(str(r["name"]), str(r["type"]) in TEXT_TYPES) for r in rows]
    rows = sql.rows("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", (table,))
    return [(str(r["name"]), "TEXT" in str(r["type"]).upper()) for r in rows]


def table_digest(sql: Sql, table: str, postgres: bool) -> tuple[str, int]:
    """The table's SHA-256 (hex) and its number of rows."""
    columns = _columns(sql, table, postgres)
    order = ", ".join(f'"{name}"' + (' COLLATE "C"' if postgres and text else "") + " NULLS FIRST"
                      for name, text in columns)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    digest = hashlib.sha256(json.dumps([name for name, _ in columns]).encode())
    count = 0
    for row in sql.rows(f'SELECT {names} FROM "{table}" ORDER BY {order}'):
        digest.update(b"\n" + json.dumps(list(row.values()), ensure_ascii=False, default=str).encode())
        count += 1
    return digest.hexdigest(), count


def digests(store: ViewStore) -> dict[str, tuple[str, int]]:
    """Every read-model table of the store: its digest and row count, in one snapshot."""
    with store.reading() as sql:
        return {table: table_digest(sql, table, store.postgres) for table in _tables(sql, store.postgres)}


def _sqlite(path: Path) -> ViewStore:
    # After a rebuild the live file is the one views.current names; the base name may be gone.
    if not (path.exists() or path.with_name(path.stem + ".current").exists()):
        raise SystemExit(f"no view store at {path}")
    return SQLiteViewStore(path)


def open_store(sqlite: Path | None, postgres: str | None, schema: str | None) -> ViewStore:
    if sqlite is not None:
        return _sqlite(sqlite)
    settings = Settings()
    url = postgres or settings.database_url
    if url is None:
        return _sqlite(settings.views_path())
    return PostgresViewStore(url, f"{schema or settings.database_schema}_views", pool_size=1)


def lines(found: dict[str, tuple[str, int]]) -> Iterator[str]:
    for table, (digest, count) in found.items():
        yield f"{digest}  {table}  ({count} rows)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=Path, help="a SQLite view store (views.sqlite3)")
    parser.add_argument("--postgres", help="a PostgreSQL URL (default DIPLO_DATABASE_URL)")
    parser.add_argument("--schema", help="the store's schema, as DIPLO_DATABASE_SCHEMA (its views are SCHEMA_views)")
    args = parser.parse_args(argv)
    store = open_store(args.sqlite, args.postgres, args.schema)
    try:
        found: dict[str, Any] = digests(store)
    finally:
        store.close()
    for line in lines(found):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
