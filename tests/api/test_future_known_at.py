"""A `known_at` after now (issue 13, item 2) is answered as of now, and the answer echoes the moment it used, so
the echoed values reproduce it once later events arrive (docs/semantics.md, section 1). The same for a bare date
of today, which means the end of the day. Every read that takes known_at, on both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import AUTH, BACKENDS, SOURCE, running

FAR_FUTURE = "9999-12-30T00:00:00Z"
SUMMIT = {"id": "later-summit", "name": "A Summit", "hosts": ["FR"], "city": "Lyon", "starts_on": "2025-01-01",
          "ends_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
DECLARATION = {"id": "later-declaration", "title": "A Declaration", "summit_id": "later-summit",
               "published_on": "2025-01-02", "sources": [SOURCE], "confidence": "high"}
ROLLCALL = {"id": "later-rollcall", "date": "2019-12-12", "title": "A text", "votes": {"US": "no"},
            "sources": [SOURCE], "confidence": "high"}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with running(request.param, tmp_path_factory.mktemp("later")) as runtime, \
            TestClient(create_app(runtime=runtime)) as test_client:
        for path, body in (("/v1/summits", SUMMIT), ("/v1/declarations", DECLARATION), ("/v1/rollcalls", ROLLCALL)):
            test_client.post(path, json=body, headers=AUTH).raise_for_status()
        sign(test_client, "FR", "2025-01-03")
        yield test_client


def sign(client: TestClient, party: str, day: str) -> None:
    act = {"kind": "signed", "party": party, "occurred_on": day, "sources": [SOURCE], "confidence": "high"}
    client.post("/v1/declarations/later-declaration/acts", json=act, headers=AUTH).raise_for_status()


def today_utc() -> str:
    return datetime.now(UTC).date().isoformat()


def signed(answer: dict[str, Any]) -> list[str]:
    return [s["party"] for s in answer["signed"]]


@pytest.mark.parametrize("future", [FAR_FUTURE, "today"])
def test_an_answer_for_a_known_at_after_now_is_reproduced_by_the_known_at_it_echoes(
    client: TestClient, future: str
) -> None:
    asked = today_utc() if future == "today" else future
    party = "DE" if future == "today" else "IT"
    path = "/v1/declarations/later-declaration/signatories"
    first = client.get(path, params={"known_at": asked}).json()
    assert party not in signed(first)
    echoed = first["known_at"]

    sign(client, party, "2025-01-04")  # recorded after the first answer

    again = client.get(path, params={"known_at": echoed}).json()
    assert (again["known_at"], signed(again)) == (echoed, signed(first))
    assert echoed <= datetime.now(UTC).isoformat()
    # Asked again with the same future moment, the answer is of the new now, and says so.
    later = client.get(path, params={"known_at": asked}).json()
    assert party in signed(later)
    assert echoed < later["known_at"] <= datetime.now(UTC).isoformat()


def test_a_party_history_and_the_timeline_are_reproduced_the_same_way(client: TestClient) -> None:
    history = client.get("/v1/parties/ES/history", params={"known_at": FAR_FUTURE}).json()
    timeline = client.get("/v1/timeline", params={"known_at": FAR_FUTURE, "party": "ES"}).json()
    assert history["entries"] == timeline["items"] == []
    sign(client, "ES", "2025-01-05")
    assert client.get("/v1/parties/ES/history", params={"known_at": history["known_at"]}).json()["entries"] == []
    assert len(client.get("/v1/parties/ES/history", params={"known_at": FAR_FUTURE}).json()["entries"]) == 1


def _is_date(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date" or any(_is_date(s) for s in schema.get("anyOf", []))


PATH_VALUES = {"code": "US", "declaration_id": "later-declaration", "summit_id": "later-summit",
               "rollcall_id": "later-rollcall", "dataset": "timeline"}
COMPANIONS: dict[tuple[str, str], dict[str, str]] = {
    ("/v1/replay", "known_at"): {"from": "2025-01-01", "to": "2025-03-01"},
    ("/v1/diff", "known_at"): {"from_at": "2025-01-01", "to_at": "2025-03-01"},
    ("/v1/diff", "known_at_a"): {"known_at_b": FAR_FUTURE},
    ("/v1/diff", "known_at_b"): {"known_at_a": "2025-01-01"},
    ("/v1/agreement", "known_at"): {"a": "US", "b": "GB"},
    ("/v1/agreement/rollcalls", "known_at"): {"a": "US", "b": "GB"},
    ("/v1/parties/{code}/closest", "known_at"): {"period": "2025"},
}


def echoed(response: httpx.Response, name: str) -> str:
    """The moment an answer says it used for `name`: in its body, or in X-Diplo-Known-At for answers that have
    no place for it (a list, a download)."""
    if "x-diplo-known-at" in response.headers:
        return response.headers["x-diplo-known-at"]
    body = response.json()
    return str(body[name])


def test_every_read_taking_known_at_answers_a_future_one_as_of_now_and_echoes_it(client: TestClient) -> None:
    wrong, seen = [], 0
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            name = parameter["name"]
            if parameter["in"] != "query" or not name.startswith("known_at"):
                continue
            seen += 1
            url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
            for asked in (FAR_FUTURE, today_utc()):
                with client.stream("GET", url, params={**COMPANIONS.get((path, name), {}), name: asked}) as response:
                    response.read()
                after = datetime.now(UTC).isoformat()
                if response.status_code != 200:
                    wrong.append(f"{path}?{name}={asked} -> {response.status_code} {response.text[:200]}")
                    continue
                used = echoed(response, name)
                if not used <= after:
                    wrong.append(f"{path}?{name}={asked} echoes {used}, after now ({after})")
    assert seen >= 14
    assert not wrong, "\n".join(wrong)
