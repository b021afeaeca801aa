"""Is the store answering, and how far behind the log is each read model?"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.answers import status
from api.deps import RuntimeDep
from api.errors import problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """200 when the event store and the read models answer, 503 when they do not; with each read model's lag."""
    try:
        body = status(runtime)
    except Exception as error:  # any failure to reach a store is exactly what this reports
        # A problem like every other error answer (its 503 is documented with them, by errors.py).
        return problem(503, f"the store does not answer ({type(error).__name__}); try again shortly",
                       headers={"Retry-After": "2"}, store="down")
    guard = getattr(request.app.state, "chain_guard", None)
    if guard is not None:
        body["chain_check"] = check = guard.status()
        if check["state"] == "broken":
            body["status"] = "degraded"  # reads answer; writes are refused, and chain_check says why
    answers = getattr(request.app.state, "open_answers", None)
    if answers is not None:
        body["limits"] = answers.status()
    hub = getattr(request.app.state, "stream_hub", None)
    if hub is not None:
        body["stream"] = {"subscribers": len(hub.subscribers), "closed_slow": hub.closed_slow,
                          "follower_position": runtime.follower.position}
    return JSONResponse(body)
