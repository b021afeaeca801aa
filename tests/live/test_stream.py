"""GET /v1/events/stream, read by a real streaming HTTP client from a real server on loopback: it catches up,
goes live, survives cut connections without losing or repeating an event, filters, and keeps idle
connections alive."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.api.support import assert_problem, error_fields
from tests.live.support import (
    Server,
    Stream,
    as_entry,
    finish,
    ids,
    last_position,
    post_statement,
    run_writer,
)


def positions(entries: list[dict[str, Any]]) -> list[int]:
    return [e["position"] for e in entries]


def test_a_client_from_after_0_gets_every_public_event_in_order_then_the_events_written_afterwards(
    seeded_server: Server,
) -> None:
    log = seeded_server.events()
    assert len(log) >= 200  # the seeds, at least

    with Stream(seeded_server.url, params={"after": 0}) as stream:
        caught_up = stream.until(log[-1]["position"])
        assert ids(caught_up) == positions(log)
        for message, entry in zip(caught_up, log, strict=True):
            assert message["id"] == str(entry["position"])
            assert message["event"] == entry["kind"]
            assert as_entry(message) == entry

        with httpx.Client(base_url=seeded_server.url, timeout=10) as client:
            receipts = [post_statement(client, f"said live {i} {uuid.uuid4().hex}") for i in range(3)]
        live = stream.take(3)

    assert ids(live) == [r["position"] for r in receipts]
    written = {e["position"]: e for e in seeded_server.events(log[-1]["position"])}
    for message in live:
        entry = written[int(message["id"])]
        assert message["event"] == "statement" == entry["kind"]
        assert as_entry(message) == entry


def test_after_starts_a_non_browser_client_after_a_position_and_last_event_id_wins_over_after(
    seeded_server: Server,
) -> None:
    log = positions(seeded_server.events())
    after, resumed_at, last = log[40], log[120], log[-1]

    with Stream(seeded_server.url, params={"after": after}) as stream:
        assert ids(stream.until(last)) == [p for p in log if p > after]
    with Stream(seeded_server.url, params={"after": after}, headers={"Last-Event-ID": str(resumed_at)}) as stream:
        assert ids(stream.until(last)) == [p for p in log if p > resumed_at]
    # Any position, an event's or a bookkeeping record's between two events, is a place to resume after.
    with Stream(seeded_server.url, headers={"Last-Event-ID": str(resumed_at + 1)}) as stream:
        assert ids(stream.until(last)) == [p for p in log if p > resumed_at + 1]


def test_a_thousand_events_written_by_two_other_processes_while_the_client_is_cut_twice_arrive_exactly_once_in_order(
    seeded_server: Server,
) -> None:
    start = seeded_server.health()["head"]
    tag = uuid.uuid4().hex[:8]
    # One writer issues a command per statement, the other stores seven per transaction, at the same time.
    writers = [run_writer(seeded_server.store, 300, f"single-{tag}", pause=0.002),
               run_writer(seeded_server.store, 700, f"batched-{tag}", pause=0.003, batch=7)]
    try:
        with Stream(seeded_server.url, params={"after": start}, timeout=90) as stream:
            first = stream.take(300)  # then the connection is cut: the response is closed mid-stream
        writing_at_the_cut = any(w.poll() is None for w in writers)
        with Stream(seeded_server.url, headers={"Last-Event-ID": first[-1]["id"]}, timeout=90) as stream:
            second = stream.take(300)
        last = max(last_position(finish(w, timeout=90)) for w in writers)
        seeded_server.wait_projected(last)
        expected = positions(seeded_server.events(start))
        with Stream(seeded_server.url, headers={"Last-Event-ID": second[-1]["id"]}, timeout=90) as stream:
            third = stream.until(expected[-1])
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.communicate(timeout=10)

    assert writing_at_the_cut, "the writers had finished before the first cut; the test proved less than it says"
    assert len(expected) == 1000
    assert ids(first + second + third) == expected  # each position exactly once, strictly increasing, none else


def parties_of(entry: dict[str, Any]) -> set[str]:
    data = entry["data"]
    return set(data.get("hosts") or []) | ({data["party"]} if data.get("party") else set())


def declaration_of(entry: dict[str, Any]) -> str | None:
    data = entry["data"]
    if entry["kind"] == "published":
        return str(data["slug"])
    return data.get("declaration_id") or data.get("about")


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({"party": ["FR", "us"]}, lambda e: parties_of(e) & {"FR", "US"}),
        ({"declaration": "paris-statement"}, lambda e: declaration_of(e) == "paris-statement"),
        ({"kind": ["declined", "withdrawn"]}, lambda e: e["kind"] in {"declined", "withdrawn"}),
        ({"kind": "statement", "declaration": ["paris-statement", "bletchley-declaration"], "party": "GB"},
         lambda e: e["kind"] == "statement" and "GB" in parties_of(e)
         and declaration_of(e) in {"paris-statement", "bletchley-declaration"}),
        ({"kind": "hosted", "party": "GB"}, lambda e: e["kind"] == "hosted" and "GB" in parties_of(e)),
    ],
    ids=["two-parties", "one-declaration", "two-kinds", "kind-declarations-and-party", "summits-a-party-hosted"],
)
def test_filters_by_party_declaration_and_kind_give_exactly_the_matching_events_of_the_log(
    seeded_server: Server, params: dict[str, Any], wanted: Any
) -> None:
    expected = [e for e in seeded_server.events() if wanted(e)]
    assert expected, "the filter matches nothing in the seeds; the test would prove nothing"
    with Stream(seeded_server.url, params={**params, "after": 0}) as stream:
        got = stream.take(len(expected))
    assert [as_entry(m) for m in got] == expected


def test_filtered_live_events_that_do_not_match_are_not_sent(seeded_server: Server) -> None:
    head = seeded_server.health()["head"]
    with Stream(seeded_server.url, params={"after": head, "party": "KE"}) as stream, \
            httpx.Client(base_url=seeded_server.url, timeout=10) as client:
        post_statement(client, f"not for Kenya {uuid.uuid4().hex}", party="FR")
        wanted = post_statement(client, f"for Kenya {uuid.uuid4().hex}", party="KE")
        (message,) = stream.take(1)
    assert int(message["id"]) == wanted["position"]
    assert as_entry(message)["data"]["party"] == "KE"


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        pytest.param({"kind": "signed-in-blood"}, {}, "kind", id="unknown-kind"),
        pytest.param({"party": "XX"}, {}, "party", id="unknown-party"),
        pytest.param({}, {"Last-Event-ID": "seven"}, "Last-Event-ID", id="word-id"),
        pytest.param({}, {"Last-Event-ID": str(2**63)}, "Last-Event-ID", id="huge-id"),
        pytest.param({"after": -1}, {}, "after", id="negative-after"),
        pytest.param({"after": "soon"}, {}, "after", id="word-after"),
    ],
)
def test_a_bad_filter_or_start_is_a_422_problem_not_a_stream(
    seeded_server: Server, params: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    with httpx.stream("GET", f"{seeded_server.url}/v1/events/stream", params=params, headers=headers,
                      timeout=10) as response:
        assert response.status_code == 422, (response.status_code, response.headers.get("content-type"))
        response.read()
    body = assert_problem(response, 422)
    assert field in error_fields(body)


def test_an_idle_stream_carries_heartbeat_comments_and_its_first_message_a_retry_hint(seeded_server: Server) -> None:
    head = seeded_server.health()["head"]
    with Stream(seeded_server.url, params={"after": head}) as stream:
        started = time.monotonic()
        for line in stream.raw_lines():
            if time.monotonic() - started > 1.8 and not line:
                break  # at a message boundary, so the same iterator parses on
        first_message = stream.lines[: stream.lines.index("")]
        assert any(line.startswith(":") for line in first_message)
        assert "retry: 500" in first_message
        assert stream.comments().count(": heartbeat") >= 2
        assert not [line for line in stream.lines if line.startswith(("id:", "data:"))]

        with httpx.Client(base_url=seeded_server.url, timeout=10) as client:
            receipt = post_statement(client, f"after the silence {uuid.uuid4().hex}")
        (message,) = stream.take(1)  # the heartbeats kept the connection, and it is still live
    assert int(message["id"]) == receipt["position"]
