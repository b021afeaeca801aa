"""Roll calls and their votes, in both times: what the record said at any moment about any roll call.

Tables:
- `rollcalls`: one row per version of a roll call's details ([recorded_from, recorded_to) in knowledge time);
  `rc_key` (the position of the event that called it) is the compact key vote rows carry.
- `votes`: one row per party's vote, visible in knowledge time from log position `seen_from` to `seen_to`
  (NULL: still). A retraction ends a row (and says so in `retraction_position`); a correction of the roll call's
  date ends its live rows and starts them again on the new date, so the date a row carries is always the date
  the record gave the roll call while the row was visible. `version` (of the event that cast the vote) with the
  roll call's id gives the vote's own id (domain.rollcall.vote_id), computed when shown rather than stored.
- `vote_events`: every event that cast, retracted or re-dated votes, with when it was recorded, its release and
  its sources: a reading turns `known_at` into the set of positions it may see.
- `releases`: each data set release, when it was loaded and what it changed.

Knowledge time is kept in log positions rather than timestamps on the 870,109 vote rows: a reading at
`known_at` asks which positions were recorded by then, once, and compares integers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any

from domain.releases import Release
from domain.rollcall import RollCall, vote_ids
from domain.values import EventKind
from projections.readmodel import Item, Page, ReadModel, as_json, handles
from projections.store import Sql

# Every per-party question reads this index alone (a party's votes, shares, agreement). A store whose votes table
# is empty (a new store, a rebuild) builds it once caught up, from the whole table: a third faster than keeping it
# up vote by vote through the catch-up of a whole record.
PARTY_INDEX = ("CREATE INDEX IF NOT EXISTS votes_by_party"
               " ON votes (party, date, vote, version, cast_position, seen_to, rc_key, seen_from)")
VOTE_COLUMNS = ("rc_key", "party", "vote", "date", "version", "cast_position", "seen_from")
ROLLCALL_COLUMNS = ("rc_key", "id", "body", "session", "date", "precision", "year", "resolution", "title",
                    "description", "issues", "important", "amendment", "paragraph", "sources", "confidence",
                    "event_id", "release", "called_at", "recorded_from", "recorded_to", "from_position",
                    "to_position")




class _Page(Page):
    """What a page does to the votes tables. New rows are gathered and inserted at once; an event that changes
    rows already written (a retraction, a correction) first writes what the page gathered, so every statement
    sees the rows before it, as one statement per event would."""

    def __init__(self, model: ReadModel) -> None:
        super().__init__(model)
        assert isinstance(model, Votes)
        self.current = model.current
        self.sql: Sql | None = None

    def on(self) -> Sql:
        assert self.sql is not None, "a votes page is prepared before its handlers run"
        return self.sql

    def key(self, slug: str) -> tuple[int, str]:
        """The roll call's key and current date (from the page, the model's memory, or the table)."""
        found = self.current.get(slug)
        if found is None:
            self.write(self.on())
            row = self.on().one("SELECT rc_key, date FROM rollcalls WHERE id = ? AND to_position IS NULL", (slug,))
            assert row is not None, f"votes on a roll call the model has not seen: {slug}"
            found = self.current[slug] = (int(row["rc_key"]), row["date"])
        return found

    def event(self, item: Item, kind: str, rollcall: str, *, release: str | None, sources: Any,
              reason: str | None = None, confidence: str | None = None) -> None:
        self.rows["vote_events"].append((item.position, str(item.event.event_id), kind, rollcall, item.recorded_at,
                                         release, reason, confidence, as_json(sources)))

    def write(self, sql: Sql) -> None:
        super().write(sql)
        for rows in self.rows.values():
            rows.clear()


class Votes(ReadModel):
    name = "votes"
    version = 2  # 2: vote_events_by_rollcall, the index the roll-call answer cache keys by
    tables = ("rollcalls", "votes", "vote_events", "releases")
    ddl = (
        """CREATE TABLE IF NOT EXISTS rollcalls (
            rc_key BIGINT NOT NULL,
            id TEXT NOT NULL,
            body TEXT NOT NULL,
            session INTEGER,
            date TEXT NOT NULL,
            precision TEXT NOT NULL,
            year INTEGER NOT NULL,
            resolution TEXT,
            title TEXT,
            description TEXT,
            issues TEXT NOT NULL,
            important INTEGER,
            amendment INTEGER,
            paragraph INTEGER,
            sources TEXT NOT NULL,
            confidence TEXT NOT NULL,
            event_id TEXT NOT NULL,
            release TEXT,
            called_at TEXT NOT NULL,
            recorded_from TEXT NOT NULL,
            recorded_to TEXT,
            from_position BIGINT NOT NULL,
            to_position BIGINT
        )""",
        "CREATE INDEX IF NOT EXISTS rollcalls_by_id ON rollcalls (id, from_position)",
        "CREATE INDEX IF NOT EXISTS rollcalls_by_key ON rollcalls (rc_key, from_position)",
        "CREATE INDEX IF NOT EXISTS rollcalls_by_date ON rollcalls (date, rc_key)",
        # Clustered by roll call on SQLite (WITHOUT ROWID, added by `create`): a roll call's votes are one range,
        # and rows arrive in that order, so the table is appended to. One index serves every per-party question
        # (a party's votes, shares, agreement) without reading the table: it carries what they read.
        """CREATE TABLE IF NOT EXISTS votes (
            rc_key BIGINT NOT NULL,
            party TEXT NOT NULL,
            vote TEXT NOT NULL,
            date TEXT NOT NULL,
            version INTEGER NOT NULL,
            cast_position BIGINT NOT NULL,
            seen_from BIGINT NOT NULL,
            seen_to BIGINT,
            retraction_position BIGINT,
            PRIMARY KEY (rc_key, party, seen_from)
        )""",
        PARTY_INDEX,
        """CREATE TABLE IF NOT EXISTS vote_events (
            position BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            rollcall TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            release TEXT,
            reason TEXT,
            confidence TEXT,
            sources TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS vote_events_by_time ON vote_events (recorded_at)",
        # A roll call's events by when they were recorded: what `rollcall_stamp` reads, from the index alone
        # (version 2: the contract fingerprints every model's DDL, so a store built before replays the model once).
        "CREATE INDEX IF NOT EXISTS vote_events_by_rollcall ON vote_events (rollcall, recorded_at, position)",
        """CREATE TABLE IF NOT EXISTS releases (
            position BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL,
            dataset TEXT NOT NULL,
            name TEXT NOT NULL,
            published_on TEXT,
            events INTEGER NOT NULL,
            loaded_at TEXT NOT NULL,
            counts TEXT NOT NULL,
            sources TEXT NOT NULL
        )""",
    )

    columns = {
        "rollcalls": ROLLCALL_COLUMNS,
        "votes": VOTE_COLUMNS,
        "vote_events": ("position", "event_id", "kind", "rollcall", "recorded_at", "release", "reason", "confidence",
                        "sources"),
        "releases": ("position", "event_id", "dataset", "name", "published_on", "events", "loaded_at",
                     "counts", "sources"),
    }
    page_type = _Page
    reads = ("event_log",)  # a release's first position is its first event's, in the event log

    def __init__(self) -> None:
        super().__init__()
        # Each roll call's key and its current date, facts only its own events change; kept so a later event on it
        # need not ask the table. Dropped by forget(); a miss asks the table once.
        self.current: dict[str, tuple[int, str]] = {}

    def forget(self) -> None:
        super().forget()
        self.current = {}

    def create(self, sql: Sql) -> None:
        for statement in self.ddl:
            if statement == PARTY_INDEX:
                continue
            if statement.startswith("CREATE TABLE IF NOT EXISTS votes (") and not sql.postgres:
                statement += " WITHOUT ROWID"
            sql.execute(statement)
        if sql.value("SELECT 1 FROM votes LIMIT 1") is None:
            self.unsettled = True  # built once caught up (settle)
        else:
            sql.execute(PARTY_INDEX)

    def settle(self, sql: Sql) -> None:
        sql.execute(PARTY_INDEX)
        super().settle(sql)

    def prepare(self, sql: Sql, items: Sequence[Item], page: Page) -> None:
        assert isinstance(page, _Page)
        page.sql = sql

    @handles(RollCall.Called)
    def _called(self, item: Item, page: _Page) -> None:
        event, position = item.event, item.position
        day = event.date.isoformat()
        details = _details(event)
        page.rows["rollcalls"].append((
            position, event.slug, details["body"], details["session"], day, details["precision"], int(day[:4]),
            details["resolution"], details["title"], details["description"], details["issues"],
            details["important"], details["amendment"], details["paragraph"], as_json(event.sources),
            event.confidence, str(event.event_id), event.release, item.recorded_at, item.recorded_at, None,
            position, None,
        ))
        page.current[event.slug] = (position, day)
        version = event.originator_version
        votes = event.votes  # the rows built by zip, in C: a whole record's 870,109 of them
        page.rows["votes"].extend(zip(repeat(position), votes.keys(), votes.values(), repeat(day), repeat(version),
                                      repeat(position), repeat(position)))
        page.event(item, EventKind.ROLLCALL, event.slug, release=event.release, confidence=event.confidence,
                   sources=event.sources)

    @handles(RollCall.VotesCast)
    def _cast(self, item: Item, page: _Page) -> None:
        event, position = item.event, item.position
        key, day = page.key(event.rollcall_id)
        version = event.originator_version
        votes = event.votes
        page.rows["votes"].extend(zip(repeat(key), votes.keys(), votes.values(), repeat(day), repeat(version),
                                      repeat(position), repeat(position)))
        page.event(item, EventKind.VOTE, event.rollcall_id, release=event.release, confidence=event.confidence,
                   sources=event.sources)

    @handles(RollCall.VotesRetracted)
    def _retracted(self, item: Item, page: _Page) -> None:
        event, position = item.event, item.position
        key, _ = page.key(event.rollcall_id)
        sql = page.on()
        page.write(sql)
        marks = ", ".join("?" for _ in event.parties)
        sql.execute(
            f"UPDATE votes SET seen_to = ?, retraction_position = ? WHERE rc_key = ? AND party IN ({marks})"
            " AND seen_to IS NULL",
            (position, position, key, *event.parties),
        )
        page.event(item, EventKind.RETRACTED, event.rollcall_id, release=event.release, reason=event.reason,
                   sources=event.sources)

    @handles(RollCall.DetailsCorrected)
    def _corrected(self, item: Item, page: _Page) -> None:
        event, position = item.event, item.position
        key, day = page.key(event.rollcall_id)
        sql = page.on()
        page.write(sql)
        current = sql.one("SELECT * FROM rollcalls WHERE rc_key = ? AND to_position IS NULL", (key,))
        assert current is not None, f"roll call {event.rollcall_id} has no current version"
        sql.execute("UPDATE rollcalls SET recorded_to = ?, to_position = ? WHERE rc_key = ? AND to_position IS NULL",
                    (item.recorded_at, position, key))
        changes = _stored_details(event.changes)
        row = {**current, **changes, "recorded_from": item.recorded_at, "recorded_to": None,
               "from_position": position, "to_position": None,
               "year": int(str(changes.get("date", current["date"]))[:4])}
        sql.insert("rollcalls", tuple(row), [tuple(row.values())])
        new_day = row["date"]
        if new_day != day:
            # The rows seen until now keep the old date for readers before this moment; from here on, the new.
            live = sql.rows("SELECT party, vote, version, cast_position FROM votes"
                            " WHERE rc_key = ? AND seen_to IS NULL", (key,))
            sql.execute("UPDATE votes SET seen_to = ? WHERE rc_key = ? AND seen_to IS NULL", (position, key))
            page.rows["votes"].extend((key, r["party"], r["vote"], new_day, r["version"], r["cast_position"],
                                       position) for r in live)
            page.current[event.rollcall_id] = (key, new_day)
        page.event(item, EventKind.CORRECTED, event.rollcall_id, release=event.release, reason=event.reason,
                   sources=event.sources)

    @handles(Release.Loaded)
    def _release(self, item: Item, page: _Page) -> None:
        event = item.event
        sql = page.on()
        if sql.postgres:
            # A release is a bulk load: without statistics PostgreSQL guesses one row a party and nested-loops a
            # pair's agreement (54 ms against 30 with them); autovacuum may be off or come by much later.
            page.write(sql)
            sql.execute("ANALYZE votes")
            sql.execute("ANALYZE rollcalls")
        page.rows["releases"].append((item.position, str(event.event_id), event.dataset, event.name,
                                      event.published_on.isoformat() if event.published_on else None,
                                      event.events, item.recorded_at, as_json(event.counts),
                                      as_json(event.sources)))


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _details(event: Any) -> dict[str, Any]:
    return _stored_details({name: getattr(event, name) for name in (
        "body", "session", "date", "precision", "resolution", "title", "description", "issues", "important",
        "amendment", "paragraph")})


def _stored_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details as the table stores them (dates as text, issues as JSON, flags as 0/1)."""
    out = dict(details)
    if "date" in out and hasattr(out["date"], "isoformat"):
        out["date"] = out["date"].isoformat()
    if "issues" in out:
        out["issues"] = as_json(sorted(out["issues"]))
    for name in ("important", "amendment", "paragraph"):
        if name in out:
            out[name] = _flag(out[name])
    return out


@lru_cache(maxsize=8192)  # a roll call's id is a hash of its slug; the record has 6,203 of them
def _vote_ids(slug: str) -> Callable[[int, str], str]:
    return vote_ids(RollCall.id_for(slug))


def public_vote_id(slug: str, version: int, party: str) -> str:
    return _vote_ids(slug)(version, party)


def _parsed() -> Any:
    """A JSON reader that reads each distinct text once (for the rows of one answer)."""
    seen: dict[str, Any] = {}

    def read(text: str) -> Any:
        found = seen.get(text)
        if found is None:
            found = seen[text] = json.loads(text)
        return found

    return read


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


# -- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cut:
    """Which log positions a reading at `known_at` sees: all of them (`bound` None, no `known_at` set), those up to
    `bound` (the usual case: what was recorded by then is a prefix of the log), or, when a later position was
    recorded earlier (concurrent writers), the set recorded by `known_at`."""

    bound: int | None
    known_at: str | None = None

    def known(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """A condition that a (non-null) position column was recorded by then."""
        if self.known_at is not None:
            return f"{column} IN (SELECT position FROM vote_events WHERE recorded_at <= ?)", (self.known_at,)
        if self.bound is None:
            return f"{column} IS NOT NULL", ()
        return f"{column} <= ?", (self.bound,)

    @property
    def where(self) -> str:
        """The vote rows that count then: seen by then, and not yet ended (retracted or re-dated) by then."""
        return self.live()[0]

    @property
    def params(self) -> tuple[Any, ...]:
        return self.live()[1]

    def live(self, alias: str = "v") -> tuple[str, tuple[Any, ...]]:
        """`where` and `params` for the vote rows of a table named `alias` in the query."""
        if self.bound is None and self.known_at is None:
            return f"{alias}.seen_to IS NULL", ()
        seen, seen_params = self.known(f"{alias}.seen_from")
        ended, ended_params = self.known(f"{alias}.seen_to")
        return f"{seen} AND ({alias}.seen_to IS NULL OR NOT ({ended}))", (*seen_params, *ended_params)

    def shown(self) -> tuple[str, tuple[Any, ...]]:
        """The vote rows a history shows then: those that count, and those retracted by then (marked), never a
        row a correction of its roll call's date replaced."""
        live, live_params = self.live()
        seen, seen_params = self.known("v.seen_from")
        retracted, retracted_params = self.known("v.retraction_position")
        return (f"(({live}) OR ({seen} AND v.retraction_position IS NOT NULL AND {retracted}))",
                (*live_params, *seen_params, *retracted_params))


def known_cut(sql: Sql, known_at: str) -> Cut:
    """The cut of the log a reading at `known_at` sees."""
    # Two subqueries, not MAX(a), MAX(b) of one scan: SQLite answers each from an index only when it stands alone
    # (4.8 ms -> 0.005 ms over the whole record's 14,800 vote events).
    head = sql.one("SELECT (SELECT MAX(position) FROM vote_events) AS p,"
                   " (SELECT MAX(recorded_at) FROM vote_events) AS t")
    if head is None or head["p"] is None or head["t"] <= known_at:
        return Cut(None)
    bound = int(sql.value("SELECT MAX(position) FROM vote_events WHERE recorded_at <= ?", (known_at,)) or 0)
    late = sql.value("SELECT 1 FROM vote_events WHERE position <= ? AND recorded_at > ? LIMIT 1", (bound, known_at))
    return Cut(bound) if late is None else Cut(None, known_at)


VISIBLE_ROLLCALL = "r.called_at <= ? AND r.recorded_from <= ? AND (r.recorded_to IS NULL OR r.recorded_to > ?)"


def _rollcall_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "body": row["body"], "session": row["session"], "date": row["date"],
        "precision": row["precision"], "resolution": row["resolution"], "title": row["title"],
        "description": row["description"], "issues": json.loads(row["issues"]),
        "important": _bool(row["important"]), "amendment": _bool(row["amendment"]),
        "paragraph": _bool(row["paragraph"]), "release": row["release"], "event_id": row["event_id"],
        "recorded_at": row["called_at"], "sources": json.loads(row["sources"]), "confidence": row["confidence"],
    }


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def rollcall_version(sql: Sql, slug: str, known_at: str) -> dict[str, Any] | None:
    """The roll call's details as the record gave them at `known_at` (None: not recorded by then)."""
    return sql.one(f"SELECT * FROM rollcalls r WHERE r.id = ? AND {VISIBLE_ROLLCALL}",
                   (slug, known_at, known_at, known_at))


def rollcall_stamp(sql: Sql, slug: str, known_at: str) -> tuple[int, int]:
    """How many of the roll call's own events were recorded by `known_at`, and the last of their positions.

    `get_rollcall`'s answer is made of those events alone (its rows, and when each was recorded), and the events a
    reading sees are those recorded by a moment: a later moment sees a superset. So two readings with the same
    count see the same events and get the same answer; the last position is kept as a check. (0, 0): none."""
    row = sql.one("SELECT COUNT(*) AS n, MAX(position) AS p FROM vote_events WHERE rollcall = ? AND recorded_at <= ?",
                  (slug, known_at))
    return (0, 0) if row is None or not row["n"] else (int(row["n"]), int(row["p"]))


def get_rollcall(sql: Sql, slug: str, known_at: str) -> dict[str, Any] | None:
    """One roll call with its tally and every vote that counted at `known_at`, and those retracted by then.

    The roll call's rows are read once, and the few events that made and ended them once each: whether a row
    counts at `known_at` is decided here from when those events were recorded (the same rule as `Cut`), rather
    than by joining every row to its event, which copied the event's sources into each of 190 rows."""
    row = rollcall_version(sql, slug, known_at)
    if row is None:
        return None
    rows = sql.rows("SELECT party, vote, version, cast_position, seen_from, seen_to, retraction_position"
                    " FROM votes WHERE rc_key = ?", (row["rc_key"],))
    positions = {p for r in rows for p in (r["cast_position"], r["seen_from"], r["seen_to"], r["retraction_position"])
                 if p is not None}
    events = {int(e["position"]): e for e in sql.rows(
        f"SELECT position, event_id, recorded_at, release, reason, confidence, sources FROM vote_events"
        f" WHERE position IN ({', '.join('?' for _ in positions)})", tuple(positions))} if positions else {}

    def known(position: int | None) -> bool:
        return position is not None and events[position]["recorded_at"] <= known_at

    ids = _vote_ids(slug)
    sources = _parsed()  # the votes of one event share its sources: each text is read once
    live = sorted((r for r in rows if known(r["seen_from"]) and not known(r["seen_to"])), key=lambda r: r["party"])
    out = _rollcall_out(row)
    out["tally"] = tally(v["vote"] for v in live)
    out["votes"] = []
    for v in live:
        cast = events[v["cast_position"]]
        out["votes"].append({"party": v["party"], "vote": v["vote"],
                             "event_id": ids(v["version"], v["party"]),
                             "position": v["cast_position"], "recorded_at": cast["recorded_at"],
                             "release": cast["release"], "confidence": cast["confidence"],
                             "sources": sources(cast["sources"])})
    retracted = sorted((r for r in rows if known(r["retraction_position"]) and known(r["cast_position"])),
                       key=lambda r: (r["retraction_position"], r["party"]))
    out["retracted"] = []
    for r in retracted:
        retraction = events[r["retraction_position"]]
        out["retracted"].append({
            "party": r["party"], "vote": r["vote"], "event_id": ids(r["version"], r["party"]),
            "position": r["cast_position"],
            "retraction": {"event_id": retraction["event_id"], "recorded_at": retraction["recorded_at"],
                           "reason": retraction["reason"], "sources": sources(retraction["sources"])}})
    return out


def tally(votes: Any) -> dict[str, int]:
    counts = {"yes": 0, "no": 0, "abstain": 0, "absent": 0}
    for vote in votes:
        counts[vote] += 1
    return counts


def list_rollcalls(sql: Sql, *, known_at: str, date_from: str | None = None, date_to: str | None = None,
                   session: int | None = None, issue: str | None = None, q: str | None = None,
                   after: tuple[str, int] | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Roll calls in date order, keyset-paged after (date, rc_key), each with its tally at `known_at`."""
    where = [VISIBLE_ROLLCALL]
    params: list[Any] = [known_at, known_at, known_at]
    if date_from:
        where.append("r.date >= ?")
        params.append(date_from)
    if date_to:
        where.append("r.date <= ?")
        params.append(date_to)
    if session is not None:
        where.append("r.session = ?")
        params.append(session)
    if issue:
        where.append("r.issues LIKE ?")
        params.append(f'%"{issue}"%')
    if q:
        needle = f"%{q.strip().lower()}%"
        where.append("(LOWER(r.resolution) LIKE ? OR LOWER(r.title) LIKE ? OR LOWER(r.description) LIKE ?)")
        params.extend([needle, needle, needle])
    if after is not None:
        where.append("(r.date > ? OR (r.date = ? AND r.rc_key > ?))")
        params.extend([after[0], after[0], after[1]])
    rows = sql.rows(f"SELECT * FROM rollcalls r WHERE {' AND '.join(where)} ORDER BY r.date, r.rc_key LIMIT ?",
                    [*params, limit])
    if not rows:
        return []
    cut = known_cut(sql, known_at)
    keys = [r["rc_key"] for r in rows]
    counts: dict[int, dict[str, int]] = {k: tally(()) for k in keys}
    for found in sql.rows(
        f"SELECT v.rc_key, v.vote, COUNT(*) AS n FROM votes v WHERE v.rc_key IN ({', '.join('?' for _ in keys)})"
        f" AND {cut.where} GROUP BY v.rc_key, v.vote",
        (*keys, *cut.params),
    ):
        counts[found["rc_key"]][found["vote"]] = int(found["n"])
    out = []
    for row in rows:
        item = _rollcall_out(row)
        item["tally"] = counts[row["rc_key"]]
        item["cursor"] = (row["date"], row["rc_key"])
        out.append(item)
    return out


@dataclass(frozen=True)
class LineVote:
    """One roll call's vote for a line of parties: whose it was, and the roll call's facts at `known_at`."""

    rc_key: int
    rollcall_id: str
    date: str
    session: int | None
    resolution: str | None
    title: str | None
    issues: str
    important: bool | None
    party: str
    vote: str
    version: int
    position: int


def line_votes(sql: Sql, line: Sequence[tuple[str, str | None]], *, known_at: str, date_from: str | None = None,
               date_to: str | None = None, issue: str | None = None, important: bool | None = None,
               vote: str | None = None) -> list[LineVote]:
    """The votes of a line of parties (a party and, if asked, its predecessors, each with the day before which it
    counts), one per roll call: on a roll call several of them voted on, the first in the line speaks for it.
    In date order."""
    rank = {party: i for i, (party, _) in enumerate(line)}
    until = dict(line)
    cut = known_cut(sql, known_at)
    where = [f"v.party IN ({', '.join('?' for _ in line)})", cut.where, VISIBLE_ROLLCALL]
    params: list[Any] = [*rank, *cut.params, known_at, known_at, known_at]
    if date_from:
        where.append("v.date >= ?")
        params.append(date_from)
    if date_to:
        where.append("v.date <= ?")
        params.append(date_to)
    if issue:
        where.append("r.issues LIKE ?")
        params.append(f'%"{issue}"%')
    if important is not None:
        where.append("r.important = ?")
        params.append(int(important))
    rows = sql.rows(
        "SELECT v.rc_key, v.party, v.vote, v.date, v.version, v.cast_position, r.id, r.session, r.resolution,"
        " r.title, r.issues, r.important FROM votes v JOIN rollcalls r ON r.rc_key = v.rc_key"
        f" WHERE {' AND '.join(where)} ORDER BY v.date, v.rc_key",
        params,
    )
    chosen: dict[int, LineVote] = {}
    for row in rows:
        party = row["party"]
        bound = until[party]
        if bound is not None and row["date"] >= bound:
            continue
        held = chosen.get(row["rc_key"])
        if held is not None and rank[held.party] <= rank[party]:
            continue
        chosen[row["rc_key"]] = LineVote(row["rc_key"], row["id"], row["date"], row["session"], row["resolution"],
                                         row["title"], row["issues"], _bool(row["important"]), party, row["vote"],
                                         row["version"], row["cast_position"])
    found = sorted(chosen.values(), key=lambda v: (v.date, v.rc_key))
    return [v for v in found if vote is None or v.vote == vote]


def list_releases(sql: Sql) -> list[dict[str, Any]]:
    """Every release loaded, in the order loaded, with the positions it spans and what it changed. A release's
    events are the `events` public events just before its own in the log (one transaction stores them together)."""
    out = []
    for row in sql.rows("SELECT * FROM releases ORDER BY position"):
        first = row["position"]
        if row["events"]:
            first = sql.value("SELECT MIN(position) FROM (SELECT position FROM event_log WHERE position < ?"
                              " ORDER BY position DESC LIMIT ?) AS before", (row["position"], row["events"]))
        counts = json.loads(row["counts"])
        out.append({
            "name": row["name"], "dataset": row["dataset"], "published_on": row["published_on"],
            "loaded_at": row["loaded_at"], "event_id": row["event_id"], "first_position": first,
            "last_position": row["position"], "events": row["events"] + 1, **_changed(counts),
            "counts": counts, "sources": json.loads(row["sources"]),
        })
    return out


def _changed(counts: dict[str, int]) -> dict[str, int]:
    """What a release recorded, retracted, and retracted to record again: its votes for a roll-call data set; acts
    and statements for the AI-summit record (a release stored before it counted these is read from its kinds)."""
    if any(name.startswith("votes_") for name in counts):
        return {"added": counts.get("votes_added", 0), "retracted": counts.get("votes_retracted", 0),
                "corrected": counts.get("votes_corrected", 0)}
    if "added" in counts:
        return {name: counts[name] for name in ("added", "retracted", "corrected")}
    return {"added": counts.get("acts", 0) + counts.get("statements", 0), "retracted": counts.get("retractions", 0),
            "corrected": 0}


def vote_entries(sql: Sql, *, known_at: str, parties: Sequence[str] | None = None, date_from: str | None = None,
                 date_to: str | None = None, after: tuple[str, int, str] | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """Votes as history and timeline entries, in valid-time order (the roll call's date, the roll call, the
    party): those that counted at `known_at`, and those retracted by then, marked. Each entry's `order` is its
    place in that order, for merging with the other acts and for cursors."""
    cut = known_cut(sql, known_at)
    shown, shown_params = cut.shown()
    where = [shown, VISIBLE_ROLLCALL]
    params: list[Any] = [*shown_params, known_at, known_at, known_at]
    if parties:
        where.append(f"v.party IN ({', '.join('?' for _ in parties)})")
        params.extend(parties)
    if date_from:
        where.append("v.date >= ?")
        params.append(date_from)
    if date_to:
        where.append("v.date <= ?")
        params.append(date_to)
    if after is not None:
        where.append("(v.date > ? OR (v.date = ? AND (v.rc_key > ? OR (v.rc_key = ? AND v.party > ?))))")
        params.extend([after[0], after[0], after[1], after[1], after[2]])
    retracted, retracted_params = cut.known("v.retraction_position")
    rows = sql.rows(
        f"SELECT v.rc_key, v.party, v.vote, v.date, v.version, v.cast_position, v.retraction_position,"
        f" CASE WHEN v.retraction_position IS NOT NULL AND {retracted} THEN 1 ELSE 0 END AS is_retracted,"
        " r.id, r.title, r.resolution, r.precision, c.recorded_at, c.sources, c.confidence, c.release,"
        " x.event_id AS x_event_id, x.recorded_at AS x_recorded_at, x.reason AS x_reason, x.sources AS x_sources"
        " FROM votes v JOIN rollcalls r ON r.rc_key = v.rc_key JOIN vote_events c ON c.position = v.cast_position"
        " LEFT JOIN vote_events x ON x.position = v.retraction_position"
        f" WHERE {' AND '.join(where)} ORDER BY v.date, v.rc_key, v.party" + (" LIMIT ?" if limit else ""),
        [*retracted_params, *params, *([limit] if limit else [])],
    )
    sources: dict[int, Any] = {}  # every vote of one event cites the same sources: decoded once
    out = []
    for row in rows:
        cited = sources.get(row["cast_position"])
        if cited is None:
            cited = sources[row["cast_position"]] = json.loads(row["sources"])
        gone = bool(row["is_retracted"])
        out.append({
            "occurred_on": row["date"], "effective_on": row["date"], "precision": row["precision"],
            "approximate": row["precision"] != "day", "kind": "vote", "party": row["party"],
            "rollcall_id": row["id"], "title": row["title"], "resolution": row["resolution"], "vote": row["vote"],
            "confidence": row["confidence"] or "high",
            "event_id": public_vote_id(row["id"], row["version"], row["party"]),
            "position": row["cast_position"], "recorded_at": row["recorded_at"], "sources": cited,
            "retracted": gone,
            "retraction": {"event_id": row["x_event_id"], "position": row["retraction_position"],
                           "recorded_at": row["x_recorded_at"], "reason": row["x_reason"] or "",
                           "sources": json.loads(row["x_sources"])} if gone else None,
            "order": (row["date"], int(row["rc_key"]), row["party"]),
        })
    return out



def vote_of(sql: Sql, slug: str, party: str, known_at: str) -> dict[str, Any] | None:
    """One party's vote on one roll call as the record stood at `known_at` (None: no vote then)."""
    cut = known_cut(sql, known_at)
    if cut.bound is None and cut.known_at is None:  # now: the live version and the live vote, in one lookup
        found = sql.one("SELECT v.vote, v.version, v.cast_position, v.date FROM rollcalls r"
                        " JOIN votes v ON v.rc_key = r.rc_key AND v.party = ? AND v.seen_to IS NULL"
                        " WHERE r.id = ? AND r.to_position IS NULL", (party, slug))
    else:
        row = rollcall_version(sql, slug, known_at)
        if row is None:
            return None
        found = sql.one(f"SELECT v.vote, v.version, v.cast_position, v.date FROM votes v"
                        f" WHERE v.rc_key = ? AND v.party = ? AND {cut.where}", (row["rc_key"], party, *cut.params))
    if found is None:
        return None
    return {"rollcall_id": slug, "party": party, "vote": found["vote"], "date": found["date"],
            "event_id": public_vote_id(slug, found["version"], party), "position": found["cast_position"]}
