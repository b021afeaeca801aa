"""The answers about how states align, checked and shaped once for the routes, `diplo agreement`, `diplo vote-share`,
`diplo closest` and the exports (the same checks, queries and shapes everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from api.bootstrap import Runtime
from api.cursors import decode, encode
from api.filters import date_range, party_code
from api.routes.votes import line_of
from domain.errors import InvalidInput
from domain.succession import Include
from domain.values import Period, issue_named
from projections.alignment import (
    Line,
    Scope,
    agreement,
    agreement_overall,
    closest,
    joint_rollcalls,
    period_scope,
    vote_shares,
)
from projections.exports import PARTIES_NEEDED, Dataset, ExportFilter, Page, alignment_rows
from projections.store import Sql

MIN_JOINT = 10  # a state admitted late in a year, with a handful of votes, says little about who it is close to


@dataclass(frozen=True)
class Filters:
    """What every alignment question takes beside its parties: the roll calls counted, the line, the moment."""

    known_at: str  # parsed already (api.answers.parse_known_at)
    date_from: date | None = None
    date_to: date | None = None
    issue: str | None = None
    important: bool | None = None
    include: tuple[Include, ...] = ()

    def scope(self) -> Scope:
        """The roll calls counted, checked as every read checks them (api/filters.py: `from` after `to` is
        malformed input naming `from`)."""
        first, last = date_range(self.date_from, self.date_to)
        return Scope(known_at=self.known_at, date_from=first, date_to=last,
                     issue=issue_named(self.issue).value if self.issue else None, important=self.important)

    def line(self, runtime: Runtime, code: str, field: str | None = None) -> Line:
        """The party as a line (with its predecessors if asked). An unknown code is 404 in a path (no field),
        malformed input naming the field otherwise (api/filters.py)."""
        party = party_code(runtime, code, field) if field else code
        return line_of(runtime, party, list(self.include))

    def echo(self, scope: Scope) -> dict[str, Any]:
        return {"include": [str(i) for i in self.include], "issue": scope.issue, "important": scope.important,
                "known_at": self.known_at}


def answer_agreement(runtime: Runtime, sql: Sql, a: str, b: str, by: Period, filters: Filters) -> dict[str, Any]:
    scope = filters.scope()
    left, right = filters.line(runtime, a, "a"), filters.line(runtime, b, "b")
    return {"a": left[0][0], "b": right[0][0], "by": by, **filters.echo(scope),
            "periods": agreement(sql, left, right, scope, by)}


def answer_vote_share(runtime: Runtime, sql: Sql, code: str, by: Period, filters: Filters,
                      field: str | None = None) -> dict[str, Any]:
    scope = filters.scope()
    line = filters.line(runtime, code, field)
    return {"party": line[0][0], "by": by, **filters.echo(scope), "periods": vote_shares(sql, line, scope, by)}


def answer_closest(runtime: Runtime, sql: Sql, code: str, by: Period, period: str, filters: Filters,
                   min_joint: int = MIN_JOINT, field: str | None = None) -> dict[str, Any]:
    scope = period_scope(filters.scope(), by, period)
    line = filters.line(runtime, code, field)
    ranked = closest(sql, line, scope, exclude=[party for party, _ in line])
    return {"party": line[0][0], "by": by, "period": period, **filters.echo(scope), "min_joint": min_joint,
            "parties": [r for r in ranked if r["joint"] >= min_joint],
            "too_few": [r for r in ranked if r["joint"] < min_joint]}


def answer_joint_rollcalls(runtime: Runtime, sql: Sql, a: str, b: str, by: Period, period: str | None,
                           filters: Filters, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    scope = filters.scope()
    if period is not None:
        scope = period_scope(scope, by, period)
    left, right = filters.line(runtime, a, "a"), filters.line(runtime, b, "b")
    after = decode(cursor)[:2] if cursor else None
    found = joint_rollcalls(sql, left, right, scope, after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    return {"a": left[0][0], "b": right[0][0], "by": by, "period": period, **filters.echo(scope),
            "figures": agreement_overall(sql, left, right, scope), "rollcalls": page,
            "next_cursor": encode(*page[-1]["cursor"]) if more else None}


def alignment_table(runtime: Runtime, dataset: Dataset, selection: ExportFilter) -> Page:
    """The agreement or vote-share table an export asks for, as rows, read in one reading: `party` names the two
    states of an agreement, the one of a vote-share table (another count is malformed input naming `party`)."""
    needed = PARTIES_NEEDED[dataset]
    if len(selection.parties) != needed:
        raise InvalidInput(f"{dataset} exports are about {needed} part{'y' if needed == 1 else 'ies'}: give party "
                           f"{needed} time{'s' if needed > 1 else ''} (got {len(selection.parties)})", field="party")
    filters = Filters(selection.known_at, _day(selection.date_from), _day(selection.date_to), selection.issue,
                      selection.important, (Include.PREDECESSORS,) if selection.include else ())
    by = Period(selection.by or Period.YEAR)
    with runtime.store.reading() as sql:
        if dataset is Dataset.AGREEMENT:
            a, b = selection.parties
            answer = answer_agreement(runtime, sql, a, b, by, filters)
        else:
            answer = answer_vote_share(runtime, sql, selection.parties[0], by, filters, "party")
    return alignment_rows(dataset, answer)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
