"""A filter naming something the record does not know is refused the same way on every route (issue 13, item 3):
an unknown party or declaration, a party code with spaces around it, `from` after `to`: a 422 naming the field,
never an empty answer (or a stream that silently sends nothing). Every read's filters are found from the OpenAPI
document, so a new route is covered without editing this; both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import AUTH, BACKENDS, SOURCE, assert_problem, error_fields, running

SUMMIT = {"id": "filter-summit", "name": "A Summit", "hosts": ["FR"], "city": "Lyon", "starts_on": "2025-01-01",
          "ends_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
DECLARATION = {"id": "filter-declaration", "title": "A Declaration", "summit_id": "filter-summit",
               "published_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
ACT = {"kind": "signed", "party": "GB", "occurred_on": "2025-01-03", "sources": [SOURCE], "confidence": "high"}

PATH_VALUES = {"code": "GB", "declaration_id": "filter-declaration", "summit_id": "filter-summit",
               "rollcall_id": "filter-rollcall", "dataset": "timeline"}
COMPANIONS: dict[str, dict[str, str]] = {"/v1/replay": {"from": "2025-01-01", "to": "2025-03-01"},
                                         "/v1/diff": {"from_at": "2025-01-01", "to_at": "2025-03-01"},
                                         "/v1/agreement": {"a": "GB", "b": "FR"},
                                         "/v1/agreement/rollcalls": {"a": "GB", "b": "FR"},
                                         "/v1/parties/{code}/closest": {"period": "2025"}}
# Each was answered 200 with nothing in it (or a stream that sent nothing) on some route.
UNKNOWN = {"party": ["UK", " GB", "GB ", "G B", ""], "declaration": ["filter-declaratoin", " filter-declaration", ""]}
RANGES = {"from": "to", "from_at": "to_at"}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with running(request.param, tmp_path_factory.mktemp("filters")) as runtime, \
            TestClient(create_app(runtime=runtime)) as test_client:
        for path, body in (("/v1/summits", SUMMIT), ("/v1/declarations", DECLARATION),
                           ("/v1/declarations/filter-declaration/acts", ACT)):
            test_client.post(path, json=body, headers=AUTH).raise_for_status()
        yield test_client


def reads(client: TestClient) -> Iterator[tuple[str, set[str]]]:
    """Each read's path and the names of its query parameters."""
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" in operations:
            yield path, {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}


def ask(client: TestClient, path: str, params: dict[str, Any]) -> httpx.Response:
    """The answer's head and, unless it is a stream that would go on, its body."""
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
    with client.stream("GET", url, params={**COMPANIONS.get(path, {}), **params}) as response:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
    return response


def shown(response: httpx.Response) -> str:
    try:
        return response.text[:150]
    except httpx.ResponseNotRead:
        return "(a stream)"


def test_every_read_with_a_filter_is_found(client: TestClient) -> None:
    found = {path for path, names in reads(client) if names & {"party", "declaration", "from", "from_at"}}
    assert {"/v1/timeline", "/v1/events/stream", "/v1/export/{dataset}", "/v1/parties/{code}/history",
            "/v1/rollcalls", "/v1/parties/{code}/votes", "/v1/diff", "/v1/world", "/v1/replay",
            "/v1/parties/{code}/stances"} <= found


def test_a_known_party_and_declaration_are_accepted_wherever_they_filter(client: TestClient) -> None:
    for path, names in reads(client):
        for name, value in (("party", "GB"), ("party", "gb"), ("declaration", "filter-declaration")):
            if name in names:
                response = ask(client, path, {name: value})
                assert response.status_code == 200, (path, name, shown(response))


def test_an_unknown_party_or_declaration_in_any_filter_is_a_422_naming_it(client: TestClient) -> None:
    wrong, tried = [], 0
    for path, names in reads(client):
        for name, values in UNKNOWN.items():
            if name not in names:
                continue
            for value in values:
                tried += 1
                response = ask(client, path, {name: value})
                if response.status_code != 422 or error_fields(response.json()) != {name}:
                    wrong.append(f"{path}?{name}={value!r} -> {response.status_code} {shown(response)}")
    assert tried >= 40
    assert not wrong, "\n".join(wrong)


def test_from_after_to_is_a_422_naming_from_on_every_read_with_a_range(client: TestClient) -> None:
    wrong, tried = [], 0
    for path, names in reads(client):
        for first, last in RANGES.items():
            if first not in names:
                continue
            tried += 1
            response = ask(client, path, {first: "2025-03-01", last: "2025-02-01"})
            if response.status_code != 422 or error_fields(response.json()) != {first}:
                wrong.append(f"{path}?{first}>{last} -> {response.status_code} {shown(response)}")
            # The same day at both ends is a range of one day, not an error.
            same = ask(client, path, {first: "2025-01-03", last: "2025-01-03"})
            assert same.status_code == 200, (path, shown(same))
    assert tried >= 7
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/v1/parties/%20GB/history", "/v1/parties/GB%20/stances",
                                  "/v1/parties/%20GB/votes", "/v1/parties/%20GB"])
def test_a_party_code_with_spaces_in_a_path_is_unknown(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)
