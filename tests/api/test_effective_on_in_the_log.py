"""The event log, its export and the live stream give each event `effective_on`, the date it counts from as the
stance rules and the timeline use it, beside `occurred_on` as recorded (issue 13, item 5): an act "in January
2024" counting from a publication on the 15th says so, and a consumer of the log need not fold it again. Both
backends; the stream read over HTTP from a server that never saw the declaration published, caught up and live."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.follow import parse_sse
from domain.commands import RecordAct
from domain.values import ActKind, Confidence, Source
from tests.api.support import AUTH, BACKENDS, SOURCE, running

DECLARATION = {"id": "counts-declaration", "title": "A Declaration", "published_on": "2025-01-15",
               "sources": [SOURCE], "confidence": "high"}
# occurred_on as recorded, precision, and the date each counts from.
ACTS = [("signed", "FR", "2025-01-05", "month", "2025-01-15"),  # January, counting from the publication
        ("signed", "DE", "2025-03-20", "month", "2025-03-01"),  # March, from its first day
        ("signed", "IT", "2025-02-03", "day", "2025-02-03")]
STATEMENT = {"party": "ES", "occurred_on": "2024-06-01", "precision": "year", "text": "Words.",
             "sources": [SOURCE]}


@dataclass
class Story:
    runtime: Runtime
    client: TestClient
    events: dict[str, str]  # event id -> the effective_on expected
    first: int  # the log position of the first act


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    data_dir = tmp_path_factory.mktemp("effective")
    with running(request.param, data_dir) as runtime, TestClient(create_app(runtime=runtime)) as client:
        client.post("/v1/declarations", json=DECLARATION, headers=AUTH).raise_for_status()
        expected, first = {}, None
        for kind, party, day, precision, counts_from in ACTS:
            body = {"kind": kind, "party": party, "occurred_on": day, "precision": precision, "sources": [SOURCE],
                    "confidence": "high"}
            receipt = client.post("/v1/declarations/counts-declaration/acts", json=body, headers=AUTH).json()
            expected[receipt["event_id"]] = counts_from
            first = first or receipt["position"]
        receipt = client.post("/v1/statements", json=STATEMENT, headers=AUTH).json()
        expected[receipt["event_id"]] = "2024-01-01"
        assert first is not None
        yield Story(runtime, client, expected, first)


def effective(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["event_id"]: r["effective_on"] for r in rows}


def test_the_event_log_gives_each_act_the_date_it_counts_from_beside_the_date_recorded(story: Story) -> None:
    events = story.client.get("/v1/events", params={"after": 0}).json()["events"]
    assert {k: v for k, v in effective(events).items() if k in story.events} == story.events
    occurred = {e["event_id"]: e["occurred_on"] for e in events}
    assert sorted(occurred[k] for k in story.events) == ["2024-06-01", "2025-01-05", "2025-02-03", "2025-03-20"]
    published = next(e for e in events if e["kind"] == "published")
    assert published["effective_on"] == published["occurred_on"] == "2025-01-15"


def test_the_log_agrees_with_the_timeline_on_every_event_both_show(story: Story) -> None:
    events = effective(story.client.get("/v1/events", params={"after": 0}).json()["events"])
    items = effective(story.client.get("/v1/timeline").json()["items"])
    assert items and all(events[k] == v for k, v in items.items())


def test_the_events_export_carries_effective_on_in_json_lines_and_csv(story: Story) -> None:
    lines = story.client.get("/v1/export/events", params={"format": "jsonl"}).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert {k: v for k, v in effective(rows).items() if k in story.events} == story.events
    table = list(csv.DictReader(io.StringIO(story.client.get("/v1/export/events", params={"format": "csv"}).text)))
    assert {k: v for k, v in effective(table).items() if k in story.events} == story.events


def test_the_stream_of_a_server_that_never_saw_the_publication_gives_the_same_dates_caught_up_and_live(
    story: Story,
) -> None:
    # Another server on the same store, started after the publication: it must find the date, not guess it.
    other = bootstrap(story.runtime.settings, start_projector=False)  # the first server's projector serves both
    try:
        got, live = stream_from(other, story.first - 1)
    finally:
        other.close()
    assert {k: v for k, v in got.items() if k in story.events} == story.events
    assert live and {k: got[k] for k in live} == live


def stream_from(other: Runtime, after: int) -> tuple[dict[str, str], dict[str, str]]:
    """The effective_on of each event a stream of `other` sends after `after`, until the act recorded once it
    is subscribed has come; and that act's."""
    with TestClient(create_app(runtime=other)) as client:
        live: dict[str, str] = {}

        def record_when_subscribed() -> None:
            hub = client.app.state.stream_hub  # type: ignore[attr-defined]
            assert wait_for(lambda: bool(hub.subscribers))
            receipt = other.app.handle(RecordAct(
                declaration_id="counts-declaration", kind=ActKind.SIGNED, party="PT", occurred_on=date(2025, 1, 20),
                sources=[Source("A report", "https://example.org/r")], confidence=Confidence.HIGH,
                precision="month"))
            live[str(receipt.event_id)] = "2025-01-15"

        writer = threading.Thread(target=record_when_subscribed)
        got: dict[str, str] = {}
        with client.stream("GET", "/v1/events/stream", params={"after": after}) as response:
            assert response.status_code == 200
            writer.start()
            for message in parse_sse(response.iter_lines()):
                event = json.loads(message["data"])
                got[event["event_id"]] = event["effective_on"]
                if live and all(k in got for k in live):
                    break
        writer.join()
    return got, live


def wait_for(condition: Any, timeout: float = 30.0) -> bool:
    event = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        event.wait(0.01)
    return False
