"""Probes for an orchestrator: /livez (the process answers) and /readyz (it can answer reads that are current)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import RuntimeDep
from api.errors import problem

router = APIRouter(tags=["health"])


class LiveOut(BaseModel):
    status: str = Field(examples=["ok"])


class ReadyOut(BaseModel):
    status: str = Field(examples=["ready"])
    head: int = Field(description="The last position in the event log")
    lag: int = Field(description="How far the furthest-behind read model is behind the head")
    max_lag: int | None = Field(description="DIPLO_READY_MAX_LAG: the lag past which this answers 503 (null: any)")


@router.get("/livez", response_model=LiveOut)
async def livez() -> dict[str, str]:
    """200 while the process answers at all; asks nothing of the store (restart the process when this fails)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 when the store answers and every read model is within DIPLO_READY_MAX_LAG events of the log; 503 (a
    problem naming what is wrong) otherwise: send this process no traffic meanwhile."""
    limit = runtime.settings.ready_max_lag
    try:
        head = runtime.projector.head()
        positions = runtime.projector.positions()
    except Exception as error:  # any failure to reach a store is exactly what this reports
        return problem(503, f"the store does not answer ({type(error).__name__})", headers={"Retry-After": "2"},
                       ready=False, max_lag=limit)
    lags = {name: head - position for name, position in positions.items()}
    behind = {name: lag for name, lag in lags.items() if limit is not None and lag > limit}
    if behind:
        named = ", ".join(f"{name} by {lag}" for name, lag in sorted(behind.items()))
        return problem(503, f"read models are behind the log by more than {limit} events: {named}",
                       headers={"Retry-After": "2"}, ready=False, head=head, lags=lags, max_lag=limit)
    return JSONResponse({"status": "ready", "head": head, "lag": max(lags.values(), default=0), "max_lag": limit})
