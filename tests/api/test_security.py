"""Who may write and read, what a client may send, and what never leaks.

Routes are found by enumerating the app, so a route added later is covered without editing this file.
One seeded SQLite store serves the module; each configuration (read tokens, CORS, a small body limit) is
the same runtime under other settings.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from api.errors import MAX_LISTED_ERRORS
from api.settings import Settings
from tests.api.support import (
    AUTH,
    SOURCE,
    TOKEN,
    assert_problem,
    running,
    seed_and_wait,
    stored_events,
    write_routes,
)
from tests.live.faults_support import Server, store_of_its_own

READ_TOKEN = "test-reader-token"
OTHER_WRITER = "second-writer-token"
# Decided: the health check (for load balancers), the OpenAPI document with its pages, and the web page's
# static shell (it holds no data; its calls to /v1 carry the token) stay open. Every other GET needs a token.
OPEN_ROUTES = {"/healthz", "/livez", "/readyz", "/openapi.json", "/docs", "/docs/assets/{version}/{name}",
               "/", "/index.html", "/favicon.svg", "/assets/{name:path}"}
PATH_VALUES = {"declaration_id": "paris-statement", "code": "US", "summit_id": "paris-2025", "dataset": "events",
               "rollcall_id": "unga-3",
               "name:path": "index.js", "version": "5.36.0", "name": "swagger-ui.css"}
ORIGIN = "https://analyst.example.org"
ACT = {"kind": "signed", "party": "AQ", "occurred_on": "2025-03-01", "sources": [SOURCE], "confidence": "high"}
ACTS_PATH = "/v1/declarations/paris-statement/acts"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running("sqlite", tmp_path_factory.mktemp("security")) as rt:
        yield seed_and_wait(rt)


@contextmanager
def serving(runtime: Runtime, **settings: Any) -> Iterator[TestClient]:
    """The same store and read models, served under other settings."""
    changed = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=settings))
    with TestClient(create_app(runtime=changed), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def client(seeded: Runtime) -> Iterator[TestClient]:
    with serving(seeded) as test_client:
        yield test_client


def concrete(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def read_routes(app: Any) -> list[str]:
    """Every GET path of the app, found from its routes."""
    from fastapi.routing import iter_route_contexts

    return sorted({route.path for route in iter_route_contexts(app.routes) if "GET" in (route.methods or ())})


def valid_body(path: str) -> dict[str, Any]:
    # Authentication is checked before the body matters; an empty object would do, a valid act is kinder.
    return ACT if path.endswith("/acts") else {}


# -- who may write ----------------------------------------------------------------------------------------

MORE_BAD_CREDENTIALS = {
    "another scheme with the right token": {"Authorization": f"Token {TOKEN}"},
    "basic with the right token": {"Authorization": f"Basic {TOKEN}"},
    "a colon after the scheme": {"Authorization": f"Bearer: {TOKEN}"},
    "whitespace inside the token": {"Authorization": f"Bearer {TOKEN[:4]} {TOKEN[4:]}"},
    "the token then more": {"Authorization": f"Bearer {TOKEN} extra"},
    "a prefix of the token": {"Authorization": f"Bearer {TOKEN[:-1]}"},
    "the token and one more character": {"Authorization": f"Bearer {TOKEN}x"},
    "the token in another case": {"Authorization": f"Bearer {TOKEN.upper()}"},
    "the token twice": {"Authorization": f"Bearer {TOKEN},{TOKEN}"},
    "a read token": {"Authorization": f"Bearer {READ_TOKEN}"},
    "the token in another header": {"X-Authorization": f"Bearer {TOKEN}"},
}


@pytest.mark.parametrize("credentials", list(MORE_BAD_CREDENTIALS.values()), ids=list(MORE_BAD_CREDENTIALS))
def test_every_write_route_refuses_a_near_miss_of_the_token_and_stores_nothing(
    seeded: Runtime, credentials: dict[str, str]
) -> None:
    with serving(seeded, read_tokens=READ_TOKEN) as client:
        routes = write_routes(client.app)
        assert len(routes) >= 5
        before = stored_events(seeded)
        for method, path in routes:
            response = client.request(method, concrete(path), json=valid_body(path), headers=credentials)
            assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"] == "Bearer", (method, path)
        assert stored_events(seeded) == before


def test_spaces_around_the_token_are_not_part_of_it(client: TestClient) -> None:
    # RFC 6750 allows one or more spaces after the scheme; HTTP strips the header's own edges.
    response = client.post("/v1/summits", json={"id": "paris-2025"}, headers={"Authorization": f"Bearer   {TOKEN}  "})
    assert response.status_code == 422, response.text  # authenticated, then refused for its body


def test_tokens_are_compared_with_compare_digest_against_every_configured_token(
    seeded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    writers = dataclasses.replace(seeded, write_tokens=[TOKEN, OTHER_WRITER, "third-writer-token"])
    with TestClient(create_app(runtime=writers)) as client:
        for presented, expected in ((TOKEN, 422), ("not-a-token", 401)):
            compared.clear()
            response = client.post("/v1/summits", json={}, headers={"Authorization": f"Bearer {presented}"})
            assert response.status_code == expected
            # Every configured token is compared, even after a match: how long it takes tells nothing.
            assert sorted(b for _, b in compared) == sorted(t.encode() for t in writers.write_tokens)
            assert {a for a, _ in compared} == {presented.encode()}


def test_the_token_comparison_does_not_use_equality(monkeypatch: pytest.MonkeyPatch, seeded: Runtime) -> None:
    # With compare_digest made to say "no", even the right token is refused: no `==` path lets it in.
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    with TestClient(create_app(runtime=seeded)) as client:
        assert_problem(client.post("/v1/summits", json={}, headers=AUTH), 401)


SECRET = "s3cret-token-that-must-never-be-logged"


def test_no_token_reaches_the_app_logs(seeded: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    writers = dataclasses.replace(seeded, write_tokens=[SECRET])
    mistyped = SECRET + "x"
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(runtime=writers), raise_server_exceptions=False) as client:
        for token in (SECRET, mistyped):
            auth = {"Authorization": f"Bearer {token}"}
            client.post("/v1/summits", json={}, headers=auth)  # 422
            client.post(ACTS_PATH, json={**ACT, "party": "FR"}, headers=auth)  # 409 or 401
            client.post("/v1/declarations/no-such/acts", json=ACT, headers=auth)  # 404 or 401
            client.get("/v1/parties/US/stances", headers=auth)
            client.get("/v1/events", params={"after": -1}, headers=auth)
    assert caplog.records, "nothing was logged: the capture is not working"
    assert SECRET not in caplog.text


@pytest.mark.slow
def test_no_token_reaches_the_logs_of_a_real_server(tmp_path: Path) -> None:
    """uvicorn's access log, the app's warnings, everything at INFO and above from every logger."""
    with store_of_its_own("sqlite", tmp_path / "store") as store:
        server = Server(store, tmp_path, DIPLO_WRITE_TOKENS=SECRET, DIPLO_READ_TOKENS=READ_TOKEN)
        try:
            server.start()
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for token in (SECRET, SECRET + "x", READ_TOKEN):
                    auth = {"Authorization": f"Bearer {token}"}
                    http.post("/v1/summits", json={}, headers=auth)
                    http.post("/v1/declarations", json={"id": "logged", "title": "T", "published_on": "2025-01-01",
                                                        "sources": [SOURCE], "confidence": "high"}, headers=auth)
                    http.get("/v1/declarations", headers=auth)
                    http.get("/v1/timeline", params={"cursor": "%%"}, headers=auth)
        finally:
            server.stop()
        log = server.log()
    assert "POST /v1/declarations" in log  # the access log was captured
    assert SECRET not in log
    assert READ_TOKEN not in log


# -- who may read -----------------------------------------------------------------------------------------


def test_without_read_tokens_every_read_is_open(client: TestClient) -> None:
    for path in read_routes(client.app):
        if path == "/v1/events/stream":
            continue  # open and endless: covered with a token below
        assert client.get(concrete(path)).status_code != 401, path


@pytest.mark.parametrize("credentials",
                         [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {READ_TOKEN}"}],
                         ids=["no token", "wrong token", "wrong scheme"])
def test_with_read_tokens_every_read_route_refuses_a_request_without_one(
    seeded: Runtime, credentials: dict[str, str]
) -> None:
    with serving(seeded, read_tokens=READ_TOKEN) as client:
        routes = read_routes(client.app)
        guarded = [p for p in routes if p not in OPEN_ROUTES]
        assert len(guarded) >= 10, routes
        for path in guarded:
            response = client.get(concrete(path), headers=credentials)
            assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", [READ_TOKEN, TOKEN], ids=["a read token", "a write token"])
def test_with_read_tokens_every_read_route_answers_a_read_or_write_token(seeded: Runtime, token: str) -> None:
    with serving(seeded, read_tokens=READ_TOKEN) as client:
        for path in read_routes(client.app):
            # A malformed `after` ends the endless stream at once, after authentication.
            params = {"after": "-1"} if path == "/v1/events/stream" else {}
            response = client.get(concrete(path), params=params, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 400 or response.status_code in (404, 422), (path, response.text)


def test_with_read_tokens_the_health_check_and_the_api_document_stay_open(seeded: Runtime) -> None:
    with serving(seeded, read_tokens=READ_TOKEN) as client:
        for path in ("/healthz", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 200, path


# -- CORS -------------------------------------------------------------------------------------------------


def preflight(client: TestClient, origin: str = ORIGIN, method: str = "POST") -> httpx.Response:
    response: httpx.Response = client.options(ACTS_PATH, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
    return response


def test_cors_is_closed_by_default(client: TestClient) -> None:
    answer = preflight(client)
    assert answer.status_code >= 400
    assert "access-control-allow-origin" not in answer.headers
    read = client.get("/v1/parties/US", headers={"Origin": ORIGIN})
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers


def test_cors_allows_the_configured_origins_only(seeded: Runtime) -> None:
    with serving(seeded, cors_origins=f"{ORIGIN}, https://desk.example.net") as client:
        answer = preflight(client)
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in answer.headers["access-control-allow-methods"]
        allowed = answer.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
        assert "access-control-allow-credentials" not in answer.headers  # bearer tokens, never cookies

        stranger = preflight(client, origin="https://evil.example.com")
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers
        assert preflight(client, method="DELETE").status_code == 400

        read = client.get("/v1/parties/US", headers={"Origin": ORIGIN})
        assert read.headers["access-control-allow-origin"] == ORIGIN
        assert "location" in read.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-origin" not in client.get(
            "/v1/parties/US", headers={"Origin": "https://evil.example.com"}).headers


def test_cors_star_allows_any_origin(seeded: Runtime) -> None:
    with serving(seeded, cors_origins="*") as client:
        answer = preflight(client, origin="https://anyone.example")
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] in ("*", "https://anyone.example")


def test_cors_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_CORS_ORIGINS", f"{ORIGIN},https://b.example")
    monkeypatch.setenv("DIPLO_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.cors_origin_list == [ORIGIN, "https://b.example"]
    assert settings.max_body_bytes == 4096
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024


# -- what a client may send: size, depth, width -----------------------------------------------------------

LIMIT = 4096


@pytest.fixture(scope="module")
def small(seeded: Runtime) -> Iterator[TestClient]:
    with serving(seeded, max_body_bytes=LIMIT) as client:
        yield client


def big_act(size: int) -> bytes:
    return json.dumps({**ACT, "note": "x" * size}).encode()


def test_a_body_over_the_limit_is_413_and_stores_nothing(small: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    response = small.post(ACTS_PATH, content=big_act(LIMIT), headers={**AUTH, "Content-Type": "application/json"})
    assert "4096" in assert_problem(response, 413)["detail"]
    assert stored_events(seeded) == before


def test_a_chunked_body_over_the_limit_is_413_although_no_length_was_declared(
    small: TestClient, seeded: Runtime
) -> None:
    before = stored_events(seeded)
    raw = big_act(10 * LIMIT)
    chunks = iter([raw[i:i + 1000] for i in range(0, len(raw), 1000)])
    response = small.post(ACTS_PATH, content=chunks, headers={**AUTH, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert stored_events(seeded) == before


def test_a_declared_length_over_the_limit_is_refused_even_on_a_read(small: TestClient) -> None:
    assert_problem(small.request("GET", "/v1/parties/US", content=b"x" * (LIMIT + 1)), 413)


def test_a_body_under_the_limit_goes_on_to_be_validated(small: TestClient) -> None:
    raw = json.dumps({**ACT, "party": "ZZ", "note": "x" * (LIMIT // 2)}).encode()
    response = small.post(ACTS_PATH, content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert {e["field"] for e in assert_problem(response, 422)["errors"]} == {"party"}  # read, then validated
    assert small.post(ACTS_PATH, json={**ACT, "party": "FR"}, headers=AUTH).status_code == 409


def test_the_default_limit_is_one_mebibyte(client: TestClient) -> None:
    raw = json.dumps({**ACT, "note": "x" * (1024 * 1024)}).encode()
    assert_problem(client.post(ACTS_PATH, content=raw, headers={**AUTH, "Content-Type": "application/json"}), 413)


@pytest.mark.parametrize("depth", [100, 1_000, 10_000, 100_000])
@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_deeply_nested_json_is_refused_with_422_and_the_server_goes_on(
    client: TestClient, seeded: Runtime, depth: int, shape: str
) -> None:
    opening, closing = ("[", "]") if shape == "arrays" else ('{"a":', "}")
    raw = (opening * depth + "1" + closing * depth).encode()
    before = stored_events(seeded)
    response = client.post("/v1/statements", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert_problem(response, 413 if len(raw) > 1024 * 1024 else 422)
    nested = {**ACT, "sources": [{**SOURCE, "title": json.loads("[" * 50 + "]" * 50)}]}
    assert_problem(client.post(ACTS_PATH, json=nested, headers=AUTH), 422)
    assert stored_events(seeded) == before
    assert client.get("/healthz").status_code == 200


def test_a_body_with_tens_of_thousands_of_unknown_fields_gets_a_short_answer(client: TestClient) -> None:
    raw = json.dumps({f"field{i}": i for i in range(50_000)}).encode()
    assert len(raw) < 1024 * 1024
    response = client.post("/v1/statements", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    body = assert_problem(response, 422)
    assert len(body["errors"]) == MAX_LISTED_ERRORS
    assert "more" in body["detail"]
    assert len(response.content) < 20_000


def test_a_huge_text_within_the_body_limit_is_refused_by_the_schema(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = {"party": "FR", "occurred_on": "2025-02-11", "text": "x" * 900_000, "sources": [SOURCE]}
    response = client.post("/v1/statements", json=body, headers=AUTH)
    assert "text" in {e["field"] for e in assert_problem(response, 422)["errors"]}
    assert stored_events(seeded) == before


# -- injection: headers, paths, query parameters ----------------------------------------------------------

SQLISH = ["' OR '1'='1", "'; DROP TABLE event_log; --", "1; SELECT pg_sleep(10)", '") OR 1=1 --', "%' --",
          "\\'; --", "US' UNION SELECT * FROM view_tracking --"]
ODD = ["\r\nSet-Cookie: evil=1", "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x}", "😀" * 50,
       "\u202e", "a" * 10_000]


def query_parameters(client: TestClient) -> list[tuple[str, str]]:
    """(path, query parameter) of every GET operation in the OpenAPI document."""
    paths = client.get("/openapi.json").json()["paths"]
    return sorted((path, p["name"]) for path, ops in paths.items() for method, op in ops.items() if method == "get"
                  for p in op.get("parameters", []) if p["in"] == "query")


def test_sql_and_odd_strings_in_every_query_parameter_are_harmless(client: TestClient, seeded: Runtime) -> None:
    pairs = query_parameters(client)
    assert len(pairs) >= 20, pairs
    before = stored_events(seeded)
    sent = 0
    for path, name in pairs:
        for value in SQLISH + ODD:
            params = {name: value}
            if path == "/v1/events/stream":
                params.setdefault("after", "-1")  # ends the endless stream once the values are validated
                if name == "after":
                    continue
            response = client.get(concrete(path), params=params)
            sent += 1
            assert response.status_code < 500, (path, name, value[:40], response.text[:200])
            if response.status_code >= 400:
                assert_problem(response, response.status_code)
            assert "set-cookie" not in response.headers
    assert sent >= 20 * len(SQLISH + ODD)
    # Nothing was stored, and the tables the strings named are all still there.
    assert stored_events(seeded) == before
    assert client.get("/v1/events", params={"limit": 5}).json()["events"]
    assert client.get("/healthz").json()["lag"] == 0


@pytest.mark.parametrize("value", SQLISH + ODD[:-1])
def test_sql_and_odd_strings_in_every_path_parameter_are_harmless(client: TestClient, value: str) -> None:
    for path in read_routes(client.app):
        if "{" not in path:
            continue
        response = client.get(re.sub(r"\{[^}]+\}", quote(value, safe=""), path))
        assert response.status_code < 500, (path, response.status_code)
        assert "set-cookie" not in response.headers


def test_a_crlf_in_a_path_does_not_split_the_answer_headers(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    response = client.post("/v1/declarations/x%0D%0ASet-Cookie:%20evil=1/acts", json=ACT, headers=AUTH)
    assert_problem(response, 404)
    assert "set-cookie" not in response.headers
    assert stored_events(seeded) == before


@pytest.mark.parametrize("key", ["k\x7f", "key with spaces", "'; DROP TABLE x; --", "%0D%0ALocation: evil", "ü" * 10])
def test_odd_idempotency_keys_are_only_keys(client: TestClient, key: str) -> None:
    body = {"id": "paris-2025", "name": "N", "hosts": ["FR"], "city": "Paris", "starts_on": "2025-02-10",
            "ends_on": "2025-02-11", "sources": [SOURCE], "confidence": "high"}
    response = client.post("/v1/summits", json=body, headers={**AUTH, "Idempotency-Key": key.encode()})
    assert response.status_code in (409, 422), response.text
    assert "location" not in response.headers


def raw_request(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Sends bytes as they are (no client library would send these) and returns what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


RAW_ATTACKS: dict[str, Callable[[int], bytes]] = {
    "a bare CR inside a header value": lambda port: (
        b"GET /v1/events/stream HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 5\rSet-Cookie: evil=1\r\n\r\n"),
    "a bare LF inside a header value": lambda port: (
        b"GET /v1/parties HTTP/1.1\r\nHost: x\r\nX-A: 1\nSet-Cookie: evil=1\r\nConnection: close\r\n\r\n"),
    "a NUL in a header value": lambda port: (
        b"GET /v1/parties HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\x00b\r\nConnection: close\r\n\r\n"),
    "a CRLF smuggled in the request target": lambda port: (
        b"GET /v1/parties?q=a\r\nSet-Cookie: evil=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    "two Content-Lengths": lambda port: (
        b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n\r\n{}"),
    "a Content-Length that is not a number": lambda port: (
        b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 1e9\r\nConnection: close\r\n\r\n{}"),
    "a 100 KB query string": lambda port: (
        b"GET /v1/timeline?party=" + b"A" * 100_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    "a 100 KB header": lambda port: (
        b"GET /v1/parties HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\nConnection: close\r\n\r\n"),
    "a huge declared body never sent": lambda port: (
        b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n\r\n{"),
}


@pytest.mark.slow
def test_raw_hostile_requests_to_a_real_server_never_split_a_header_nor_crash_it(tmp_path: Path) -> None:
    with store_of_its_own("sqlite", tmp_path / "store") as store:
        server = Server(store, tmp_path, DIPLO_WRITE_TOKENS=TOKEN)
        try:
            server.start()
            for name, attack in RAW_ATTACKS.items():
                answer = raw_request(server.port, attack(server.port))
                head = answer.split(b"\r\n\r\n", 1)[0]
                status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
                assert status is None or status < 500, (name, head[:200])
                assert b"set-cookie" not in head.lower(), name
                assert server.alive, name
                assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200, name
        finally:
            server.stop()
        assert "Traceback" not in server.log()


def test_write_tokens_configured_with_spaces_are_trimmed() -> None:
    assert Settings(write_tokens=" a , b ,, c ").write_token_list == ["a", "b", "c"]
