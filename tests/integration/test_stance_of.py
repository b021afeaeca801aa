"""The one-pair question, stance_of, answers what stances_of answers for that declaration, through one
index lookup keyed on the pair."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from api.bootstrap import Runtime
from domain.values import Confidence
from projections.catalogue import Catalogue, get_declaration
from projections.stance_history import StanceHistory, stance_of, stance_or_none, stances_of
from projections.store import SQLiteViewStore

NOW = "9999-12-31T00:00:00.000000+00:00"


def test_one_pair_equals_the_partys_stances_filtered_to_that_declaration(seeded: Runtime) -> None:
    with seeded.store.reading() as sql:
        pairs = {(r["party"], r["declaration_id"]) for r in sql.rows("SELECT party, declaration_id FROM stance_spans")}
        recorded = sorted({r["recorded_from"] for r in sql.rows("SELECT recorded_from FROM stance_spans")})
        days = sorted({r["valid_from"] for r in sql.rows("SELECT valid_from FROM stance_spans")})
        assert pairs and recorded and days
        parties = sorted({p for p, _ in pairs})
        declarations = [*sorted({d for _, d in pairs}), "no-such-declaration"]
        moments = [recorded[0], recorded[len(recorded) // 2], NOW]
        compared = found = 0
        for known_at in moments:
            for at in ["1900-01-01", days[len(days) // 2], days[-1]]:
                for confidence in Confidence:
                    for party in parties:
                        every = {s["declaration_id"]: s for s in stances_of(sql, party, at, known_at, confidence)}
                        for declaration_id in declarations:
                            one = stance_of(sql, party, declaration_id, at, known_at, confidence)
                            asked = (party, declaration_id, at, known_at, confidence)
                            assert one == every.get(declaration_id), asked
                            # The one-statement form (a glance): the stance, or none on a known declaration.
                            known = get_declaration(sql, declaration_id)
                            none = None if known is None else {
                                "declaration_id": declaration_id, "title": known["title"], "stance": "none",
                                "since": None, "event_id": None, "sources": []}
                            assert stance_or_none(sql, *asked) == (one if one is not None else none), asked
                            compared += 1
                            found += one is not None
    assert found > 0 and compared > found  # both answers, some and none, were compared


def test_the_one_statement_form_is_one_lookup_too(seeded: Runtime) -> None:
    from projections.stance_history import STANCE_OR_NONE, both_times

    with seeded.store.reading() as sql:
        params = ("GB", *both_times("2025-02-12", NOW, "medium"), "paris-statement")
        if sql.postgres:
            plan = " ".join(r["QUERY PLAN"] for r in sql.rows("EXPLAIN " + STANCE_OR_NONE, params))
            assert "Seq Scan on stance_spans" not in plan, plan
        else:
            plan = "; ".join(str(r["detail"]) for r in sql.rows("EXPLAIN QUERY PLAN " + STANCE_OR_NONE, params))
            assert "SCAN s" not in plan and "SEARCH s USING INDEX stance_spans_by_" in plan, plan


class Recorder:
    """Stands in for a Sql cursor: remembers each query asked and answers nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        self.asked.append((sql, tuple(params)))
        return None


def test_one_pair_is_one_lookup_keyed_on_the_party_the_declaration_and_the_threshold(tmp_path: Path) -> None:
    store = SQLiteViewStore(tmp_path / "views.sqlite3")
    with store.transaction() as sql:
        for model in (Catalogue(), StanceHistory()):
            model.create(sql)
    store.close()
    recorder = Recorder()
    assert stance_of(recorder, "GB", "paris-statement", "2025-02-12", NOW, "medium") is None  # type: ignore[arg-type]
    conn = sqlite3.connect(tmp_path / "views.sqlite3")
    asked_sql, params = recorder.asked[0]
    plan = "; ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + asked_sql, params))
    conn.close()
    # Both span indexes lead with the pair and the threshold; either makes it one short range.
    assert any(f"SEARCH s USING INDEX {index}" in plan and all(f"{c}=?" in plan for c in keyed)
               for index, keyed in (("stance_spans_by_party", ("party", "min_confidence", "declaration_id")),
                                    ("stance_spans_by_declaration", ("declaration_id", "min_confidence", "party")))
               ), plan
