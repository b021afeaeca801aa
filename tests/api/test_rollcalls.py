"""Roll calls over HTTP, on both backends, with a slice of the real record (sessions 25 to 27, 1970-1972: China's
seat changes hands) and roll calls recorded by hand: the contract's section "Votes"."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.encoded_answers import EncodedAnswers
from api.settings import Settings
from api.vote_schemas import RollCallPublic
from domain.releases import LoadRelease, ReleaseFacts
from seeds.successions import load_registry
from seeds.unga import DATA, read_release
from tests.conftest import AUTH, stored_events

UN = [{"title": "Voting record (UN Digital Library)", "url": "https://digitallibrary.un.org/record/1"}]


@functools.cache
def sessions_25_to_27(name: str) -> ReleaseFacts:
    """The release's roll calls of sessions 25 to 27, read once for the whole module."""
    facts = read_release(DATA / "unvotes" / name, load_registry())
    return replace(facts, rollcalls=[rc for rc in facts.rollcalls if rc.session in (25, 26, 27)])


@pytest.fixture
def record(runtime: Runtime) -> Runtime:
    for name in ("release-2017-03-14", "release-2021-03-08"):
        runtime.app.handle_all([(1, LoadRelease(sessions_25_to_27(name)))])
    assert runtime.projector.wait_for(runtime.projector.head(), 60)
    return runtime


@pytest.fixture
def api(record: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=record)) as client:
        yield client


def rollcall_body(**overrides: Any) -> dict[str, Any]:
    return {"id": "unga-test-1", "body": "UNGA", "session": 74, "date": "2019-12-12", "resolution": "A/RES/74/999",
            "title": "A test text", "issues": ["Human rights", "nu"], "votes": {"US": "no", "FR": "abstain"},
            "confidence": "high", "sources": UN, **overrides}


def test_a_roll_call_is_sent_exactly_as_its_model_would_send_it(api: TestClient) -> None:
    # The route sends the read model's dicts without a pass through RollCallPublic (api/json_answers.py): the
    # answer must still be what the model gives, no field more or less, for live, retracted and corrected votes.
    api.post("/v1/rollcalls", json=rollcall_body(), headers=AUTH).raise_for_status()
    french = next(v for v in api.get("/v1/rollcalls/unga-test-1").json()["votes"] if v["party"] == "FR")
    api.post("/v1/retractions", json={"event_id": french["event_id"], "reason": "France voted yes", "sources": UN},
             headers=AUTH).raise_for_status()
    listed = [r["id"] for r in api.get("/v1/rollcalls", params={"limit": 20}).json()["rollcalls"]]
    for slug in [*listed, "unga-test-1"]:
        for params in ({}, {"known_at": french["recorded_at"]}):
            sent = api.get(f"/v1/rollcalls/{slug}", params=params)
            assert sent.status_code == 200 and sent.headers["content-type"] == "application/json"
            assert RollCallPublic.model_validate(sent.json()).model_dump(mode="json") == sent.json()
    assert api.get("/v1/rollcalls/unga-test-1").json()["retracted"][0]["party"] == "FR"


def uncached(api: TestClient, path: str, **params: Any) -> bytes:
    """The answer as read and encoded afresh: the app's kept answers set aside for one request."""
    kept = api.app.state.rollcall_answers  # type: ignore[attr-defined]
    api.app.state.rollcall_answers = EncodedAnswers(0)  # type: ignore[attr-defined]
    try:
        return api.get(path, params=params).content
    finally:
        api.app.state.rollcall_answers = kept  # type: ignore[attr-defined]


def test_a_kept_roll_call_is_the_same_answer_as_one_read_afresh(api: TestClient) -> None:
    # Answers are kept encoded, by what they are made of (api/encoded_answers.py); `known_at` is echoed into them.
    first, second = api.get("/v1/releases").json()["releases"]
    listed = [r["id"] for r in api.get("/v1/rollcalls", params={"limit": 30}).json()["rollcalls"]]
    kept = api.app.state.rollcall_answers  # type: ignore[attr-defined]
    for slug in listed:
        for params in ({"known_at": first["loaded_at"]}, {"known_at": second["loaded_at"]}):
            sent = [api.get(f"/v1/rollcalls/{slug}", params=params).content for _ in range(2)]
            assert sent[0] == sent[1] == uncached(api, f"/v1/rollcalls/{slug}", **params)
            assert json.loads(sent[0])["known_at"] == api.get("/v1/rollcalls", params=params).json()["known_at"]
    assert kept.hits >= len(listed) * 2 and 0 < kept.size <= kept.max_bytes
    # One release's moment and another's see the same events of a roll call the 2021 release left alone: one entry.
    assert len(kept) < len(listed) * 2
    assert api.get("/v1/rollcalls/unga-0").status_code == 404 and len(kept) < len(listed) * 2


def test_a_vote_retraction_or_correction_changes_a_kept_roll_call_at_once(api: TestClient, record: Runtime) -> None:
    api.post("/v1/rollcalls", json=rollcall_body(), headers=AUTH).raise_for_status()
    made = api.get("/v1/rollcalls/unga-test-1").json()
    assert api.get("/v1/rollcalls/unga-test-1").json()["votes"] == made["votes"]  # kept
    api.post("/v1/rollcalls/unga-test-1/votes", json={"party": "GB", "vote": "yes", "confidence": "high",
                                                    "sources": UN}, headers=AUTH).raise_for_status()
    voted = api.get("/v1/rollcalls/unga-test-1").json()
    assert [v["party"] for v in voted["votes"]] == ["FR", "GB", "US"] and voted["tally"]["yes"] == 1
    french = next(v for v in voted["votes"] if v["party"] == "FR")
    api.post("/v1/retractions", json={"event_id": french["event_id"], "reason": "France voted yes", "sources": UN},
             headers=AUTH).raise_for_status()
    retracted = api.get("/v1/rollcalls/unga-test-1")
    assert [v["party"] for v in retracted.json()["votes"]] == ["GB", "US"]
    assert retracted.content == uncached(api, "/v1/rollcalls/unga-test-1", known_at=retracted.json()["known_at"])
    # Earlier moments still answer as the record stood then, kept or not.
    at_making = api.get("/v1/rollcalls/unga-test-1", params={"known_at": french["recorded_at"]}).json()
    assert {k: at_making[k] for k in ("votes", "tally")} == {k: made[k] for k in ("votes", "tally")}

    # A release that corrects a roll call's title: the answer now gives the new one, and before it the old one.
    latest = sessions_25_to_27("release-2021-03-08")
    target = latest.rollcalls[0]
    before = api.get(f"/v1/rollcalls/{target.slug}").json()
    fixed = replace(latest, name="release-2099-01-01", rollcalls=[
        replace(target, title="A corrected title"), *latest.rollcalls[1:]])
    record.app.handle_all([(1, LoadRelease(fixed))])
    assert record.projector.wait_for(record.projector.head(), 60)
    after = api.get(f"/v1/rollcalls/{target.slug}").json()
    assert before["title"] != "A corrected title" and after["title"] == "A corrected title"
    then = api.get(f"/v1/rollcalls/{target.slug}", params={"known_at": before["known_at"]})
    assert then.json()["title"] == before["title"] and then.json()["votes"] == before["votes"]
    assert then.content == uncached(api, f"/v1/rollcalls/{target.slug}", known_at=before["known_at"])


def test_after_a_rebuild_a_roll_call_answers_the_same_from_the_new_generation(api: TestClient,
                                                                               record: Runtime) -> None:
    moment = api.get("/v1/releases").json()["releases"][-1]["loaded_at"]
    listed = [r["id"] for r in api.get("/v1/rollcalls", params={"limit": 10}).json()["rollcalls"]]
    before = {slug: api.get(f"/v1/rollcalls/{slug}", params={"known_at": moment}).content for slug in listed}
    kept = api.app.state.rollcall_answers  # type: ignore[attr-defined]
    held, misses = len(kept), kept.misses
    record.projector.rebuild_beside()  # what `diplo rebuild` runs
    assert {slug: api.get(f"/v1/rollcalls/{slug}", params={"known_at": moment}).content for slug in listed} == before
    # Read from the rebuilt generation, not answered from what the old one gave.
    assert kept.misses == misses + len(listed) and len(kept) == held + len(listed)


def test_one_roll_call_with_its_tally_and_every_vote(api: TestClient) -> None:
    # Resolution 2758 (XXVI) and the votes before it on the representation of China; the data set dates them all
    # 1971-10-07, the debate's opening, though the resolution was adopted on the 25th.
    answer = api.get("/v1/rollcalls", params={"q": "R/26/2758"}).json()["rollcalls"]
    assert [r["resolution"] for r in answer] == [f"R/26/2758{x}" for x in "ABCDEFG"]
    found = api.get(f"/v1/rollcalls/{answer[-1]['id']}").json()
    assert found["date"] == "1971-10-07" and found["tally"] == {"yes": 76, "no": 35, "abstain": 17, "absent": 0}
    votes = {v["party"]: v for v in found["votes"]}
    assert votes["US"]["vote"] == "no" and votes["SUHH"]["vote"] == "yes" and votes["GB"]["vote"] == "yes"
    assert "TW" not in votes  # the Republic of China cast no vote on it
    assert len({v["event_id"] for v in found["votes"]}) == len(found["votes"]) == 128
    assert all(v["release"] == "unvotes/release-2017-03-14" and v["sources"] for v in found["votes"])


def test_a_partys_votes_follow_it_through_its_predecessors_when_asked(api: TestClient) -> None:
    own = api.get("/v1/parties/CN/votes", params={"limit": 1000}).json()["votes"]
    assert own and all(v["as_party"] == "CN" and v["date"] >= "1971-10-25" for v in own)
    line = api.get("/v1/parties/CN/votes", params={"include": "predecessors", "limit": 1000}).json()["votes"]
    seats = {v["as_party"] for v in line if v["date"] < "1971-10-25"}
    assert seats == {"TW"} and len(line) > len(own)
    assert [v["rollcall_id"] for v in line] == sorted({v["rollcall_id"] for v in line}, key=[
        v["rollcall_id"] for v in line].index)  # one vote per roll call
    soviet = api.get("/v1/parties/RU/votes", params={"include": "predecessors", "limit": 5}).json()
    assert {v["as_party"] for v in soviet["votes"]} == {"SUHH"} and soviet["next_cursor"]
    following = api.get("/v1/parties/RU/votes", params={"include": "predecessors", "limit": 5,
                                                        "cursor": soviet["next_cursor"]}).json()["votes"]
    assert following[0]["date"] >= soviet["votes"][-1]["date"]
    assert following[0]["rollcall_id"] not in {v["rollcall_id"] for v in soviet["votes"]}


def test_filters_and_refusals_of_the_reads(api: TestClient) -> None:
    hr = api.get("/v1/rollcalls", params={"issue": "Human rights", "limit": 1000}).json()["rollcalls"]
    assert hr and all("hr" in r["issues"] for r in hr)
    assert api.get("/v1/rollcalls", params={"issue": "hr", "limit": 1000}).json()["rollcalls"] == hr
    assert api.get("/v1/rollcalls", params={"issue": "weather"}).status_code == 422
    assert api.get("/v1/rollcalls", params={"cursor": "nonsense"}).status_code == 422
    assert api.get("/v1/rollcalls/unga-0").status_code == 404
    assert api.get("/v1/parties/XX/votes").status_code == 404
    assert api.get("/v1/parties/US/votes", params={"include": "friends"}).status_code == 422
    yes = api.get("/v1/parties/US/votes", params={"vote": "yes", "limit": 1000}).json()["votes"]
    assert yes and {v["vote"] for v in yes} == {"yes"}


def test_a_roll_call_recorded_and_a_vote_corrected_over_http(api: TestClient, record: Runtime) -> None:
    created = api.post("/v1/rollcalls", json=rollcall_body(), headers=AUTH)
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "rollcall" and created.headers["location"] == "/v1/rollcalls/unga-test-1"
    before = stored_events(record)
    second = api.post("/v1/rollcalls/unga-test-1/votes", json={"party": "FR", "vote": "yes", "confidence": "high",
                                                             "sources": UN}, headers=AUTH)
    assert second.status_code == 409 and stored_events(record) == before
    french = next(v for v in api.get("/v1/rollcalls/unga-test-1").json()["votes"] if v["party"] == "FR")
    retracted = api.post("/v1/retractions", json={"event_id": french["event_id"], "reason": "France voted yes",
                                                   "sources": UN}, headers=AUTH)
    assert retracted.status_code == 201, retracted.text
    right = api.post("/v1/rollcalls/unga-test-1/votes", json={"party": "FR", "vote": "yes", "confidence": "high",
                                                            "sources": UN}, headers=AUTH)
    assert right.status_code == 201 and right.json()["kind"] == "vote" and right.json()["position"]
    now = api.get("/v1/rollcalls/unga-test-1").json()
    assert {v["party"]: v["vote"] for v in now["votes"]} == {"US": "no", "FR": "yes"}
    assert now["tally"] == {"yes": 1, "no": 1, "abstain": 0, "absent": 0}
    assert [r["party"] for r in now["retracted"]] == ["FR"] and now["retracted"][0]["retraction"]["reason"]
    earlier = api.get("/v1/rollcalls/unga-test-1", params={"known_at": created.json().get("recorded_at")
                                                           or _moment_before(api, french)}).json()
    assert {v["party"]: v["vote"] for v in earlier["votes"]} == {"US": "no", "FR": "abstain"}


def _moment_before(api: TestClient, vote: dict[str, Any]) -> str:
    return str(vote["recorded_at"])


@pytest.mark.parametrize(("body", "field"), [
    (rollcall_body(votes={"DDDE": "yes"}), "votes.DDDE"),  # the GDR ended in 1990
    (rollcall_body(votes={"US": "maybe"}), "votes.US"),
    (rollcall_body(date="2999-01-01"), "date"),
    (rollcall_body(issues=["weather"]), "issues[0]"),
    (rollcall_body(title=""), "title"),
    (rollcall_body(sources=[]), "sources"),
])
def test_a_bad_roll_call_is_refused_naming_the_field_and_stores_nothing(
        api: TestClient, record: Runtime, body: dict[str, Any], field: str) -> None:
    before = stored_events(record)
    refused = api.post("/v1/rollcalls", json=body, headers=AUTH)
    assert refused.status_code == 422, refused.text
    assert field in {e["field"] for e in refused.json()["errors"]}
    assert stored_events(record) == before


def test_the_releases_as_knowledge_times(api: TestClient) -> None:
    releases = api.get("/v1/releases").json()["releases"]
    assert [(r["dataset"], r["name"]) for r in releases] == [("unvotes", "release-2017-03-14"),
                                                              ("unvotes", "release-2021-03-08")]
    first, second = releases
    assert first["first_position"] <= first["last_position"] < second["first_position"] <= second["last_position"]
    assert first["added"] > 0 and second["counts"]["details_corrected"] > 0
    # As the record stood after the 2017 release, a roll call the 2021 release corrected shows its old issues.
    with_issues = api.get("/v1/rollcalls", params={"known_at": first["loaded_at"], "limit": 1000}).json()
    now = {r["id"]: r["issues"] for r in api.get("/v1/rollcalls", params={"limit": 1000}).json()["rollcalls"]}
    assert any(now[r["id"]] != r["issues"] for r in with_issues["rollcalls"])


def test_a_diff_across_a_release_lists_what_it_changed(api: TestClient) -> None:
    first, second = api.get("/v1/releases").json()["releases"]
    asked = {"known_at_a": first["loaded_at"], "known_at_b": second["loaded_at"], "at": "2019-12-31"}
    diff = api.get("/v1/diff", params=asked).json()
    assert diff["kind"] == "knowledge_time" and diff["differences"] == []  # no stance changed
    counts = second["counts"]
    assert diff["rollcall_counts"] == {
        "rollcalls_added": counts["rollcalls_added"], "rollcalls_corrected": counts["details_corrected"],
        "votes_added": counts["votes_added"], "votes_retracted": counts["votes_retracted"], "votes_changed": 0}
    assert counts["details_corrected"] > 0
    corrected = [r for r in diff["rollcalls"] if r["change"] == "corrected"]
    assert len(corrected) == counts["details_corrected"]
    # Each correction names the fields it changed, with the values the two versions give.
    one = corrected[0]
    before = api.get(f"/v1/rollcalls/{one['rollcall_id']}", params={"known_at": first["loaded_at"]}).json()
    after = api.get(f"/v1/rollcalls/{one['rollcall_id']}").json()
    assert one["fields"] and all(before[f["field"]] == f["before"] and after[f["field"]] == f["after"]
                                 for f in one["fields"])
    assert [e["release"] for e in one["events"]] == ["unvotes/release-2021-03-08"]
    # Between one moment and itself, nothing differs.
    same = api.get("/v1/diff", params={**asked, "known_at_a": second["loaded_at"]}).json()
    assert same["rollcalls"] == [] and same["rollcall_counts"]["votes_added"] == 0


def test_a_diff_names_the_votes_a_correction_changed(api: TestClient) -> None:
    created = api.post("/v1/rollcalls", json=rollcall_body(), headers=AUTH).json()
    french = next(v for v in api.get("/v1/rollcalls/unga-test-1").json()["votes"] if v["party"] == "FR")
    api.post("/v1/retractions", json={"event_id": french["event_id"], "reason": "France voted yes", "sources": UN},
             headers=AUTH).raise_for_status()
    right = api.post("/v1/rollcalls/unga-test-1/votes", json={"party": "FR", "vote": "yes", "confidence": "high",
                                                            "sources": UN}, headers=AUTH).json()
    later = api.get("/v1/rollcalls/unga-test-1").json()["votes"]
    moment_b = max(v["recorded_at"] for v in later)
    diff = api.get("/v1/diff", params={"known_at_a": french["recorded_at"], "known_at_b": moment_b,
                                       "party": ["FR", "US"]}).json()
    [changed] = diff["rollcalls"]
    assert changed["rollcall_id"] == "unga-test-1" and changed["change"] == "votes"
    assert changed["votes"] == {"added": 0, "retracted": 0, "changed": 1}
    assert changed["party_votes"] == [{"party": "FR", "before": "abstain", "after": "yes"}]
    assert [e["kind"] for e in changed["events"]] == ["retracted", "vote"]
    assert changed["events"][-1]["position"] == right["position"] > created["position"]


def test_the_registry_names_predecessors_and_successors(api: TestClient) -> None:
    russia = api.get("/v1/parties/RU").json()
    assert russia["predecessors"] == [{"party": "SUHH", "on": "1991-12-24", "kind": "continuation",
                                       "note": russia["predecessors"][0]["note"]}]
    germany_east = api.get("/v1/parties/DDDE").json()
    assert germany_east["until"] == "1990-10-03" and germany_east["successors"][0]["party"] == "DE"
    assert api.get("/v1/parties/ZAN").json()["name"] == "Zanzibar"


def test_the_record_slice_is_whole_in_a_fresh_process(settings: Settings) -> None:
    """Nothing a read needs lives only in the writer's memory: a second process answers the same."""
    first = bootstrap(settings)
    try:
        for name in ("release-2017-03-14",):
            first.app.handle_all([(1, LoadRelease(sessions_25_to_27(name)))])
        assert first.projector.wait_for(first.projector.head(), 60)
    finally:
        first.close()
    second = bootstrap(settings)
    try:
        with TestClient(create_app(runtime=second)) as client:
            assert client.get("/v1/rollcalls", params={"q": "R/26/2758G"}).json()["rollcalls"][0]["tally"]["yes"] == 76
    finally:
        second.close()


def test_votes_appear_in_a_partys_history_and_the_timeline(api: TestClient) -> None:
    history = api.get("/v1/parties/CN/history").json()["entries"]
    votes = [e for e in history if e["kind"] == "vote"]
    assert votes and all(e["rollcall_id"] and e["vote"] and e["event_id"] for e in votes)
    assert [e["effective_on"] for e in history] == sorted(e["effective_on"] for e in history)
    only_votes = api.get("/v1/parties/CN/history", params={"kind": "vote"}).json()["entries"]
    assert only_votes == votes
    assert all(e["kind"] != "vote" for e in api.get("/v1/parties/GB/history",
                                                     params={"kind": ["signed", "declined"]}).json()["entries"])
    # The timeline pages through votes one by one, in the order (date, roll call, party), with nothing lost.
    seen: list[tuple[str, str, str]] = []
    cursor = None
    for _ in range(20):
        page = api.get("/v1/timeline", params={"kind": "vote", "party": ["US", "FR"], "limit": 37,
                                               **({"cursor": cursor} if cursor else {})}).json()
        seen += [(i["effective_on"], i["rollcall_id"], i["party"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None and len(seen) == len(set(seen))
    expected = [e for p in ("US", "FR") for e in api.get(f"/v1/parties/{p}/history", params={"kind": "vote"})
                .json()["entries"]]
    assert len(seen) == len(expected)


def test_a_retracted_vote_is_marked_in_history_and_gone_from_the_tally(api: TestClient) -> None:
    rollcall = api.get("/v1/rollcalls", params={"q": "R/26/2758G"}).json()["rollcalls"][0]["id"]
    british = next(v for v in api.get(f"/v1/rollcalls/{rollcall}").json()["votes"] if v["party"] == "GB")
    assert api.post("/v1/retractions", json={"event_id": british["event_id"], "reason": "a test correction",
                                             "sources": UN}, headers=AUTH).status_code == 201
    entry = next(e for e in api.get("/v1/parties/GB/history", params={"kind": "vote"}).json()["entries"]
                 if e["rollcall_id"] == rollcall)
    assert entry["retracted"] and entry["retraction"]["reason"] == "a test correction"
    assert api.get(f"/v1/rollcalls/{rollcall}").json()["tally"]["yes"] == 75
    before = api.get(f"/v1/rollcalls/{rollcall}", params={"known_at": entry["recorded_at"]}).json()
    assert before["tally"]["yes"] == 76
