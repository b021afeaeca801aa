"""Statements and retractions: words said, and corrections of the record."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, RuntimeDep, idempotency_for, require_writer
from api.receipts import answer
from api.schemas import RetractionCreate, StatementCreate, WriteReceipt

router = APIRouter(prefix="/v1", tags=["statements and retractions"], dependencies=[Depends(require_writer)])


@router.post("/statements", status_code=201, response_model=WriteReceipt, responses={202: {"model": WriteReceipt}})
def create_statement(
    body: StatementCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Record words a party said; a statement never changes a formal stance."""
    receipt = runtime.app.record_statement(
        party=body.party, speaker=body.speaker, occurred_on=body.occurred_on, precision=body.precision,
        text=body.text, about=body.about, position=body.position, note=body.note,
        sources=[s.to_domain() for s in body.sources], confidence=body.confidence,
        idempotency=idempotency_for(key, request, body),
    )
    return answer(runtime, receipt, f"/v1/parties/{receipt.subject['party']}/history")


@router.post("/retractions", status_code=201, response_model=WriteReceipt, responses={202: {"model": WriteReceipt}})
def create_retraction(
    body: RetractionCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Retract an earlier act or statement by its event id; it stays in the log, marked, and no longer counts."""
    receipt = runtime.app.retract(
        event_id=body.event_id, reason=body.reason, sources=[s.to_domain() for s in body.sources],
        idempotency=idempotency_for(key, request, body),
    )
    return answer(runtime, receipt)
