"""How every write answers: after the read models show it (201), or with its position if not yet (202)."""

from __future__ import annotations

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.bootstrap import Runtime
from api.metrics import process_metrics
from api.schemas import WriteReceipt
from domain.service import Receipt
from projections.event_log import find_event


def answer(runtime: Runtime, receipt: Receipt, location: str | None = None) -> JSONResponse:
    position, wait_for = receipt.position, receipt.last_position
    if receipt.replayed:
        # The first answer's position lives in the log; the read models may still be catching up to it.
        reached = runtime.projector.wait_for(runtime.projector.head(), runtime.settings.write_wait_seconds)
        with runtime.store.reading() as sql:
            found = find_event(sql, str(receipt.carrier_id or receipt.event_id))
        position = found["position"] if found else None
    else:
        reached = runtime.projector.wait_for(wait_for or 0, runtime.settings.write_wait_seconds)
    body = WriteReceipt(
        event_id=receipt.event_id,
        position=position,
        kind=receipt.kind,
        status="applied" if reached else "pending",
        replayed=receipt.replayed,
        **{k: v for k, v in receipt.subject.items() if k in WriteReceipt.model_fields},
    )
    process_metrics().write(receipt.kind, applied=reached, replayed=receipt.replayed)
    headers = {"Location": location} if location else {}
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(jsonable_encoder(body), status_code=201 if reached else 202, headers=headers)
