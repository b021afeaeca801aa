"""Timeline items carry the stance each act set and the one before it, as a party's history does (issue 13, item
4): a retracted act (stance null) and a live one no longer look alike there, whatever page, filter or version of
the record is asked for. Both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import AUTH, BACKENDS, SOURCE, running

DECLARATION = {"id": "stance-declaration", "title": "A Declaration", "published_on": "2025-01-02",
               "sources": [SOURCE], "confidence": "high"}
OTHER = {**DECLARATION, "id": "stance-other"}
PARTIES = ["FR", "DE", "IT"]


def act(client: TestClient, declaration: str, kind: str, party: str, day: str) -> str:
    body = {"kind": kind, "party": party, "occurred_on": day, "sources": [SOURCE], "confidence": "high"}
    response = client.post(f"/v1/declarations/{declaration}/acts", json=body, headers=AUTH)
    response.raise_for_status()
    return str(response.json()["event_id"])


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[TestClient, str]]:
    """Acts recorded out of valid-time order, one retracted; returns the client and a moment before the
    retraction."""
    with running(request.param, tmp_path_factory.mktemp("stances")) as runtime, \
            TestClient(create_app(runtime=runtime)) as client:
        for body in (DECLARATION, OTHER):
            client.post("/v1/declarations", json=body, headers=AUTH).raise_for_status()
        act(client, "stance-declaration", "signed", "FR", "2025-03-01")
        act(client, "stance-declaration", "declined", "FR", "2025-01-03")  # backfilled before the signature
        act(client, "stance-declaration", "withdrawn", "FR", "2025-04-01")
        act(client, "stance-other", "signed", "FR", "2025-01-04")
        wrong = act(client, "stance-declaration", "declined", "DE", "2025-01-05")
        act(client, "stance-declaration", "signed", "IT", "2025-01-06")
        before = datetime.now(UTC).isoformat()
        retraction = {"event_id": wrong, "reason": "Misreported.", "sources": [SOURCE]}
        client.post("/v1/retractions", json=retraction, headers=AUTH).raise_for_status()
        act(client, "stance-declaration", "signed", "DE", "2025-01-07")
        yield client, before


def stances(items: list[dict[str, Any]]) -> dict[str, tuple[Any, Any, bool]]:
    return {i["event_id"]: (i["stance"], i["previous"], i["retracted"]) for i in items
            if i["kind"] in ("signed", "declined", "withdrawn")}


def history(client: TestClient, **params: Any) -> dict[str, tuple[Any, Any, bool]]:
    found: dict[str, tuple[Any, Any, bool]] = {}
    for party in PARTIES:
        found |= stances(client.get(f"/v1/parties/{party}/history", params=params).json()["entries"])
    return found


def timeline(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/v1/timeline", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_each_act_on_the_timeline_carries_the_stance_it_set_and_the_one_before_as_history_does(
    story: tuple[TestClient, str],
) -> None:
    client, _ = story
    found = stances(timeline(client))
    assert found == history(client)
    frances = {k: v for k, v in found.items() if v[0] is not None}
    assert sorted(frances.values(), key=str) == sorted([
        ("declined", None, False), ("signed", "declined", False), ("withdrawn", "signed", False),
        ("signed", None, False),  # the other declaration: its own chain
        ("signed", None, False), ("signed", None, False),  # DE after its retracted decline, IT
    ], key=str)


def test_a_retracted_act_has_no_stance_and_the_act_after_it_does_not_count_it(story: tuple[TestClient, str]) -> None:
    client, _ = story
    germany = [i for i in timeline(client, party="DE") if i["kind"] != "published"]
    assert [(i["kind"], i["stance"], i["previous"], i["retracted"]) for i in germany] == [
        ("declined", None, None, True), ("signed", "signed", None, False)]


def test_a_page_a_filter_or_an_earlier_version_gives_each_act_the_same_stance_as_history(
    story: tuple[TestClient, str],
) -> None:
    client, before = story
    whole = stances(timeline(client))
    # One item a page, and a range that starts after the acts the first stances came from.
    assert stances(timeline(client, limit=1)) == whole
    later = stances(timeline(client, **{"from": "2025-03-01"}))
    assert later and later == {k: v for k, v in whole.items() if k in later}
    assert stances(timeline(client, declaration="stance-declaration", party="FR", kind="withdrawn")) == {
        k: v for k, v in whole.items() if v[0] == "withdrawn"}
    # Before the retraction, Germany's decline counted, and set its stance.
    earlier = stances(timeline(client, known_at=before))
    assert earlier == history(client, known_at=before)
    assert ("declined", None, False) in [v for k, v in earlier.items() if k not in later]


def test_the_timeline_export_carries_the_same_stances(story: tuple[TestClient, str]) -> None:
    client, _ = story
    lines = client.get("/v1/export/timeline", params={"format": "jsonl"}).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert all("stance" in r and "previous" in r for r in rows)
    assert stances(rows) == stances(timeline(client))
    header = client.get("/v1/export/timeline", params={"format": "csv"}).text.splitlines()[0].split(",")
    assert {"stance", "previous"} <= set(header)
