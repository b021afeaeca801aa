"""Large answers sent as JSON straight from the read model's dicts, without a second pass through their model.

FastAPI validates a route's return value against its `response_model` and then serialises it: for one roll call
(190 votes, each with its id and sources, about 100 KB) that pass cost more than reading the answer from the store.
Such a route still declares its model (the OpenAPI document, the page's generated types) and returns `as_json`;
tests/api/test_rollcalls.py checks that what is sent is exactly what the model would have sent.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel


def as_json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def through_model(model: type[BaseModel], body: dict[str, Any]) -> Response:
    """What FastAPI would send for `body` under `response_model=model` (validated, then encoded by alias), for a
    route that must answer a Response itself (a lean route, api/lean_routes.py) on a rarer branch."""
    return Response(model.model_validate(body).model_dump_json(by_alias=True), media_type="application/json")
