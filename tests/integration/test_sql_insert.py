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


def test_a_query_planned_each_time_is_never_a_prepared_statement(fresh_store: Callable[[], ViewStore]) -> None:
    """The projector's look-up of a page's pairs is planned afresh each time on PostgreSQL: a plan cached while a
    rebuild's tables were nearly empty stayed a scan as they grew (the 100k rebuild ran at half its rate)."""
    store = fresh_store()
    with store.transaction() as sql:
        sql.execute("CREATE TABLE copied (name TEXT PRIMARY KEY, n BIGINT NOT NULL)")
        sql.insert("copied", ("name", "n"), [(f"row {n}", n) for n in range(20)])
    with store.transaction() as sql:
        for _ in range(8):  # beyond psycopg's prepare threshold (5)
            fresh = sql.rows("SELECT name FROM copied WHERE n < ? ORDER BY n", (3,), planned_each_time=True)
            cached = sql.rows("SELECT name FROM copied WHERE n < ? ORDER BY name", (3,))
        assert fresh == cached == [{"name": "row 0"}, {"name": "row 1"}, {"name": "row 2"}]
        if store.postgres:
            prepared = [r["statement"] for r in sql.rows("SELECT statement FROM pg_prepared_statements")]
            assert any("ORDER BY name" in statement for statement in prepared), prepared
            assert not any("ORDER BY n\n" in s or s.endswith("ORDER BY n") for s in prepared), prepared
