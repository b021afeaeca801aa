"""Lean read routes: the busiest GETs, with their parameters taken in one precompiled pass.

FastAPI solves a route's dependencies afresh on every request: for each parameter it works out again whether
its type is a sequence, which aliases it has, whether it is a model; for each dependency its cache key and
scopes. On the one-pair stance and the one roll call that is most of the time a request spends in Python
(profiles in docs/benchmarks.md, "HTTP reads"). A `LeanRoute` is an ordinary `APIRoute` (same path, same
OpenAPI operation, same response model in the document, same exception handling around it) whose handler
works out those facts once, when the app is built, and on each request only

1. runs the route's dependencies, each of which must take the request alone (`async def guard(request)`:
   refuse_nul, refuse_duplicate_keys, require_reader, get_runtime), in FastAPI's order, once each;
2. validates each path and query parameter with FastAPI's own field (the same pydantic validator, default
   and alias), values taken from the request as FastAPI takes them;
3. calls the endpoint (a plain `def` in the thread pool, as FastAPI does), which must answer a `Response`; or,
   where the store's reads are a local file's (`ViewStore.reads_at_once`: SQLite), first the route's `at_once`
   fast path on the event loop itself — the one-pair question, a kept roll call — which answers or says None.
   Measured under wrk, a thread-pool trip's hand-overs of the GIL cost more than such a read (docs/benchmarks.md).

`DIPLO_LEAN_ROUTES=false` (the app's `state.lean_routes`) serves them all through FastAPI's standard handler.
Anything it cannot take the lean way — a parameter that does not validate, a missing required one — goes to
FastAPI's own handler, so every refusal is exactly FastAPI's 422. A route that asks for more than this (a body,
a header parameter, a dependency with parameters of its own) is refused when the app is built, not served
differently at run time. tests/api/test_lean_routes.py sends the same requests to the lean and the standard
handler and compares the answers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from copy import deepcopy
from typing import Any, TypeVar

from fastapi import APIRouter, Response
from fastapi._compat import field_annotation_is_sequence
from fastapi.routing import APIRoute
from pydantic.fields import FieldInfo
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

try:  # FastAPI 0.16x builds an included route's handler with the inclusion's view (the app's dependencies too)
    from fastapi.routing import _effective_route_context_var
except ImportError:  # older FastAPI copies included routes, each with every dependency of its own
    _effective_route_context_var = None  # type: ignore[assignment]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

# FastAPI's marker for a value absent from the request.
_MISSING = object()


class LeanRouteError(TypeError):
    """A route declared lean asks for something the lean handler does not do."""


class _Param:
    """One path or query parameter, with what FastAPI would work out about it on every request."""

    __slots__ = ("alias", "field", "location", "name", "required", "sequence")

    def __init__(self, field: Any, location: str) -> None:
        if field.validation_alias is not None:
            raise LeanRouteError(f"parameter {field.name!r}: a validation alias is not taken the lean way")
        info: FieldInfo = field.field_info
        self.field = field
        self.name: str = field.name
        self.alias: str = field.alias
        self.location = location
        self.sequence = location == "query" and bool(field_annotation_is_sequence(info.annotation))
        self.required = info.is_required()

    def raw(self, request: Request) -> Any:
        if self.location == "path":
            return request.path_params.get(self.alias, _MISSING)
        query = request.query_params
        if self.sequence:
            values = query.getlist(self.alias)
            return values if values else _MISSING
        return query.get(self.alias, _MISSING)

    def value(self, request: Request) -> tuple[Any, bool]:
        """(the validated value, True), or (None, False) when FastAPI must answer this request."""
        raw = self.raw(request)
        if raw is _MISSING:
            if self.required:
                return None, False
            default = deepcopy(self.field.default)
            if not self.field.field_info.validate_default:
                return default, True
            raw = default
        value, errors = self.field.validate(raw, {}, loc=(self.location, self.alias))
        return (None, False) if errors else (value, True)


def _request_only(dependant: Any) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """The dependency's function, when it takes the request alone and is a coroutine function."""
    call = dependant.call
    simple = (dependant.request_param_name is not None and not dependant.dependencies
              and not (dependant.path_params or dependant.query_params or dependant.header_params
                       or dependant.cookie_params or dependant.body_params)
              and dependant.response_param_name is None and dependant.background_tasks_param_name is None
              and dependant.security_scopes_param_name is None and dependant.websocket_param_name is None
              and dependant.http_connection_param_name is None)
    if not simple or not inspect.iscoroutinefunction(call):
        raise LeanRouteError(f"dependency {getattr(call, '__name__', call)!r} must be `async def f(request)`")
    name = dependant.request_param_name

    async def run(request: Request) -> Any:
        return await call(**{name: request})

    return run


class LeanRoute(APIRoute):
    """An APIRoute whose handler takes its parameters in one precompiled pass (module docstring)."""

    def _effective(self) -> Any:
        """The route as its inclusion sees it, as FastAPI's own get_route_handler finds it: with the app's and
        the including router's dependencies (refuse_nul, ...), which the route object alone does not hold."""
        if _effective_route_context_var is not None:
            effective = _effective_route_context_var.get()
            if effective is not None and effective.original_route is self:
                return effective
        return self

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        dependant = self._effective().dependant
        if dependant.body_params or dependant.header_params or dependant.cookie_params:
            raise LeanRouteError(f"{self.path}: a lean route takes no body, header or cookie parameters")
        if (dependant.response_param_name or dependant.background_tasks_param_name
                or dependant.security_scopes_param_name or dependant.websocket_param_name):
            raise LeanRouteError(f"{self.path}: a lean route takes no Response, BackgroundTasks or scopes")
        if inspect.iscoroutinefunction(dependant.call):
            raise LeanRouteError(f"{self.path}: a lean route's endpoint is a plain `def`, run in the thread pool")
        # FastAPI's order: the app's, the router's and the route's dependencies, then the parameters' own.
        guards = [(sub.name, sub.call, _request_only(sub)) for sub in dependant.dependencies]
        params = ([_Param(f, "path") for f in dependant.path_params]
                  + [_Param(f, "query") for f in dependant.query_params])
        request_name = dependant.request_param_name
        endpoint = dependant.call
        at_once = AT_ONCE.get(endpoint)
        path = self.path

        async def handler(request: Request) -> Response:
            if not getattr(request.app.state, "lean_routes", True):
                return await standard(request)  # DIPLO_LEAN_ROUTES=false
            kwargs: dict[str, Any] = {}
            for param in params:
                value, taken = param.value(request)
                if not taken:
                    return await standard(request)  # FastAPI's own answer: its 422, in its words
                kwargs[param.name] = value
            solved: dict[Any, Any] = {}
            for name, call, run in guards:
                result = solved[call] = solved[call] if call in solved else await run(request)
                if name is not None:
                    kwargs[name] = result
            if request_name is not None:
                kwargs[request_name] = request
            if at_once is not None and request.app.state.runtime.store.reads_at_once:
                # No trip through the thread pool: under load its hand-overs of the GIL cost more than the read.
                quick = at_once(**kwargs)
                if quick is not None:
                    return quick
            answer = await run_in_threadpool(endpoint, **kwargs)
            if not isinstance(answer, Response):
                raise LeanRouteError(f"{path}: a lean route answers a Response, not {type(answer).__name__}")
            return answer

        return handler


# A lean route's answer at once, on the event loop, where the store's reads are that short (`ViewStore.reads_at_once`):
# the endpoint's own fast path (the same function the endpoint calls first), or None to run the endpoint as usual.
AT_ONCE: dict[Callable[..., Any], Callable[..., Response | None]] = {}


def lean_get(router: APIRouter, path: str, *, at_once: Callable[..., Response | None] | None = None,
             **options: Any) -> Callable[[Endpoint], Endpoint]:
    """`@router.get(path, ...)`, served by a LeanRoute; `at_once` takes the endpoint's arguments."""

    def register(endpoint: Endpoint) -> Endpoint:
        if at_once is not None:
            AT_ONCE[endpoint] = at_once
        router.add_api_route(path, endpoint, methods=["GET"], route_class_override=LeanRoute, **options)
        return endpoint

    return register
