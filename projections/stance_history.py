"""Stance history as bitemporal spans: who stood where on which declaration, in both times.

For each (party, declaration) the live acts, in valid-time order (effective_on, position), cut
valid time into spans: [effective_on of act i, effective_on of act i+1). An act's effective_on is
the date it counts from (domain.values.effective_on: its occurred_on, or the first day of the month
or year it is known to, never before the declaration's publication) -- the same date the stance
rules use. Each span also carries the stretch of recording time during which the record said so:
[recorded_from, recorded_to).

Spans are kept once per confidence threshold (min_confidence low, medium, high), each computed over
the acts at or above it, so a reader who trusts only confirmed acts still asks one indexed lookup.

When an act or a retraction for the pair is recorded at time T, the pair's open spans are closed
at T and the new spans open at T. A question at (at, known_at, min_confidence) is then one lookup:
  min_confidence = ?  and  valid_from <= at < valid_to  and  recorded_from <= known_at < recorded_to.
Nothing is ever deleted that was once visible, so every past state of the record stays answerable.
"""

from __future__ import annotations

import json
from datetime import date
from functools import singledispatchmethod
from typing import Any

from domain.declaration import Declaration
from domain.values import Confidence, at_least, effective_on, is_approximate
from projections.readmodel import Applied, ReadModel, as_json
from projections.store import Sql

STANCE_KINDS = ("signed", "declined", "withdrawn")
THRESHOLDS = tuple(str(c) for c in (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH))


class StanceHistory(ReadModel):
    name = "stance_history"
    tables = ("stance_declarations", "stance_acts", "stance_spans")
    ddl = (
        # Publication dates: an approximate act never counts from before its declaration's.
        """CREATE TABLE IF NOT EXISTS stance_declarations (
            declaration_id TEXT PRIMARY KEY,
            published_on TEXT NOT NULL
        )""",
        # The input state: each formal act and when (if ever) it was retracted.
        """CREATE TABLE IF NOT EXISTS stance_acts (
            event_id TEXT PRIMARY KEY,
            position BIGINT NOT NULL,
            declaration_id TEXT NOT NULL,
            party TEXT NOT NULL,
            kind TEXT NOT NULL,
            occurred_on TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            precision TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            retracted_at TEXT,
            confidence TEXT NOT NULL,
            sources TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS stance_acts_by_pair ON stance_acts (party, declaration_id, effective_on, position)",
        """CREATE TABLE IF NOT EXISTS stance_spans (
            party TEXT NOT NULL,
            declaration_id TEXT NOT NULL,
            min_confidence TEXT NOT NULL,
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
        "CREATE INDEX IF NOT EXISTS stance_spans_by_party"
        " ON stance_spans (party, min_confidence, declaration_id, valid_from)",
        "CREATE INDEX IF NOT EXISTS stance_spans_by_declaration"
        " ON stance_spans (declaration_id, min_confidence, party, valid_from)",
        # Replays ask which spans began between two frames, across every pair. valid_from leads: an index
        # led by min_confidence looked cheaper to SQLite's planner (without statistics) than the party and
        # declaration indexes, and turned every stance lookup into a scan of all spans begun by `at`.
        "DROP INDEX IF EXISTS stance_spans_by_start",
        "CREATE INDEX IF NOT EXISTS stance_spans_by_day ON stance_spans (valid_from, min_confidence)",
    )

    @singledispatchmethod
    def apply(self, event: Any, at: Applied) -> None:
        """Only formal acts and their retractions move stances; statements never do."""

    @apply.register
    def _(self, event: Declaration.Published, at: Applied) -> None:
        at.sql.execute("INSERT INTO stance_declarations (declaration_id, published_on) VALUES (?, ?)",
                       (event.slug, event.published_on.isoformat()))

    @apply.register
    def _(self, event: Declaration.ActRecorded, at: Applied) -> None:
        published = at.sql.value("SELECT published_on FROM stance_declarations WHERE declaration_id = ?",
                                 (event.declaration_id,))
        counts_from = effective_on(event.occurred_on, event.precision,
                                   date.fromisoformat(published) if published else None)
        at.sql.execute(
            "INSERT INTO stance_acts (event_id, position, declaration_id, party, kind, occurred_on, effective_on,"
            " precision, recorded_at, retracted_at, confidence, sources)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            (str(event.event_id), at.position, event.declaration_id, event.party, str(event.kind),
             event.occurred_on.isoformat(), counts_from.isoformat(), event.precision, at.recorded_at,
             event.confidence, as_json(event.sources)),
        )
        self._respan(at, event.party, event.declaration_id)

    @apply.register
    def _(self, event: Declaration.Retracted, at: Applied) -> None:
        at.sql.execute("UPDATE stance_acts SET retracted_at = ? WHERE event_id = ?",
                       (at.recorded_at, str(event.target_event_id)))
        self._respan(at, event.party, event.declaration_id)

    def _respan(self, at: Applied, party: str, declaration_id: str) -> None:
        live = at.sql.rows(
            "SELECT event_id, position, kind, effective_on, precision, confidence, sources FROM stance_acts"
            " WHERE party = ? AND declaration_id = ? AND retracted_at IS NULL ORDER BY effective_on, position",
            (party, declaration_id),
        )
        pair = (party, declaration_id)
        # Spans opened at this very instant were never visible to anyone; replace rather than close them.
        at.sql.execute("DELETE FROM stance_spans WHERE party = ? AND declaration_id = ? AND recorded_to IS NULL"
                       " AND recorded_from = ?", (*pair, at.recorded_at))
        at.sql.execute("UPDATE stance_spans SET recorded_to = ? WHERE party = ? AND declaration_id = ?"
                       " AND recorded_to IS NULL", (at.recorded_at, *pair))
        spans = []
        for threshold in THRESHOLDS:
            counting = [act for act in live if at_least(act["confidence"], threshold)]
            for i, act in enumerate(counting):
                valid_to = counting[i + 1]["effective_on"] if i + 1 < len(counting) else None
                if valid_to == act["effective_on"]:
                    continue  # a later act counting from the same day decides that day
                spans.append((party, declaration_id, threshold, act["kind"], act["effective_on"], valid_to,
                              at.recorded_at, act["event_id"], act["position"], act["precision"],
                              act["confidence"], act["sources"]))
        at.sql.executemany(
            "INSERT INTO stance_spans (party, declaration_id, min_confidence, stance, valid_from, valid_to,"
            " recorded_from, recorded_to, event_id, position, precision, confidence, sources)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            spans,
        )


# The parameters that follow it: min_confidence, at, at, known_at, known_at.
BOTH_TIMES = (
    " AND s.min_confidence = ?"
    " AND s.valid_from <= ? AND (s.valid_to IS NULL OR s.valid_to > ?)"
    " AND s.recorded_from <= ? AND (s.recorded_to IS NULL OR s.recorded_to > ?)"
)


def both_times(at: str, known_at: str, min_confidence: str) -> tuple[str, str, str, str, str]:
    """The parameters of BOTH_TIMES."""
    return (str(Confidence(min_confidence)), at, at, known_at, known_at)


def span(row: dict[str, Any]) -> dict[str, Any]:
    """A span row as answers carry it: sources decoded, and whether the act is known only roughly."""
    return {**row, "sources": json.loads(row["sources"]), "approximate": is_approximate(row["precision"])}


def stances_of(
    sql: Sql, party: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> list[dict[str, Any]]:
    """The party's stance on every declaration where it has one, at `at` as recorded by `known_at`,
    counting only acts at or above `min_confidence`."""
    rows = sql.rows(
        "SELECT s.declaration_id, d.title, s.stance, s.valid_from AS since, s.precision, s.confidence,"
        " s.event_id, s.position, s.sources FROM stance_spans s LEFT JOIN declarations d ON d.id = s.declaration_id"
        " WHERE s.party = ?" + BOTH_TIMES + " ORDER BY s.declaration_id",
        (party, *both_times(at, known_at, min_confidence)),
    )
    return [span(r) for r in rows]


def stance_of(
    sql: Sql, party: str, declaration_id: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> dict[str, Any] | None:
    """The party's stance on one declaration, at `at` as recorded by `known_at`, counting only acts at or
    above `min_confidence`; None when it has none. One lookup on stance_spans_by_party."""
    row = sql.one(
        "SELECT s.declaration_id, d.title, s.stance, s.valid_from AS since, s.precision, s.confidence,"
        " s.event_id, s.position, s.sources FROM stance_spans s LEFT JOIN declarations d ON d.id = s.declaration_id"
        " WHERE s.party = ? AND s.declaration_id = ?" + BOTH_TIMES,
        (party, declaration_id, *both_times(at, known_at, min_confidence)),
    )
    return None if row is None else span(row)


def signatories(
    sql: Sql, declaration_id: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> list[dict[str, Any]]:
    """Every party with a stance on the declaration, at `at` as recorded by `known_at`,
    counting only acts at or above `min_confidence`."""
    rows = sql.rows(
        "SELECT s.party, s.stance, s.valid_from AS since, s.precision, s.confidence, s.event_id, s.position,"
        " s.sources FROM stance_spans s WHERE s.declaration_id = ?" + BOTH_TIMES + " ORDER BY s.valid_from, s.party",
        (declaration_id, *both_times(at, known_at, min_confidence)),
    )
    return [span(r) for r in rows]


def stance_counts(
    sql: Sql, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> dict[str, dict[str, int]]:
    """Per declaration, how many parties had each stance."""
    rows = sql.rows(
        "SELECT s.declaration_id, s.stance, COUNT(*) AS n FROM stance_spans s WHERE 1 = 1" + BOTH_TIMES
        + " GROUP BY s.declaration_id, s.stance",
        both_times(at, known_at, min_confidence),
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["declaration_id"], {k: 0 for k in STANCE_KINDS})[row["stance"]] = int(row["n"])
    return counts
