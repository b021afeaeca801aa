"""Summits: record one held, list them, read one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, ReadSql, RuntimeDep, idempotency_for, require_reader, require_writer
from api.receipts import answer
from api.schemas import SummitCreate, SummitPublic, WriteReceipt
from domain.errors import NotFound
from projections.catalogue import get_summit, list_declarations, list_summits

router = APIRouter(prefix="/v1/summits", tags=["summits"])
SummitId = Annotated[str, Path(max_length=100, examples=["paris-2025"])]


@router.post("", status_code=201, response_model=WriteReceipt, dependencies=[Depends(require_writer)],
             responses={202: {"model": WriteReceipt}})
def create_summit(
    body: SummitCreate, runtime: RuntimeDep, request: Request, key: IdempotencyKey = None
) -> JSONResponse:
    """Record that a summit was held."""
    receipt = runtime.app.handle(body.command(), idempotency_for(key, request, body))
    return answer(runtime, receipt, f"/v1/summits/{body.id}")


def _with_declarations(sql: ReadSql, summit: dict[str, Any]) -> dict[str, Any]:
    return {**summit, "declarations": [d["id"] for d in list_declarations(sql, summit["id"])]}


@router.get("", response_model=list[SummitPublic], dependencies=[Depends(require_reader)])
def summits(sql: ReadSql) -> list[dict[str, Any]]:
    """Every summit, in date order, with its declarations."""
    return [_with_declarations(sql, s) for s in list_summits(sql)]


@router.get("/{summit_id}", response_model=SummitPublic, dependencies=[Depends(require_reader)])
def summit(summit_id: SummitId, sql: ReadSql) -> dict[str, Any]:
    """One summit, with its hosts, sources and declarations."""
    found = get_summit(sql, summit_id)
    if found is None:
        raise NotFound(f"unknown summit {summit_id!r}", field="summit_id")
    return _with_declarations(sql, found)
