"""The web page: the built front-end (`web/dist`, made by `make web`) at `/` with its assets, and, when it has
not been built, a small page at `/` that says how to build it. The API answers the same either way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(tags=["web page"], include_in_schema=False)

# Nothing is loaded from anywhere but this server: no CDN, no font service. Inline style attributes position
# the spans on the party view's time axis.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}

NOT_BUILT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diplomatic Timeline: the web page is not built yet</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
pre{background:#f3f5f7;padding:.8rem;border-radius:4px;overflow:auto}</style>
</head>
<body>
<main>
<h1>Diplomatic Timeline</h1>
<p>The API is running, but its web page has not been built on this machine.</p>
<p>Building it needs <strong>Node.js 20.19 or newer</strong> with npm (from your package manager or
<a href="https://nodejs.org/en/download">nodejs.org</a>). Then, in the repository:</p>
<pre>make web        # the same as: cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>and reload this page; <code>make run</code> builds it by itself once <code>npm</code> is found.</p>
<p>Meanwhile the API answers: <a href="/docs">its documentation</a>, <a href="/v1/declarations">the declarations</a>,
<a href="/v1/timeline">the timeline</a>, <a href="/healthz">health</a>.</p>
</main>
</body>
</html>
"""


# An installed wheel carries the page built when the wheel was made (setup.py); a checkout has web/dist.
PACKAGED = Path(__file__).resolve().parents[1] / "web_dist"
CHECKOUT = Path(__file__).resolve().parents[2] / "web" / "dist"


def dist_dir() -> Path:
    """Where the built page is: DIPLO_WEB_DIST, else the wheel's copy, else web/dist beside the api package."""
    override = os.environ.get("DIPLO_WEB_DIST")
    if override:
        return Path(override)
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


def _inside(folder: Path, relative: str) -> Path | None:
    """The file `relative` under `folder`, or None if there is none or the path would leave the folder."""
    try:
        root = folder.resolve()
        found = (root / relative).resolve()
    except (OSError, ValueError):
        return None
    return found if found.is_relative_to(root) and found.is_file() else None


@router.api_route("/", methods=["GET", "HEAD"], response_model=None)
@router.api_route("/index.html", methods=["GET", "HEAD"], response_model=None)
def page() -> Response:
    """The page, or how to build it."""
    index = dist_dir() / "index.html"
    if index.is_file():
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
    # Its own policy: the answers' default (default-src 'none') would refuse the page's inline style.
    return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-cache", "Content-Security-Policy":
                                            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"})


@router.api_route("/assets/{name:path}", methods=["GET", "HEAD"], response_model=None)
def asset(name: Annotated[str, PathParam(max_length=300)]) -> Response:
    """The page's scripts, styles and map shapes; their names change with their content, so they keep."""
    found = _inside(dist_dir() / "assets", name)
    if found is None:
        raise HTTPException(404, f"no asset {name!r}")
    return FileResponse(found, headers=ASSET_HEADERS)


@router.api_route("/favicon.svg", methods=["GET", "HEAD"], response_model=None)
def favicon() -> Response:
    found = _inside(dist_dir(), "favicon.svg")
    if found is None:
        raise HTTPException(404, "no favicon")
    return FileResponse(found, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
