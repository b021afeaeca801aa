"""How states align in roll calls: vote shares, agreement between two states, the closest and farthest parties,
and the roll calls behind any of these figures (docs/votes.md, "How states align")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.alignment_schemas import (
    AGREEMENT,
    IDENTICAL,
    JOINT,
    KAPPA,
    AgreementPublic,
    AgreementRollCallsPage,
    ClosestPublic,
    VoteSharePublic,
)
from api.answers import parse_known_at
from api.bootstrap import Runtime
from api.cursors import decode, encode
from api.deps import FromQuery, KnownAtQuery, ReadSql, RuntimeDep, ToQuery, require_reader
from api.routes.votes import Code, IncludeQuery, IssueQuery, line_of
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

router = APIRouter(prefix="/v1", tags=["votes"], dependencies=[Depends(require_reader)])

PartyQuery = Annotated[str, Query(min_length=1, max_length=40, description="A party's code, e.g. US, IN, RU")]
ByQuery = Annotated[Period, Query(description="Group by calendar year, session of the Assembly, or decade")]
ImportantQuery = Annotated[bool | None, Query(
    description="Only roll calls classified important (true; the US State Department's list) or not (false)")]
DEFINITIONS = f"`joint`: {JOINT}. `identical`: {IDENTICAL}. `agreement`: {AGREEMENT}. `kappa`: {KAPPA}."
MIN_JOINT = 10  # a state admitted late in a year, with a handful of votes, says little about who it is close to


def scope_of(known_at: str, date_from: date | None, date_to: date | None, issue: str | None,
             important: bool | None) -> Scope:
    """The roll calls a question counts, checked: `from` after `to` is malformed input naming `to`."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput(f"to ({date_to}) is before from ({date_from})", field="to")
    return Scope(known_at=known_at, date_from=date_from.isoformat() if date_from else None,
                 date_to=date_to.isoformat() if date_to else None,
                 issue=issue_named(issue).value if issue else None, important=important)


def pair_lines(runtime: Runtime, a: str, b: str, include: list[Include] | None) -> tuple[Line, Line]:
    """The two parties of a pair (unknown codes are malformed input naming `a` or `b`), each as a line."""
    return (line_of(runtime, runtime.parties.require(a, "a"), include),
            line_of(runtime, runtime.parties.require(b, "b"), include))


def _echo(include: list[Include] | None, scope: Scope, known: str) -> dict[str, Any]:
    return {"include": [str(i) for i in include or ()], "issue": scope.issue, "important": scope.important,
            "known_at": known}


@router.get("/agreement", response_model=AgreementPublic, description=(
    "How two states voted alike, per period, as the record stood at `known_at`: " + DEFINITIONS))
def agreement_by_period(
    runtime: RuntimeDep,
    sql: ReadSql,
    a: PartyQuery,
    b: PartyQuery,
    by: ByQuery = Period.YEAR,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    issue: IssueQuery = None,
    important: ImportantQuery = None,
    include: IncludeQuery = None,
    known_at: KnownAtQuery = None,
) -> dict[str, Any]:
    """How two states voted alike, per period."""
    known = parse_known_at(known_at)
    scope = scope_of(known, date_from, date_to, issue, important)
    left, right = pair_lines(runtime, a, b, include)
    return {"a": left[0][0], "b": right[0][0], "by": by, **_echo(include, scope, known),
            "periods": agreement(sql, left, right, scope, by)}


@router.get("/agreement/rollcalls", response_model=AgreementRollCallsPage)
def agreement_rollcalls(
    runtime: RuntimeDep,
    sql: ReadSql,
    a: PartyQuery,
    b: PartyQuery,
    by: ByQuery = Period.YEAR,
    period: Annotated[str | None, Query(max_length=10, description="One period of `by`, as the figures label it: "
                                        "`1995`, `50`, `1990s`; default every period in from-to")] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    issue: IssueQuery = None,
    important: ImportantQuery = None,
    include: IncludeQuery = None,
    known_at: KnownAtQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The roll calls behind an agreement figure: each joint roll call with both votes, in date order, paged; and
    the figures over all of them, equal to the figure of `GET /v1/agreement` for the same period."""
    known = parse_known_at(known_at)
    scope = scope_of(known, date_from, date_to, issue, important)
    if period is not None:
        scope = period_scope(scope, by, period)
    left, right = pair_lines(runtime, a, b, include)
    after = decode(cursor)[:2] if cursor else None
    found = joint_rollcalls(sql, left, right, scope, after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    return {"a": left[0][0], "b": right[0][0], "by": by, "period": period, **_echo(include, scope, known),
            "figures": agreement_overall(sql, left, right, scope), "rollcalls": page,
            "next_cursor": encode(*page[-1]["cursor"]) if more else None}


@router.get("/parties/{code}/vote-share", response_model=VoteSharePublic)
def vote_share(
    code: Code,
    runtime: RuntimeDep,
    sql: ReadSql,
    by: ByQuery = Period.YEAR,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    issue: IssueQuery = None,
    important: ImportantQuery = None,
    include: IncludeQuery = None,
    known_at: KnownAtQuery = None,
) -> dict[str, Any]:
    """The party's votes cast per period, and the share of yes, no and abstain among them."""
    known = parse_known_at(known_at)
    scope = scope_of(known, date_from, date_to, issue, important)
    line = line_of(runtime, code, include)
    return {"party": line[0][0], "by": by, **_echo(include, scope, known),
            "periods": vote_shares(sql, line, scope, by)}


@router.get("/parties/{code}/closest", response_model=ClosestPublic, description=(
    "Every other party ranked by how it voted with this one in one period, closest first (so the last are the "
    "farthest), as the record stood at `known_at`. The others are taken as recorded: the USSR is SUHH. "
    + DEFINITIONS))
def closest_parties(
    code: Code,
    runtime: RuntimeDep,
    sql: ReadSql,
    period: Annotated[str, Query(max_length=10, description="One period of `by`: `1995`, `50`, `1990s`")],
    by: ByQuery = Period.YEAR,
    issue: IssueQuery = None,
    important: ImportantQuery = None,
    include: IncludeQuery = None,
    known_at: KnownAtQuery = None,
    min_joint: Annotated[int, Query(ge=1, le=10_000, description="Rank only parties with at least this many "
                                    "joint votes; the others are listed apart (`too_few`)")] = MIN_JOINT,
) -> dict[str, Any]:
    """Every other party ranked by agreement with this one in one period, closest first."""
    known = parse_known_at(known_at)
    scope = period_scope(scope_of(known, None, None, issue, important), by, period)
    line = line_of(runtime, code, include)
    ranked = closest(sql, line, scope, exclude=[party for party, _ in line])
    return {"party": line[0][0], "by": by, "period": period, **_echo(include, scope, known), "min_joint": min_joint,
            "parties": [r for r in ranked if r["joint"] >= min_joint],
            "too_few": [r for r in ranked if r["joint"] < min_joint]}
