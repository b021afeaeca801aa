"""/openapi.json is a valid OpenAPI 3.1 document that says what the server checks: each vocabulary an enum,
each field every answer carries required, the bearer scheme declared, short operation ids, and a problem
`type` for each kind of refusal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import OpenAPIV31SpecValidator

from api.app import create_app
from api.errors import PROBLEM_TYPES
from api.settings import Settings
from domain.values import ActKind, Confidence, EventKind, TimelineKind
from projections.analysis import Step


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    schema: dict[str, Any] = create_app(Settings()).openapi()
    return schema


def parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    found = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    assert len(found) == 1, (path, name)
    return found[0]


def enum_of(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The values an (array of, optional) enum parameter takes, following $refs."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "array":
            option = option["items"]
        if "$ref" in option:
            option = document["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]
        if "enum" in option:
            return list(option["enum"])
    raise AssertionError(f"no enum in {schema}")


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert list(OpenAPIV31SpecValidator(document).iter_errors()) == []
    stream = document["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert "itemSchema" not in stream and stream["schema"] == {"type": "string"}


@pytest.mark.parametrize(("path", "name", "values"), [
    ("/v1/timeline", "kind", list(TimelineKind)),
    ("/v1/events/stream", "kind", list(EventKind)),
    ("/v1/export/{dataset}", "kind", list(EventKind)),
    ("/v1/export/{dataset}", "stance", list(ActKind)),
    ("/v1/export/{dataset}", "format", ["csv", "jsonl", "ndjson"]),
    ("/v1/replay", "step", list(Step)),
    ("/v1/replay", "format", ["json", "ndjson"]),
    ("/v1/world", "min_confidence", list(Confidence)),
    ("/v1/parties/{code}/stances", "min_confidence", list(Confidence)),
])
def test_every_vocabulary_the_server_checks_is_an_enum(
    document: dict[str, Any], path: str, name: str, values: list[str]
) -> None:
    assert enum_of(document, parameter(document, path, name)["schema"]) == [str(v) for v in values]


def test_fields_every_answer_carries_are_required(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"precision", "confidence", "position", "explanation", "approximate"} <= set(
        schemas["StanceItem"]["required"])
    assert {"stance", "previous", "retraction", "position_on"} <= set(schemas["HistoryEntry"]["required"])
    assert {"status", "replayed", "party"} <= set(schemas["WriteReceipt"]["required"])


def test_writes_need_the_bearer_scheme_and_reads_may_send_it(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"][
            "description"]}
    assert document["paths"]["/v1/summits"]["post"]["security"] == [{"bearer": []}]
    assert document["paths"]["/v1/summits"]["get"]["security"] == [{}, {"bearer": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]
    headers = [p["name"].lower() for ops in document["paths"].values() for op in ops.values()
               for p in op.get("parameters", []) if p["in"] == "header"]
    assert "authorization" not in headers


def test_operation_ids_are_short_and_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert {"create_summit", "record_act", "stances", "timeline", "export"} <= set(ids)
    assert all(len(i) <= 30 and "_v1_" not in i for i in ids), ids


def test_each_kind_of_refusal_has_a_problem_type_of_its_own(document: dict[str, Any], tmp_path: Any) -> None:
    problem = document["components"]["schemas"]["Problem"]["properties"]["type"]
    assert problem["enum"] == PROBLEM_TYPES
    kinds = {t.rsplit(":", 1)[1] for t in PROBLEM_TYPES}
    assert {"stance-rule", "duplicate", "idempotency-conflict", "not-found", "validation", "unauthorized",
            "payload-too-large", "unavailable"} <= kinds
    with TestClient(create_app(Settings(data_dir=tmp_path, write_tokens="t"))) as client:
        assert client.get("/v1/timeline?kind=retracted").json()["type"] == "urn:diplo:problem:validation"
        assert client.post("/v1/summits", json={}).json()["type"] == "urn:diplo:problem:unauthorized"
        assert client.get("/v1/parties/XX").json()["type"] == "urn:diplo:problem:not-found"
