"""For analysts: the world matrix, replays, differences, explanations, min_confidence and approximate acts,
checked against facts of the seeds and small stories written for each test, on both backends.

One seeded store per backend for the module. Tests that write use declarations of their own, and every
question about the seeds names the seed declarations, so no test sees another's writes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.bootstrap import Runtime
from projections.analysis import Scope, apply_frame, replay
from tests.api.support import AUTH, BACKENDS, SOURCE, assert_problem, error_fields, running, seed_and_wait, unique

SEED_DECLARATIONS = [
    "bletchley-declaration", "bletchley-safety-testing", "seoul-declaration", "seoul-statement-of-intent",
    "seoul-ministerial-statement", "coe-framework-convention-ai", "paris-statement", "new-delhi-declaration",
]
NDJSON = "application/x-ndjson"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def seeded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"analysis-{backend}")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=seeded)) as test_client:
        yield test_client


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def now() -> str:
    return datetime.now(UTC).isoformat()


def publish(client: TestClient, published_on: str) -> str:
    slug = unique("analysis")
    response = client.post("/v1/declarations", headers=AUTH, json={
        "id": slug, "title": f"Convention {slug}", "published_on": published_on, "confidence": "high",
        "sources": [SOURCE]})
    assert response.status_code == 201, response.text
    return slug


def act(client: TestClient, declaration: str, kind: str, party: str, occurred_on: str, *,
        precision: str = "day", confidence: str = "high") -> str:
    response = client.post(f"/v1/declarations/{declaration}/acts", headers=AUTH, json={
        "kind": kind, "party": party, "occurred_on": occurred_on, "precision": precision,
        "confidence": confidence, "sources": [SOURCE]})
    assert response.status_code == 201, response.text
    event_id: str = response.json()["event_id"]
    return event_id


def retract(client: TestClient, event_id: str, reason: str = "misreported") -> str:
    response = client.post("/v1/retractions", headers=AUTH, json={
        "event_id": event_id, "reason": reason, "sources": [SOURCE]})
    assert response.status_code == 201, response.text
    retraction: str = response.json()["event_id"]
    return retraction


def changes(frame: dict[str, Any], party: str | None = None) -> set[tuple[str, str, str, str]]:
    return {(c["party"], c["declaration_id"], c["previous"], c["stance"]) for c in frame["changes"]
            if party is None or c["party"] == party}


# -- replaying the seeds month by month ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def monthly(client: TestClient) -> list[dict[str, Any]]:
    """The seeds replayed month by month from 2023-10 to 2026-03."""
    body = get(client, "/v1/replay", **{"from": "2023-10-01", "to": "2026-03-31", "step": "month",
                                        "declaration": SEED_DECLARATIONS})
    frames: list[dict[str, Any]] = body["frames"]
    return frames


def frame_of(frames: list[dict[str, Any]], period: str) -> dict[str, Any]:
    return next(f for f in frames if f["period"] == period)


def test_a_monthly_replay_from_2023_10_to_2026_03_has_one_frame_a_month_each_ending_on_its_last_day(
    monthly: list[dict[str, Any]],
) -> None:
    assert len(monthly) == 30
    assert [f["period"] for f in monthly[:3]] == ["2023-10", "2023-11", "2023-12"]
    assert (monthly[1]["starts_on"], monthly[1]["at"]) == ("2023-11-01", "2023-11-30")
    assert (monthly[-1]["period"], monthly[-1]["at"]) == ("2026-03", "2026-03-31")


def test_the_replay_shows_the_us_signing_bletchley_in_2023_11(monthly: list[dict[str, Any]]) -> None:
    signing = ("US", "bletchley-declaration", "none", "signed")
    assert [f["period"] for f in monthly if signing in changes(f)] == ["2023-11"]
    events = frame_of(monthly, "2023-11")["events"]
    us = next(e for e in events if e["party"] == "US" and e["declaration_id"] == "bletchley-declaration")
    assert (us["kind"], us["occurred_on"], us["approximate"]) == ("signed", "2023-11-01", False)
    assert us["sources"]


def test_the_replay_shows_the_us_and_the_uk_declining_paris_in_2025_02(monthly: list[dict[str, Any]]) -> None:
    february = frame_of(monthly, "2025-02")
    assert {("US", "paris-statement", "none", "declined"), ("GB", "paris-statement", "none", "declined")} \
        <= changes(february)
    assert not any(c[1] == "paris-statement" for f in monthly if f["period"] != "2025-02" for c in changes(f))
    statements = [e for e in february["events"] if e["kind"] == "statement" and e["party"] == "GB"]
    assert statements and all(e["sources"] for e in statements)


def test_the_replay_shows_new_zealand_joining_bletchley_in_2024_10(monthly: list[dict[str, Any]]) -> None:
    joining = ("NZ", "bletchley-declaration", "none", "signed")
    assert [f["period"] for f in monthly if joining in changes(f)] == ["2024-10"]
    assert changes(frame_of(monthly, "2024-10")) == {joining}


def test_quiet_months_have_no_changes_and_no_events(monthly: list[dict[str, Any]]) -> None:
    march = frame_of(monthly, "2025-03")
    assert (march["changes"], march["events"], march["state"]) == ([], [], None)


def test_the_first_frame_carries_the_full_state_at_its_end(client: TestClient) -> None:
    body = get(client, "/v1/replay", **{"from": "2025-01-01", "to": "2025-03-31", "party": "GB",
                                        "declaration": SEED_DECLARATIONS})
    first = body["frames"][0]
    world = get(client, "/v1/world", at=first["at"], known_at=first["known_at"], party="GB",
                declaration=SEED_DECLARATIONS)
    def ordered(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(cells, key=lambda c: (c["party"], c["declaration_id"]))

    assert ordered(first["state"]) == ordered(world["cells"])
    assert {c["declaration_id"] for c in first["state"]} >= {"bletchley-declaration", "seoul-declaration"}
    assert first["changes"] == []  # nothing changed for GB in January 2025
    assert [f["state"] for f in body["frames"][1:]] == [None, None]


def test_the_first_frame_lists_what_changed_since_the_day_before_from(client: TestClient) -> None:
    body = get(client, "/v1/replay", **{"from": "2025-02-11", "to": "2025-02-11", "step": "day", "party": "US",
                                        "declaration": SEED_DECLARATIONS})
    (frame,) = body["frames"]
    assert changes(frame) == {("US", "paris-statement", "none", "declined")}


def test_every_frame_folded_in_order_equals_the_world_at_its_date(client: TestClient) -> None:
    body = get(client, "/v1/replay", **{"from": "2023-09-15", "to": "2026-03-01", "step": "quarter",
                                        "declaration": SEED_DECLARATIONS})
    state: dict[Any, Any] = {}
    for frame in body["frames"]:
        world = get(client, "/v1/world", at=frame["at"], known_at=body["known_at"], declaration=SEED_DECLARATIONS)
        assert apply_frame(state, frame) == {(c["party"], c["declaration_id"]): (c["stance"], c["event_id"])
                                             for c in world["cells"]}
    assert [f["period"] for f in body["frames"]][:2] == ["2023-Q3", "2023-Q4"]


def test_a_replay_names_its_declarations_and_echoes_its_parameters(client: TestClient) -> None:
    body = get(client, "/v1/replay", **{"from": "2024-01-01", "to": "2024-12-31", "step": "year",
                                        "declaration": ["paris-statement", "bletchley-declaration"]})
    assert (body["from"], body["to"], body["step"], body["min_confidence"]) == (
        "2024-01-01", "2024-12-31", "year", "low")
    assert [d["id"] for d in body["declarations"]] == ["paris-statement", "bletchley-declaration"]
    assert [f["period"] for f in body["frames"]] == ["2024"]


# -- JSON lines, streamed ----------------------------------------------------------------------------------------


def test_accept_ndjson_streams_one_frame_a_line(client: TestClient) -> None:
    params = {"from": "2023-10-01", "to": "2026-03-31", "declaration": SEED_DECLARATIONS}
    with client.stream("GET", "/v1/replay", params=params, headers={"Accept": NDJSON}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(NDJSON)
        lines = [json.loads(line) for line in response.iter_lines() if line]
    document = get(client, "/v1/replay", **params, known_at=lines[0]["known_at"])
    assert lines == document["frames"]


def test_format_ndjson_gives_json_lines_without_an_accept_header(client: TestClient) -> None:
    response = client.get("/v1/replay", params={"from": "2025-01-01", "to": "2025-06-30", "format": "ndjson",
                                                "declaration": SEED_DECLARATIONS})
    assert response.headers["content-type"].startswith(NDJSON)
    assert [json.loads(line)["period"] for line in response.text.splitlines()] == [
        "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def test_a_replay_reads_one_frame_at_a_time(seeded: Runtime) -> None:
    """The frames come from a generator that opens one short read per frame, never the whole replay at once."""
    opened = []

    def reading() -> Any:
        opened.append(1)
        return seeded.store.reading()

    frames = replay(reading, first=datetime(2023, 1, 1).date(), last=datetime(2026, 3, 1).date(), step="day",
                    known_at=now(), scope=Scope())
    assert opened == []
    next(frames)
    next(frames)
    assert len(opened) == 2


def test_a_daily_replay_of_three_years_streams_every_frame(client: TestClient) -> None:
    params = {"from": "2023-03-01", "to": "2026-02-28", "step": "day", "party": "NZ"}
    with client.stream("GET", "/v1/replay", params=params, headers={"Accept": NDJSON}) as response:
        periods = [json.loads(line)["period"] for line in response.iter_lines() if line]
    assert len(periods) == 1096 and periods[0] == "2023-03-01" and periods[-1] == "2026-02-28"


# -- the world matrix ----------------------------------------------------------------------------------------------


def test_the_world_lists_declarations_and_parties_once_and_stances_as_a_matrix(client: TestClient) -> None:
    body = get(client, "/v1/world", at="2025-02-12", declaration=["bletchley-declaration", "paris-statement"])
    assert [d["id"] for d in body["declarations"]] == ["bletchley-declaration", "paris-statement"]
    row = body["matrix"][body["parties"].index("US")]
    assert row == ["signed", "declined"]
    assert body["matrix"][body["parties"].index("NZ")] == ["signed", "signed"]
    assert len(body["parties"]) == len(set(body["parties"])) == len(body["matrix"])
    assert sum(s is not None for r in body["matrix"] for s in r) == len(body["cells"])
    us_paris = next(c for c in body["cells"] if (c["party"], c["declaration_id"]) == ("US", "paris-statement"))
    assert (us_paris["stance"], us_paris["since"], us_paris["approximate"]) == ("declined", "2025-02-11", False)


def test_the_world_before_a_declaration_was_published_leaves_it_out(client: TestClient) -> None:
    body = get(client, "/v1/world", at="2024-01-01")
    ids = {d["id"] for d in body["declarations"]}
    assert {"bletchley-declaration", "bletchley-safety-testing"} <= ids
    assert "paris-statement" not in ids


def test_a_party_asked_for_is_a_row_even_without_a_stance(client: TestClient) -> None:
    body = get(client, "/v1/world", at="2025-02-12", party=["US", "AQ"], declaration="paris-statement")
    assert body["parties"] == ["AQ", "US"]
    assert body["matrix"] == [[None], ["declined"]]


# -- differences between two dates -------------------------------------------------------------------------------


def test_between_two_dates_the_diff_shows_new_zealand_joining_bletchley_and_the_act_that_did_it(
    client: TestClient,
) -> None:
    body = get(client, "/v1/diff", from_at="2024-10-01", to_at="2024-10-31", declaration=SEED_DECLARATIONS)
    assert body["kind"] == "valid_time"
    (difference,) = body["differences"]
    assert (difference["party"], difference["declaration_id"]) == ("NZ", "bletchley-declaration")
    assert (difference["before"]["stance"], difference["after"]["stance"]) == ("none", "signed")
    (event,) = difference["events"]
    assert (event["kind"], event["occurred_on"], event["event_id"]) == (
        "signed", "2024-10-23", difference["after"]["event_id"])
    assert event["sources"] and event["retracts"] is None


def test_between_the_seoul_and_paris_summits_every_paris_stance_is_new(client: TestClient) -> None:
    body = get(client, "/v1/diff", from_at="2024-05-22", to_at="2025-02-11", declaration="paris-statement")
    assert len(body["differences"]) == 62
    assert all(d["before"]["stance"] == "none" and d["stance_changed"] for d in body["differences"])


# -- differences between two versions of the record ---------------------------------------------------------


def test_a_diff_between_two_knowledge_times_shows_exactly_the_retractions_recorded_between_them(
    client: TestClient,
) -> None:
    convention = publish(client, "2024-01-01")
    signed = {p: act(client, convention, "signed", p, "2024-02-01") for p in ("FR", "DE", "IT", "ES")}
    declined_later = act(client, convention, "withdrawn", "ES", "2025-06-01")
    before = now()
    retraction_fr = retract(client, signed["FR"])
    retraction_later = retract(client, declined_later)  # after `at`: it changes nothing on 2024-12-31
    flicker = act(client, convention, "withdrawn", "IT", "2024-06-01")
    retract(client, flicker)  # recorded and retracted in the window: no net difference
    after = now()

    body = get(client, "/v1/diff", at="2024-12-31", known_at_a=before, known_at_b=after)
    assert body["kind"] == "knowledge_time"
    assert [(d["party"], d["declaration_id"]) for d in body["differences"]] == [("FR", convention)]
    (difference,) = body["differences"]
    assert (difference["before"]["stance"], difference["before"]["event_id"]) == ("signed", signed["FR"])
    assert difference["after"] == {"stance": "none", "since": None, "precision": None, "approximate": False,
                                   "confidence": None, "event_id": None, "position": None}
    (event,) = difference["events"]
    assert (event["kind"], event["event_id"], event["reason"]) == ("retracted", retraction_fr, "misreported")
    assert event["retracts"]["event_id"] == signed["FR"]
    assert event["sources"] and event["recorded_at"] > before

    later = get(client, "/v1/diff", at="2025-12-31", known_at_a=before, known_at_b=after, declaration=convention)
    es = next(d for d in later["differences"] if d["party"] == "ES")
    assert (es["before"]["stance"], es["after"]["stance"]) == ("withdrawn", "signed")
    assert [e["event_id"] for e in es["events"]] == [retraction_later]


def test_a_diff_between_two_knowledge_times_shows_an_act_recorded_between_them(client: TestClient) -> None:
    convention = publish(client, "2024-01-01")
    before = now()
    signed = act(client, convention, "signed", "PT", "2024-03-01", precision="month")
    body = get(client, "/v1/diff", at="2024-12-31", known_at_a=before, known_at_b=now(), declaration=convention)
    (difference,) = body["differences"]
    assert (difference["after"]["stance"], difference["after"]["approximate"]) == ("signed", True)
    (event,) = difference["events"]
    assert (event["event_id"], event["kind"], event["approximate"], event["effective_on"]) == (
        signed, "signed", True, "2024-03-01")


def test_two_equal_versions_of_the_record_have_no_differences(client: TestClient) -> None:
    moment = now()
    assert get(client, "/v1/diff", known_at_a=moment, known_at_b=moment)["differences"] == []


# -- explanations -----------------------------------------------------------------------------------------------


def test_explain_gives_the_act_behind_the_uks_paris_refusal_with_its_position_time_and_sources(
    client: TestClient,
) -> None:
    body = get(client, "/v1/parties/GB/stances", at="2025-02-12", declaration="paris-statement", explain="true")
    (stance,) = body["stances"]
    (link,) = stance["explanation"]
    assert (link["kind"], link["event_id"], link["position"]) == ("declined", stance["event_id"], stance["position"])
    assert link["recorded_at"] and link["sources"] == stance["sources"]
    assert (link["counts"], link["retracted"], link["stance_after"], link["approximate"]) == (
        True, False, "declined", False)


def test_without_explain_there_is_no_chain(client: TestClient) -> None:
    body = get(client, "/v1/parties/GB/stances", at="2025-02-12", declaration="paris-statement")
    assert body["stances"][0]["explanation"] is None


def test_explain_marks_a_retracted_act_in_the_chain_and_the_act_that_counts_again(client: TestClient) -> None:
    convention = publish(client, "2024-01-01")
    first = act(client, convention, "signed", "PT", "2024-03-01")
    withdrawn = act(client, convention, "withdrawn", "PT", "2024-05-01")
    before = now()
    retract(client, withdrawn, reason="the withdrawal was another party's")

    body = get(client, "/v1/parties/PT/stances", at="2024-12-31", declaration=convention, explain="true")
    (stance,) = body["stances"]
    assert (stance["stance"], stance["since"], stance["event_id"]) == ("signed", "2024-03-01", first)
    chain = stance["explanation"]
    assert [(c["event_id"], c["counts"], c["why_not"], c["stance_after"]) for c in chain] == [
        (first, True, None, "signed"), (withdrawn, False, "retracted", None)]
    assert chain[1]["retraction"]["reason"] == "the withdrawal was another party's"

    then = get(client, "/v1/parties/PT/stances", at="2024-12-31", declaration=convention, explain="true",
               known_at=before)["stances"][0]
    assert then["stance"] == "withdrawn"
    assert [(c["counts"], c["retracted"], c["stance_after"]) for c in then["explanation"]] == [
        (True, False, "signed"), (True, False, "withdrawn")]


def test_signatories_explain_each_stance(client: TestClient) -> None:
    body = get(client, "/v1/declarations/bletchley-declaration/signatories", at="2024-12-31", explain="true")
    nz = next(s for s in body["signed"] if s["party"] == "NZ")
    assert [(c["kind"], c["occurred_on"], c["confidence"]) for c in nz["explanation"]] == [
        ("signed", "2024-10-23", "medium")]
    assert all(s["explanation"][-1]["event_id"] == s["event_id"] for s in body["signed"])


# -- min_confidence ----------------------------------------------------------------------------------------------


def test_paris_signatories_at_min_confidence_high_are_only_the_14_confirmed_ones(client: TestClient) -> None:
    everyone = get(client, "/v1/declarations/paris-statement/signatories", at="2025-02-12")
    confirmed = get(client, "/v1/declarations/paris-statement/signatories", at="2025-02-12", min_confidence="high")
    assert (len(everyone["signed"]), len(confirmed["signed"])) == (60, 14)
    assert {s["confidence"] for s in confirmed["signed"]} == {"high"}
    assert {s["party"] for s in confirmed["declined"]} == {"GB", "US"}


def test_min_confidence_medium_counts_medium_and_high(client: TestClient) -> None:
    body = get(client, "/v1/declarations/bletchley-declaration/signatories", at="2024-12-31", min_confidence="medium")
    assert len(body["signed"]) == 30
    high = get(client, "/v1/declarations/bletchley-declaration/signatories", at="2024-12-31", min_confidence="high")
    assert len(high["signed"]) == 21 and "NZ" not in {s["party"] for s in high["signed"]}


def test_a_stance_set_by_an_unconfirmed_act_falls_back_to_the_confirmed_one_before_it(client: TestClient) -> None:
    convention = publish(client, "2024-01-01")
    act(client, convention, "signed", "IE", "2024-02-01", confidence="high")
    act(client, convention, "withdrawn", "IE", "2024-08-01", confidence="low")

    def stance(level: str) -> dict[str, Any]:
        found: dict[str, Any] = get(client, "/v1/parties/IE/stances", at="2024-12-31", declaration=convention,
                                    min_confidence=level, explain="true")["stances"][0]
        return found

    assert stance("low")["stance"] == "withdrawn"
    confirmed = stance("high")
    assert (confirmed["stance"], confirmed["since"]) == ("signed", "2024-02-01")
    assert [c["why_not"] for c in confirmed["explanation"]] == [None, "below min_confidence"]


def test_min_confidence_applies_to_the_world_replay_and_diff(client: TestClient) -> None:
    world = get(client, "/v1/world", at="2025-02-12", declaration="paris-statement", min_confidence="high")
    assert len(world["parties"]) == 16 and world["min_confidence"] == "high"
    frames = get(client, "/v1/replay", **{"from": "2025-02-01", "to": "2025-02-28", "declaration": "paris-statement",
                                          "min_confidence": "high"})["frames"]
    assert len(frames[0]["changes"]) == 16
    assert {e["confidence"] for e in frames[0]["events"]} == {"high"}
    diff = get(client, "/v1/diff", from_at="2025-02-10", to_at="2025-02-11", declaration="paris-statement",
               min_confidence="high")
    assert len(diff["differences"]) == 16


# -- approximate acts -------------------------------------------------------------------------------------------


def test_an_act_known_to_the_month_counts_from_its_first_day_and_is_marked_approximate_everywhere(
    client: TestClient,
) -> None:
    convention = publish(client, "2024-05-15")
    june = act(client, convention, "signed", "SE", "2024-06-20", precision="month")
    may = act(client, convention, "signed", "NO", "2024-05-28", precision="month")  # counts from publication
    act(client, convention, "signed", "FI", "2024-06-03")

    stance = get(client, "/v1/parties/SE/stances", at="2024-06-01", declaration=convention)["stances"][0]
    assert (stance["stance"], stance["since"], stance["precision"], stance["approximate"]) == (
        "signed", "2024-06-01", "month", True)
    signatories = get(client, f"/v1/declarations/{convention}/signatories", at="2024-06-30")["signed"]
    assert {s["party"]: (s["since"], s["approximate"]) for s in signatories} == {
        "NO": ("2024-05-15", True), "SE": ("2024-06-01", True), "FI": ("2024-06-03", False)}
    world = get(client, "/v1/world", at="2024-05-31", declaration=convention)
    assert [(c["party"], c["approximate"]) for c in world["cells"]] == [("NO", True)]

    frames = get(client, "/v1/replay", **{"from": "2024-05-01", "to": "2024-06-30", "declaration": convention})
    june_frame = frames["frames"][1]
    assert {(c["party"], c["approximate"]) for c in june_frame["changes"]} == {("SE", True), ("FI", False)}
    se = next(e for e in june_frame["events"] if e["event_id"] == june)
    assert (se["occurred_on"], se["effective_on"], se["approximate"]) == ("2024-06-20", "2024-06-01", True)

    history = get(client, "/v1/parties/NO/history")["entries"]
    no = next(e for e in history if e["event_id"] == may)
    assert (no["occurred_on"], no["effective_on"], no["approximate"]) == ("2024-05-28", "2024-05-15", True)
    timeline = get(client, "/v1/timeline", declaration=convention, kind="signed")["items"]
    assert [(i["party"], i["approximate"]) for i in timeline] == [("NO", True), ("SE", True), ("FI", False)]
    explained = get(client, "/v1/parties/SE/stances", at="2024-06-01", declaration=convention, explain="true")
    assert explained["stances"][0]["explanation"][0]["approximate"] is True


def test_an_act_known_to_the_year_before_the_publication_year_is_refused(client: TestClient) -> None:
    convention = publish(client, "2024-05-15")
    response = client.post(f"/v1/declarations/{convention}/acts", headers=AUTH, json={
        "kind": "signed", "party": "SE", "occurred_on": "2023-06-01", "precision": "year", "confidence": "high",
        "sources": [SOURCE]})
    body = assert_problem(response, 409)
    assert body["field"] == "occurred_on" and "in 2023 (known only to the year" in body["detail"]


# -- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/replay", {"from": "2025-02-01", "to": "2025-01-01"}, "from"),
    ("/v1/replay", {"from": "2025-01-01", "step": "fortnight"}, "step"),
    ("/v1/replay", {"from": "0001-01-01", "to": "9999-12-31", "step": "day"}, "step"),
    ("/v1/replay", {"to": "2025-01-01"}, "from"),
    ("/v1/replay", {"from": "2025-13-01"}, "from"),
    ("/v1/replay", {"from": "2025-01-01", "party": "XX"}, "party"),
    ("/v1/replay", {"from": "2025-01-01", "declaration": "no-such-declaration"}, "declaration"),
    ("/v1/replay", {"from": "2025-01-01", "known_at": "2025-01-01T00:00:00"}, "known_at"),
    ("/v1/replay", {"from": "2025-01-01", "min_confidence": "certain"}, "min_confidence"),
    ("/v1/replay", {"from": "2025-01-01", "format": "xml"}, "format"),
    ("/v1/world", {"declaration": "no-such-declaration"}, "declaration"),
    ("/v1/world", {"party": "XX"}, "party"),
    ("/v1/world", {"min_confidence": "certain"}, "min_confidence"),
    ("/v1/diff", {}, "from_at"),
    ("/v1/diff", {"from_at": "2025-01-01"}, "to_at"),
    ("/v1/diff", {"from_at": "2025-02-01", "to_at": "2025-01-01"}, "from_at"),
    ("/v1/diff", {"from_at": "2025-01-01", "to_at": "2025-02-01", "known_at_b": "2025-03-01"}, "known_at_b"),
    ("/v1/diff", {"from_at": "2025-01-01", "to_at": "2025-02-01", "at": "2025-01-01"}, "at"),
    ("/v1/diff", {"known_at_a": "2025-01-01"}, "known_at_b"),
    ("/v1/diff", {"known_at_a": "2025-01-01", "known_at_b": "yesterday"}, "known_at_b"),
    ("/v1/diff", {"known_at_a": "2025-02-01", "known_at_b": "2025-01-01"}, "known_at_a"),
    ("/v1/diff", {"known_at_a": "2025-01-01", "known_at_b": "2025-02-01", "known_at": "2025-01-01"}, "known_at"),
    ("/v1/diff", {"from_at": "2025-01-01", "to_at": "2025-02-01", "declaration": "nope"}, "declaration"),
    ("/v1/parties/GB/stances", {"min_confidence": "certain"}, "min_confidence"),
    ("/v1/parties/GB/stances", {"explain": "perhaps"}, "explain"),
    ("/v1/declarations/paris-statement/signatories", {"min_confidence": "HIGH"}, "min_confidence"),
])
def test_bad_parameters_are_refused_with_422_naming_the_field(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    assert field in error_fields(assert_problem(client.get(path, params=params), 422))


# -- the command line: diplo replay and diplo diff ----------------------------------------------------------------


def diplo(runtime: Runtime, *args: str) -> Any:
    """Runs `diplo` against the module's store, as a user would with the same environment."""
    settings = runtime.settings
    env = {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_DATABASE_URL": settings.database_url,
           "DIPLO_DATABASE_SCHEMA": settings.database_schema, "DIPLO_WRITE_TOKENS": "unused"}
    return CliRunner().invoke(cli.app, list(args), env=env)


def test_diplo_replay_jsonl_writes_the_same_frames_as_the_http_replay(seeded: Runtime, client: TestClient) -> None:
    known_at = now()
    args = {"from": "2024-09-01", "to": "2024-11-30", "party": "NZ", "declaration": "bletchley-declaration"}
    result = diplo(seeded, "replay", "--from", args["from"], "--to", args["to"], "--party", "NZ", "--declaration",
                   "bletchley-declaration", "--known-at", known_at, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert frames == get(client, "/v1/replay", **args, known_at=known_at)["frames"]
    assert [f["period"] for f in frames if f["changes"]] == ["2024-10"]


def test_diplo_replay_csv_lists_the_first_state_then_each_change(seeded: Runtime) -> None:
    result = diplo(seeded, "replay", "--from", "2025-01-01", "--to", "2025-03-31", "--party", "GB", "--party", "US",
                   "--declaration", "paris-statement", "--declaration", "bletchley-declaration", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["row"], r["period"], r["party"], r["declaration_id"], r["previous"], r["stance"]) for r in rows] == [
        ("state", "2025-01", "GB", "bletchley-declaration", "", "signed"),
        ("state", "2025-01", "US", "bletchley-declaration", "", "signed"),
        ("change", "2025-02", "GB", "paris-statement", "none", "declined"),
        ("change", "2025-02", "US", "paris-statement", "none", "declined"),
    ]
    assert {r["approximate"] for r in rows} == {"false"}


def test_diplo_replay_prints_a_table_with_dates_down_declarations_across_and_a_legend(seeded: Runtime) -> None:
    result = diplo(seeded, "replay", "--from", "2025-01-01", "--to", "2025-03-31", "--party", "GB",
                   "--declaration", "paris-statement")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "paris-statement" in result.stdout and "✓ signed" in result.stdout and "✗ declined" in result.stdout
    january = next(line for line in lines if line.startswith("│ 2025-01 "))
    february = next(line for line in lines if line.startswith("│ 2025-02 "))
    assert "·" in january and "✗" not in january
    assert "✗" in february


def test_diplo_diff_json_answers_as_the_http_diff(seeded: Runtime, client: TestClient) -> None:
    known_at = now()
    result = diplo(seeded, "diff", "--from-at", "2024-10-01", "--to-at", "2024-10-31", "--known-at", known_at,
                   "--declaration", "bletchley-declaration", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == get(client, "/v1/diff", from_at="2024-10-01", to_at="2024-10-31",
                                            known_at=known_at, declaration="bletchley-declaration")


def test_diplo_diff_prints_each_difference_with_what_made_it(seeded: Runtime) -> None:
    result = diplo(seeded, "diff", "--from-at", "2024-10-01", "--to-at", "2024-10-31", "--declaration",
                   "bletchley-declaration")
    assert result.exit_code == 0, result.output
    assert "NZ" in result.stdout and "2024-10-23" in result.stdout and "1 difference" in result.stdout


@pytest.mark.parametrize(("args", "field"), [
    (["replay", "--from", "2025-02-01", "--to", "2025-01-01"], "from"),
    (["replay", "--from", "2025-01-01", "--party", "XX"], "party"),
    (["diff", "--from-at", "2025-01-01", "--known-at-a", "2025-01-01"], "known_at_a"),
    (["diff"], "from_at"),
])
def test_diplo_refuses_bad_options_with_exit_status_2_naming_them(
    seeded: Runtime, args: list[str], field: str
) -> None:
    result = diplo(seeded, *args)
    assert result.exit_code == 2, result.output
    assert f"error ({field})" in result.output
