"""What every answer carries, and what no request can make the API do: security headers on every kind of
answer, the docs from the bundled Swagger UI alone, no JSON object with a key twice, no Host header copied
into a Location."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from api.docs_ui import ASSETS, SWAGGER_UI_VERSION
from api.security_headers import HEADERS
from tests.api.support import (
    AUTH,
    BACKENDS,
    SOURCE,
    assert_problem,
    error_fields,
    running,
    seed_and_wait,
    stored_events,
    unique,
)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(str(request.param), tmp_path_factory.mktemp("hardening")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=seeded), raise_server_exceptions=False) as test_client:
        yield test_client


# -- security headers --------------------------------------------------------------------------------------

EVERY_KIND = [
    ("GET", "/v1/parties", 200),  # JSON
    ("GET", "/v1/parties/ZZZZ", 404),  # a problem
    ("GET", "/v1/parties/US/stances?at=not-a-date", 422),  # a validation problem
    ("GET", "/openapi.json", 200),
    ("GET", "/docs", 200),
    ("GET", f"/docs/assets/{SWAGGER_UI_VERSION}/swagger-ui.css", 200),
    ("GET", "/favicon.svg", None),  # the page's favicon (404 when the page is not built: a problem, headers too)
    ("GET", "/healthz", 200),
    ("GET", "/no/such/path", 404),
    ("POST", "/v1/statements", 401),
    ("GET", "/v1/export/events?format=csv", 200),
]


@pytest.mark.parametrize(("method", "path", "status"), EVERY_KIND)
def test_every_kind_of_answer_carries_the_security_headers(client: TestClient, method: str, path: str,
                                                           status: int | None) -> None:
    response = client.request(method, path, json={} if method == "POST" else None)
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_body_refused_by_the_size_limit_carries_them_too(client: TestClient) -> None:
    response = client.post("/v1/statements", content=b"x" * 2_000_000, headers={**AUTH,
                                                                                 "Content-Type": "application/json"})
    assert_problem(response, 413)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_answers_may_not_run_or_load_anything(client: TestClient) -> None:
    assert client.get("/v1/parties").headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]


# -- /docs ---------------------------------------------------------------------------------------------------


def test_the_docs_page_names_only_assets_of_this_server_under_a_policy_that_allows_no_other(
    client: TestClient,
) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert links and all(link.startswith("/docs/assets/") for link in links), links
    assert "<script>" not in response.text  # no inline script: the policy allows none
    assert 'data-openapi-url="/openapi.json"' in response.text
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "cdn" not in response.text.lower() and "googleapis" not in response.text
    for link in links:
        asset = client.get(link)
        assert asset.status_code == 200, link
        assert asset.content == (ASSETS / link.rsplit("/", 1)[1]).read_bytes()


def test_the_docs_page_names_its_assets_and_the_openapi_document_under_the_proxys_root_path(
    seeded: Runtime,
) -> None:
    # Behind a proxy at /diplo (diplo serve --root-path /diplo/), a name from `/` reaches another site's path.
    with TestClient(create_app(runtime=seeded), root_path="/diplo") as proxied:
        response = proxied.get("/docs")
        assert response.status_code == 200
        links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert links and all(link.startswith(f"/diplo/docs/assets/{SWAGGER_UI_VERSION}/") for link in links), links
        assert 'data-openapi-url="/diplo/openapi.json"' in response.text
        assert proxied.get("/openapi.json").json()["servers"] == [{"url": "/diplo"}]
        init = proxied.get(f"/docs/assets/{SWAGGER_UI_VERSION}/docs-init.js").text
        assert "dataset.openapiUrl" in init and '"/openapi.json"' not in init  # the page's URL, not one of its own


def test_the_bundled_swagger_ui_is_the_pinned_release(client: TestClient) -> None:
    bundle = (ASSETS / "swagger-ui-bundle.js").read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == "b164c5a22535e40dae08c00271674a67e437ec195098c55fcedf8ffac7ac3c88"
    assert SWAGGER_UI_VERSION in (ASSETS / "README.md").read_text(encoding="utf-8")


def test_only_the_named_files_of_the_bundle_are_served(client: TestClient) -> None:
    for path in (f"/docs/assets/{SWAGGER_UI_VERSION}/LICENSE", f"/docs/assets/{SWAGGER_UI_VERSION}/README.md",
                 f"/docs/assets/{SWAGGER_UI_VERSION}/..%2F..%2Fdocs_ui.py", "/docs/assets/4.0.0/swagger-ui.css"):
        assert client.get(path).status_code == 404, path


def test_the_pages_that_load_from_a_cdn_are_gone(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404


# -- duplicate keys ---------------------------------------------------------------------------------------


def test_a_body_with_a_key_twice_is_422_naming_it_and_stores_nothing(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    text = ('{"party": "US", "party": "GB", "occurred_on": "2025-02-12", "text": "twice",'
            f' "sources": [{{"title": "{SOURCE["title"]}", "url": "{SOURCE["url"]}"}}]}}')
    response = client.post("/v1/statements", content=text, headers={**AUTH, "Content-Type": "application/json"})
    assert error_fields(assert_problem(response, 422)) == {"party"}
    assert stored_events(seeded) == before


def test_a_key_twice_in_a_nested_object_is_refused_too(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    text = ('{"kind": "signed", "party": "AQ", "occurred_on": "2025-03-01", "confidence": "high",'
            ' "sources": [{"title": "a", "url": "https://example.org/a", "url": "https://example.org/b"}]}')
    response = client.post(f"/v1/declarations/{unique('none')}/acts", content=text,
                           headers={**AUTH, "Content-Type": "application/json"})
    assert error_fields(assert_problem(response, 422)) == {"url"}
    assert stored_events(seeded) == before


def test_the_same_key_in_two_objects_is_not_a_duplicate(client: TestClient, seeded: Runtime) -> None:
    body = {"party": "US", "occurred_on": "2025-02-12", "text": "one key per object",
            "sources": [SOURCE, {**SOURCE, "url": "https://example.org/other"}]}
    assert client.post("/v1/statements", json=body, headers=AUTH).status_code in (201, 202)


# -- no Host header in a Location -------------------------------------------------------------------------


def test_a_trailing_slash_is_answered_in_place_and_a_forged_host_goes_nowhere(client: TestClient) -> None:
    response = client.get("/v1/parties/", headers={"Host": "attacker.example"}, follow_redirects=False)
    assert response.status_code == 200, response.text
    assert "location" not in response.headers
    assert response.json() == client.get("/v1/parties").json()


def test_no_answer_to_any_route_with_a_slash_added_is_a_redirect(client: TestClient) -> None:
    for path in ("/v1/declarations/", "/v1/summits/", "/healthz/", "/openapi.json/", "/v1/parties/US/stances/"):
        response = client.get(path, headers={"Host": "attacker.example"}, follow_redirects=False)
        assert response.status_code < 300 or response.status_code >= 400, (path, response.status_code)
        assert "attacker.example" not in response.headers.get("location", ""), path
