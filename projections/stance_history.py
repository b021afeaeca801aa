"""Stance history as bitemporal spans: who stood where on which declaration, in both times.

For each (party, declaration) the live acts, in valid-time order (effective_on, position), cut
valid time into spans: [effective_on of act i, effective_on of act i+1). An act's effective_on is
the date it counts from (domain.values.effective_on: its occurred_on, or the first day of the month
or year it is known to, never before the declaration's publication) -- the same date the stance
rules use. Each span also carries the stretch of recording time during which the record said so:
[recorded_from, recorded_to).

Spans are kept once per confidence threshold (min_confidence low, medium, high), each computed over
the acts at or above it, so a reader who trusts only confirmed acts still asks one indexed lookup.

When an act or a retraction for the pair is recorded at time T, the pair's spans are computed again from
its live acts and compared with its open spans: an open span that is no longer wanted, or wanted with other
content, is closed at T; a wanted span not yet open opens at T; the rest stay open as they were. So an act
appended after a pair's last closes one span and opens two per threshold, whatever the pair's history, and
the table grows with the acts rather than with the square of each pair's acts. (Closing and reopening every
span of the pair gave the same answers, with rows quadratic in a pair's acts: the rebuild slowed with size.)
A question at (at, known_at, min_confidence) is then one lookup:
  min_confidence = ?  and  valid_from <= at < valid_to  and  recorded_from <= known_at < recorded_to.
Nothing is ever deleted that was once visible, so every past state of the record stays answerable.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from typing import Any

import orjson

from domain.declaration import Declaration
from domain.values import CONFIDENCE_RANK, ActKind, Confidence, effective_on, is_approximate
from projections.readmodel import Item, Page, ReadModel, as_json, chunks, handles
from projections.store import Sql

THRESHOLDS = tuple(str(c) for c in (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH))


THRESHOLD_RANKS = tuple((threshold, CONFIDENCE_RANK[Confidence(threshold)]) for threshold in THRESHOLDS)
ACT_COLUMNS = ("event_id", "position", "declaration_id", "party", "kind", "occurred_on", "effective_on", "precision",
               "recorded_at", "retracted_at", "confidence", "sources")
SPAN_COLUMNS = ("party", "declaration_id", "min_confidence", "stance", "valid_from", "valid_to", "recorded_from",
                "recorded_to", "event_id", "position", "precision", "confidence", "sources")
RECORDED_FROM, RECORDED_TO = 6, 7  # a span row's columns that opening and closing set
DELETED = object()  # marks a span opened and closed at the same instant: never visible, never written
STORED = object()  # the recorded_from of an open span that an earlier page wrote: closing it is SQL's job


class _Act:
    """A live formal act of a pair, as the spans need it."""

    __slots__ = ("confidence", "effective_on", "event_id", "kind", "position", "precision", "rank", "retracted",
                 "row", "sources")

    def __init__(self, event_id: str, position: int, kind: str, effective_on: str, precision: str,
                 confidence: str, sources: str, row: list[Any] | None = None) -> None:
        self.event_id, self.position, self.kind, self.effective_on = event_id, position, kind, effective_on
        self.precision, self.confidence, self.sources = precision, confidence, sources
        self.rank = CONFIDENCE_RANK[Confidence(confidence)]
        self.retracted = False
        self.row = row  # the stance_acts row this page inserts, if it does

    def order(self) -> tuple[str, int]:
        """Valid-time order."""
        return (self.effective_on, self.position)


SpanKey = tuple[str, str]  # (min_confidence, valid_from): unique among a pair's open spans


class _Pair:
    """One (party, declaration) through a page: its acts, and its open spans."""

    __slots__ = ("acts", "declaration_id", "open", "party")

    def __init__(self, party: str, declaration_id: str) -> None:
        self.party, self.declaration_id = party, declaration_id
        self.acts: list[_Act] = []
        self.open: dict[SpanKey, list[Any]] = {}

    def wanted(self) -> dict[SpanKey, list[Any]]:
        """The spans the live acts make, per threshold: each act's runs until the next act that counts, and
        a later act counting from the same day decides that day. Rows as written, not yet opened."""
        live = [act for act in self.acts if not act.retracted]
        spans: dict[SpanKey, list[Any]] = {}
        for threshold, rank in THRESHOLD_RANKS:
            counting = [act for act in live if act.rank >= rank]
            for i, act in enumerate(counting):
                valid_to = counting[i + 1].effective_on if i + 1 < len(counting) else None
                if valid_to == act.effective_on:
                    continue
                spans[(threshold, act.effective_on)] = [
                    self.party, self.declaration_id, threshold, act.kind, act.effective_on, valid_to, None, None,
                    act.event_id, act.position, act.precision, act.confidence, act.sources]
        return spans


def same_span(a: list[Any], b: list[Any]) -> bool:
    """Whether two span rows of one pair and key say the same: stance, end in valid time, and act."""
    return a[3] == b[3] and a[5] == b[5] and a[8:] == b[8:]


class _Page(Page):
    """What one page does to the tables, replayed in memory in log order, then written table by table."""

    def __init__(self, model: ReadModel) -> None:
        super().__init__(model)
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.by_event_id: dict[str, _Act] = {}
        self.declarations: list[tuple[str, str]] = []
        self.acts: list[list[Any]] = []
        self.retractions: list[tuple[str, str]] = []  # of acts this page did not insert
        self.spans: list[list[Any]] = []
        self.closings: list[tuple[str, str, str, str, str]] = []  # of spans earlier pages opened

    def load(self, sql: Sql, pairs: list[tuple[str, str]]) -> None:
        """The live acts of every pair the page touches, as they stood before it: one query per 250 pairs,
        each pair one range of stance_acts_by_pair (a join on a VALUES list, which both engines drive from
        the list; an IN list of row values made SQLite scan the table). Their open spans are exactly the
        ones those acts want, so they are computed, not read."""
        for pair in pairs:
            self.pairs[pair] = _Pair(*pair)
        for chunk in chunks(pairs, 250):
            rows = sql.rows(
                "SELECT a.party, a.declaration_id, a.event_id, a.position, a.kind, a.effective_on, a.precision,"
                " a.confidence, a.sources FROM (VALUES " + ", ".join("(?, ?)" for _ in chunk) + ") AS v"
                " JOIN stance_acts a ON a.party = v.column1 AND a.declaration_id = v.column2"
                " WHERE a.retracted_at IS NULL",
                [value for pair in chunk for value in pair],
                planned_each_time=True,
            )
            for row in rows:
                act = _Act(row["event_id"], int(row["position"]), row["kind"], row["effective_on"], row["precision"],
                           row["confidence"], row["sources"])
                self.by_event_id[act.event_id] = act
                self.pairs[(row["party"], row["declaration_id"])].acts.append(act)
        for state in self.pairs.values():
            if state.acts:
                state.acts.sort(key=_Act.order)
                state.open = state.wanted()
                for stored in state.open.values():
                    stored[RECORDED_FROM] = STORED

    def respan(self, pair: _Pair, recorded_at: str) -> None:
        """What an act or retraction recorded at `recorded_at` does to the pair's spans: each open span its
        live acts no longer want as it is ends then (or, opened at that very instant, is dropped), each
        wanted span not open opens then, and the others stay open."""
        wanted = pair.wanted()
        for key, span in list(pair.open.items()):
            new = wanted.get(key)
            if new is not None and same_span(span, new):
                del wanted[key]
                continue
            del pair.open[key]
            if span[RECORDED_FROM] is STORED:
                self.closings.append((pair.party, pair.declaration_id, key[0], key[1], recorded_at))
            else:
                span[RECORDED_TO] = DELETED if span[RECORDED_FROM] == recorded_at else recorded_at
        for key, span in wanted.items():
            span[RECORDED_FROM] = recorded_at
            pair.open[key] = span
            self.spans.append(span)

    def write(self, sql: Sql) -> None:
        sql.insert("stance_declarations", ("declaration_id", "published_on"), self.declarations)
        # Before the INSERT: these are for acts of earlier pages, and must not reach one this page inserts.
        sql.executemany("UPDATE stance_acts SET retracted_at = ? WHERE event_id = ?", self.retractions)
        sql.insert("stance_acts", ACT_COLUMNS, self.acts)
        # The open spans of earlier pages that this page ends, each found by its key on stance_spans_by_party;
        # one opened at that very instant was never visible to anyone, and goes. Before the INSERT, whose
        # spans may share their keys.
        sql.executemany(CLOSE_STORED_SPAN[0], self.closings)
        sql.executemany(CLOSE_STORED_SPAN[1], [(t, p, d, m, v) for p, d, m, v, t in self.closings])
        sql.insert("stance_spans", SPAN_COLUMNS, [span for span in self.spans if span[RECORDED_TO] is not DELETED])


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

    # The page's acts are replayed per (party, declaration) in memory, as one statement per event would have
    # left the tables, then each table is written once (_Page). Statements never move stances.
    page_type = _Page
    reads = ("declarations",)  # answers carry each declaration's title, from the catalogue
    publication_dates = "SELECT declaration_id, published_on FROM stance_declarations WHERE declaration_id IN ({})"

    def prepare(self, sql: Sql, items: Sequence[Item], page: Page) -> None:
        """The publication dates, and the live acts of every pair the page's acts and retractions touch."""
        super().prepare(sql, items, page)
        touched: dict[tuple[str, str], None] = {}  # ordered, unlike a set
        for item in items:
            event = item.event
            if isinstance(event, Declaration.ActRecorded | Declaration.Retracted):
                touched[(event.party, event.declaration_id)] = None
        assert isinstance(page, _Page)
        page.load(sql, list(touched))

    @handles(Declaration.Published)
    def _published_declaration(self, item: Item, page: _Page) -> None:
        event = item.event
        page.published[event.slug] = event.published_on
        page.declarations.append((event.slug, event.published_on.isoformat()))

    @handles(Declaration.ActRecorded)
    def _act(self, item: Item, page: _Page) -> None:
        event, position, recorded_at = item
        counts_from = effective_on(event.occurred_on, event.precision, page.published.get(event.declaration_id))
        row = [str(event.event_id), position, event.declaration_id, event.party, str(event.kind),
               event.occurred_on.isoformat(), counts_from.isoformat(), event.precision, recorded_at, None,
               event.confidence, as_json(event.sources)]
        page.acts.append(row)
        act = _Act(row[0], position, row[4], row[6], event.precision, event.confidence, row[11], row)
        page.by_event_id[act.event_id] = act
        pair = page.pairs[(event.party, event.declaration_id)]
        insort(pair.acts, act, key=_Act.order)
        page.respan(pair, recorded_at)

    @handles(Declaration.Retracted)
    def _retracted(self, item: Item, page: _Page) -> None:
        event, _, recorded_at = item
        target = str(event.target_event_id)
        act = page.by_event_id.get(target)
        if act is not None:
            act.retracted = True
        if act is not None and act.row is not None:
            act.row[9] = recorded_at  # inserted by this page: retracted_at goes in with it
        else:
            page.retractions.append((recorded_at, target))
        page.respan(page.pairs[(event.party, event.declaration_id)], recorded_at)


_OPEN_SPAN = " WHERE party = ? AND declaration_id = ? AND min_confidence = ? AND valid_from = ? AND recorded_to IS NULL"
# Ending one open span at T: parameters (party, declaration, threshold, valid_from, T), then (T, party, ...).
CLOSE_STORED_SPAN = ("DELETE FROM stance_spans" + _OPEN_SPAN + " AND recorded_from = ?",
                     "UPDATE stance_spans SET recorded_to = ?" + _OPEN_SPAN)


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
    # orjson: a party's every stance decodes some 25 rows' sources a request (a third of its time with json.loads).
    return {**row, "sources": orjson.loads(row["sources"]), "approximate": is_approximate(row["precision"])}


# A party's stances, with each declaration's title; the benchmarks' floor runs these very statements.
PARTY_SPANS = (
    "SELECT s.declaration_id, d.title, s.stance, s.valid_from AS since, s.precision, s.confidence,"
    " s.event_id, s.position, s.sources FROM stance_spans s LEFT JOIN declarations d ON d.id = s.declaration_id"
)
EVERY_DECLARATION = PARTY_SPANS + " WHERE s.party = ?" + BOTH_TIMES + " ORDER BY s.declaration_id"
ONE_PAIR = (PARTY_SPANS + " WHERE s.party = ? AND s.declaration_id = ?" + BOTH_TIMES
            + " ORDER BY s.valid_from DESC LIMIT 1")


def stances_of(
    sql: Sql, party: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> list[dict[str, Any]]:
    """The party's stance on every declaration where it has one, at `at` as recorded by `known_at`,
    counting only acts at or above `min_confidence`."""
    rows = sql.rows(EVERY_DECLARATION, (party, *both_times(at, known_at, min_confidence)))
    return [span(r) for r in rows]


def stance_of(
    sql: Sql, party: str, declaration_id: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> dict[str, Any] | None:
    """The party's stance on one declaration, at `at` as recorded by `known_at`, counting only acts at or
    above `min_confidence`; None when it has none. One lookup on a span index keyed on the pair, read
    backwards from `at`: the spans visible at one known_at never overlap in valid time, so the first that
    matches is the answer, and a pair's older spans are not read (docs/benchmarks.md, round 2)."""
    row = sql.one(ONE_PAIR, (party, declaration_id, *both_times(at, known_at, min_confidence)))
    return None if row is None else span(row)


# The one-pair question in one statement: the declaration's row, with the pair's span at both times when it has one
# (a LEFT JOIN gives a single row of NULLs when none matches, so ordering by valid_from never meets both).
STANCE_OR_NONE = (
    "SELECT d.id AS declaration_id, d.title, s.stance, s.valid_from AS since, s.precision, s.confidence,"
    " s.event_id, s.position, s.sources FROM declarations d LEFT JOIN stance_spans s"
    " ON s.declaration_id = d.id AND s.party = ?" + BOTH_TIMES + " WHERE d.id = ? ORDER BY s.valid_from DESC LIMIT 1"
)


def stance_or_none(
    sql: Sql, party: str, declaration_id: str, at: str, known_at: str, min_confidence: str = Confidence.LOW
) -> dict[str, Any] | None:
    """`stance_of`, or the stance `none` when the party has none on a declaration the store knows; None when it
    does not know the declaration. One statement, so it needs no snapshot of its own (`ViewStore.glance`)."""
    row = sql.one(STANCE_OR_NONE, (party, *both_times(at, known_at, min_confidence), declaration_id))
    if row is None:
        return None
    if row["stance"] is None:
        return {"declaration_id": declaration_id, "title": row["title"], "stance": "none", "since": None,
                "event_id": None, "sources": []}
    return span(row)


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
        counts.setdefault(row["declaration_id"], {str(k): 0 for k in ActKind})[row["stance"]] = int(row["n"])
    return counts
