"""Helpers shared by the integration tests (not a test module)."""

from __future__ import annotations

from typing import Any

from projections.store import ViewStore

TABLES = ("event_log", "summits", "summit_hosts", "declarations", "timeline", "stance_acts", "stance_spans")

Dump = dict[str, list[tuple[Any, ...]]]


def dump(store: ViewStore) -> Dump:
    """Every row of every read-model table, sorted, so two stores can be compared whole."""
    out: Dump = {}
    with store.reading() as sql:
        for table in TABLES:
            rows = [tuple(sorted(row.items())) for row in sql.rows(f"SELECT * FROM {table}")]
            out[table] = sorted(rows, key=repr)
    return out
