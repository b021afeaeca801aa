"""Is the store answering, and how far behind the log are the read models?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "the store does not answer"}})
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """200 when the event store and the read models answer, 503 when they do not."""
    try:
        head = runtime.projector.head()
        position = runtime.projector.position()
    except Exception as error:  # any failure to reach a store is exactly what this reports
        return JSONResponse({"status": "unavailable", "store": "down", "detail": type(error).__name__},
                            status_code=503)
    return JSONResponse({"status": "ok", "store": "up", "head": head, "position": position, "lag": head - position})
