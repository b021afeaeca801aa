"""How states align, over HTTP on both backends (issue 18, items 1-4): agreement, vote shares, the closest parties
and the roll calls behind a figure, on a small record recorded by hand whose figures are worked out below."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Runtime
from tests.conftest import AUTH

UN = [{"title": "Voting record (UN Digital Library)", "url": "https://digitallibrary.un.org/record/1"}]

# Four roll calls: 1995 (three), 1996 (one), 1997 (the US alone), and the USSR in 1985 for the lines.
RECORD = {
    "unga-t-1": ("1995-03-01", 50, ["hr"], True, {"US": "yes", "FR": "yes", "GB": "abstain", "IN": "no"}),
    "unga-t-2": ("1995-06-01", 50, ["nu"], False, {"US": "no", "FR": "yes", "GB": "no", "IN": "absent"}),
    "unga-t-3": ("1995-09-01", 50, ["hr"], None, {"US": "abstain", "FR": "abstain", "GB": "yes", "IN": "yes"}),
    "unga-t-4": ("1996-01-10", 50, [], None, {"US": "yes", "FR": "yes"}),
    "unga-t-5": ("1997-01-10", 51, [], None, {"US": "yes"}),
    "unga-t-6": ("1985-05-01", 39, [], None, {"SUHH": "no", "US": "no"}),
    "unga-t-7": ("1995-10-01", 50, [], None, {"RU": "yes", "US": "no"}),
}


def record(api: TestClient, runtime: Runtime, slugs: list[str] | None = None) -> None:
    for slug in slugs or list(RECORD):
        day, session, issues, important, votes = RECORD[slug]
        body = {"id": slug, "body": "UNGA", "session": session, "date": day, "title": f"Text {slug}",
                "issues": issues, "important": important, "votes": votes, "confidence": "high", "sources": UN}
        assert api.post("/v1/rollcalls", json=body, headers=AUTH).status_code in (201, 202)
    assert runtime.projector.wait_for(runtime.projector.head(), 60)


@pytest.fixture
def api(client: TestClient, runtime: Runtime) -> TestClient:
    record(client, runtime)
    return client


def periods(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p.pop("period"): p for p in answer["periods"]}


def test_agreement_per_year_with_its_edge_cases(api: TestClient) -> None:
    answer = api.get("/v1/agreement", params={"a": "US", "b": "FR"}).json()
    assert (answer["a"], answer["b"], answer["by"], answer["include"]) == ("US", "FR", "year", [])
    years = periods(answer)
    # 1995: yes/yes, no/yes, abstain/abstain. Shares US 1/1/1, FR 2/0/1: p_e = 3/9, p_o = 2/3, kappa = 1/2.
    assert years["1995"] == {"joint": 3, "identical": pytest.approx(2 / 3), "agreement": pytest.approx(2 / 3),
                             "kappa": pytest.approx(0.5)}
    # 1996: both yes on the one roll call: p_e = 1, kappa undefined.
    assert years["1996"] == {"joint": 1, "identical": 1.0, "agreement": 1.0, "kappa": None}
    # 1997: the US voted, France did not: a period with no joint vote, its figures null.
    assert years["1997"] == {"joint": 0, "identical": None, "agreement": None, "kappa": None}
    assert list(years) == ["1985", "1995", "1996", "1997"]  # every year either voted, in order


def test_an_abstention_against_a_vote_counts_half(api: TestClient) -> None:
    # 1995, US and GB: yes/abstain, no/no, abstain/yes: one identical, two halves; the same shares: kappa 0.
    years = periods(api.get("/v1/agreement", params={"a": "US", "b": "GB"}).json())
    assert years["1995"] == {"joint": 3, "identical": pytest.approx(1 / 3), "agreement": pytest.approx(2 / 3),
                             "kappa": pytest.approx(0.0)}


def test_agreement_by_decade_and_session_and_filtered(api: TestClient) -> None:
    decades = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR", "by": "decade"}).json())
    # 1990s: four joint, three identical; shares US 2/1/1, FR 3/0/1: p_e = 7/16, kappa = (12 - 7) / (16 - 7).
    assert decades["1990s"] == {"joint": 4, "identical": 0.75, "agreement": 0.75, "kappa": pytest.approx(5 / 9)}
    sessions = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR", "by": "session"}).json())
    assert list(sessions) == ["39", "50", "51"] and sessions["50"]["joint"] == 4
    hr = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR", "issue": "Human rights"}).json())
    assert hr == {"1995": {"joint": 2, "identical": 1.0, "agreement": 1.0, "kappa": 1.0}}
    important = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR", "important": "false"}).json())
    assert important["1995"]["joint"] == 1 and important["1995"]["identical"] == 0.0
    dated = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR", "from": "1995-05-01",
                                                     "to": "1996-12-31"}).json())
    assert {p: f["joint"] for p, f in dated.items()} == {"1995": 2, "1996": 1}


def test_vote_shares_per_period(api: TestClient) -> None:
    answer = api.get("/v1/parties/US/vote-share").json()
    assert (answer["party"], answer["by"]) == ("US", "year")
    years = periods(answer)
    assert years["1995"] == {"votes": 4, "yes": 0.25, "no": 0.5, "abstain": 0.25}
    assert years["1997"] == {"votes": 1, "yes": 1.0, "no": 0.0, "abstain": 0.0}
    # India's absence is no vote: two cast in 1995.
    assert periods(api.get("/v1/parties/IN/vote-share").json()) == {
        "1995": {"votes": 2, "yes": 0.5, "no": 0.5, "abstain": 0.0}}
    assert periods(api.get("/v1/parties/US/vote-share", params={"issue": "hr", "by": "decade"}).json()) == {
        "1990s": {"votes": 2, "yes": 0.5, "no": 0.0, "abstain": 0.5}}


def test_a_state_is_followed_through_its_predecessors_when_asked(api: TestClient) -> None:
    own = periods(api.get("/v1/agreement", params={"a": "RU", "b": "US"}).json())
    assert list(own) == ["1985", "1995", "1996", "1997"] and own["1985"]["joint"] == 0
    line = periods(api.get("/v1/agreement", params={"a": "RU", "b": "US", "include": "predecessors"}).json())
    assert line["1985"] == {"joint": 1, "identical": 1.0, "agreement": 1.0, "kappa": None}
    shares = periods(api.get("/v1/parties/RU/vote-share", params={"include": "predecessors"}).json())
    assert shares == {"1985": {"votes": 1, "yes": 0.0, "no": 1.0, "abstain": 0.0},
                      "1995": {"votes": 1, "yes": 1.0, "no": 0.0, "abstain": 0.0}}
    behind = api.get("/v1/agreement/rollcalls", params={"a": "RU", "b": "US", "include": "predecessors",
                                                        "period": "1985"}).json()["rollcalls"]
    assert [(r["a"], r["b"]) for r in behind] == [({"vote": "no", "as_party": "SUHH"},
                                                   {"vote": "no", "as_party": "US"})]


def test_the_closest_and_farthest_parties_in_one_year(api: TestClient) -> None:
    answer = api.get("/v1/parties/US/closest", params={"period": "1995", "min_joint": 2}).json()
    assert (answer["party"], answer["period"], answer["min_joint"]) == ("US", "1995", 2)
    ranked = [(r["party"], r["joint"], r["agreement"]) for r in answer["parties"]]
    # France and Britain tie at 2/3 on three joint votes (by code then); India: no/yes and yes/abstain, 1/4.
    assert ranked == [("FR", 3, pytest.approx(2 / 3)), ("GB", 3, pytest.approx(2 / 3)), ("IN", 2, 0.25)]
    assert [r["party"] for r in answer["too_few"]] == ["RU"]  # one joint vote
    strict = api.get("/v1/parties/US/closest", params={"period": "1995", "min_joint": 3}).json()
    assert [r["party"] for r in strict["too_few"]] == ["IN", "RU"]
    decade = api.get("/v1/parties/US/closest", params={"by": "decade", "period": "1980s", "min_joint": 1}).json()
    assert [r["party"] for r in decade["parties"]] == ["SUHH"]
    # With its predecessors, Russia's line is not ranked against itself.
    line = api.get("/v1/parties/RU/closest", params={"by": "decade", "period": "1980s", "min_joint": 1,
                                                     "include": "predecessors"}).json()
    assert [r["party"] for r in line["parties"]] == ["US"]


def test_the_roll_calls_behind_a_figure_paged(api: TestClient) -> None:
    asked = {"a": "US", "b": "FR", "period": "1995", "limit": 2}
    first = api.get("/v1/agreement/rollcalls", params=asked).json()
    assert [r["rollcall_id"] for r in first["rollcalls"]] == ["unga-t-1", "unga-t-2"]
    assert first["rollcalls"][1]["a"] == {"vote": "no", "as_party": "US"}
    assert first["rollcalls"][1]["b"] == {"vote": "yes", "as_party": "FR"}
    assert [r["agreement"] for r in first["rollcalls"]] == [1.0, 0.0]
    second = api.get("/v1/agreement/rollcalls", params={**asked, "cursor": first["next_cursor"]}).json()
    assert [r["rollcall_id"] for r in second["rollcalls"]] == ["unga-t-3"] and second["next_cursor"] is None
    year = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR"}).json())["1995"]
    assert first["figures"] == second["figures"] == year
    assert first["rollcalls"][0] | {"a": None, "b": None} == {
        "rollcall_id": "unga-t-1", "date": "1995-03-01", "session": 50, "resolution": None, "title": "Text unga-t-1",
        "issues": ["hr"], "important": True, "a": None, "b": None, "agreement": 1.0}
    session = api.get("/v1/agreement/rollcalls", params={"a": "US", "b": "FR", "by": "session", "period": "51"})
    assert session.json()["rollcalls"] == [] and session.json()["figures"]["joint"] == 0


def test_a_figure_as_the_record_stood_before_a_correction(api: TestClient, runtime: Runtime) -> None:
    before = api.get("/v1/rollcalls/unga-t-2").json()
    us = next(v for v in before["votes"] if v["party"] == "US")
    last_recorded = api.get("/v1/rollcalls/unga-t-7").json()["recorded_at"]  # the whole record, before the change
    api.post("/v1/retractions", json={"event_id": us["event_id"], "reason": "the US voted yes", "sources": UN},
             headers=AUTH).raise_for_status()
    api.post("/v1/rollcalls/unga-t-2/votes", json={"party": "US", "vote": "yes", "confidence": "high",
                                                   "sources": UN}, headers=AUTH).raise_for_status()
    assert runtime.projector.wait_for(runtime.projector.head(), 60)
    now = periods(api.get("/v1/agreement", params={"a": "US", "b": "FR"}).json())["1995"]
    assert now["identical"] == 1.0
    then = api.get("/v1/agreement", params={"a": "US", "b": "FR", "known_at": last_recorded}).json()
    assert periods(then)["1995"]["identical"] == pytest.approx(2 / 3)
    shares = api.get("/v1/parties/US/vote-share", params={"known_at": last_recorded}).json()
    assert periods(shares)["1995"]["no"] == 0.5


@pytest.mark.parametrize(("path", "params", "status", "field"), [
    ("/v1/agreement", {"a": "XX", "b": "US"}, 422, "a"),
    ("/v1/agreement", {"a": "US", "b": " FR"}, 422, "b"),
    ("/v1/agreement/rollcalls", {"a": "US ", "b": "FR"}, 422, "a"),
    ("/v1/parties/US /vote-share", {}, 404, "code"),
    ("/v1/agreement", {"a": "US"}, 422, "b"),
    ("/v1/agreement", {"a": "US", "b": "FR", "by": "month"}, 422, "by"),
    ("/v1/agreement", {"a": "US", "b": "FR", "issue": "weather"}, 422, "issue"),
    ("/v1/agreement", {"a": "US", "b": "FR", "include": "friends"}, 422, "include"),
    ("/v1/agreement", {"a": "US", "b": "FR", "from": "1999-01-01", "to": "1990-01-01"}, 422, "from"),
    ("/v1/agreement", {"a": "US", "b": "FR", "known_at": "yesterday"}, 422, "known_at"),
    ("/v1/agreement/rollcalls", {"a": "US", "b": "FR", "period": "1990s"}, 422, "period"),
    ("/v1/agreement/rollcalls", {"a": "US", "b": "FR", "cursor": "nonsense"}, 422, "cursor"),
    ("/v1/parties/XX/vote-share", {}, 404, "code"),
    ("/v1/parties/US/closest", {}, 422, "period"),
    ("/v1/parties/US/closest", {"by": "session", "period": "L"}, 422, "period"),
    ("/v1/parties/US/closest", {"period": "1995", "min_joint": 0}, 422, "min_joint"),
])
def test_bad_questions_are_refused_naming_the_field(api: TestClient, path: str, params: dict[str, Any], status: int,
                                                    field: str) -> None:
    refused = api.get(path, params=params)
    assert refused.status_code == status, refused.text
    body = refused.json()
    assert field in {e["field"] for e in body.get("errors", [])} | {body.get("field")}
