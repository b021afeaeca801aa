"""How states align in roll calls: vote shares, and agreement between two states, by period, counted in SQL.

Definitions (docs/votes.md gives them with their references):
- the votes cast: yes, no and abstain (an absence is no vote on the text);
- `joint`: the roll calls on which both states cast a vote;
- `identical`: the share of those on which they voted the same;
- `agreement`: the same, with an abstention against a yes or a no counted as half an agreement — the index of
  Voeten's data set (Lijphart's index of agreement);
- `kappa`: Cohen's kappa over yes/no/abstain on the joint roll calls: (p_o - p_e) / (1 - p_e), p_o the identical
  share, p_e the agreement the two states' own vote shares on those roll calls would give by chance (Häge 2011);
  None when p_e is 1 (both always voted the same one way, so chance explains everything and nothing is left to
  measure).

Every figure is one aggregate query over the `votes` table (and `rollcalls` when a question needs a roll call's
session, issues or flags): a party's votes are one range of the `votes_by_party` index, and the other state's vote
on each roll call one lookup of the table's key. A line of parties (a state with its predecessors) is the same
range for each member, a vote kept unless one before it in the line voted on the same roll call, as
`projections.votes.line_votes` keeps it. Each query is planned for its own parties and dates every time: a
PostgreSQL plan prepared for any party and any dates nested-loops a pair over 1946-2019 (52 ms instead of 11).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from domain.errors import InvalidInput
from domain.values import Period
from projections.store import Sql
from projections.votes import VISIBLE_ROLLCALL, Cut, known_cut

Line = Sequence[tuple[str, str | None]]  # a party, then its predecessors, each with the day before which it counts
CAST_IN = "('abstain', 'no', 'yes')"
UNKNOWN_SESSION = "unknown"  # the period of a roll call recorded without a session, by session


@dataclass(frozen=True)
class Scope:
    """Which roll calls a figure counts: their dates, session, issue and flag, as the record stood at `known_at`."""

    known_at: str
    date_from: str | None = None
    date_to: str | None = None
    session: int | None = None
    sessionless: bool = False  # only roll calls recorded without a session (the period `unknown`, by session)
    issue: str | None = None
    important: bool | None = None

    def needs_rollcalls(self, by: Period | None = None) -> bool:
        return (by is Period.SESSION or self.session is not None or self.sessionless or self.issue is not None
                or self.important is not None)


YEAR = re.compile(r"^\d{4}$")
DECADE = re.compile(r"^\d{3}0s$")
SESSION = re.compile(r"^[1-9]\d{0,3}$")
EXAMPLES = {Period.YEAR: "1995", Period.DECADE: "1990s", Period.SESSION: "50"}


def period_scope(scope: Scope, by: Period, period: str, field: str = "period") -> Scope:
    """The scope narrowed to one period as the figures label it (`1995`, `1990s`, session `50` or `unknown`);
    a label that is not one of `by` is malformed input naming the field."""
    if by is Period.YEAR and YEAR.match(period):
        first, last = f"{period}-01-01", f"{period}-12-31"
    elif by is Period.DECADE and DECADE.match(period):
        first, last = f"{period[:3]}0-01-01", f"{period[:3]}9-12-31"
    elif by is Period.SESSION and (SESSION.match(period) or period == UNKNOWN_SESSION):
        if period == UNKNOWN_SESSION:
            return replace(scope, sessionless=True)
        return replace(scope, session=int(period))
    else:
        raise InvalidInput(f"period {period!r} is not a {by} (e.g. {EXAMPLES[by]})", field=field)
    return replace(scope, date_from=max(filter(None, (scope.date_from, first))),
                   date_to=min(filter(None, (scope.date_to, last))))


def period_order(by: Period, period: str) -> tuple[int, str]:
    """Periods in time order: sessions by number (those without one last), years and decades as written."""
    if by is Period.SESSION:
        return (10_000, period) if period == UNKNOWN_SESSION else (int(period), "")
    return (0, period)


def _period_sql(by: Period | None, alias: str = "a") -> str:
    if by is Period.YEAR:
        return f"SUBSTR({alias}.date, 1, 4)"
    if by is Period.DECADE:
        return f"SUBSTR({alias}.date, 1, 3) || '0s'"
    if by is Period.SESSION:
        return "r.session"
    return "'all'"


def _label(by: Period | None, value: Any) -> str:
    if by is Period.SESSION:
        return UNKNOWN_SESSION if value is None else str(value)
    return str(value)


def _dates(scope: Scope) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if scope.date_from:
        where.append("v.date >= ?")
        params.append(scope.date_from)
    if scope.date_to:
        where.append("v.date <= ?")
        params.append(scope.date_to)
    return where, params


def line_source(line: Line, cut: Cut, scope: Scope, *, dated: bool = True) -> tuple[str, list[Any]]:
    """The line's votes in the scope's dates as a subquery of (rc_key, party, vote, date), one row per roll call:
    on a roll call several members voted on, the first in the line speaks for it (its vote may be an absence).
    `dated=False` for the side joined to the other by roll call: the other side's dates bound it already, and a
    date range here let SQLite read this side from the party index once per row of the other (3 s, not 15 ms).

    Each member's votes are a range of the party index; a member's vote counts unless one before it in the line
    voted on the same roll call (one key lookup). Ranking the line's votes with ROW_NUMBER() instead sorted them
    all: Russia with the USSR against the US by year, 36 ms of CPU that way, 20 this way (SQLite, in process)."""
    dates, date_params = _dates(scope) if dated else ([], [])
    parts: list[str] = []
    params: list[Any] = []
    for i, (party, until) in enumerate(line):
        where = ["v.party = ?", cut.where, *dates]
        part_params: list[Any] = [party, *cut.params, *date_params]
        if until:
            where.append("v.date < ?")
            part_params.append(until)
        if i:
            earlier, earlier_params = [], []
            for other, other_until in line[:i]:
                earlier.append("(w.party = ?" + (" AND w.date < ?)" if other_until else ")"))
                earlier_params.extend([other, other_until] if other_until else [other])
            live, live_params = cut.live("w")
            where.append(f"NOT EXISTS (SELECT 1 FROM votes w WHERE w.rc_key = v.rc_key AND ({' OR '.join(earlier)})"
                         f" AND {live})")
            part_params.extend([*earlier_params, *live_params])
        parts.append(f"SELECT v.rc_key, v.party, v.vote, v.date FROM votes v WHERE {' AND '.join(where)}")
        params.extend(part_params)
    return f"({' UNION ALL '.join(parts)})", params


Details = tuple[str, list[Any], list[str], list[Any]]  # a join, its parameters, conditions, their parameters


def _rollcall_join(scope: Scope, cut: Cut, needed: bool = True, key: str = "a.rc_key") -> Details:
    """The join to each roll call's details as the record gave them at `known_at`, and the scope's conditions on
    them (session, issue, flag); nothing where the question needs none of them."""
    if not needed:
        return "", [], [], []
    if cut.bound is None and cut.known_at is None:  # now: the current version of each
        join, params = f"JOIN rollcalls r ON r.rc_key = {key} AND r.to_position IS NULL", []
    else:
        join, params = f"JOIN rollcalls r ON r.rc_key = {key} AND {VISIBLE_ROLLCALL}", [scope.known_at] * 3
    where: list[str] = []
    where_params: list[Any] = []
    if scope.session is not None:
        where.append("r.session = ?")
        where_params.append(scope.session)
    if scope.sessionless:
        where.append("r.session IS NULL")
    if scope.issue:
        where.append("r.issues LIKE ?")
        where_params.append(f'%"{scope.issue}"%')
    if scope.important is not None:
        where.append("r.important = ?")
        where_params.append(int(scope.important))
    return join, params, where, where_params


COUNTS = (
    "COUNT(*) AS joint,"
    " SUM(CASE WHEN a.vote = b.vote THEN 1 ELSE 0 END) AS same,"
    " SUM(CASE WHEN a.vote <> b.vote AND (a.vote = 'abstain' OR b.vote = 'abstain') THEN 1 ELSE 0 END) AS half,"
    + ",".join(f" SUM(CASE WHEN {side}.vote = '{vote}' THEN 1 ELSE 0 END) AS {side}_{vote}"
               for side in "ab" for vote in ("yes", "no", "abstain"))
)


def figures(counts: dict[str, Any]) -> dict[str, Any]:
    """joint, identical, agreement and kappa from the counts of one set of joint votes. Kappa is computed on
    integers: (same*n - sum a_k*b_k) / (n*n - sum a_k*b_k), so 'expected agreement is 1' is an exact test."""
    n = int(counts["joint"] or 0)
    if n == 0:
        return {"joint": 0, "identical": None, "agreement": None, "kappa": None}
    same, half = int(counts["same"]), int(counts["half"])
    chance = sum(int(counts[f"a_{k}"]) * int(counts[f"b_{k}"]) for k in ("yes", "no", "abstain"))
    kappa = None if chance == n * n else (same * n - chance) / (n * n - chance)
    return {"joint": n, "identical": same / n, "agreement": (same + 0.5 * half) / n, "kappa": kappa}


def _pair_counts(sql: Sql, a: Line, b: Line, scope: Scope, by: Period | None) -> list[dict[str, Any]]:
    cut = known_cut(sql, scope.known_at)
    left, left_params = line_source(a, cut, scope)
    right, right_params = line_source(b, cut, scope, dated=False)
    join, join_params, where, where_params = _rollcall_join(scope, cut, scope.needs_rollcalls(by))
    period = _period_sql(by)
    return sql.rows(
        f"SELECT {period} AS period, {COUNTS} FROM {left} a JOIN {right} b ON b.rc_key = a.rc_key {join}"
        f" WHERE {' AND '.join([f'a.vote IN {CAST_IN}', f'b.vote IN {CAST_IN}', *where])}"
        + (f" GROUP BY {period}" if by is not None else ""),  # no period: one row over the whole scope
        [*left_params, *right_params, *join_params, *where_params], planned_each_time=True)


def vote_shares(sql: Sql, line: Line, scope: Scope, by: Period) -> list[dict[str, Any]]:
    """Per period in which the line cast a vote: the votes cast and the share of yes, no and abstain (0-1)."""
    cut = known_cut(sql, scope.known_at)
    source, params = line_source(line, cut, scope)
    join, join_params, where, where_params = _rollcall_join(scope, cut, scope.needs_rollcalls(by))
    period = _period_sql(by)
    rows = sql.rows(
        f"SELECT {period} AS period, COUNT(*) AS votes,"
        + ",".join(f" SUM(CASE WHEN a.vote = '{k}' THEN 1 ELSE 0 END) AS {k}" for k in ("yes", "no", "abstain"))
        + f" FROM {source} a {join} WHERE {' AND '.join([f'a.vote IN {CAST_IN}', *where])} GROUP BY {period}",
        [*params, *join_params, *where_params], planned_each_time=True)
    out = []
    for row in rows:
        n = int(row["votes"])
        out.append({"period": _label(by, row["period"]), "votes": n,
                    **{k: int(row[k]) / n for k in ("yes", "no", "abstain")}})
    return sorted(out, key=lambda r: period_order(by, r["period"]))


BOTH = "x.a IS NOT NULL AND x.b IS NOT NULL"
PERIOD_COUNTS = (
    f"SUM(CASE WHEN {BOTH} THEN 1 ELSE 0 END) AS joint,"
    f" SUM(CASE WHEN {BOTH} AND x.a = x.b THEN 1 ELSE 0 END) AS same,"
    f" SUM(CASE WHEN {BOTH} AND x.a <> x.b AND (x.a = 'abstain' OR x.b = 'abstain') THEN 1 ELSE 0 END) AS half,"
    + ",".join(f" SUM(CASE WHEN {BOTH} AND x.{side} = '{vote}' THEN 1 ELSE 0 END) AS {side}_{vote}"
               for side in "ab" for vote in ("yes", "no", "abstain"))
)


def agreement(sql: Sql, a: Line, b: Line, scope: Scope, by: Period) -> list[dict[str, Any]]:
    """Per period in which either state cast a vote: joint, identical, agreement and kappa (None where they have
    no joint vote, or where kappa is undefined).

    One pass over both states' votes, gathered by roll call (a roll call either voted on is a row, with each
    one's vote or nothing): the periods where only one voted come with the joint figures, where a join and two
    more queries for those periods read the same index ranges twice more (PostgreSQL, as loaded: 54 -> 32 ms over
    HTTP for a pair by year over 1946-2019; SQLite: Russia with the USSR against the US 38 -> 21 ms of CPU)."""
    cut = known_cut(sql, scope.known_at)
    left, left_params = line_source(a, cut, scope)
    right, right_params = line_source(b, cut, scope)
    join, join_params, where, where_params = _rollcall_join(scope, cut, scope.needs_rollcalls(by), key="x.rc_key")
    period = _period_sql(by, "x")
    rows = sql.rows(
        f"SELECT {period} AS period, {PERIOD_COUNTS} FROM (SELECT u.rc_key, MIN(u.date) AS date,"
        " MAX(CASE WHEN u.side = 0 THEN u.vote END) AS a, MAX(CASE WHEN u.side = 1 THEN u.vote END) AS b"
        f" FROM (SELECT 0 AS side, l.rc_key, l.vote, l.date FROM {left} l WHERE l.vote IN {CAST_IN}"
        f" UNION ALL SELECT 1 AS side, l.rc_key, l.vote, l.date FROM {right} l WHERE l.vote IN {CAST_IN}) u"
        f" GROUP BY u.rc_key) x {join}" + (f" WHERE {' AND '.join(where)}" if where else "") + f" GROUP BY {period}",
        [*left_params, *right_params, *join_params, *where_params], planned_each_time=True)
    found = [{"period": _label(by, row["period"]), **figures(row)} for row in rows]
    return sorted(found, key=lambda p: period_order(by, p["period"]))


def agreement_overall(sql: Sql, a: Line, b: Line, scope: Scope) -> dict[str, Any]:
    """The same four figures over the whole scope (one period, say)."""
    rows = _pair_counts(sql, a, b, scope, None)
    return figures(rows[0] if rows else {"joint": 0})


def closest(sql: Sql, line: Line, scope: Scope, exclude: Sequence[str]) -> list[dict[str, Any]]:
    """Every other party that cast a vote on a roll call the line voted on, as recorded (the party that cast it),
    with the four figures: ranked by agreement, then joint votes, then code. `exclude`: the line's own parties."""
    cut = known_cut(sql, scope.known_at)
    left, left_params = line_source(line, cut, scope)
    other = " AND ".join([cut.where, f"v.party NOT IN ({', '.join('?' for _ in exclude)})"])
    join, join_params, where, where_params = _rollcall_join(scope, cut, scope.needs_rollcalls())
    rows = sql.rows(
        f"SELECT b.party AS party, {COUNTS} FROM {left} a"
        f" JOIN (SELECT v.rc_key, v.party, v.vote FROM votes v WHERE {other}) b ON b.rc_key = a.rc_key {join}"
        f" WHERE {' AND '.join([f'a.vote IN {CAST_IN}', f'b.vote IN {CAST_IN}', *where])} GROUP BY b.party",
        [*left_params, *cut.params, *exclude, *join_params, *where_params], planned_each_time=True)
    ranked = [{"party": row["party"], **figures(row)} for row in rows]
    ranked.sort(key=lambda r: (-(r["agreement"] or 0.0), -r["joint"], r["party"]))
    return ranked


def joint_rollcalls(sql: Sql, a: Line, b: Line, scope: Scope, *, after: tuple[str, int] | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    """The roll calls behind a pair's figures in the scope: both votes (and whose they were), the roll call and
    what it adds to `agreement` (1, 0.5 or 0), in date order, keyset-paged after (date, rc_key)."""
    cut = known_cut(sql, scope.known_at)
    left, left_params = line_source(a, cut, scope)
    right, right_params = line_source(b, cut, scope, dated=False)
    join, join_params, where, where_params = _rollcall_join(scope, cut)
    where = [f"a.vote IN {CAST_IN}", f"b.vote IN {CAST_IN}", *where]
    if after is not None:
        where.append("(a.date > ? OR (a.date = ? AND a.rc_key > ?))")
        where_params.extend([after[0], after[0], after[1]])
    rows = sql.rows(
        "SELECT a.rc_key, a.date, a.party AS a_party, a.vote AS a_vote, b.party AS b_party, b.vote AS b_vote,"
        " r.id, r.session, r.resolution, r.title, r.issues, r.important"
        f" FROM {left} a JOIN {right} b ON b.rc_key = a.rc_key {join}"
        f" WHERE {' AND '.join(where)} ORDER BY a.date, a.rc_key LIMIT ?",
        [*left_params, *right_params, *join_params, *where_params, limit], planned_each_time=True)
    return [{
        "rollcall_id": row["id"], "date": row["date"], "session": row["session"], "resolution": row["resolution"],
        "title": row["title"], "issues": sorted(json.loads(row["issues"])),
        "important": None if row["important"] is None else bool(row["important"]),
        "a": {"vote": row["a_vote"], "as_party": row["a_party"]},
        "b": {"vote": row["b_vote"], "as_party": row["b_party"]},
        "agreement": 1.0 if row["a_vote"] == row["b_vote"] else 0.5 if "abstain" in (row["a_vote"], row["b_vote"])
        else 0.0,
        "cursor": (row["date"], int(row["rc_key"])),
    } for row in rows]
