"""Every read route, checked against facts of the seeds (and one small story written for `previous`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from tests.api.support import AUTH, BACKENDS, SOURCE, running, seed_and_wait, today

SEEDED_SUMMITS = ["bletchley-2023", "seoul-2024", "coe-vilnius-2024", "paris-2025", "delhi-2026"]
SEEDED_DECLARATIONS = {
    "bletchley-declaration", "bletchley-safety-testing", "seoul-declaration", "seoul-statement-of-intent",
    "seoul-ministerial-statement", "paris-statement", "new-delhi-declaration", "coe-framework-convention-ai",
}

# -- fixtures: one seeded store per backend for the module; reads change nothing ------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def seeded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"reads-{backend}")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def seeded_client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=seeded)) as client:
        yield client


STORY = "reads-story-convention"


@pytest.fixture(scope="module")
def story(seeded_client: TestClient) -> str:
    """Nepal signs a convention (no summit) on 2024-02-01, withdraws on 2024-06-01, signs again on 2025-01-01."""

    def write(path: str, body: dict[str, Any]) -> None:
        response = seeded_client.post(path, json={**body, "sources": [SOURCE]}, headers=AUTH)
        assert response.status_code == 201, response.text

    write("/v1/declarations", {"id": STORY, "title": "Reads Story Convention", "published_on": "2024-01-01",
                               "confidence": "high"})
    for kind, occurred_on in [("signed", "2024-02-01"), ("withdrawn", "2024-06-01"), ("signed", "2025-01-01")]:
        write(f"/v1/declarations/{STORY}/acts", {"kind": kind, "party": "NP", "occurred_on": occurred_on,
                                                 "confidence": "high"})
    return STORY


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def paris_stance(client: TestClient, party: str, **params: Any) -> dict[str, Any]:
    body = get(client, f"/v1/parties/{party}/stances", declaration="paris-statement", **params)
    found: dict[str, Any] = body["stances"][0]
    return found


def all_events(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = get(client, "/v1/events", limit=1000)["events"]
    return events


def the_event(client: TestClient, kind: str, party: str, declaration_id: str) -> dict[str, Any]:
    return next(e for e in all_events(client) if e["kind"] == kind and e["data"].get("party") == party
                and e["data"].get("declaration_id") == declaration_id)


def shifted(recorded_at: str, **delta: float) -> datetime:
    return datetime.fromisoformat(recorded_at) + timedelta(**delta)


# -- parties ---------------------------------------------------------------------------------------------------


def test_searching_parties_for_united_kingdom_finds_gb(seeded_client: TestClient) -> None:
    assert [p["code"] for p in get(seeded_client, "/v1/parties", q="United Kingdom")] == ["GB"]


def test_party_search_ignores_case(seeded_client: TestClient) -> None:
    assert [p["code"] for p in get(seeded_client, "/v1/parties", q="united kingdom")] == ["GB"]


def test_party_search_matches_an_organisations_alias(seeded_client: TestClient) -> None:
    assert "AFRICAN_UNION" in {p["code"] for p in get(seeded_client, "/v1/parties", q="AUC")}


def test_filtering_parties_by_kind_state_lists_only_states(seeded_client: TestClient) -> None:
    states = get(seeded_client, "/v1/parties", kind="state")
    assert {p["kind"] for p in states} == {"state"}
    codes = {p["code"] for p in states}
    assert {"US", "GB", "FR", "CN"} <= codes and "EU" not in codes


def test_filtering_parties_by_an_organisation_kind_lists_those_organisations(seeded_client: TestClient) -> None:
    assert [p["code"] for p in get(seeded_client, "/v1/parties", kind="supranational")] == ["EU"]


def test_the_registry_holds_former_states(seeded_client: TestClient) -> None:
    former = get(seeded_client, "/v1/parties", kind="former-state")
    assert "SUHH" in {p["code"] for p in former}


def test_search_and_kind_filter_combine(seeded_client: TestClient) -> None:
    assert get(seeded_client, "/v1/parties", q="United Kingdom", kind="supranational") == []


def test_a_party_is_read_by_its_code(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/parties/GB")
    assert (body["code"], body["name"], body["kind"]) == ("GB", "United Kingdom", "state")


def test_a_lower_case_code_reads_the_same_party(seeded_client: TestClient) -> None:
    assert get(seeded_client, "/v1/parties/gb") == get(seeded_client, "/v1/parties/GB")


def test_an_organisation_is_read_by_its_code(seeded_client: TestClient) -> None:
    assert get(seeded_client, "/v1/parties/EU")["name"] == "European Union"


# -- stances, in both times -----------------------------------------------------------------------------------


def test_the_us_declined_the_paris_statement_since_2025_02_11(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12")
    assert (body["party"], body["at"]) == ("US", "2025-02-12")
    paris = next(s for s in body["stances"] if s["declaration_id"] == "paris-statement")
    assert (paris["stance"], paris["since"]) == ("declined", "2025-02-11")
    assert paris["event_id"] and paris["sources"] and paris["title"].startswith("Statement on Inclusive")


def test_the_day_before_the_paris_statement_the_us_had_no_stance_on_it(seeded_client: TestClient) -> None:
    assert paris_stance(seeded_client, "US", at="2025-02-10")["stance"] == "none"


def test_stances_by_a_lower_case_code_answer_for_the_upper_case_party(seeded_client: TestClient) -> None:
    lower = get(seeded_client, "/v1/parties/us/stances", at="2025-02-12")
    assert lower["party"] == "US"
    assert lower["stances"] == get(seeded_client, "/v1/parties/US/stances", at="2025-02-12")["stances"]


def test_a_party_with_no_acts_has_no_stances(seeded_client: TestClient) -> None:
    assert get(seeded_client, "/v1/parties/AQ/stances")["stances"] == []


def test_known_at_as_a_date_before_anything_was_recorded_shows_no_stances(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12", known_at="2020-01-01")
    assert body["stances"] == []


def test_known_at_as_a_date_means_the_end_of_that_day_utc(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12", known_at="2025-03-01")
    assert body["known_at"] == "2025-03-01T23:59:59.999999+00:00"
    # The end of today is still to come: it is read as now, and the answer says so (docs/semantics.md).
    body = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12", known_at=today().isoformat())
    assert body["known_at"] <= datetime.now(UTC).isoformat()
    assert paris_stance(seeded_client, "US", at="2025-02-12", known_at=today().isoformat())["stance"] == "declined"


def test_known_at_with_z_at_the_moment_the_decline_was_recorded_shows_it(seeded_client: TestClient) -> None:
    recorded_at = the_event(seeded_client, "declined", "US", "paris-statement")["recorded_at"]
    known_at = recorded_at.replace("+00:00", "Z")
    assert known_at.endswith("Z")
    assert paris_stance(seeded_client, "US", at="2025-02-12", known_at=known_at)["stance"] == "declined"


def test_known_at_a_microsecond_before_the_decline_was_recorded_does_not_show_it(seeded_client: TestClient) -> None:
    recorded_at = the_event(seeded_client, "declined", "US", "paris-statement")["recorded_at"]
    before = shifted(recorded_at, microseconds=-1).isoformat().replace("+00:00", "Z")
    assert paris_stance(seeded_client, "US", at="2025-02-12", known_at=before)["stance"] == "none"


def test_known_at_with_plus_00_00_answers_as_with_z(seeded_client: TestClient) -> None:
    recorded_at = the_event(seeded_client, "declined", "US", "paris-statement")["recorded_at"]
    assert recorded_at.endswith("+00:00")
    with_offset = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12", known_at=recorded_at)
    with_z = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12",
                 known_at=recorded_at.replace("+00:00", "Z"))
    assert with_offset == with_z
    assert with_offset["known_at"] == recorded_at


def test_known_at_in_another_zone_means_the_same_instant(seeded_client: TestClient) -> None:
    recorded_at = the_event(seeded_client, "declined", "US", "paris-statement")["recorded_at"]
    in_paris = shifted(recorded_at).astimezone(timezone(timedelta(hours=2))).isoformat()
    body = get(seeded_client, "/v1/parties/US/stances", at="2025-02-12", known_at=in_paris)
    assert body["known_at"] == recorded_at
    assert paris_stance(seeded_client, "US", at="2025-02-12", known_at=in_paris)["stance"] == "declined"


def test_an_unencoded_plus_in_known_at_is_read_as_the_zone_offset(seeded_client: TestClient) -> None:
    recorded_at = the_event(seeded_client, "declined", "US", "paris-statement")["recorded_at"]
    response = seeded_client.get(f"/v1/parties/US/stances?at=2025-02-12&known_at={recorded_at}")
    assert response.status_code == 200, response.text
    assert response.json()["known_at"] == recorded_at


# -- history ---------------------------------------------------------------------------------------------------


def gb_history(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = get(client, "/v1/parties/GB/history", **params)["entries"]
    return entries


def test_a_history_is_in_valid_time_order(seeded_client: TestClient) -> None:
    entries = gb_history(seeded_client)
    keys = [(e["occurred_on"], e["position"]) for e in entries]
    assert len(entries) > 10 and keys == sorted(keys)


def test_gb_history_shows_its_bletchley_signature_on_2023_11_01(seeded_client: TestClient) -> None:
    entry = next(e for e in gb_history(seeded_client) if e["declaration_id"] == "bletchley-declaration"
                 and e["kind"] == "signed")
    assert (entry["occurred_on"], entry["stance"], entry["previous"], entry["retracted"]) == (
        "2023-11-01", "signed", None, False)
    assert entry["sources"] and entry["event_id"] and entry["recorded_at"]


def test_gb_history_shows_its_paris_refusal_with_the_reason(seeded_client: TestClient) -> None:
    entry = next(e for e in gb_history(seeded_client) if e["declaration_id"] == "paris-statement"
                 and e["kind"] == "declined")
    assert (entry["occurred_on"], entry["stance"]) == ("2025-02-11", "declined")
    assert "national interest" in entry["reason"]


def test_gb_history_shows_the_summits_it_hosted_and_co_hosted(seeded_client: TestClient) -> None:
    hosted = {e["summit_id"] for e in gb_history(seeded_client) if e["kind"] == "hosted"}
    assert hosted == {"bletchley-2023", "seoul-2024"}


def test_gb_history_shows_its_statements_beside_its_acts(seeded_client: TestClient) -> None:
    statements = [e for e in gb_history(seeded_client) if e["kind"] == "statement"]
    paris = [s for s in statements if s["declaration_id"] == "paris-statement"]
    assert paris and all(s["text"] and s["position_on"] == "opposes" and s["stance"] is None for s in paris)


def test_history_from_and_to_keep_only_entries_in_that_range(seeded_client: TestClient) -> None:
    entries = gb_history(seeded_client, **{"from": "2025-01-01", "to": "2025-12-31"})
    assert entries and all("2025-01-01" <= e["occurred_on"] <= "2025-12-31" for e in entries)
    assert any(e["declaration_id"] == "paris-statement" and e["kind"] == "declined" for e in entries)


def test_history_from_and_to_are_inclusive(seeded_client: TestClient) -> None:
    entries = gb_history(seeded_client, **{"from": "2023-11-01", "to": "2023-11-01"})
    assert entries and {e["occurred_on"] for e in entries} == {"2023-11-01"}


def test_history_known_at_before_anything_was_recorded_is_empty(seeded_client: TestClient) -> None:
    assert gb_history(seeded_client, known_at="2020-01-01") == []


def test_history_by_a_lower_case_code_answers_for_the_upper_case_party(seeded_client: TestClient) -> None:
    assert get(seeded_client, "/v1/parties/gb/history")["party"] == "GB"


def test_each_act_in_a_history_names_the_stance_it_set_and_the_one_before(
    seeded_client: TestClient, story: str
) -> None:
    entries = [e for e in get(seeded_client, "/v1/parties/NP/history")["entries"] if e["declaration_id"] == story]
    assert [(e["occurred_on"], e["stance"], e["previous"]) for e in entries] == [
        ("2024-02-01", "signed", None), ("2024-06-01", "withdrawn", "signed"), ("2025-01-01", "signed", "withdrawn"),
    ]


def test_a_history_from_a_date_still_names_the_stance_before_the_first_entry_shown(
    seeded_client: TestClient, story: str
) -> None:
    entries = get(seeded_client, "/v1/parties/NP/history", **{"from": "2024-03-01"})["entries"]
    first = next(e for e in entries if e["declaration_id"] == story)
    assert (first["occurred_on"], first["stance"], first["previous"]) == ("2024-06-01", "withdrawn", "signed")


# -- declarations and signatories ---------------------------------------------------------------------------------


def test_declarations_list_every_seeded_declaration_with_its_summit(seeded_client: TestClient) -> None:
    declarations = {d["id"]: d for d in get(seeded_client, "/v1/declarations")}
    assert set(declarations) >= SEEDED_DECLARATIONS
    assert declarations["bletchley-declaration"]["summit"]["id"] == "bletchley-2023"
    assert all(declarations[d]["summit"] for d in SEEDED_DECLARATIONS)


def test_the_paris_statement_counts_60_signed_and_2_declined(seeded_client: TestClient) -> None:
    listed = next(d for d in get(seeded_client, "/v1/declarations") if d["id"] == "paris-statement")
    assert listed["counts"] == {"signed": 60, "declined": 2, "withdrawn": 0}


def test_a_declaration_is_read_with_its_summit_and_counts(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/declarations/paris-statement")
    assert body["summit"]["id"] == "paris-2025" and body["summit"]["name"].startswith("AI Action Summit")
    assert (body["published_on"], body["counts"]) == ("2025-02-11", {"signed": 60, "declined": 2, "withdrawn": 0})
    assert body["sources"] and body["event_id"]


def test_declaration_counts_follow_at(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/declarations/paris-statement", at="2025-02-10")
    assert body["counts"] == {"signed": 0, "declined": 0, "withdrawn": 0}


def test_a_declaration_the_record_did_not_hold_yet_is_not_found_at_that_known_at(seeded_client: TestClient) -> None:
    response = seeded_client.get("/v1/declarations/paris-statement", params={"known_at": "2020-01-01"})
    assert response.status_code == 404
    assert seeded_client.get("/v1/declarations", params={"known_at": "2020-01-01"}).json() == []


def test_a_declaration_without_a_summit_has_summit_null(seeded_client: TestClient, story: str) -> None:
    assert get(seeded_client, f"/v1/declarations/{story}")["summit"] is None


def test_signatories_group_parties_by_stance(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/declarations/paris-statement/signatories", at="2025-02-12")
    assert (body["declaration_id"], body["at"]) == ("paris-statement", "2025-02-12")
    assert len(body["signed"]) == 60 and body["withdrawn"] == []
    assert {(s["party"], s["since"]) for s in body["declined"]} == {("US", "2025-02-11"), ("GB", "2025-02-11")}
    assert all(s["sources"] and s["event_id"] for s in body["signed"] + body["declined"])


def test_each_party_appears_in_one_group_only(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/declarations/paris-statement/signatories")
    parties = [s["party"] for group in ("signed", "declined", "withdrawn") for s in body[group]]
    assert len(parties) == len(set(parties)) == 62


def test_bletchley_had_30_signatories_at_the_end_of_2024_new_zealand_since_2024_10_23(
    seeded_client: TestClient,
) -> None:
    signed = {s["party"]: s["since"] for s in get(
        seeded_client, "/v1/declarations/bletchley-declaration/signatories", at="2024-12-31")["signed"]}
    assert len(signed) == 30
    assert (signed["NZ"], signed["GB"], signed["EU"]) == ("2024-10-23", "2023-11-01", "2023-11-01")


def test_signatories_show_a_withdrawal_then_the_later_signature(seeded_client: TestClient, story: str) -> None:
    mid = get(seeded_client, f"/v1/declarations/{story}/signatories", at="2024-07-01")
    assert [(s["party"], s["since"]) for s in mid["withdrawn"]] == [("NP", "2024-06-01")]
    later = get(seeded_client, f"/v1/declarations/{story}/signatories", at="2025-02-01")
    assert ([(s["party"], s["since"]) for s in later["signed"]], later["withdrawn"]) == ([("NP", "2025-01-01")], [])


# -- summits --------------------------------------------------------------------------------------------------------


def test_summits_are_listed_in_date_order_with_their_declarations(seeded_client: TestClient) -> None:
    summits = get(seeded_client, "/v1/summits")
    assert [s["id"] for s in summits] == SEEDED_SUMMITS
    assert [s["starts_on"] for s in summits] == sorted(s["starts_on"] for s in summits)
    bletchley = summits[0]
    assert sorted(bletchley["declarations"]) == ["bletchley-declaration", "bletchley-safety-testing"]


def test_a_summit_is_read_with_its_hosts_and_declarations(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/v1/summits/seoul-2024")
    assert (body["hosts"], body["starts_on"], body["ends_on"]) == (["KR", "GB"], "2024-05-21", "2024-05-22")
    assert sorted(body["declarations"]) == [
        "seoul-declaration", "seoul-ministerial-statement", "seoul-statement-of-intent"]
    assert body["sources"] and body["event_id"]


# -- the timeline ----------------------------------------------------------------------------------------------------


def timeline(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    page = get(client, "/v1/timeline", limit=1000, **params)
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def pages(client: TestClient, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    found, cursor = [], None
    while True:
        page = get(client, "/v1/timeline", limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        found.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 100, "the cursor does not move"


def test_the_timeline_is_in_valid_time_order(seeded_client: TestClient) -> None:
    items = timeline(seeded_client)
    keys = [(i["occurred_on"], i["position"]) for i in items]
    assert len(items) >= 211 and keys == sorted(keys)


def test_paging_the_timeline_returns_every_item_exactly_once(seeded_client: TestClient) -> None:
    paged = pages(seeded_client, 37)
    assert all(len(p) == 37 for p in paged[:-1]) and 0 < len(paged[-1]) <= 37
    ids = [i["event_id"] for p in paged for i in p]
    assert ids == [i["event_id"] for i in timeline(seeded_client)]


def test_paging_a_filtered_timeline_returns_every_item_exactly_once(seeded_client: TestClient) -> None:
    ids = [i["event_id"] for p in pages(seeded_client, 2, party="FR") for i in p]
    assert len(ids) == len(set(ids))
    assert ids == [i["event_id"] for i in timeline(seeded_client, party="FR")]


def test_a_page_of_exactly_the_remaining_items_has_no_next_cursor(seeded_client: TestClient) -> None:
    total = len(timeline(seeded_client, kind="declined"))
    page = get(seeded_client, "/v1/timeline", kind="declined", limit=total)
    assert (len(page["items"]), page["next_cursor"]) == (total, None)


def test_the_timeline_filters_by_party(seeded_client: TestClient) -> None:
    items = timeline(seeded_client, party="GB")
    assert items and {i["party"] for i in items} == {"GB"}
    assert [i["event_id"] for i in timeline(seeded_client, party="gb")] == [i["event_id"] for i in items]


def test_the_timeline_filters_by_declaration(seeded_client: TestClient) -> None:
    items = timeline(seeded_client, declaration="paris-statement")
    assert {i["declaration_id"] for i in items} == {"paris-statement"}
    kinds = [i["kind"] for i in items]
    assert (kinds.count("published"), kinds.count("signed"), kinds.count("declined")) == (1, 60, 2)


def test_the_timeline_filters_by_kind(seeded_client: TestClient) -> None:
    declined = timeline(seeded_client, kind="declined")
    assert sorted((i["party"], i["declaration_id"]) for i in declined) == [
        ("GB", "paris-statement"), ("US", "paris-statement")]


def test_the_timeline_takes_several_kinds(seeded_client: TestClient) -> None:
    items = timeline(seeded_client, kind=["hosted", "published"])
    assert {i["kind"] for i in items} == {"hosted", "published"}
    assert {i["summit_id"] for i in items if i["kind"] == "hosted"} == set(SEEDED_SUMMITS)


def test_the_timeline_filters_by_valid_time_range(seeded_client: TestClient) -> None:
    items = timeline(seeded_client, **{"from": "2025-02-10", "to": "2025-02-11"})
    assert items and {i["occurred_on"] for i in items} == {"2025-02-10", "2025-02-11"}


def test_the_timeline_known_at_before_anything_was_recorded_is_empty(seeded_client: TestClient) -> None:
    assert timeline(seeded_client, known_at="2020-01-01") == []


# -- the event log ---------------------------------------------------------------------------------------------------


def test_event_positions_strictly_increase_in_log_order(seeded_client: TestClient) -> None:
    positions = [e["position"] for e in all_events(seeded_client)]
    assert len(positions) >= 211
    assert all(a < b for a, b in pairwise(positions))


def test_events_page_by_after_and_limit_with_next_after(seeded_client: TestClient) -> None:
    first = get(seeded_client, "/v1/events", limit=50)
    assert len(first["events"]) == 50 and first["next_after"] == first["events"][-1]["position"]
    second = get(seeded_client, "/v1/events", after=first["next_after"], limit=50)
    assert second["events"][0]["position"] > first["next_after"]
    assert [e["event_id"] for e in first["events"] + second["events"]] == [
        e["event_id"] for e in all_events(seeded_client)[:100]]


def test_walking_the_log_by_next_after_returns_every_event_once(seeded_client: TestClient) -> None:
    seen, after = [], 0
    while True:
        page = get(seeded_client, "/v1/events", after=after, limit=64)
        if not page["events"]:
            assert page["next_after"] == after
            break
        seen += [e["event_id"] for e in page["events"]]
        after = page["next_after"]
    assert seen == [e["event_id"] for e in all_events(seeded_client)]


def test_events_after_the_head_are_none_and_next_after_stays(seeded_client: TestClient) -> None:
    head = all_events(seeded_client)[-1]["position"]
    assert get(seeded_client, "/v1/events", after=head) == {"events": [], "next_after": head}


def test_each_event_carries_its_kind_dates_and_data(seeded_client: TestClient) -> None:
    event = the_event(seeded_client, "declined", "GB", "paris-statement")
    assert (event["occurred_on"], event["data"]["occurred_on"]) == ("2025-02-11", "2025-02-11")
    assert event["recorded_at"].endswith("+00:00") and "national interest" in event["data"]["reason"]
    kinds = {e["kind"] for e in all_events(seeded_client)}
    assert {"hosted", "published", "signed", "declined", "statement"} <= kinds


# -- health and documentation ------------------------------------------------------------------------------------------


def test_healthz_answers_200_with_no_lag_once_caught_up(seeded_client: TestClient) -> None:
    body = get(seeded_client, "/healthz")
    assert (body["status"], body["lag"]) == ("ok", 0)
    assert body["head"] == body["position"] > 0


DESIGN_ROUTES = [
    ("post", "/v1/summits"), ("post", "/v1/declarations"), ("post", "/v1/declarations/{declaration_id}/acts"),
    ("post", "/v1/statements"), ("post", "/v1/retractions"), ("get", "/v1/parties"), ("get", "/v1/parties/{code}"),
    ("get", "/v1/parties/{code}/stances"), ("get", "/v1/parties/{code}/history"), ("get", "/v1/declarations"),
    ("get", "/v1/declarations/{declaration_id}"), ("get", "/v1/declarations/{declaration_id}/signatories"),
    ("get", "/v1/summits"), ("get", "/v1/summits/{summit_id}"), ("get", "/v1/timeline"), ("get", "/v1/events"),
    ("get", "/healthz"),
]


def test_the_openapi_document_lists_every_route_of_the_design(seeded_client: TestClient) -> None:
    paths = get(seeded_client, "/openapi.json")["paths"]
    missing = [(m, p) for m, p in DESIGN_ROUTES if m not in paths.get(p, {})]
    assert missing == []


def test_the_docs_page_answers_200(seeded_client: TestClient) -> None:
    response = seeded_client.get("/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
