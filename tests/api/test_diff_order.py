"""/v1/diff lists the events that made each difference in valid-time order, as replays and histories do, not in
the order the log received them (issue 13, item 8): an act backfilled before an earlier-recorded one comes first.
Both kinds of difference, both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import AUTH, BACKENDS, SOURCE, running

DECLARATION = {"id": "order-declaration", "title": "A Declaration", "published_on": "2025-01-02",
               "sources": [SOURCE], "confidence": "high"}


def act(client: TestClient, kind: str, party: str, day: str, precision: str = "day") -> str:
    body = {"kind": kind, "party": party, "occurred_on": day, "precision": precision, "sources": [SOURCE],
            "confidence": "high"}
    response = client.post("/v1/declarations/order-declaration/acts", json=body, headers=AUTH)
    response.raise_for_status()
    return str(response.json()["event_id"])


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[TestClient, str, dict[str, str]]]:
    """FR's acts recorded in the order signed (March), declined (January, backfilled), withdrawn (April), signed
    in May 2025 known only to the month, withdrawn on 10 May, retracted, and withdrawn on the 12th."""
    with running(request.param, tmp_path_factory.mktemp("order")) as runtime, \
            TestClient(create_app(runtime=runtime)) as client:
        client.post("/v1/declarations", json=DECLARATION, headers=AUTH).raise_for_status()
        before = datetime.now(UTC).isoformat()
        ids = {"signed": act(client, "signed", "FR", "2025-03-01"),
               "declined": act(client, "declined", "FR", "2025-01-03"),
               "withdrawn": act(client, "withdrawn", "FR", "2025-04-01")}
        ids["may"] = act(client, "signed", "FR", "2025-05-20", precision="month")  # counts from 1 May
        ids["withdrawn-may"] = act(client, "withdrawn", "FR", "2025-05-10")
        retraction = {"event_id": ids["withdrawn-may"], "reason": "It was the 12th.", "sources": [SOURCE]}
        response = client.post("/v1/retractions", json=retraction, headers=AUTH)
        response.raise_for_status()
        ids["retraction"] = response.json()["event_id"]
        ids["withdrawn-12"] = act(client, "withdrawn", "FR", "2025-05-12")
        yield client, before, ids


def events(answer: dict[str, Any]) -> list[dict[str, Any]]:
    (difference,) = [d for d in answer["differences"] if d["party"] == "FR"]
    return list(difference["events"])


def test_the_events_of_a_difference_between_two_dates_are_in_valid_time_order(
    story: tuple[TestClient, str, dict[str, str]],
) -> None:
    client, _, ids = story
    answer = client.get("/v1/diff", params={"from_at": "2025-01-02", "to_at": "2025-06-01",
                                            "declaration": "order-declaration"}).json()
    made = events(answer)
    assert [e["event_id"] for e in made] == [ids["declined"], ids["signed"], ids["withdrawn"], ids["may"],
                                             ids["withdrawn-12"]]
    assert [e["effective_on"] for e in made] == sorted(e["effective_on"] for e in made)


def test_the_events_of_a_difference_between_two_versions_are_in_valid_time_order(
    story: tuple[TestClient, str, dict[str, str]],
) -> None:
    client, before, ids = story
    answer = client.get("/v1/diff", params={"at": "2025-06-01", "known_at_a": before, "known_at_b": "9999-12-30",
                                            "declaration": "order-declaration"}).json()
    # A retraction takes the place of the act it took out, just after it.
    assert [e["event_id"] for e in events(answer)] == [ids["declined"], ids["signed"], ids["withdrawn"], ids["may"],
                                                      ids["withdrawn-may"], ids["retraction"], ids["withdrawn-12"]]
