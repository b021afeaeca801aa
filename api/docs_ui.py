"""`/docs`: Swagger UI from the bundled, pinned copy in `api/static/swagger-ui`, under a Content-Security-Policy.

FastAPI's own `/docs` loads Swagger UI from a CDN at a floating version, with no integrity check, and starts
it with an inline script: the page is blank offline, and a token typed into it is within reach of third-party
script. Here every asset comes from this server, and the policy allows nothing else.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

SWAGGER_UI_VERSION = "5.36.0"
ASSETS = Path(__file__).resolve().parent / "static" / "swagger-ui"
# What /docs/assets/ serves: the files the page names, nothing else of the folder.
SERVED = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "docs-init.js": "text/javascript; charset=utf-8", "favicon-32x32.png": "image/png"}

# Swagger UI styles elements inline and draws some icons as data: images; it needs nothing from elsewhere.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": DOCS_POLICY, "Cache-Control": "no-cache"}
# The version is in the URL, so a new bundle is never read from an old cache.
ASSET_HEADERS = {"Cache-Control": "public, max-age=86400"}


def page(root_path: str) -> str:
    """The docs page, its assets and the OpenAPI document named under the path a proxy serves the API at
    (`diplo serve --root-path`): names from `/` would miss the proxy's prefix."""
    root = html.escape(root_path.rstrip("/"), quote=True)
    assets = f"{root}/docs/assets/{SWAGGER_UI_VERSION}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diplomatic Timeline - API documentation</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{root}/openapi.json"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/docs-init.js"></script>
</body>
</html>
"""


router = APIRouter(tags=["documentation"], include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI for /openapi.json, every asset served by this server."""
    return HTMLResponse(page(request.scope.get("root_path", "")), headers=PAGE_HEADERS)


@router.get("/docs/assets/{version}/{name}", response_model=None)
def docs_asset(version: Annotated[str, PathParam(max_length=20)],
               name: Annotated[str, PathParam(max_length=60)]) -> Response:
    """One file of the bundled Swagger UI."""
    media = SERVED.get(name)
    if version != SWAGGER_UI_VERSION or media is None:
        raise HTTPException(404, f"no documentation asset {version}/{name}")
    return FileResponse(ASSETS / name, media_type=media, headers=ASSET_HEADERS)
