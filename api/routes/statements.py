"""Statements: words a party said, recorded beside its formal acts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, RuntimeDep, idempotency_for, require_writer
from api.receipts import answer
from api.schemas import StatementCreate, WriteReceipt

router = APIRouter(prefix="/v1", tags=["statements and retractions"], dependencies=[Depends(require_writer)])


@router.post("/statements", status_code=201, response_model=WriteReceipt, responses={202: {"model": WriteReceipt}})
def create_statement(
    body: StatementCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Record words a party said; a statement never changes a formal stance."""
    receipt = runtime.app.handle(body.command(), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/parties/{receipt.subject['party']}/history")
