"""Retractions: corrections of the record that leave the corrected act in the log, marked."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, RuntimeDep, idempotency_for, require_writer
from api.receipts import answer
from api.schemas import RetractionCreate, WriteReceipt

router = APIRouter(prefix="/v1", tags=["statements and retractions"], dependencies=[Depends(require_writer)])


@router.post("/retractions", status_code=201, response_model=WriteReceipt, responses={202: {"model": WriteReceipt}})
def create_retraction(
    body: RetractionCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Retract an earlier act or statement by its event id; it stays in the log, marked, and no longer counts."""
    receipt = runtime.app.handle(body.command(), idempotency_for(key, request, body))
    return answer(runtime, receipt)
