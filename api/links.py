"""OpenAPI links: what a client can do next with what a write answered (OpenAPI 3 `links`).

They tell a reader that the `event_id` of an act is what a retraction names, and let schemathesis walk
the API statefully (publish a declaration, act on it, retract the act, read the signatories).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

# (method, path) of a write -> name -> (method, path) of what follows, its parameters, its body
Follow = tuple[str, str, dict[str, str], dict[str, str] | None]
ACTS = "/v1/declarations/{declaration_id}/acts"
LINKS: dict[tuple[str, str], dict[str, Follow]] = {
    ("post", "/v1/summits"): {
        "GetSummit": ("get", "/v1/summits/{summit_id}", {"summit_id": "$request.body#/id"}, None),
        "PublishDeclarationAtSummit": ("post", "/v1/declarations", {}, {"summit_id": "$request.body#/id"}),
    },
    ("post", "/v1/declarations"): {
        "GetDeclaration": ("get", "/v1/declarations/{declaration_id}", {"declaration_id": "$request.body#/id"},
                           None),
        "RecordAct": ("post", ACTS, {"declaration_id": "$request.body#/id"}, None),
        "GetSignatories": ("get", "/v1/declarations/{declaration_id}/signatories",
                           {"declaration_id": "$request.body#/id"}, None),
    },
    ("post", ACTS): {
        "RetractAct": ("post", "/v1/retractions", {}, {"event_id": "$response.body#/event_id"}),
        "RecordAnotherAct": ("post", ACTS, {"declaration_id": "$request.path.declaration_id"}, None),
        "GetPartyStances": ("get", "/v1/parties/{code}/stances", {"code": "$request.body#/party"}, None),
        "GetPartyHistory": ("get", "/v1/parties/{code}/history", {"code": "$request.body#/party"}, None),
        "GetSignatories": ("get", "/v1/declarations/{declaration_id}/signatories",
                           {"declaration_id": "$request.path.declaration_id"}, None),
    },
    ("post", "/v1/statements"): {
        "RetractStatement": ("post", "/v1/retractions", {}, {"event_id": "$response.body#/event_id"}),
        "GetPartyHistory": ("get", "/v1/parties/{code}/history", {"code": "$request.body#/party"}, None),
    },
}


def add_links(schema: dict[str, Any]) -> None:
    """Adds LINKS to the 201 answers of the writes, naming their targets by operationId."""
    paths = schema.get("paths", {})
    for (method, path), links in LINKS.items():
        created = paths.get(path, {}).get(method, {}).get("responses", {}).get("201")
        if created is None:
            continue
        for name, (target_method, target_path, parameters, body) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None or "operationId" not in target:
                continue  # a route that is not there: no link to it
            link: dict[str, Any] = {"operationId": target["operationId"]}
            if parameters:
                link["parameters"] = parameters
            if body:
                link["requestBody"] = body
            created.setdefault("links", {})[name] = link


def document_links(app: FastAPI) -> None:
    """Adds the links to the app's OpenAPI document when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
