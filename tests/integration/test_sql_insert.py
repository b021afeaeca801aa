"""Sql.insert writes plain rows as they were given: COPY on PostgreSQL, executemany on SQLite, the same values
back on both, whatever the text holds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from projections.store import ViewStore

AWKWARD = ["tab\there", "line\nbreak", "back\\slash \\N", "quote ' and \" both", "", "Côte d'Ivoire — 日本",
           '{"sources": [{"title": "A\\tB"}]}', "\\.", "carriage\rreturn"]


def test_rows_come_back_as_they_went_in(fresh_store: Callable[[], ViewStore]) -> None:
    store = fresh_store()
    rows = [(text, n, None if n % 2 else text[::-1]) for n, text in enumerate(AWKWARD)] + [("big", 2**62, None)]
    with store.transaction() as sql:
        sql.execute("CREATE TABLE copied (name TEXT NOT NULL, n BIGINT NOT NULL, other TEXT)")
        sql.insert("copied", ("name", "n", "other"), rows)
        sql.insert("copied", ("name", "n", "other"), [])  # nothing to write is no statement, not an error
    with store.reading() as sql:
        back = [(r["name"], int(r["n"]), r["other"]) for r in sql.rows("SELECT name, n, other FROM copied ORDER BY n")]
    assert back == rows


def test_a_failing_insert_leaves_nothing_of_its_transaction(fresh_store: Callable[[], ViewStore]) -> None:
    store = fresh_store()
    with store.transaction() as sql:
        sql.execute("CREATE TABLE copied (name TEXT PRIMARY KEY, n BIGINT NOT NULL)")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction() as sql:
        sql.insert("copied", ("name", "n"), [("a", 1), ("b", 2)])
        sql.insert("copied", ("name", "n"), [("c", 3), ("a", 4)])
    with store.reading() as sql:
        assert sql.rows("SELECT name FROM copied") == []
