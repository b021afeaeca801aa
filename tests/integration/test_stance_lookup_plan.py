"""A stance question stays one lookup on the party's (or the declaration's) index, whatever other indexes
the replays add: SQLite, which has no statistics until someone runs ANALYZE, must not pick an index
that scans every span begun by `at`."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from projections.analysis import Scope, cells_at
from projections.catalogue import Catalogue
from projections.stance_history import StanceHistory, signatories, stances_of
from projections.store import SQLiteViewStore

AT, KNOWN_AT = "2025-02-12", "2026-01-01T00:00:00.000000+00:00"


class Recorder:
    """Stands in for a Sql cursor: remembers each query asked and answers nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        self.asked.append((sql, tuple(params)))
        return []


@pytest.fixture
def empty_views(tmp_path: Path) -> sqlite3.Connection:
    store = SQLiteViewStore(tmp_path / "views.sqlite3")
    with store.transaction() as sql:
        for model in (Catalogue(), StanceHistory()):
            model.create(sql)
    store.close()
    return sqlite3.connect(tmp_path / "views.sqlite3")


def plan(conn: sqlite3.Connection, asked: tuple[str, tuple[Any, ...]]) -> str:
    return "; ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + asked[0], asked[1]))


@pytest.mark.parametrize("min_confidence", ["low", "high"])
def test_a_partys_stances_are_read_through_the_party_index(
    empty_views: sqlite3.Connection, min_confidence: str
) -> None:
    recorder = Recorder()
    stances_of(recorder, "GB", AT, KNOWN_AT, min_confidence)  # type: ignore[arg-type]
    assert "stance_spans_by_party (party=? AND min_confidence=?)" in plan(empty_views, recorder.asked[0])


def test_signatories_are_read_through_the_declaration_index(empty_views: sqlite3.Connection) -> None:
    recorder = Recorder()
    signatories(recorder, "paris-statement", AT, KNOWN_AT, "medium")  # type: ignore[arg-type]
    assert "stance_spans_by_declaration (declaration_id=? AND min_confidence=?)" in plan(
        empty_views, recorder.asked[0])


def test_the_world_of_some_parties_is_read_through_the_party_index(empty_views: sqlite3.Connection) -> None:
    recorder = Recorder()
    cells_at(recorder, AT, KNOWN_AT, Scope(parties=("GB", "US")))  # type: ignore[arg-type]
    assert "stance_spans_by_party" in plan(empty_views, recorder.asked[0])
