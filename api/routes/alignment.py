"""How states align in roll calls: vote shares, agreement between two states, the closest and farthest parties,
and the roll calls behind any of these figures (docs/votes.md, "How states align")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.alignment_answers import (
    MIN_JOINT,
    Filters,
    answer_agreement,
    answer_closest,
    answer_joint_rollcalls,
    answer_vote_share,
)
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
from api.deps import FromQuery, KnownAtQuery, ReadSql, RuntimeDep, ToQuery, require_reader
from api.routes.votes import Code, IncludeQuery, IssueQuery
from domain.values import Period

router = APIRouter(prefix="/v1", tags=["votes"], dependencies=[Depends(require_reader)])

PartyQuery = Annotated[str, Query(min_length=1, max_length=40, description="A party's code, e.g. US, IN, RU")]
ByQuery = Annotated[Period, Query(description="Group by calendar year, session of the Assembly, or decade")]
ImportantQuery = Annotated[bool | None, Query(
    description="Only roll calls classified important (true; the US State Department's list) or not (false)")]
DEFINITIONS = f"`joint`: {JOINT}. `identical`: {IDENTICAL}. `agreement`: {AGREEMENT}. `kappa`: {KAPPA}."


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
    filters = Filters(parse_known_at(known_at), date_from, date_to, issue, important, tuple(include or ()))
    return answer_agreement(runtime, sql, a, b, by, filters)


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
    filters = Filters(parse_known_at(known_at), date_from, date_to, issue, important, tuple(include or ()))
    return answer_joint_rollcalls(runtime, sql, a, b, by, period, filters, limit=limit, cursor=cursor)


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
    filters = Filters(parse_known_at(known_at), date_from, date_to, issue, important, tuple(include or ()))
    return answer_vote_share(runtime, sql, code, by, filters)


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
    filters = Filters(parse_known_at(known_at), issue=issue, important=important, include=tuple(include or ()))
    return answer_closest(runtime, sql, code, by, period, filters, min_joint)
