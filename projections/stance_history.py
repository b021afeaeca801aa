"""Stance history as bitemporal spans: who stood where on which declaration, in both times.

For each (party, declaration) the live acts, in valid-time order (occurred_on, position), cut
valid time into spans: [occurred_on of act i, occurred_on of act i+1). Each span also carries the
stretch of recording time during which the record said so: [recorded_from, recorded_to).
When an act or a retraction for the pair is recorded at time T, the pair's open spans are closed
at T and the new spans open at T. A question at (at, known_at) is then one indexed lookup:
  valid_from <= at < valid_to  and  recorded_from <= known_at < recorded_to.
Nothing is ever deleted that was once visible, so every past state of the record stays answerable.
"""

from __future__ import annotations

import json
from functools import singledispatchmethod
from typing import Any

from domain.declaration import Declaration
from projections.readmodel import Applied, ReadModel, as_json
from projections.store import Sql

STANCE_KINDS = ("signed", "declined", "withdrawn")


class StanceHistory(ReadModel):
    name = "stance_history"
    tables = ("stance_acts", "stance_spans")
    ddl = (
        # The input state: each formal act and when (if ever) it was retracted.
        """CREATE TABLE IF NOT EXISTS stance_acts (
            event_id TEXT PRIMARY KEY,
            position BIGINT NOT NULL,
            declaration_id TEXT NOT NULL,
            party TEXT NOT NULL,
            kind TEXT NOT NULL,
            occurred_on TEXT NOT NULL,
            precision TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            retracted_at TEXT,
            confidence TEXT NOT NULL,
            sources TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS stance_acts_by_pair ON stance_acts (party, declaration_id, occurred_on, position)",
        """CREATE TABLE IF NOT EXISTS stance_spans (
            party TEXT NOT NULL,
            declaration_id TEXT NOT NULL,
            stance TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            recorded_from TEXT NOT NULL,
            recorded_to TEXT,
            event_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            precision TEXT NOT NULL,
            confidence TEXT NOT NULL,
            sources TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS stance_spans_by_party ON stance_spans (party, declaration_id, valid_from)",
        "CREATE INDEX IF NOT EXISTS stance_spans_by_declaration ON stance_spans (declaration_id, party, valid_from)",
    )

    @singledispatchmethod
    def apply(self, event: Any, at: Applied) -> None:
        """Only formal acts and their retractions move stances; statements never do."""

    @apply.register
    def _(self, event: Declaration.ActRecorded, at: Applied) -> None:
        at.sql.execute(
            "INSERT INTO stance_acts (event_id, position, declaration_id, party, kind, occurred_on, precision,"
            " recorded_at, retracted_at, confidence, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            (str(event.event_id), at.position, event.declaration_id, event.party, str(event.kind),
             event.occurred_on.isoformat(), event.precision, at.recorded_at, event.confidence,
             as_json(event.sources)),
        )
        self._respan(at, event.party, event.declaration_id)

    @apply.register
    def _(self, event: Declaration.Retracted, at: Applied) -> None:
        at.sql.execute("UPDATE stance_acts SET retracted_at = ? WHERE event_id = ?",
                       (at.recorded_at, str(event.target_event_id)))
        self._respan(at, event.party, event.declaration_id)

    def _respan(self, at: Applied, party: str, declaration_id: str) -> None:
        live = at.sql.rows(
            "SELECT event_id, position, kind, occurred_on, precision, confidence, sources FROM stance_acts"
            " WHERE party = ? AND declaration_id = ? AND retracted_at IS NULL ORDER BY occurred_on, position",
            (party, declaration_id),
        )
        pair = (party, declaration_id)
        # Spans opened at this very instant were never visible to anyone; replace rather than close them.
        at.sql.execute("DELETE FROM stance_spans WHERE party = ? AND declaration_id = ? AND recorded_to IS NULL"
                       " AND recorded_from = ?", (*pair, at.recorded_at))
        at.sql.execute("UPDATE stance_spans SET recorded_to = ? WHERE party = ? AND declaration_id = ?"
                       " AND recorded_to IS NULL", (at.recorded_at, *pair))
        spans = []
        for i, act in enumerate(live):
            valid_to = live[i + 1]["occurred_on"] if i + 1 < len(live) else None
            if valid_to == act["occurred_on"]:
                continue  # a later act on the same day decides that day
            spans.append((party, declaration_id, act["kind"], act["occurred_on"], valid_to, at.recorded_at,
                          act["event_id"], act["position"], act["precision"], act["confidence"], act["sources"]))
        at.sql.executemany(
            "INSERT INTO stance_spans (party, declaration_id, stance, valid_from, valid_to, recorded_from,"
            " recorded_to, event_id, position, precision, confidence, sources)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            spans,
        )


_BOTH_TIMES = (
    " AND s.valid_from <= ? AND (s.valid_to IS NULL OR s.valid_to > ?)"
    " AND s.recorded_from <= ? AND (s.recorded_to IS NULL OR s.recorded_to > ?)"
)


def _span(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "sources": json.loads(row["sources"])}


def stances_of(sql: Sql, party: str, at: str, known_at: str) -> list[dict[str, Any]]:
    """The party's stance on every declaration where it has one, at `at` as recorded by `known_at`."""
    rows = sql.rows(
        "SELECT s.declaration_id, d.title, s.stance, s.valid_from AS since, s.precision, s.confidence,"
        " s.event_id, s.position, s.sources FROM stance_spans s LEFT JOIN declarations d ON d.id = s.declaration_id"
        " WHERE s.party = ?" + _BOTH_TIMES + " ORDER BY s.declaration_id",
        (party, at, at, known_at, known_at),
    )
    return [_span(r) for r in rows]


def signatories(sql: Sql, declaration_id: str, at: str, known_at: str) -> list[dict[str, Any]]:
    """Every party with a stance on the declaration, at `at` as recorded by `known_at`."""
    rows = sql.rows(
        "SELECT s.party, s.stance, s.valid_from AS since, s.precision, s.confidence, s.event_id, s.position,"
        " s.sources FROM stance_spans s WHERE s.declaration_id = ?" + _BOTH_TIMES + " ORDER BY s.valid_from, s.party",
        (declaration_id, at, at, known_at, known_at),
    )
    return [_span(r) for r in rows]


def stance_counts(sql: Sql, at: str, known_at: str) -> dict[str, dict[str, int]]:
    """Per declaration, how many parties had each stance."""
    rows = sql.rows(
        "SELECT s.declaration_id, s.stance, COUNT(*) AS n FROM stance_spans s WHERE 1 = 1" + _BOTH_TIMES
        + " GROUP BY s.declaration_id, s.stance",
        (at, at, known_at, known_at),
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["declaration_id"], {k: 0 for k in STANCE_KINDS})[row["stance"]] = int(row["n"])
    return counts
