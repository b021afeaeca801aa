"""The busiest answers are encoded once by their routes, not validated row by row by FastAPI: they say exactly
what their response models would have made of the same rows, byte for byte. Likewise the live stream's
messages, encoded once per event, and /healthz's 503, a problem like every other error."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.app import create_app
from api.bootstrap import Runtime
from api.schemas import SignatoriesPublic, StancesPublic
from api.streaming import message
from domain.values import ActKind
from projections.follower import public_events
from projections.readmodel import timestamp
from projections.stance_history import signatories, stances_of
from tests.api.support import BACKENDS, PROBLEM, running, seed_and_wait

DAYS = ["2023-11-01", "2024-10-23", "2025-02-11", "2025-02-12", "2099-01-01"]
CONFIDENCES = ["low", "medium", "high"]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(str(request.param), tmp_path_factory.mktemp("encoded")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def known_at(seeded: Runtime) -> str:
    """A moment after the seeds, normalised as answers echo it (a later one would be read as now)."""
    return timestamp(datetime.now(UTC))


@pytest.fixture(scope="module")
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=seeded)) as test_client:
        yield test_client


def as_the_model_says(model: Any, body: dict[str, Any]) -> bytes:
    """What FastAPI answers for a route that returns `body` with this response model."""
    adapter = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(body))


def test_every_stance_answer_is_what_its_response_model_makes_of_the_same_rows(
    known_at: str,
    seeded: Runtime, client: TestClient
) -> None:
    compared = rows = 0
    with seeded.store.reading() as sql:
        parties = sorted({r["party"] for r in sql.rows("SELECT party FROM stance_spans")})
        for party in parties:
            for at in DAYS:
                for confidence in CONFIDENCES:
                    found = stances_of(sql, party, at, known_at, confidence)
                    expected = as_the_model_says(StancesPublic, {"party": party, "at": at, "known_at": known_at,
                                                                 "stances": found})
                    response = client.get(f"/v1/parties/{party}/stances",
                                          params={"at": at, "known_at": known_at, "min_confidence": confidence})
                    assert response.status_code == 200, response.text
                    assert response.headers["content-type"] == "application/json"
                    assert response.content == expected, (party, at, confidence)
                    compared += 1
                    rows += len(found)
    assert compared > 100 and rows > 100


def test_every_signatories_answer_is_what_its_response_model_makes_of_the_same_rows(
    known_at: str,
    seeded: Runtime, client: TestClient
) -> None:
    compared = rows = 0
    with seeded.store.reading() as sql:
        declarations = sorted({r["declaration_id"] for r in sql.rows("SELECT declaration_id FROM stance_spans")})
        for declaration_id in declarations:
            for at in DAYS:
                for confidence in CONFIDENCES:
                    grouped: dict[str, list[dict[str, Any]]] = {str(k): [] for k in ActKind}
                    for row in signatories(sql, declaration_id, at, known_at, confidence):
                        grouped[row["stance"]].append(row)
                        rows += 1
                    expected = as_the_model_says(SignatoriesPublic, {"declaration_id": declaration_id, "at": at,
                                                                     "known_at": known_at, **grouped})
                    response = client.get(f"/v1/declarations/{declaration_id}/signatories",
                                          params={"at": at, "known_at": known_at, "min_confidence": confidence})
                    assert response.status_code == 200, response.text
                    assert response.content == expected, (declaration_id, at, confidence)
                    compared += 1
    assert compared > 50 and rows > 100


def test_one_declaration_asked_of_a_party_answers_as_its_response_model_with_none_for_no_stance(
    known_at: str,
    client: TestClient,
) -> None:
    params: dict[str, Any] = {"at": "2025-02-12", "known_at": known_at,
                              "declaration": ["paris-statement", "bletchley-declaration", "paris-statement"]}
    response = client.get("/v1/parties/US/stances", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.content == as_the_model_says(StancesPublic, body)
    assert [(s["declaration_id"], s["stance"]) for s in body["stances"]] == [
        ("paris-statement", "declined"), ("bletchley-declaration", "signed")]
    none = client.get("/v1/parties/AQ/stances", params={**params, "declaration": "paris-statement"}).json()
    assert none["stances"] == [{"declaration_id": "paris-statement", "title": none["stances"][0]["title"],
                                "stance": "none", "since": None, "precision": None, "approximate": False,
                                "confidence": None, "event_id": None, "position": None, "sources": [],
                                "explanation": None}]


def test_an_unknown_declaration_asked_of_a_party_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.get("/v1/parties/US/stances", params={"declaration": "no-such-declaration"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"] == [{"field": "declaration", "message": "unknown declaration "
                                                                             "'no-such-declaration'"}]


def test_each_stream_message_carries_what_fastapi_made_of_the_event_as_data(seeded: Runtime) -> None:
    page = seeded.app.recorder.select_notifications(start=0, limit=10**6)
    events = public_events(seeded.app.mapper, page, seeded.follower.publications)
    assert len(events) > 100
    for event in events:
        sent = message(event)
        assert (sent.id, sent.event, sent.data) == (str(event.position), event.kind, None)
        assert sent.raw_data == json.dumps(jsonable_encoder(event.as_dict()))  # FastAPI's encoding of `data=`


def test_healthz_answers_503_as_a_problem_with_retry_after_when_the_store_does_not_answer(
    seeded: Runtime,
) -> None:
    class Unavailable:
        page_listeners: list[Any] = []  # (watched by /metrics: no store involved)

        def __getattr__(self, name: str) -> Any:
            raise sqlite3.OperationalError("unable to open database file")

    broken = dataclasses.replace(seeded, projector=Unavailable())
    with TestClient(create_app(runtime=broken), raise_server_exceptions=False) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["Retry-After"]) >= 1
    body = response.json()
    assert {k: body[k] for k in ("type", "title", "status", "store")} == {
        "type": "urn:diplo:problem:unavailable", "title": "Service Unavailable", "status": 503, "store": "down"}
    assert "OperationalError" in body["detail"]


def test_the_openapi_document_says_healthz_503_is_a_problem(client: TestClient) -> None:
    declared = client.get("/openapi.json").json()["paths"]["/healthz"]["get"]["responses"]["503"]
    assert declared["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
