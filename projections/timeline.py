"""Every act in valid-time order — summits hosted, declarations published, formal acts, statements —
each marked when a retraction names it. Serves the timeline and each party's history.

Valid-time order is (effective_on, position): effective_on is the date an act counts from (the first
day of its month or year when it is known only that roughly, never before its declaration's
publication), the same date the stance rules and the stance history use. occurred_on stays as recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from domain.declaration import Declaration
from domain.statement import Statement
from domain.summit import Summit
from domain.values import ACT_KINDS, EventKind, Precision, TimelineKind, effective_on, is_approximate
from projections.catalogue import summits_hosted_by
from projections.readmodel import Item, Page, ReadModel, as_json, handles
from projections.store import Sql
from projections.votes import vote_entries

COLUMNS = (
    "position", "event_id", "kind", "occurred_on", "effective_on", "precision", "recorded_at", "party", "hosts",
    "declaration_id", "summit_id", "title", "speaker", "text", "position_on", "reason", "note",
    "confidence", "sources",
)
RETRACTION_COLUMNS = (
    "retraction_event_id", "retraction_position", "retracted_at", "retraction_reason", "retraction_sources",
)
ALL_COLUMNS = COLUMNS + RETRACTION_COLUMNS


class _Page(Page):
    """The rows a page inserts, and the retractions it makes of rows inserted before it."""

    def __init__(self, model: ReadModel) -> None:
        super().__init__(model)
        self.inserted = self.rows["timeline"]
        self.by_event_id: dict[str, list[Any]] = {}
        self.retractions: list[tuple[Any, ...]] = []

    def write(self, sql: Sql) -> None:
        # The UPDATE goes first: it is for rows of earlier pages, and must not reach a row this page
        # inserts after the retraction (as one statement per event would not have).
        sql.executemany(
            "UPDATE timeline SET retraction_event_id = ?, retraction_position = ?, retracted_at = ?,"
            " retraction_reason = ?, retraction_sources = ? WHERE event_id = ?",
            self.retractions,
        )
        super().write(sql)

    def add(self, item: Item, **values: Any) -> None:
        row = dict.fromkeys(ALL_COLUMNS)  # in column order; values only fill the columns in place
        row["effective_on"] = values["occurred_on"]
        row.update(values, position=item.position, recorded_at=item.recorded_at)
        out = list(row.values())
        if len(out) != len(ALL_COLUMNS):
            raise ValueError(f"not timeline columns: {sorted(row.keys() - set(ALL_COLUMNS))}")
        self.inserted.append(out)
        self.by_event_id[str(row["event_id"])] = out

    def retract(self, target_event_id: str, marks: tuple[Any, ...]) -> None:
        """Marks the target in place when this page inserted it already, else updates its row."""
        row = self.by_event_id.get(target_event_id)
        if row is None:
            self.retractions.append((*marks, target_event_id))
        else:
            row[len(COLUMNS):] = marks


class Timeline(ReadModel):
    name = "timeline"
    tables = ("timeline",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS timeline (
            position BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            occurred_on TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            precision TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            party TEXT,
            hosts TEXT,
            declaration_id TEXT,
            summit_id TEXT,
            title TEXT,
            speaker TEXT,
            text TEXT,
            position_on TEXT,
            reason TEXT,
            note TEXT,
            confidence TEXT NOT NULL,
            sources TEXT NOT NULL,
            retraction_event_id TEXT,
            retraction_position BIGINT,
            retracted_at TEXT,
            retraction_reason TEXT,
            retraction_sources TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS timeline_by_time ON timeline (effective_on, position)",
        "CREATE INDEX IF NOT EXISTS timeline_by_party ON timeline (party, effective_on, position)",
        "CREATE INDEX IF NOT EXISTS timeline_by_declaration ON timeline (declaration_id, effective_on, position)",
        # Knowledge-time differences ask what was recorded, or retracted, between two moments.
        "CREATE INDEX IF NOT EXISTS timeline_by_recording ON timeline (recorded_at)",
        "CREATE INDEX IF NOT EXISTS timeline_by_retraction ON timeline (retracted_at)",
    )

    # The page's rows go in one INSERT, a retraction of a row the page inserted is marked on it in memory, and
    # retractions of earlier rows in one UPDATE (_Page). Bookkeeping events are not acts.
    columns = {"timeline": ALL_COLUMNS}
    page_type = _Page
    # A party's history shows the summits it hosted (the catalogue's), and its votes (the votes model's).
    reads = ("summit_hosts", "rollcalls", "votes", "vote_events")
    publication_dates = (f"SELECT declaration_id, occurred_on AS published_on FROM timeline"
                         f" WHERE kind = '{EventKind.PUBLISHED}' AND declaration_id IN ({{}})")

    @handles(Summit.Hosted)
    def _hosted(self, item: Item, page: _Page) -> None:
        event = item.event
        page.add(item, event_id=str(event.event_id), kind=EventKind.HOSTED, occurred_on=event.starts_on.isoformat(),
                 precision=Precision.DAY, hosts=as_json(event.hosts), summit_id=event.slug, title=event.name,
                 note=event.notes, confidence=event.confidence, sources=as_json(event.sources))

    @handles(Declaration.Published)
    def _published_declaration(self, item: Item, page: _Page) -> None:
        event = item.event
        page.published[event.slug] = event.published_on
        page.add(item, event_id=str(event.event_id), kind=EventKind.PUBLISHED,
                 occurred_on=event.published_on.isoformat(), precision=Precision.DAY, declaration_id=event.slug,
                 summit_id=event.summit_id, title=event.title, note=event.notes, confidence=event.confidence,
                 sources=as_json(event.sources))

    @handles(Declaration.ActRecorded)
    def _act(self, item: Item, page: _Page) -> None:
        event = item.event
        counts_from = effective_on(event.occurred_on, event.precision, page.published.get(event.declaration_id))
        page.add(item, event_id=str(event.event_id), kind=str(event.kind), occurred_on=event.occurred_on.isoformat(),
                 effective_on=counts_from.isoformat(),
                 precision=event.precision, party=event.party, declaration_id=event.declaration_id,
                 reason=event.reason, note=event.note, confidence=event.confidence, sources=as_json(event.sources))

    @handles(Statement.Issued, Statement.Reissued)
    def _statement(self, item: Item, page: _Page) -> None:
        event = item.event
        page.add(item, event_id=str(event.event_id), kind=EventKind.STATEMENT,
                 occurred_on=event.occurred_on.isoformat(),
                 effective_on=effective_on(event.occurred_on, event.precision).isoformat(),
                 precision=event.precision, party=event.party, declaration_id=event.about,
                 speaker=event.speaker, text=event.text, position_on=event.position, note=event.note,
                 confidence=event.confidence, sources=as_json(event.sources))

    @handles(Declaration.Retracted, Statement.Retracted)
    def _retracted(self, item: Item, page: _Page) -> None:
        event = item.event
        page.retract(str(event.target_event_id),
                     (str(event.event_id), item.position, item.recorded_at, event.reason, as_json(event.sources)))


def entry(row: dict[str, Any], known_at: str) -> dict[str, Any]:
    """One timeline row as clients see it at `known_at`: a retraction recorded later does not show."""
    retracted = row["retracted_at"] is not None and row["retracted_at"] <= known_at
    out = {k: row[k] for k in COLUMNS if k in row}
    out["sources"] = json.loads(row["sources"])
    out["hosts"] = json.loads(row["hosts"]) if row.get("hosts") else None
    out["retracted"] = retracted
    out["approximate"] = is_approximate(row["precision"])
    out["retraction"] = (
        {
            "event_id": row["retraction_event_id"],
            "position": row["retraction_position"],
            "recorded_at": row["retracted_at"],
            "reason": row["retraction_reason"],
            "sources": json.loads(row["retraction_sources"]),
        }
        if retracted
        else None
    )
    return out


def query_timeline(
    sql: Sql,
    *,
    known_at: str,
    date_from: str | None = None,
    date_to: str | None = None,
    parties: list[str] | None = None,
    declarations: list[str] | None = None,
    kinds: list[str] | None = None,
    after: tuple[str, int, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Acts in valid-time order, keyset-paged after (effective_on, position, party): each item's `order`. A roll
    call's votes come in it one by one, at the roll call's date and position, by party."""
    acts: list[dict[str, Any]] = []
    act_kinds = [k for k in kinds or () if k != TimelineKind.VOTE]
    if not kinds or act_kinds:
        acts = _acts(sql, known_at=known_at, date_from=date_from, date_to=date_to, parties=parties,
                     declarations=declarations, kinds=act_kinds, after=after, limit=limit)
    votes: list[dict[str, Any]] = []
    if (not kinds or TimelineKind.VOTE in kinds) and not declarations:
        votes = vote_entries(sql, known_at=known_at, parties=parties, date_from=date_from, date_to=date_to,
                             after=after, limit=limit)
    return _with_stances(sql, sorted([*acts, *votes], key=lambda e: e["order"])[:limit], known_at)


StanceChain = dict[str, tuple[str | None, str | None]]  # event id -> (the stance it set, the one before)


def _chain(acts: Iterable[tuple[str, str, str, str, bool]]) -> StanceChain:
    """The stance each formal act set and the one before it, over (event id, party, declaration, kind, retracted)
    in valid-time order: a retracted act sets none, and the act after it does not count it."""
    stance: dict[tuple[str, str], str] = {}
    found: StanceChain = {}
    for event_id, party, declaration_id, kind, retracted in acts:
        if retracted:
            found[event_id] = (None, None)
            continue
        found[event_id] = (kind, stance.get((party, declaration_id)))
        stance[(party, declaration_id)] = kind
    return found


def _with_stances(sql: Sql, items: list[dict[str, Any]], known_at: str) -> list[dict[str, Any]]:
    """Fills the stance and previous stance of the page's formal acts, as a party's history gives them: folded
    over every act of the same party and declaration up to the page's last, not only the page's."""
    for item in items:  # every item has both, as in the answers (null but for formal acts)
        item.setdefault("stance", None)
        item.setdefault("previous", None)
    acts = [i for i in items if i["kind"] in ACT_KINDS]
    if not acts:
        return items
    pairs = {(i["party"], i["declaration_id"]) for i in acts}
    parties, declarations = sorted({p for p, _ in pairs}), sorted({d for _, d in pairs})
    rows = sql.rows(
        f"SELECT event_id, party, declaration_id, kind, retracted_at FROM timeline"
        f" WHERE kind IN ({', '.join('?' for _ in ACT_KINDS)}) AND recorded_at <= ? AND effective_on <= ?"
        f" AND party IN ({', '.join('?' for _ in parties)})"
        f" AND declaration_id IN ({', '.join('?' for _ in declarations)}) ORDER BY effective_on, position",
        [*sorted(ACT_KINDS), known_at, max(i["effective_on"] for i in acts), *parties, *declarations],
    )
    chain = _chain((r["event_id"], r["party"], r["declaration_id"], r["kind"],
                    r["retracted_at"] is not None and r["retracted_at"] <= known_at)
                   for r in rows if (r["party"], r["declaration_id"]) in pairs)
    for item in acts:
        item["stance"], item["previous"] = chain[item["event_id"]]
    return items


def _acts(sql: Sql, *, known_at: str, date_from: str | None, date_to: str | None, parties: list[str] | None,
          declarations: list[str] | None, kinds: list[str], after: tuple[str, int, str] | None,
          limit: int) -> list[dict[str, Any]]:
    where: list[str] = ["recorded_at <= ?"]
    params: list[Any] = [known_at]
    if date_from:
        where.append("effective_on >= ?")
        params.append(date_from)
    if date_to:
        where.append("effective_on <= ?")
        params.append(date_to)
    for column, values in (("party", parties), ("declaration_id", declarations), ("kind", kinds)):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if after is not None:
        # An act's order ends in "" (no party): past a cursor at its date, only acts at later positions are left.
        where.append("(effective_on > ? OR (effective_on = ? AND position > ?))")
        params.extend([after[0], after[0], after[1]])
    rows = sql.rows(
        f"SELECT * FROM timeline WHERE {' AND '.join(where)} ORDER BY effective_on, position LIMIT ?",
        [*params, limit],
    )
    return [_ordered(entry(r, known_at)) for r in rows]


def _ordered(item: dict[str, Any]) -> dict[str, Any]:
    item["order"] = (item["effective_on"], item["position"], "")
    return item


def party_history(
    sql: Sql, party: str, *, known_at: str, date_from: str | None = None, date_to: str | None = None,
    kinds: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The party's acts, statements, votes and hosted summits in valid-time order; each formal act carries
    the stance it set and the one before it, over the acts that counted at `known_at`."""
    hosted = summits_hosted_by(sql, party)
    hosted_in = f"summit_id IN ({', '.join('?' for _ in hosted)})"
    hosted_clause = f" OR (kind = '{EventKind.HOSTED}' AND {hosted_in})" if hosted else ""
    where = f"(party = ?{hosted_clause})"
    rows = sql.rows(
        f"SELECT * FROM timeline WHERE {where} AND recorded_at <= ? ORDER BY effective_on, position",
        [party, *hosted, known_at],
    )
    items = [_ordered(entry(row, known_at)) for row in rows]
    chain = _chain((i["event_id"], party, i["declaration_id"], i["kind"], i["retracted"])
                   for i in items if i["kind"] in ACT_KINDS)
    entries = []
    for item in items:
        if item["kind"] in ACT_KINDS:
            item["stance"], item["previous"] = chain[item["event_id"]]
        if (date_from and item["effective_on"] < date_from) or (date_to and item["effective_on"] > date_to):
            continue  # filtered after the fold, so `previous` is right even for the first entry shown
        if kinds and item["kind"] not in kinds:
            continue
        entries.append(item)
    if not kinds or TimelineKind.VOTE in kinds:
        votes = vote_entries(sql, known_at=known_at, parties=[party], date_from=date_from, date_to=date_to)
        entries = sorted([*entries, *votes], key=lambda e: e["order"])
    return entries
