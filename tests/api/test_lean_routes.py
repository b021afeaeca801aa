"""Lean read routes (api/lean_routes.py) answer exactly as FastAPI's own handler would, on both backends.

The same requests — good ones, and every way of getting a parameter wrong — go to the app as it is built and to
the same app with the lean handler switched off (FastAPI's standard handler on the same routes), and the
answers are compared: status, media type, the times echoed in headers, and the body (the request id and the
`known_at` a request without one is answered at — "now", which moves between two requests — left out).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Request, Response
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from api.lean_routes import LeanRoute, LeanRouteError, lean_get
from domain.releases import LoadRelease, ReleaseFacts
from seeds.successions import load_registry
from seeds.unga import DATA, read_release
from tests.api.support import AUTH, BACKENDS, running, seed_and_wait

LEAN_PATHS = {"/v1/parties/{code}/stances", "/v1/declarations/{declaration_id}/signatories",
              "/v1/rollcalls/{rollcall_id}"}
KNOWN = "{known}"  # a moment after the store was filled (the clients fixture): every act of it visible


@functools.cache
def session_26() -> ReleaseFacts:
    facts = read_release(DATA / "unvotes" / "release-2021-03-08", load_registry())
    return replace(facts, rollcalls=[rc for rc in facts.rollcalls if rc.session == 26])


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(request.param, Path(tmp_path_factory.mktemp("lean"))) as runtime:
        seed_and_wait(runtime)
        runtime.app.handle_all([(1, LoadRelease(session_26()))])
        assert runtime.projector.wait_for(runtime.projector.head(), 60)
        yield runtime


@pytest.fixture(scope="module")
def clients(store: Runtime) -> Iterator[tuple[TestClient, TestClient]]:
    lean, standard = create_app(runtime=store), create_app(runtime=store)
    standard.state.lean_routes = False  # as DIPLO_LEAN_ROUTES=false would
    with TestClient(lean) as a, TestClient(standard) as b:
        yield a, b


@pytest.fixture(scope="module")
def known(clients: tuple[TestClient, TestClient]) -> str:
    """The moment of the first question, after every event of the store was recorded: a fixed knowledge time."""
    return quote(clients[0].get("/v1/rollcalls", params={"limit": 1}).json()["known_at"])


def _steady(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _steady(v) for k, v in body.items() if k not in ("request_id", "known_at")}
    if isinstance(body, list):
        return [_steady(v) for v in body]
    return body


def _answer(client: TestClient, url: str, headers: dict[str, str] | None = None) -> tuple[Any, ...]:
    response = client.get(url, headers=headers or {})
    media = response.headers.get("content-type", "")
    body = _steady(response.json()) if "json" in media else response.text
    return (response.status_code, media, response.headers.get("x-diplo-at"), body)


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too (FastAPI 0.16x keeps an included router whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else [route]


def _rollcall_ids(client: TestClient) -> list[str]:
    page = client.get("/v1/rollcalls", params={"limit": 3, "from": "1971-01-01"}).json()
    return [rc["id"] for rc in page["rollcalls"]]


STANCES = "/v1/parties/{party}/stances"
SIGNATORIES = "/v1/declarations/{declaration}/signatories"
QUESTIONS = [
    # good questions
    STANCES.format(party="US") + f"?declaration=bletchley-declaration&at=2025-06-01&known_at={KNOWN}",
    STANCES.format(party="GB") + f"?declaration=bletchley-declaration&declaration=seoul-declaration&known_at={KNOWN}",
    STANCES.format(party="FR") + "?known_at=" + KNOWN,
    STANCES.format(party="US") + "?at=2023-11-01&known_at=2024-01-01T00:00:00Z",
    STANCES.format(party="US") + f"?min_confidence=high&known_at={KNOWN}",
    STANCES.format(party="US") + f"?explain=true&declaration=bletchley-declaration&known_at={KNOWN}",
    STANCES.format(party="US") + f"?at=2020-01-01&at=2025-06-01&known_at={KNOWN}",  # a repeated scalar: the last
    STANCES.format(party="US") + f"?anything=else&known_at={KNOWN}",  # unknown parameters are not read
    STANCES.format(party="US") + "?declaration=bletchley-declaration",  # known_at defaults to now
    SIGNATORIES.format(declaration="bletchley-declaration") + "?known_at=" + KNOWN,
    SIGNATORIES.format(declaration="seoul-declaration") + f"?at=2024-06-01&min_confidence=medium&known_at={KNOWN}",
    SIGNATORIES.format(declaration="bletchley-declaration") + f"?explain=1&known_at={KNOWN}",
    # refusals
    STANCES.format(party="US") + "?at=2025-02-30",
    STANCES.format(party="US") + "?at=20240229",
    STANCES.format(party="US") + "?at=",
    STANCES.format(party="US") + "?known_at=yesterday",
    STANCES.format(party="US") + "?min_confidence=certain",
    STANCES.format(party="US") + "?explain=maybe",
    STANCES.format(party="US") + "?declaration=no-such-declaration",
    STANCES.format(party="US") + "?declaration=a%00b",
    STANCES.format(party="US") + "?" + "&".join(f"declaration=d{i}" for i in range(101)),
    STANCES.format(party="ZZ"),
    STANCES.format(party="X" * 41),
    STANCES.format(party="US%00"),
    SIGNATORIES.format(declaration="no-such-declaration"),
    SIGNATORIES.format(declaration="Not_An_Id"),
    SIGNATORIES.format(declaration="bletchley-declaration") + "?min_confidence=",
    "/v1/rollcalls/unga-0",
    "/v1/rollcalls/Not_An_Id",
    "/v1/rollcalls/unga-1?known_at=1999-01-01",
]


def test_the_busiest_reads_are_lean_and_only_they(clients: tuple[TestClient, TestClient]) -> None:
    lean_app = clients[0].app
    assert {r.path for r in _routes(lean_app.routes) if isinstance(r, LeanRoute)} == LEAN_PATHS  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", QUESTIONS)
def test_a_lean_route_answers_as_fastapi_would(clients: tuple[TestClient, TestClient], known: str, url: str) -> None:
    lean, standard = clients
    url = url.format(known=known)
    assert _answer(lean, url) == _answer(standard, url)


def test_roll_calls_lean_and_standard_alike(clients: tuple[TestClient, TestClient], known: str) -> None:
    lean, standard = clients
    ids = _rollcall_ids(lean)
    assert ids
    for rollcall_id in ids:
        for suffix in ("", f"?known_at={known}", "?known_at=1971-01-01T00:00:00Z", "?known_at=not-a-time"):
            url = f"/v1/rollcalls/{rollcall_id}{suffix}"
            a, b = _answer(lean, url), _answer(standard, url)
            assert a == b, url
    status, _, _, body = _answer(lean, f"/v1/rollcalls/{ids[0]}?known_at={known}")
    assert status == 200 and body["votes"]


def test_read_tokens_guard_lean_routes_as_the_others(tmp_path: Path) -> None:
    with running("sqlite", tmp_path) as runtime:
        runtime.settings.read_tokens = "reader-token"
        apps = [create_app(runtime=runtime), create_app(runtime=runtime)]
        apps[1].state.lean_routes = False
        answers = []
        for app in apps:
            with TestClient(app) as client:
                url = STANCES.format(party="US") + "?known_at=2026-06-15T00:00:00Z"  # an empty store
                answers.append([
                    _answer(client, url),
                    _answer(client, url + "&at=not-a-date"),
                    _answer(client, url, {"Authorization": "Bearer reader-token"}),
                    _answer(client, url, AUTH),
                    _answer(client, url, {"Authorization": "Bearer wrong"}),
                    _answer(client, "/v1/rollcalls/unga-3"),
                ])
        assert answers[0] == answers[1]
        statuses = [a[0] for a in answers[0]]
        assert statuses == [401, 401, 200, 200, 401, 401]


# What a lean route cannot take is refused when the app is built, never served differently.

async def _guard(request: Request) -> None:
    return None


async def _with_header(user_agent: Annotated[str | None, Header()] = None) -> None:
    return None


def _refused(register: Any) -> str:
    router = APIRouter()
    with pytest.raises(LeanRouteError) as refused:
        register(router)
    return str(refused.value)


def test_a_lean_route_refuses_what_it_would_not_take() -> None:
    def body(router: APIRouter) -> None:
        @lean_get(router, "/a")
        def a(payload: Annotated[dict[str, Any], Body()]) -> Response:
            return Response()

    def header(router: APIRouter) -> None:
        @lean_get(router, "/b")
        def b(user_agent: Annotated[str | None, Header()] = None) -> Response:
            return Response()

    def coroutine(router: APIRouter) -> None:
        @lean_get(router, "/c")
        async def c() -> Response:
            return Response()

    def deep_dependency(router: APIRouter) -> None:
        @lean_get(router, "/d", dependencies=[Depends(_with_header)])
        def d() -> Response:
            return Response()

    def sync_dependency(router: APIRouter) -> None:
        def sync_guard(request: Request) -> None:
            return None

        @lean_get(router, "/e", dependencies=[Depends(sync_guard)])
        def e() -> Response:
            return Response()

    assert "body" in _refused(body)
    assert "header" in _refused(header)
    assert "plain `def`" in _refused(coroutine)
    assert "_with_header" in _refused(deep_dependency)
    assert "sync_guard" in _refused(sync_dependency)


def test_a_lean_route_that_answers_anything_but_a_response_is_a_programming_error() -> None:
    app = FastAPI()
    router = APIRouter()

    @lean_get(router, "/f", dependencies=[Depends(_guard)])
    def f() -> dict[str, Any]:
        return {"not": "a response"}

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=True) as client, pytest.raises(LeanRouteError, match="Response"):
        client.get("/f")


def test_on_sqlite_the_one_pair_and_a_kept_roll_call_are_answered_on_the_event_loop(
    clients: tuple[TestClient, TestClient], known: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.lean_routes as lean_routes

    lean, _ = clients
    hops: list[str] = []
    real = lean_routes.run_in_threadpool

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(function.__name__)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(lean_routes, "run_in_threadpool", counted)
    rollcall_id = _rollcall_ids(lean)[0]
    asked = {
        "one pair": STANCES.format(party="US") + f"?declaration=bletchley-declaration&known_at={known}",
        "every declaration": STANCES.format(party="US") + f"?known_at={known}",
        "a roll call, then kept": f"/v1/rollcalls/{rollcall_id}?known_at={known}",
    }
    hopped = {}
    for what, url in asked.items():
        lean.get(url)  # a roll call's first answer is read (and kept) in the pool
        hops.clear()
        assert lean.get(url).status_code == 200
        hopped[what] = bool(hops)
    at_once = lean.app.state.runtime.store.reads_at_once  # type: ignore[attr-defined]
    assert at_once is (not lean.app.state.runtime.store.postgres)  # type: ignore[attr-defined]
    assert hopped == {"one pair": not at_once, "every declaration": True, "a roll call, then kept": not at_once}
