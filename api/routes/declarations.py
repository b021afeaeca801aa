"""Declarations: publish one, record acts on it, and ask who stood where on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from api.answers import parse_at, parse_known_at
from api.deps import (
    AtQuery,
    ExplainQuery,
    IdempotencyKey,
    KnownAtQuery,
    MinConfidenceQuery,
    ReadSql,
    RuntimeDep,
    echo_times,
    encoded,
    idempotency_for,
    require_reader,
    require_writer,
    source_out,
)
from api.json_answers import through_model
from api.lean_routes import lean_get
from api.receipts import answer
from api.schemas import ActCreate, DeclarationCreate, DeclarationPublic, SignatoriesPublic, WriteReceipt
from domain.errors import NotFound
from domain.values import ActKind, Confidence
from projections.analysis import explain as explain_chains
from projections.catalogue import get_declaration, get_summit, list_declarations
from projections.stance_history import signatories, stance_counts
from projections.store import Sql

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])
DeclarationId = Annotated[str, Path(max_length=100, examples=["paris-statement"])]


@router.post("", status_code=201, response_model=WriteReceipt, dependencies=[Depends(require_writer)],
             responses={202: {"model": WriteReceipt}})
def create_declaration(
    body: DeclarationCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Record that a declaration was published (opened for signature)."""
    receipt = runtime.app.handle(body.command(), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/declarations/{body.id}")


@router.post("/{declaration_id}/acts", status_code=201, response_model=WriteReceipt,
             dependencies=[Depends(require_writer)], responses={202: {"model": WriteReceipt}})
def record_act(
    declaration_id: DeclarationId, body: ActCreate, runtime: RuntimeDep, request: Request,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Record that a party signed, declined or withdrew; checked against the stance rules at its date."""
    receipt = runtime.app.handle(body.command(declaration_id), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/declarations/{declaration_id}/signatories")


def _public(sql: Sql, row: dict[str, Any], counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    summit = get_summit(sql, row["summit_id"]) if row["summit_id"] else None
    return {
        **row,
        "summit": {"id": summit["id"], "name": summit["name"]} if summit else None,
        "counts": counts.get(row["id"], dict.fromkeys(map(str, ActKind), 0)),
    }


@router.get("", response_model=list[DeclarationPublic], dependencies=[Depends(require_reader)])
def declarations(sql: ReadSql, response: Response, at: AtQuery = None, known_at: KnownAtQuery = None
                 ) -> list[dict[str, Any]]:
    """Every declaration, with its summit and how many parties signed, declined and withdrew."""
    known_s = parse_known_at(known_at)
    echo_times(response, parse_at(at), known_s)
    counts = stance_counts(sql, parse_at(at), known_s)
    return [_public(sql, row, counts) for row in list_declarations(sql, known_at=known_s)]


def _require(sql: Sql, declaration_id: str, known_at: str | None = None) -> dict[str, Any]:
    row = get_declaration(sql, declaration_id, known_at)
    if row is None:
        when = f" as recorded by {known_at}" if known_at else ""
        raise NotFound(f"unknown declaration {declaration_id!r}{when}", field="declaration_id")
    return row


@router.get("/{declaration_id}", response_model=DeclarationPublic, dependencies=[Depends(require_reader)])
def declaration(
    declaration_id: DeclarationId, sql: ReadSql, response: Response, at: AtQuery = None,
    known_at: KnownAtQuery = None,
) -> dict[str, Any]:
    """One declaration, with its summit, sources and counts."""
    known_s = parse_known_at(known_at)
    echo_times(response, parse_at(at), known_s)
    row = _require(sql, declaration_id, known_s)
    return _public(sql, row, stance_counts(sql, parse_at(at), known_s))


def _signatory_item(row: dict[str, Any]) -> dict[str, Any]:
    """One row as SignatoryItem answers it: its fields, in its order."""
    return {
        "party": row["party"], "since": row["since"], "precision": row["precision"],
        "approximate": row["approximate"], "confidence": row["confidence"], "event_id": row["event_id"],
        "position": row["position"], "sources": [source_out(s) for s in row["sources"]], "explanation": None,
    }


@lean_get(router, "/{declaration_id}/signatories", response_model=SignatoriesPublic,
          dependencies=[Depends(require_reader)])
def declaration_signatories(
    declaration_id: DeclarationId, runtime: RuntimeDep, at: AtQuery = None, known_at: KnownAtQuery = None,
    min_confidence: MinConfidenceQuery = Confidence.LOW, explain: ExplainQuery = False,
) -> Response:
    """Who had signed, declined or withdrawn at `at`, as the record stood at `known_at`."""
    at_s, known_s = parse_at(at), parse_known_at(known_at)
    # Opened here, not by the ReadSql dependency: that costs two more trips through the thread pool.
    with runtime.store.reading() as sql:
        _require(sql, declaration_id)
        chains = (explain_chains(sql, declaration_id=declaration_id, at=at_s, known_at=known_s,
                                 min_confidence=min_confidence) if explain else None)
        rows = signatories(sql, declaration_id, at_s, known_s, min_confidence)
    grouped: dict[str, list[dict[str, Any]]] = {str(k): [] for k in ActKind}
    if chains is not None:
        # Rare, and each explanation is a nest of models: validated and encoded by the model, as FastAPI would.
        for row in rows:
            grouped[row["stance"]].append({**row, "explanation": chains.get((row["party"], declaration_id), [])})
        return through_model(SignatoriesPublic, {"declaration_id": declaration_id, "at": at_s, "known_at": known_s,
                                                 **grouped})
    for row in rows:
        grouped[row["stance"]].append(_signatory_item(row))
    return encoded({"declaration_id": declaration_id, "at": at_s, "known_at": known_s, **grouped})
