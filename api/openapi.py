"""The OpenAPI document, finished: valid OpenAPI 3.1 (checked by openapi-spec-validator in the tests), short
operation ids, and the bearer tokens declared as a security scheme."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

BEARER = "bearer"


def operation_id(route: APIRoute) -> str:
    """The route function's name (create_summit, stances), unique across the API."""
    return route.name


def _stream_as_text(operation: dict[str, Any]) -> None:
    """A text/event-stream answer is text in OpenAPI 3.1: `itemSchema` (the shape of each message) is 3.2's, so
    it moves to an extension, where a reader still finds it."""
    for response in operation.get("responses", {}).values():
        media = response.get("content", {}).get("text/event-stream")
        if media is not None and "itemSchema" in media:
            media["x-itemSchema"] = media.pop("itemSchema")
            media["schema"] = {"type": "string"}


def finish(schema: dict[str, Any]) -> None:
    """Declares the bearer scheme (writes need it; reads only on a server with DIPLO_READ_TOKENS) and makes the
    document valid 3.1."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer",
        "description": "A token of DIPLO_WRITE_TOKENS for writes; of DIPLO_READ_TOKENS (or a writer's) for reads "
                       "when that is set, else reads are open",
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _stream_as_text(operation)
            if not path.startswith("/v1/"):
                continue
            writes = method in ("post", "put", "patch", "delete")
            operation["security"] = [{BEARER: []}] if writes else [{}, {BEARER: []}]


def document(app: FastAPI) -> None:
    """Finishes the app's OpenAPI document when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        finish(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def dump() -> str:
    """The document as the page's types are generated from it (web/openapi.json): sorted keys, two-space indent."""
    import json

    from api.app import create_app
    from api.settings import Settings

    return json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    # python -m api.openapi > web/openapi.json; then `cd web && npm run types` makes src/generated/api.ts.
    import sys

    sys.stdout.write(dump())
