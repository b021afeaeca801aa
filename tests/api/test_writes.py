"""Every write route: 201 with a receipt, visible to reads at once, idempotent under retries, and
retractions that count by transaction time."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from tests.api.support import (
    AUTH,
    BACKENDS,
    SOURCE,
    assert_problem,
    running,
    stored_events,
    today,
    unique,
)

# -- fixtures: one unseeded store per backend for the whole module; every test uses ids of its own ----


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def runtime(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"writes-{backend}")) as rt:
        yield rt


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


# -- building blocks ----------------------------------------------------------------------------------


def post(client: TestClient, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json=body, headers={**AUTH, **headers})


def created(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = post(client, path, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def summit_body(summit_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": summit_id, "name": "Test Summit on AI", "hosts": ["FR", "IN"], "city": "Paris",
            "starts_on": "2024-03-01", "ends_on": "2024-03-02", "sources": [SOURCE], "confidence": "high", **extra}


def declaration_body(declaration_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": declaration_id, "title": f"Declaration {declaration_id}", "published_on": "2024-01-01",
            "sources": [SOURCE], "confidence": "high", **extra}


def act_body(kind: str, party: str, occurred_on: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "party": party, "occurred_on": occurred_on, "sources": [SOURCE], "confidence": "high",
            **extra}


def statement_body(party: str, **extra: Any) -> dict[str, Any]:
    return {"party": party, "speaker": "A Minister", "occurred_on": "2024-02-01",
            "text": f"We stand by it ({uuid.uuid4().hex}).", "sources": [SOURCE], **extra}


def new_declaration(client: TestClient, **extra: Any) -> str:
    declaration_id = unique("declaration")
    created(client, "/v1/declarations", declaration_body(declaration_id, **extra))
    return declaration_id


def record(client: TestClient, declaration_id: str, kind: str, party: str, occurred_on: str,
           **extra: Any) -> dict[str, Any]:
    return created(client, f"/v1/declarations/{declaration_id}/acts", act_body(kind, party, occurred_on, **extra))


def stance(client: TestClient, party: str, declaration_id: str, **params: str) -> dict[str, Any]:
    body = client.get(f"/v1/parties/{party}/stances", params={"declaration": declaration_id, **params}).json()
    found: dict[str, Any] = body["stances"][0]
    return found


def signed_parties(client: TestClient, declaration_id: str, **params: str) -> set[str]:
    body = client.get(f"/v1/declarations/{declaration_id}/signatories", params=params).json()
    return {s["party"] for s in body["signed"]}


def history_entry(client: TestClient, party: str, event_id: str, **params: str) -> dict[str, Any]:
    entries = client.get(f"/v1/parties/{party}/history", params=params).json()["entries"]
    return next(e for e in entries if e["event_id"] == event_id)


def logged(client: TestClient, event_id: str) -> dict[str, Any]:
    """The event as GET /v1/events shows it."""
    after = 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000}).json()
        for event in page["events"]:
            if event["event_id"] == event_id:
                return dict(event)
        if not page["events"]:
            raise AssertionError(f"event {event_id} is not in the log")
        after = page["next_after"]


# -- one valid write per route, each with what it needs made first --------------------------------------


@dataclass
class Write:
    kind: str  # the event kind the receipt names
    path: str
    body: dict[str, Any]
    other_body: dict[str, Any]  # a different, equally valid request to the same path


def summit_write(client: TestClient) -> Write:
    return Write("hosted", "/v1/summits", summit_body(unique("summit")), summit_body(unique("summit")))


def declaration_write(client: TestClient) -> Write:
    return Write("published", "/v1/declarations", declaration_body(unique("declaration")),
                 declaration_body(unique("declaration")))


def act_write(client: TestClient) -> Write:
    declaration_id = new_declaration(client)
    return Write("signed", f"/v1/declarations/{declaration_id}/acts", act_body("signed", "FR", "2024-02-01"),
                 act_body("signed", "DE", "2024-02-01"))


def statement_write(client: TestClient) -> Write:
    return Write("statement", "/v1/statements", statement_body("FR"), statement_body("DE"))


def retraction_write(client: TestClient) -> Write:
    declaration_id = new_declaration(client)
    first = record(client, declaration_id, "signed", "FR", "2024-02-01")
    second = record(client, declaration_id, "signed", "DE", "2024-02-01")
    return Write("retracted", "/v1/retractions",
                 {"event_id": first["event_id"], "reason": "Misreported.", "sources": [SOURCE]},
                 {"event_id": second["event_id"], "reason": "Misreported.", "sources": [SOURCE]})


WRITES: dict[str, Callable[[TestClient], Write]] = {
    "summit": summit_write,
    "declaration": declaration_write,
    "act": act_write,
    "statement": statement_write,
    "retraction": retraction_write,
}
each_write = pytest.mark.parametrize("make", list(WRITES.values()), ids=list(WRITES))


# -- receipts -------------------------------------------------------------------------------------------


@each_write
def test_every_write_answers_201_applied_with_its_event_id_position_and_kind(
    client: TestClient, make: Callable[[TestClient], Write]
) -> None:
    write = make(client)
    response = post(client, write.path, write.body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert uuid.UUID(receipt["event_id"])
    assert isinstance(receipt["position"], int) and receipt["position"] > 0
    assert (receipt["kind"], receipt["status"], receipt["replayed"]) == (write.kind, "applied", False)
    assert "Idempotent-Replayed" not in response.headers


@each_write
def test_every_receipt_names_the_event_at_that_position_of_the_log(
    client: TestClient, make: Callable[[TestClient], Write]
) -> None:
    write = make(client)
    receipt = created(client, write.path, write.body)
    event = logged(client, receipt["event_id"])
    assert (event["position"], event["kind"]) == (receipt["position"], write.kind)


@each_write
def test_every_write_stores_its_events_and_moves_the_log_head(
    client: TestClient, runtime: Runtime, make: Callable[[TestClient], Write]
) -> None:
    write = make(client)
    before = stored_events(runtime)
    receipt = created(client, write.path, write.body)
    assert stored_events(runtime) > before
    assert before < receipt["position"] <= stored_events(runtime)


def test_positions_of_successive_writes_strictly_increase(client: TestClient) -> None:
    positions = [created(client, "/v1/summits", summit_body(unique("summit")))["position"] for _ in range(3)]
    assert positions == sorted(set(positions))


# -- read your own writes ----------------------------------------------------------------------------------


def test_a_new_summit_is_readable_and_listed_as_soon_as_the_write_answers(client: TestClient) -> None:
    summit_id = unique("summit")
    receipt = created(client, "/v1/summits", summit_body(summit_id))
    one = client.get(f"/v1/summits/{summit_id}")
    assert one.status_code == 200
    assert (one.json()["event_id"], one.json()["hosts"]) == (receipt["event_id"], ["FR", "IN"])
    assert summit_id in {s["id"] for s in client.get("/v1/summits").json()}


def test_a_new_declaration_is_readable_with_its_summit_as_soon_as_the_write_answers(client: TestClient) -> None:
    summit_id = unique("summit")
    created(client, "/v1/summits", summit_body(summit_id, name="The Readable Summit"))
    declaration_id = unique("declaration")
    created(client, "/v1/declarations", declaration_body(declaration_id, summit_id=summit_id))
    body = client.get(f"/v1/declarations/{declaration_id}").json()
    assert body["summit"] == {"id": summit_id, "name": "The Readable Summit"}
    assert body["counts"] == {"signed": 0, "declined": 0, "withdrawn": 0}
    assert client.get(f"/v1/summits/{summit_id}").json()["declarations"] == [declaration_id]


def test_a_signature_shows_in_signatories_stances_and_counts_as_soon_as_the_write_answers(
    client: TestClient,
) -> None:
    declaration_id = new_declaration(client)
    receipt = record(client, declaration_id, "signed", "JP", "2024-02-01")
    assert signed_parties(client, declaration_id) == {"JP"}
    mine = stance(client, "JP", declaration_id)
    assert (mine["stance"], mine["since"], mine["event_id"]) == ("signed", "2024-02-01", receipt["event_id"])
    assert client.get(f"/v1/declarations/{declaration_id}").json()["counts"]["signed"] == 1


def test_a_statement_shows_in_the_party_history_as_soon_as_the_write_answers(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    body = statement_body("CA", about=declaration_id, position="supports")
    receipt = created(client, "/v1/statements", body)
    entry = history_entry(client, "CA", receipt["event_id"])
    assert (entry["kind"], entry["text"], entry["position_on"]) == ("statement", body["text"], "supports")
    assert entry["declaration_id"] == declaration_id


def test_a_statement_never_changes_the_formal_stance(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "declined", "CA", "2024-02-01")
    created(client, "/v1/statements", statement_body("CA", about=declaration_id, position="supports",
                                                   occurred_on="2024-03-01"))
    assert stance(client, "CA", declaration_id)["stance"] == "declined"


def test_a_retraction_shows_in_the_history_as_soon_as_the_write_answers(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    act = record(client, declaration_id, "signed", "KE", "2024-02-01")
    created(client, "/v1/retractions", {"event_id": act["event_id"], "reason": "Wrong party.", "sources": [SOURCE]})
    assert history_entry(client, "KE", act["event_id"])["retracted"] is True
    assert signed_parties(client, declaration_id) == set()


def test_a_retracted_statement_is_marked_in_the_history(client: TestClient) -> None:
    statement = created(client, "/v1/statements", statement_body("CL"))
    created(client, "/v1/retractions", {"event_id": statement["event_id"], "reason": "Misquoted.",
                                        "sources": [SOURCE]})
    entry = history_entry(client, "CL", statement["event_id"])
    assert entry["retracted"] is True and entry["retraction"]["reason"] == "Misquoted."


def test_a_lower_case_party_code_in_a_body_is_stored_upper_case(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    receipt = record(client, declaration_id, "signed", "gb", "2024-02-01")
    assert receipt["party"] == "GB"
    assert signed_parties(client, declaration_id) == {"GB"}


def test_the_location_header_of_a_created_declaration_answers_200(client: TestClient) -> None:
    declaration_id = unique("declaration")
    response = post(client, "/v1/declarations", declaration_body(declaration_id))
    assert response.headers["Location"] == f"/v1/declarations/{declaration_id}"
    assert client.get(response.headers["Location"]).status_code == 200


# -- the stance rules, from the allowed side ---------------------------------------------------------------


def test_an_act_receipt_names_the_stance_it_set_and_the_one_before(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "signed", "IT", "2024-02-01")
    receipt = record(client, declaration_id, "withdrawn", "IT", "2024-05-01")
    assert (receipt["stance"], receipt["previous"], receipt["occurred_on"]) == ("withdrawn", "signed", "2024-05-01")


def test_a_party_that_declined_may_sign_later(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "declined", "US", "2024-02-01")
    receipt = record(client, declaration_id, "signed", "US", "2024-09-01")
    assert receipt["previous"] == "declined"
    assert stance(client, "US", declaration_id, at="2024-06-01")["stance"] == "declined"
    assert stance(client, "US", declaration_id, at="2024-09-01")["stance"] == "signed"


def test_a_backfilled_earlier_act_takes_its_place_in_valid_time(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "signed", "BR", "2024-06-01")
    backfilled = record(client, declaration_id, "declined", "BR", "2024-03-01")
    assert backfilled["previous"] is None
    assert stance(client, "BR", declaration_id, at="2024-04-01")["stance"] == "declined"
    assert stance(client, "BR", declaration_id, at="2024-07-01")["stance"] == "signed"
    entries = client.get("/v1/parties/BR/history", params={"from": "2024-01-01"}).json()["entries"]
    mine = [(e["kind"], e["previous"]) for e in entries if e["declaration_id"] == declaration_id]
    assert mine == [("declined", None), ("signed", "declined")]


def test_a_later_act_on_the_same_day_decides_that_day(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "signed", "MX", "2024-02-01")
    record(client, declaration_id, "withdrawn", "MX", "2024-02-01")
    assert stance(client, "MX", declaration_id, at="2024-02-01")["stance"] == "withdrawn"
    assert "MX" not in signed_parties(client, declaration_id, at="2024-02-01")


def test_after_a_retraction_the_next_acts_previous_ignores_the_retracted_act(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    wrong = record(client, declaration_id, "signed", "PH", "2024-02-01")
    created(client, "/v1/retractions", {"event_id": wrong["event_id"], "reason": "Not PH.", "sources": [SOURCE]})
    receipt = record(client, declaration_id, "declined", "PH", "2024-03-01")
    assert receipt["previous"] is None
    entries = client.get("/v1/parties/PH/history").json()["entries"]
    mine = [(e["kind"], e["stance"], e["previous"], e["retracted"]) for e in entries
            if e["declaration_id"] == declaration_id]
    assert mine == [("signed", None, None, True), ("declined", "declined", None, False)]


def test_an_act_dated_today_is_accepted(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    receipt = record(client, declaration_id, "signed", "TH", today().isoformat())
    assert receipt["occurred_on"] == today().isoformat()


def test_a_summit_that_has_begun_may_end_in_the_future(client: TestClient) -> None:
    body = summit_body(unique("summit"), starts_on=today().isoformat(),
                       ends_on=(today() + timedelta(days=3)).isoformat())
    assert post(client, "/v1/summits", body).status_code == 201


def test_an_acts_precision_and_confidence_are_kept(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    record(client, declaration_id, "signed", "SN", "2024-05-01", precision="month", confidence="low")
    signatory = client.get(f"/v1/declarations/{declaration_id}/signatories").json()["signed"][0]
    assert (signatory["precision"], signatory["confidence"]) == ("month", "low")


def test_the_event_log_says_which_acts_are_known_only_to_their_month_or_year(client: TestClient) -> None:
    declaration_id = new_declaration(client)
    rough = record(client, declaration_id, "signed", "SN", "2024-05-01", precision="month")
    exact = record(client, declaration_id, "signed", "GH", "2024-05-02")
    events = client.get("/v1/events", params={"after": rough["position"] - 1, "limit": 10}).json()["events"]
    flags = {e["position"]: (e["approximate"], e["data"]["precision"]) for e in events}
    assert flags[rough["position"]] == (True, "month") and flags[exact["position"]] == (False, "day")
    published = next(e for e in client.get("/v1/events", params={"after": 0, "limit": 1000}).json()["events"]
                     if e["kind"] == "published" and e["data"].get("slug", e["data"].get("declaration_id"))
                     == declaration_id)
    assert published["approximate"] is False  # an event without a precision is not approximate


def test_the_same_statement_recorded_twice_is_a_409_and_stored_once(client: TestClient, runtime: Runtime) -> None:
    body = statement_body("SG")
    assert post(client, "/v1/statements", body).status_code == 201
    before = stored_events(runtime)
    assert assert_problem(post(client, "/v1/statements", body), 409)["type"] == "urn:diplo:problem:duplicate"
    assert stored_events(runtime) == before


# -- idempotency -------------------------------------------------------------------------------------------


@each_write
def test_the_same_idempotency_key_and_body_answer_the_first_receipt_again(
    client: TestClient, make: Callable[[TestClient], Write]
) -> None:
    write, key = make(client), str(uuid.uuid4())
    first = post(client, write.path, write.body, **{"Idempotency-Key": key})
    again = post(client, write.path, write.body, **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (again.json()["event_id"], again.json()["position"]) == (first.json()["event_id"], first.json()["position"])
    assert again.json()["kind"] == first.json()["kind"]


@each_write
def test_a_replayed_write_stores_nothing_new(
    client: TestClient, runtime: Runtime, make: Callable[[TestClient], Write]
) -> None:
    write, key = make(client), str(uuid.uuid4())
    created_receipt = post(client, write.path, write.body, **{"Idempotency-Key": key})
    assert created_receipt.status_code == 201
    before = stored_events(runtime)
    assert post(client, write.path, write.body, **{"Idempotency-Key": key}).status_code == 201
    assert stored_events(runtime) == before


@each_write
def test_the_same_idempotency_key_with_another_body_is_a_409_that_stores_nothing(
    client: TestClient, runtime: Runtime, make: Callable[[TestClient], Write]
) -> None:
    write, key = make(client), str(uuid.uuid4())
    assert post(client, write.path, write.body, **{"Idempotency-Key": key}).status_code == 201
    before = stored_events(runtime)
    response = post(client, write.path, write.other_body, **{"Idempotency-Key": key})
    assert assert_problem(response, 409)["type"] == "urn:diplo:problem:idempotency-conflict"
    assert stored_events(runtime) == before


def test_an_idempotency_key_reused_on_another_route_is_a_409(client: TestClient, runtime: Runtime) -> None:
    key = str(uuid.uuid4())
    assert post(client, "/v1/summits", summit_body(unique("summit")), **{"Idempotency-Key": key}).status_code == 201
    before = stored_events(runtime)
    response = post(client, "/v1/declarations", declaration_body(unique("declaration")), **{"Idempotency-Key": key})
    assert_problem(response, 409)
    assert stored_events(runtime) == before


def test_a_retry_without_a_key_is_refused_as_a_duplicate_not_stored_twice(
    client: TestClient, runtime: Runtime
) -> None:
    body = summit_body(unique("summit"))
    assert post(client, "/v1/summits", body).status_code == 201
    before = stored_events(runtime)
    assert_problem(post(client, "/v1/summits", body), 409)
    assert stored_events(runtime) == before


# -- retractions in transaction time -------------------------------------------------------------------------


@dataclass
class RetractedAct:
    declaration_id: str
    party: str
    act_event_id: str
    act_recorded_at: str
    retraction_event_id: str
    retraction_recorded_at: str
    reason: str


@pytest.fixture(scope="module")
def retracted_act(client: TestClient) -> RetractedAct:
    """Norway signs a declaration on 2024-02-01; the signature is later retracted with a reason."""
    declaration_id = new_declaration(client)
    act = record(client, declaration_id, "signed", "NO", "2024-02-01")
    reason = "The report named the wrong party: it was Sweden that signed."
    retraction = created(client, "/v1/retractions", {"event_id": act["event_id"], "reason": reason,
                                                     "sources": [SOURCE]})
    act_logged, retraction_logged = logged(client, act["event_id"]), logged(client, retraction["event_id"])
    assert act_logged["recorded_at"] < retraction_logged["recorded_at"]
    return RetractedAct(declaration_id, "NO", act["event_id"], act_logged["recorded_at"], retraction["event_id"],
                        retraction_logged["recorded_at"], reason)


def test_before_its_retraction_was_recorded_the_act_counts(client: TestClient, retracted_act: RetractedAct) -> None:
    known_at = retracted_act.act_recorded_at
    assert signed_parties(client, retracted_act.declaration_id, known_at=known_at) == {"NO"}
    declaration = client.get(f"/v1/declarations/{retracted_act.declaration_id}", params={"known_at": known_at})
    assert declaration.json()["counts"]["signed"] == 1
    assert stance(client, "NO", retracted_act.declaration_id, known_at=known_at)["stance"] == "signed"


def test_once_its_retraction_is_recorded_the_act_no_longer_counts(
    client: TestClient, retracted_act: RetractedAct
) -> None:
    known_at = retracted_act.retraction_recorded_at
    assert signed_parties(client, retracted_act.declaration_id, known_at=known_at) == set()
    declaration = client.get(f"/v1/declarations/{retracted_act.declaration_id}", params={"known_at": known_at})
    assert declaration.json()["counts"]["signed"] == 0
    assert stance(client, "NO", retracted_act.declaration_id, known_at=known_at)["stance"] == "none"


def test_by_default_reads_no_longer_count_a_retracted_act(client: TestClient, retracted_act: RetractedAct) -> None:
    assert signed_parties(client, retracted_act.declaration_id) == set()


def test_the_history_marks_a_retracted_act_with_the_retractions_reason(
    client: TestClient, retracted_act: RetractedAct
) -> None:
    entry = history_entry(client, "NO", retracted_act.act_event_id)
    assert entry["retracted"] is True
    assert entry["retraction"]["event_id"] == retracted_act.retraction_event_id
    assert entry["retraction"]["reason"] == retracted_act.reason
    assert entry["retraction"]["recorded_at"] == retracted_act.retraction_recorded_at
    assert entry["retraction"]["sources"][0]["url"] == SOURCE["url"]


def test_the_history_before_the_retraction_shows_the_act_unretracted(
    client: TestClient, retracted_act: RetractedAct
) -> None:
    entry = history_entry(client, "NO", retracted_act.act_event_id, known_at=retracted_act.act_recorded_at)
    assert (entry["retracted"], entry["retraction"], entry["stance"]) == (False, None, "signed")


def test_a_retracted_act_stays_in_the_event_log(client: TestClient, retracted_act: RetractedAct) -> None:
    act = logged(client, retracted_act.act_event_id)
    retraction = logged(client, retracted_act.retraction_event_id)
    assert act["kind"] == "signed" and retraction["position"] > act["position"]


def test_the_same_body_with_its_keys_in_another_order_is_a_replay_not_a_reuse(client: TestClient) -> None:
    body, key = summit_body(unique("summit")), str(uuid.uuid4())
    first = post(client, "/v1/summits", body, **{"Idempotency-Key": key})
    again = post(client, "/v1/summits", dict(reversed(list(body.items()))), **{"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json()["event_id"] == first.json()["event_id"]


def test_a_refused_request_does_not_use_up_its_idempotency_key(client: TestClient) -> None:
    declaration_id, key = new_declaration(client), str(uuid.uuid4())
    path = f"/v1/declarations/{declaration_id}/acts"
    refused = post(client, path, act_body("withdrawn", "PE", "2024-02-01"), **{"Idempotency-Key": key})
    assert_problem(refused, 409)
    accepted = post(client, path, act_body("signed", "PE", "2024-02-01"), **{"Idempotency-Key": key})
    assert accepted.status_code == 201, accepted.text
    assert "Idempotent-Replayed" not in accepted.headers


# -- concurrency: many clients at once ------------------------------------------------------------------------


def race(client: TestClient, path: str, bodies: list[dict[str, Any]], headers: dict[str, str]) -> list[Any]:
    """Sends the requests to one app at the same moment, each from a client (and thread) of its own."""
    # Warm the route up in this thread first: FastAPI and pydantic build some schemas on first use, and
    # building them from several threads at once warns (an error under this suite's warning filter).
    assert post(client, path, {}).status_code == 422
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> Any:
        with TestClient(client.app) as own:
            barrier.wait()
            return own.post(path, json=body, headers={**AUTH, **headers})

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_of_racing_signatures_by_one_party_exactly_one_is_stored(client: TestClient, runtime: Runtime) -> None:
    declaration_id = new_declaration(client)
    before = stored_events(runtime)
    responses = race(client, f"/v1/declarations/{declaration_id}/acts",
                     [act_body("signed", "AR", "2024-02-01", note=f"try {i}") for i in range(6)], {})
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [r.text for r in responses]
    assert len(client.get(f"/v1/declarations/{declaration_id}/signatories").json()["signed"]) == 1
    assert stored_events(runtime) - before == 2  # the act and its index entry, once


def test_racing_retries_with_one_idempotency_key_store_the_act_once(client: TestClient, runtime: Runtime) -> None:
    declaration_id, key = new_declaration(client), str(uuid.uuid4())
    before = stored_events(runtime)
    responses = race(client, f"/v1/declarations/{declaration_id}/acts",
                     [act_body("signed", "UY", "2024-02-01")] * 6, {"Idempotency-Key": key})
    assert len({r.json()["event_id"] for r in responses if r.status_code == 201}) == 1
    assert stored_events(runtime) - before == 3  # the act, its index entry and the claimed key, once


def test_racing_retries_with_one_idempotency_key_all_get_the_first_receipt(
    client: TestClient, runtime: Runtime
) -> None:
    for _ in range(5):  # before the fix, a round showed the race about one time in three
        declaration_id, key = new_declaration(client), str(uuid.uuid4())
        responses = race(client, f"/v1/declarations/{declaration_id}/acts",
                         [act_body("signed", "UY", "2024-02-01")] * 8, {"Idempotency-Key": key})
        assert [r.status_code for r in responses] == [201] * 8, [r.text[:160] for r in responses]
        assert len({r.json()["event_id"] for r in responses}) == 1


# -- 202 when the read models have not caught up ---------------------------------------------------------------


@pytest.fixture
def stalled_runtime(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A store of its own whose projector is stopped, with a short wait for writes."""
    with running(backend, tmp_path_factory.mktemp("stalled"), write_wait_seconds=0.2) as rt:
        rt.projector.stop()
        yield rt


def test_a_write_the_read_models_have_not_reached_answers_202_pending_with_its_position(
    stalled_runtime: Runtime,
) -> None:
    with TestClient(create_app(runtime=stalled_runtime)) as stalled:
        response = post(stalled, "/v1/summits", summit_body(unique("summit")))
        assert response.status_code == 202, response.text
        receipt = response.json()
        assert (receipt["status"], receipt["kind"]) == ("pending", "hosted")
        assert isinstance(receipt["position"], int) and receipt["position"] > 0


def test_a_pending_write_becomes_readable_once_the_projector_runs(stalled_runtime: Runtime) -> None:
    with TestClient(create_app(runtime=stalled_runtime)) as stalled:
        summit_id = unique("summit")
        receipt = post(stalled, "/v1/summits", summit_body(summit_id)).json()
        assert stalled.get(f"/v1/summits/{summit_id}").status_code == 404
        stalled_runtime.projector.start()
        assert stalled_runtime.projector.wait_for(receipt["position"], 10)
        assert stalled.get(f"/v1/summits/{summit_id}").status_code == 200
