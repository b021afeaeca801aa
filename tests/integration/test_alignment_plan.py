"""The alignment queries read each party's range of the party index once: SQLite, which has no statistics until
someone runs ANALYZE, once read the other party's range again for every roll call of the first when the dates
bounded both sides of a join (3 s for a pair over 1946-2019 instead of 15 ms). The figures per period read both
ranges side by side; the figures of one selection (behind `/v1/agreement/rollcalls`) and the closest parties
look the other votes up by roll call."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.releases import LoadRelease, ReleaseFacts, RollCallFacts
from domain.values import Period, Source, Vote
from projections.alignment import Scope, agreement, agreement_overall, closest, joint_rollcalls
from projections.store import SQLiteViewStore
from projections.votes import Votes
from tests.api.support import running

KNOWN_AT = "2026-01-01T00:00:00.000000+00:00"
SOURCE = [Source("a test release", "https://example.org/release")]


class Recorder:
    """Stands in for a Sql cursor: remembers each query asked and answers nothing."""

    postgres = False

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[Any, ...]]] = []
        self.prepared: list[bool] = []

    def rows(self, sql: str, params: Any = (), *, planned_each_time: bool = False) -> list[dict[str, Any]]:
        self.asked.append((sql, tuple(params)))
        self.prepared.append(not planned_each_time)
        return []

    def one(self, sql: str, params: Any = ()) -> None:
        return None


@pytest.fixture
def empty_views(tmp_path: Path) -> sqlite3.Connection:
    store = SQLiteViewStore(tmp_path / "views.sqlite3")
    with store.transaction() as sql:
        Votes().create(sql)
        Votes().settle(sql)
    store.close()
    return sqlite3.connect(tmp_path / "views.sqlite3")


def plan(conn: sqlite3.Connection, asked: tuple[str, tuple[Any, ...]]) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + asked[0], asked[1])]


@pytest.mark.parametrize("line", [[("RU", None), ("SUHH", "1991-12-24")], [("US", None)]])
@pytest.mark.parametrize("by", list(Period))
def test_a_pair_between_two_dates_reads_each_partys_range_once(
        empty_views: sqlite3.Connection, line: list[tuple[str, str | None]], by: Period) -> None:
    recorder = Recorder()
    scope = Scope(KNOWN_AT, date_from="1946-01-01", date_to="2019-12-31")
    agreement(recorder, line, [("IL", None)], scope, by)  # type: ignore[arg-type]
    steps = plan(empty_views, recorder.asked[0])
    assert sum("votes_by_party (party=? AND date>? AND date<?)" in step for step in steps) == len(line) + 1, steps
    assert not any("SCAN v" in step for step in steps), steps


@pytest.mark.parametrize("line", [[("RU", None), ("SUHH", "1991-12-24")], [("US", None)]])
def test_the_figures_of_one_selection_look_the_other_vote_up_by_roll_call(
        empty_views: sqlite3.Connection, line: list[tuple[str, str | None]]) -> None:
    recorder = Recorder()
    agreement_overall(recorder, line, [("IL", None)],  # type: ignore[arg-type]
                      Scope(KNOWN_AT, date_from="1946-01-01", date_to="2019-12-31"))
    steps = plan(empty_views, recorder.asked[0])
    assert any("USING PRIMARY KEY (rc_key=? AND party=?)" in step for step in steps), steps
    assert sum("votes_by_party (party=? AND date>? AND date<?)" in step for step in steps) == len(line), steps


def test_the_others_of_one_year_are_looked_up_by_roll_call(empty_views: sqlite3.Connection) -> None:
    recorder = Recorder()
    closest(recorder, [("IN", None)], Scope(KNOWN_AT, date_from="1995-01-01", date_to="1995-12-31"),  # type: ignore[arg-type]
            ["IN"])
    steps = plan(empty_views, recorder.asked[0])
    assert any("USING PRIMARY KEY (rc_key=?)" in step for step in steps), steps


@pytest.mark.postgres
def test_a_release_leaves_postgresql_statistics_of_the_votes(tmp_path: Path) -> None:
    # Without them, PostgreSQL (autovacuum off, or not yet come by) guesses one vote a party and nested-loops.
    rc = RollCallFacts("unga-1", "UNGA", 50, date(1995, 1, 2), "day", None, "T", None, (), None, None, None,
                       {"US": Vote.YES, "FR": Vote.NO})
    with running("postgres", tmp_path) as runtime:
        runtime.app.handle_all([(1, LoadRelease(ReleaseFacts("one", "r1", SOURCE, [rc])))])
        assert runtime.projector.wait_for(runtime.projector.head(), 60)
        with runtime.store.reading() as sql:
            analyzed = sql.rows("SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                                " AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)")
    assert {"votes", "rollcalls"} <= {r["relname"] for r in analyzed}


def test_every_alignment_query_is_planned_for_its_own_parties_and_dates() -> None:
    # A PostgreSQL plan prepared for any party and dates (psycopg prepares a statement from its sixth run)
    # estimates a few rows a party and nested-loops the pair: 52 ms instead of 11 over 1946-2019.
    recorder = Recorder()
    scope = Scope(KNOWN_AT, date_from="1946-01-01", date_to="2019-12-31", issue="hr")
    agreement(recorder, [("US", None)], [("IL", None)], scope, Period.SESSION)  # type: ignore[arg-type]
    closest(recorder, [("IN", None)], scope, ["IN"])  # type: ignore[arg-type]
    joint_rollcalls(recorder, [("US", None)], [("IL", None)], scope)  # type: ignore[arg-type]
    assert len(recorder.asked) == 3 and not any(recorder.prepared)
