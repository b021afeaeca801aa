"""Dates and moments are ISO 8601 text, strictly (issue 13, item 1): a number, or a date written any other way,
is a 422 naming the field, never a day counted in Unix seconds. Every date of every request body, and every date
and moment of every query (found from the OpenAPI document, so a new parameter is covered without editing this)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import AUTH, BACKENDS, SOURCE, assert_problem, error_fields, running, stored_events

# Each was taken for a date once: the numbers as Unix seconds, the rest by a lenient parser.
BAD_BODY_DATES: list[Any] = [0, "0", 1739232000, "20240229", "2024-02-29T00:00:00", "2024-W09-4"]
BAD_QUERY_DATES = ["0", "1739232000", "20240229", "2024-02-29T00:00:00Z", "2024-W09-4"]
# Moments (known_at): ISO 8601 in its extended form, with a zone, or a bare date.
BAD_MOMENTS = ["0", "1739232000", "20250301", "20250301T120000Z", "2025-W09-6", "2025-W09-6T12:00Z"]
GOOD_DATE = "2025-01-02"

SUMMIT = {"id": "strict-summit", "name": "A Summit", "hosts": ["FR"], "city": "Lyon", "starts_on": "2025-01-01",
          "ends_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
DECLARATION = {"id": "strict-declaration", "title": "A Declaration", "summit_id": "strict-summit",
               "published_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
ROLLCALL = {"id": "strict-rollcall", "date": "2019-12-12", "title": "A text", "votes": {"US": "no"},
            "sources": [SOURCE], "confidence": "high"}
ACT = {"kind": "signed", "party": "FR", "occurred_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
STATEMENT = {"party": "FR", "occurred_on": "2025-01-02", "text": "Words.", "sources": [SOURCE]}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with running(request.param, tmp_path_factory.mktemp("strict-dates")) as runtime, \
            TestClient(create_app(runtime=runtime)) as test_client:
        for path, body in (("/v1/summits", SUMMIT), ("/v1/declarations", DECLARATION), ("/v1/rollcalls", ROLLCALL)):
            test_client.post(path, json=body, headers=AUTH).raise_for_status()
        test_client.runtime = runtime  # type: ignore[attr-defined]
        yield test_client


# -- bodies ---------------------------------------------------------------------------------------------------

BODY_DATES = [
    ("/v1/declarations/strict-declaration/acts", ACT, "occurred_on"),
    ("/v1/statements", STATEMENT, "occurred_on"),
    ("/v1/declarations", {**DECLARATION, "id": "strict-other"}, "published_on"),
    ("/v1/summits", {**SUMMIT, "id": "strict-other"}, "starts_on"),
    ("/v1/summits", {**SUMMIT, "id": "strict-other"}, "ends_on"),
    ("/v1/rollcalls", {**ROLLCALL, "id": "strict-other"}, "date"),
    ("/v1/declarations/strict-declaration/acts", ACT, "sources[0].published_on"),
    ("/v1/rollcalls", {**ROLLCALL, "id": "strict-other"}, "sources[0].published_on"),
]


def with_value(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    if field == "sources[0].published_on":
        return {**body, "sources": [{**SOURCE, "published_on": value}]}
    return {**body, field: value}


@pytest.mark.parametrize("value", BAD_BODY_DATES, ids=repr)
@pytest.mark.parametrize(("path", "body", "field"), BODY_DATES, ids=lambda v: v if isinstance(v, str) else "")
def test_a_date_in_a_body_that_is_not_yyyy_mm_dd_is_422_naming_it_and_stores_nothing(
    client: TestClient, path: str, body: dict[str, Any], field: str, value: Any
) -> None:
    runtime = client.runtime  # type: ignore[attr-defined]
    before = stored_events(runtime)
    problem = assert_problem(client.post(path, json=with_value(body, field, value), headers=AUTH), 422)
    assert error_fields(problem) == {field}, problem
    assert "YYYY-MM-DD" in problem["errors"][0]["message"]
    assert stored_events(runtime) == before


def test_the_same_bodies_with_a_calendar_date_are_accepted(client: TestClient) -> None:
    # The refusals above are of the dates alone: each body is recorded once its date is written properly.
    for path, body, field in BODY_DATES:
        if field == "ends_on":
            continue  # the same summit as starts_on's
        slug = f"strict-fine-{field.split('[')[0].replace('_', '-')}-{path.split('/')[2]}"
        fine = with_value({**body, "id": slug} if "id" in body else body, field, GOOD_DATE if "summit" not in path
                          else "2025-01-01")
        if path.endswith("/acts"):
            fine = {**fine, "party": "DE" if field == "occurred_on" else "IT"}
        response = client.post(path, json=fine, headers=AUTH)
        assert response.status_code == 201, (path, field, response.text)


# -- queries, found from the OpenAPI document -----------------------------------------------------------------

PATH_VALUES = {"code": "US", "declaration_id": "strict-declaration", "summit_id": "strict-summit",
               "rollcall_id": "strict-rollcall"}
# What a route needs beside the parameter under test to answer 200.
COMPANIONS: dict[tuple[str, str], dict[str, str]] = {
    ("/v1/replay", "from"): {"to": "2025-03-01"},
    ("/v1/replay", "to"): {"from": "2025-01-01"},
    ("/v1/replay", "known_at"): {"from": "2025-01-01", "to": "2025-03-01"},
    ("/v1/diff", "from_at"): {"to_at": "2025-03-01"},
    ("/v1/diff", "to_at"): {"from_at": "2025-01-01"},
    ("/v1/diff", "known_at"): {"from_at": "2025-01-01", "to_at": "2025-03-01"},
    ("/v1/diff", "at"): {"known_at_a": "2025-01-01", "known_at_b": "2025-03-01"},
    ("/v1/diff", "known_at_a"): {"known_at_b": "9999-12-31"},
    ("/v1/diff", "known_at_b"): {"known_at_a": "2025-01-01"},
    **{(path, name): {"a": "US", "b": "GB"} for path in ("/v1/agreement", "/v1/agreement/rollcalls")
       for name in ("from", "to", "known_at")},
    ("/v1/parties/{code}/closest", "known_at"): {"period": "2025"},
}


def _is_date(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date" or any(_is_date(s) for s in schema.get("anyOf", []))


def time_parameters(client: TestClient) -> list[tuple[str, str, str]]:
    """(path, parameter, 'date' or 'moment') for every query parameter of a read that takes a date or a moment."""
    found = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] != "query":
                continue
            if _is_date(parameter["schema"]):
                found.append((path, parameter["name"], "date"))
            elif parameter["name"].startswith("known_at"):
                found.append((path, parameter["name"], "moment"))
    return found


def concrete(path: str, parameter: str) -> str:
    dataset = "stances" if parameter == "at" else "timeline"
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), dataset), path)


def test_every_read_taking_a_date_or_a_moment_is_found(client: TestClient) -> None:
    found = {(path, name) for path, name, _ in time_parameters(client)}
    for expected in [("/v1/parties/{code}/stances", "at"), ("/v1/timeline", "from"), ("/v1/rollcalls", "to"),
                     ("/v1/replay", "from"), ("/v1/diff", "from_at"), ("/v1/export/{dataset}", "at"),
                     ("/v1/parties/{code}/votes", "known_at"), ("/v1/rollcalls/{rollcall_id}", "known_at")]:
        assert expected in found
    assert len(found) >= 35


def test_every_date_and_moment_of_a_query_is_refused_unless_iso_8601(client: TestClient) -> None:
    good_moment = datetime.now(UTC).isoformat()  # after the fixture's records, which some reads need
    wrong = []
    for path, name, kind in time_parameters(client):
        url, companions = concrete(path, name), COMPANIONS.get((path, name), {})
        good = client.get(url, params={**companions, name: GOOD_DATE if kind == "date" else good_moment})
        assert good.status_code == 200, (path, name, good.text[:300])
        for value in BAD_QUERY_DATES if kind == "date" else BAD_MOMENTS:
            response = client.get(url, params={**companions, name: value})
            if response.status_code != 422 or error_fields(response.json()) != {name}:
                wrong.append(f"{path}?{name}={value} -> {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
