"""Parties: the registry, and each party's stances and history in both times."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from api.answers import parse_at, parse_known_at
from api.bootstrap import Runtime
from api.deps import (
    AtQuery,
    ExplainQuery,
    FromQuery,
    KnownAtQuery,
    MinConfidenceQuery,
    ReadSql,
    RuntimeDep,
    ToQuery,
    encoded,
    require_reader,
    source_out,
)
from api.filters import checked_filters, date_range, party_in_path
from api.json_answers import through_model
from api.lean_routes import lean_get
from api.schemas import HistoryPublic, PartyPublic, StancesPublic
from domain.errors import InvalidInput
from domain.succession import Successions
from domain.values import Confidence, TimelineKind
from projections.analysis import explain as explain_chains
from projections.stance_history import stance_or_none, stances_of
from projections.store import Sql
from projections.timeline import party_history

router = APIRouter(prefix="/v1/parties", tags=["parties"], dependencies=[Depends(require_reader)])
Code = Annotated[str, Path(max_length=40, description="Party code, e.g. US, GB, EU", examples=["US"])]


def _public(party: Any, successions: Successions) -> dict[str, Any]:
    def link(other: str, s: Any) -> dict[str, Any]:
        return {"party": other, "on": s.on, "kind": s.kind, "note": s.note}

    return {
        "code": party.code, "name": party.name, "kind": party.kind, "official_name": party.official_name,
        "aliases": list(party.aliases), "until": max((end for _, end in party.periods if end), default=None),
        "predecessors": [link(s.predecessor, s) for s in successions.predecessors(party.code)],
        "successors": [link(s.successor, s) for s in successions.successors(party.code)],
    }


@router.get("", response_model=list[PartyPublic])
def parties(
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=100, description="Match code, name or alias")] = None,
    kind: Annotated[str | None, Query(max_length=40, description="state, former-state, or an organisation's kind")]
    = None,
) -> list[dict[str, Any]]:
    """The party registry: states from ISO 3166, organisations from the seed data."""
    needle = (q or "").strip().lower()
    found = []
    for party in runtime.parties:
        if kind and party.kind != kind:
            continue
        names = [party.code, party.name, party.official_name or "", *party.aliases]
        if needle and not any(needle in n.lower() for n in names):
            continue
        found.append(_public(party, runtime.parties.successions))
    return found


@router.get("/{code}", response_model=PartyPublic)
def party(code: Code, runtime: RuntimeDep) -> dict[str, Any]:
    """One party of the registry."""
    return _public(party_in_path(runtime, code), runtime.parties.successions)


def _stance_item(row: dict[str, Any]) -> dict[str, Any]:
    """One row as StanceItem answers it: its fields, in its order, its defaults filled."""
    return {
        "declaration_id": row["declaration_id"], "title": row["title"], "stance": row["stance"],
        "since": row["since"], "precision": row.get("precision"), "approximate": row.get("approximate", False),
        "confidence": row.get("confidence"), "event_id": row["event_id"], "position": row.get("position"),
        "sources": [source_out(s) for s in row["sources"]], "explanation": None,
    }


def _one_pair(code: str, runtime: Runtime, at: date | None, known_at: str | None, declaration: list[str] | None,
              min_confidence: Confidence, explain: bool) -> Response | None:
    """The one-pair question (`?declaration=` once, no explanation), the busiest, answered whole in one statement
    (a glance: on PostgreSQL half a reading's round trips; on SQLite run on the event loop, `lean_get`'s
    `at_once`); None for any other question."""
    if not declaration or len(declaration) != 1 or explain:
        return None
    party = party_in_path(runtime, code)
    at_s, known_s = parse_at(at), parse_known_at(known_at)
    with runtime.store.glance() as sql:
        row = _one_stance(sql, party.code, declaration[0], at_s, known_s, min_confidence)
    return encoded({"party": party.code, "at": at_s, "known_at": known_s, "stances": [_stance_item(row)]})


@lean_get(router, "/{code}/stances", response_model=StancesPublic, at_once=_one_pair)
def stances(
    code: Code,
    runtime: RuntimeDep,
    at: AtQuery = None,
    known_at: KnownAtQuery = None,
    declaration: Annotated[
        list[str] | None,
        Query(max_length=100, description="Only these declarations; each is answered even when the stance is none"),
    ] = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW,
    explain: ExplainQuery = False,
) -> Response:
    """The party's stance on each declaration at `at`, as the record stood at `known_at`."""
    one = _one_pair(code, runtime, at, known_at, declaration, min_confidence, explain)
    if one is not None:
        return one
    party = party_in_path(runtime, code)
    at_s, known_s = parse_at(at), parse_known_at(known_at)
    body = {"party": party.code, "at": at_s, "known_at": known_s}
    # The reading is opened here rather than by the ReadSql dependency: a generator dependency costs
    # two more trips through the thread pool per request, on the busiest read of the API.
    with runtime.store.reading() as sql:
        if declaration:
            found = [_one_stance(sql, party.code, declaration_id, at_s, known_s, min_confidence)
                     for declaration_id in checked_filters(runtime, sql, declarations=declaration).declarations]
        else:
            found = stances_of(sql, party.code, at_s, known_s, min_confidence)
        if explain:
            chains = explain_chains(sql, party=party.code, at=at_s, known_at=known_s, min_confidence=min_confidence)
    if explain:
        # Rare, and each explanation is a nest of models: validated and encoded by the model, as FastAPI would.
        return through_model(StancesPublic, {**body, "stances": [
            {**row, "explanation": chains.get((party.code, row["declaration_id"]), [])} for row in found]})
    return encoded({**body, "stances": [_stance_item(row) for row in found]})


def _one_stance(sql: Sql, party: str, declaration_id: str, at: str, known_at: str,
                min_confidence: str) -> dict[str, Any]:
    """The pair's stance, `none` on a known declaration; 422 naming the declaration the store does not know."""
    row = stance_or_none(sql, party, declaration_id, at, known_at, min_confidence)
    if row is None:
        raise InvalidInput(f"unknown declaration {declaration_id!r}", field="declaration")
    return row


@router.get("/{code}/history", response_model=HistoryPublic)
def history(
    code: Code,
    runtime: RuntimeDep,
    sql: ReadSql,
    known_at: KnownAtQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    kind: Annotated[list[TimelineKind] | None, Query(max_length=10, description="Only entries of these kinds "
                                                     "(a state's votes in roll calls are `vote`)")] = None,
) -> dict[str, Any]:
    """Everything the party did, said, voted or hosted, in valid-time order, with the stance each act set."""
    party = party_in_path(runtime, code)
    known_s = parse_known_at(known_at)
    first, last = date_range(date_from, date_to)
    entries = party_history(sql, party.code, known_at=known_s, date_from=first, date_to=last, kinds=list(kind or ()))
    return {"party": party.code, "known_at": known_s, "entries": entries}

