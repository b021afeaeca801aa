"""Is the store answering, and how far behind the log is each read model?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.bootstrap import Runtime
from api.deps import RuntimeDep
from api.errors import problem

router = APIRouter(tags=["health"])


def status(runtime: Runtime) -> dict[str, Any]:
    """Each read model's position against the head of the log; raises when a store does not answer."""
    head = runtime.projector.head()
    positions = runtime.projector.positions()
    position = min(positions.values())
    chain_head = getattr(runtime.app.recorder, "chain_head", None)  # the hash-chained recorders (storage/)
    link = chain_head() if chain_head is not None else None
    return {
        "status": "ok",
        "store": "up",
        "head": head,
        "position": position,
        "lag": head - position,
        "projector": runtime.settings.projector,
        "read_models": {name: {"position": p, "lag": head - p} for name, p in positions.items()},
        "chain": {"position": link[0], "hash": link[1].hex()} if link else None,
    }


@router.get("/healthz")
def healthz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """200 when the event store and the read models answer, 503 when they do not; with each read model's lag."""
    try:
        body = status(runtime)
    except Exception as error:  # any failure to reach a store is exactly what this reports
        # A problem like every other error answer (its 503 is documented with them, by errors.py).
        return problem(503, f"the store does not answer ({type(error).__name__}); try again shortly",
                       headers={"Retry-After": "2"}, store="down")
    hub = getattr(request.app.state, "stream_hub", None)
    if hub is not None:
        body["stream"] = {"subscribers": len(hub.subscribers), "closed_slow": hub.closed_slow,
                          "follower_position": runtime.follower.position}
    return JSONResponse(body)
