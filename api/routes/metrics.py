"""GET /metrics: the Prometheus text format (or OpenMetrics, when the scraper asks for it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from prometheus_client import exposition

from api.deps import UNAUTHORIZED, AuthorizationHeader, RuntimeDep, _known, _token
from api.errors import PROBLEM, PROBLEM_ANSWERS
from api.metrics import StoreCollector, allowed_tokens, scrape_registry
from api.openapi import BEARER

router = APIRouter(tags=["health"])


async def require_scraper(runtime: RuntimeDep, authorization: AuthorizationHeader = None) -> None:
    """DIPLO_METRICS_TOKENS when set; otherwise /metrics is guarded exactly like reads."""
    settings = runtime.settings
    allowed = allowed_tokens(settings.metrics_token_list, settings.read_token_list, runtime.write_tokens)
    if allowed is not None and not _known(_token(authorization), allowed):
        raise HTTPException(401, "/metrics needs 'Authorization: Bearer <token>' on this server", headers=UNAUTHORIZED)


@router.get(
    "/metrics",
    dependencies=[Depends(require_scraper)],
    response_class=Response,
    openapi_extra={"security": [{}, {BEARER: []}]},  # open, or a token (DIPLO_METRICS_TOKENS or a reader's)
    responses={
        200: {"description": "Prometheus text format 0.0.4 (OpenMetrics when asked for in Accept)",
              "content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {"description": PROBLEM_ANSWERS[401],
              "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}},
    },
)
def metrics(runtime: RuntimeDep, request: Request) -> Response:
    """Requests, writes, streams and projector pages of this server (every worker's), and what the store says:
    the head of the log, each read model's position and lag, the last `diplo verify`."""
    encoder, content_type = exposition.choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(scrape_registry(StoreCollector.of(runtime))), headers={"Content-Type": content_type})
