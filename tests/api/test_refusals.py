"""Every refused input of DESIGN.md, with its status code: the answer is a problem (RFC 9457), the log
is unchanged, and nothing a client sends is ever a 500."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Runtime
from tests.api.support import (
    AUTH,
    BACKENDS,
    SOURCE,
    TOKEN,
    WRITE_METHODS,
    assert_problem,
    error_fields,
    running,
    seed_and_wait,
    stored_events,
    tomorrow,
    write_routes,
)

# -- fixtures: one seeded store per backend for the module; a refusal must leave it as it was ---------------


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def seeded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"refusals-{backend}")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def server_errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def client(seeded: Runtime, server_errors: list[str]) -> Iterator[TestClient]:
    """Answers 500 as a status (not an exception) and notes every 5xx it sees."""

    def note(response: httpx.Response) -> None:
        if response.status_code >= 500 and response.status_code != 503:
            server_errors.append(f"{response.request.method} {response.request.url} -> {response.status_code}")

    with TestClient(create_app(runtime=seeded), raise_server_exceptions=False) as test_client:
        test_client.event_hooks["response"].append(note)
        yield test_client


@pytest.fixture(autouse=True)
def never_a_500(server_errors: list[str], request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the server never answers 500 (tests marked xfail document known ones)."""
    server_errors.clear()
    yield
    if server_errors and request.node.get_closest_marker("xfail") is None:
        pytest.fail(f"server errors: {server_errors}")


def post(client: TestClient, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(path, json=body, headers=AUTH if headers is None else headers)
    return response


def event_id_of(client: TestClient, party: str, declaration_id: str) -> str:
    entries = client.get(f"/v1/parties/{party}/history").json()["entries"]
    return str(next(e["event_id"] for e in entries if e["declaration_id"] == declaration_id and e.get("stance")))


# -- valid bodies, one per write route: each refusal below breaks exactly one thing about one of them --------


def valid_bodies(client: TestClient) -> dict[str, dict[str, Any]]:
    """Bodies the seeded store would accept (nothing in the seeds conflicts with them)."""
    return {
        "/v1/summits": {"id": "refusal-summit", "name": "Summit That Never Was", "hosts": ["FR"], "city": "Lyon",
                        "starts_on": "2025-01-01", "ends_on": "2025-01-02", "sources": [SOURCE],
                        "confidence": "high"},
        "/v1/declarations": {"id": "refusal-declaration", "title": "A Declaration", "summit_id": "paris-2025",
                             "published_on": "2025-02-11", "sources": [SOURCE], "confidence": "high"},
        # Antarctica has no stance on the Paris statement in the seeds.
        "/v1/declarations/{declaration_id}/acts": {"kind": "signed", "party": "AQ", "occurred_on": "2025-03-01",
                                                   "sources": [SOURCE], "confidence": "high"},
        "/v1/statements": {"party": "FR", "speaker": "A Minister", "occurred_on": "2025-02-11",
                           "text": "A statement that was never made.", "about": "paris-statement",
                           "position": "supports", "sources": [SOURCE]},
        "/v1/retractions": {"event_id": event_id_of(client, "US", "paris-statement"), "reason": "Misreported.",
                            "sources": [SOURCE]},
    }


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "paris-statement", path)


# -- 401: every write route, found from the app's routes so a new route is covered without editing this ----

BAD_CREDENTIALS = {
    "no token": {},
    "wrong token": {"Authorization": "Bearer not-the-token"},
    "wrong scheme": {"Authorization": f"Basic {TOKEN}"},
    "scheme without token": {"Authorization": "Bearer"},
    "token without scheme": {"Authorization": TOKEN},
}


def test_the_app_has_the_five_write_routes_of_the_design(client: TestClient) -> None:
    assert {path for _, path in write_routes(client.app)} >= {
        "/v1/summits", "/v1/declarations", "/v1/declarations/{declaration_id}/acts", "/v1/statements",
        "/v1/retractions",
    }


def test_the_write_routes_found_match_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops if m.upper() in WRITE_METHODS}
    assert set(write_routes(client.app)) == documented


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS.values()), ids=list(BAD_CREDENTIALS))
def test_every_write_route_refuses_a_request_without_a_valid_bearer_token_with_401(
    client: TestClient, seeded: Runtime, credentials: dict[str, str]
) -> None:
    bodies = valid_bodies(client)
    routes = write_routes(client.app)
    assert routes
    before = stored_events(seeded)
    for method, path in routes:
        response = client.request(method, concrete(path), json=bodies.get(path, {}), headers=credentials)
        body = assert_problem(response, 401)
        assert body["type"] == "urn:diplo:problem:unauthorized"
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), (method, path)
        assert "token" in body["detail"].lower()
    assert stored_events(seeded) == before


def test_a_write_with_the_right_token_and_a_lower_case_scheme_is_not_a_401(client: TestClient) -> None:
    # A duplicate summit id: authenticated, then refused for its content, so nothing is stored either way.
    body = {**valid_bodies(client)["/v1/summits"], "id": "paris-2025"}
    response = post(client, "/v1/summits", body, headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 409, response.text


# -- 404: unknown things named in a path or a reference -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/parties/XX",
        "/v1/parties/XX/stances",
        "/v1/parties/XX/history",
        "/v1/declarations/no-such-declaration",
        "/v1/declarations/no-such-declaration/signatories",
        "/v1/summits/no-such-summit",
    ],
)
def test_a_read_naming_an_unknown_thing_in_its_path_is_404(client: TestClient, seeded: Runtime, path: str) -> None:
    before = stored_events(seeded)
    assert assert_problem(client.get(path), 404)["type"] == "urn:diplo:problem:not-found"
    assert stored_events(seeded) == before


def test_an_act_on_an_unknown_declaration_is_404(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = valid_bodies(client)["/v1/declarations/{declaration_id}/acts"]
    problem = assert_problem(post(client, "/v1/declarations/no-such-declaration/acts", body), 404)
    assert "no-such-declaration" in problem["detail"]
    assert stored_events(seeded) == before


def test_a_declaration_naming_an_unknown_summit_is_404(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = {**valid_bodies(client)["/v1/declarations"], "summit_id": "no-such-summit"}
    problem = assert_problem(post(client, "/v1/declarations", body), 404)
    assert "no-such-summit" in problem["detail"]
    assert stored_events(seeded) == before


def test_a_retraction_of_an_unknown_event_id_is_404(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = {**valid_bodies(client)["/v1/retractions"], "event_id": str(uuid.uuid4())}
    assert_problem(post(client, "/v1/retractions", body), 404)
    assert stored_events(seeded) == before


def test_a_statement_about_an_unknown_declaration_is_404(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = {**valid_bodies(client)["/v1/statements"], "about": "no-such-declaration"}
    problem = assert_problem(post(client, "/v1/statements", body), 404)
    assert "no-such-declaration" in problem["detail"]
    assert stored_events(seeded) == before


def test_an_unknown_url_is_a_404_problem(client: TestClient) -> None:
    assert assert_problem(client.get("/v1/no-such-thing"), 404)["type"] == "urn:diplo:problem:not-found"


def test_a_wrong_method_is_a_405_problem(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    assert_problem(client.delete("/v1/summits/paris-2025", headers=AUTH), 405)
    assert stored_events(seeded) == before


# -- 409: the stance rules and duplicates ------------------------------------------------------------------------


@dataclass
class Story:
    """Norway signed on 2024-02-01 and withdrew on 2024-06-01; Sweden's signature was retracted."""

    declaration_id: str
    norway_signed: str
    sweden_signed: str


@pytest.fixture(scope="module")
def story(client: TestClient) -> Story:
    declaration_id = "refusals-story"
    assert post(client, "/v1/declarations", {"id": declaration_id, "title": "Refusals Story",
                                             "published_on": "2024-01-01", "sources": [SOURCE],
                                             "confidence": "high"}).status_code == 201

    def act(kind: str, party: str, occurred_on: str) -> str:
        response = post(client, f"/v1/declarations/{declaration_id}/acts",
                        {"kind": kind, "party": party, "occurred_on": occurred_on, "sources": [SOURCE],
                         "confidence": "high"})
        assert response.status_code == 201, response.text
        return str(response.json()["event_id"])

    norway_signed = act("signed", "NO", "2024-02-01")
    act("withdrawn", "NO", "2024-06-01")
    sweden_signed = act("signed", "SE", "2024-02-01")
    retracted = post(client, "/v1/retractions", {"event_id": sweden_signed, "reason": "Misreported.",
                                                 "sources": [SOURCE]})
    assert retracted.status_code == 201, retracted.text
    return Story(declaration_id, norway_signed, sweden_signed)


def act_on(declaration_id: str, kind: str, party: str, occurred_on: str) -> tuple[str, dict[str, Any]]:
    return (f"/v1/declarations/{declaration_id}/acts",
            {"kind": kind, "party": party, "occurred_on": occurred_on, "sources": [SOURCE], "confidence": "high"})


SEEDED_CONFLICTS = {
    # France signed the Paris statement on 2025-02-11; the US and the UK declined it that day.
    "declining while signed": act_on("paris-statement", "declined", "FR", "2025-03-01"),
    "signing twice": act_on("paris-statement", "signed", "FR", "2025-03-01"),
    "declining twice in a row": act_on("paris-statement", "declined", "US", "2025-03-01"),
    "withdrawing without ever signing": act_on("paris-statement", "withdrawn", "AQ", "2025-03-01"),
    "withdrawing after declining": act_on("paris-statement", "withdrawn", "GB", "2025-03-01"),
    "an act before the declaration was published": act_on("paris-statement", "signed", "AQ", "2025-02-10"),
}


@pytest.mark.parametrize("request_", list(SEEDED_CONFLICTS.values()), ids=list(SEEDED_CONFLICTS))
def test_an_act_that_breaks_the_stance_rules_is_409(
    client: TestClient, seeded: Runtime, request_: tuple[str, dict[str, Any]]
) -> None:
    path, body = request_
    before = stored_events(seeded)
    problem = assert_problem(post(client, path, body), 409)
    assert body["party"] in problem["detail"]
    assert problem["type"] == "urn:diplo:problem:stance-rule"
    assert stored_events(seeded) == before


def test_a_backfilled_act_that_makes_a_later_act_illegal_is_409(
    client: TestClient, seeded: Runtime, story: Story
) -> None:
    # Withdrawing on 2024-03-01 would leave the withdrawal of 2024-06-01 withdrawing nothing.
    before = stored_events(seeded)
    problem = assert_problem(post(client, *act_on(story.declaration_id, "withdrawn", "NO", "2024-03-01")), 409)
    assert "2024-06-01" in problem["detail"]
    assert stored_events(seeded) == before


def test_a_retraction_that_would_leave_a_later_act_illegal_is_409(
    client: TestClient, seeded: Runtime, story: Story
) -> None:
    before = stored_events(seeded)
    body = {"event_id": story.norway_signed, "reason": "Misreported.", "sources": [SOURCE]}
    problem = assert_problem(post(client, "/v1/retractions", body), 409)
    assert "later" in problem["detail"]
    assert stored_events(seeded) == before


def test_retracting_an_act_twice_is_409(client: TestClient, seeded: Runtime, story: Story) -> None:
    before = stored_events(seeded)
    body = {"event_id": story.sweden_signed, "reason": "Still misreported.", "sources": [SOURCE]}
    assert assert_problem(post(client, "/v1/retractions", body), 409)["type"] == "urn:diplo:problem:duplicate"
    assert stored_events(seeded) == before


@pytest.mark.parametrize(("path", "taken"), [("/v1/summits", "paris-2025"), ("/v1/declarations", "paris-statement")])
def test_a_duplicate_id_is_409(client: TestClient, seeded: Runtime, path: str, taken: str) -> None:
    before = stored_events(seeded)
    problem = assert_problem(post(client, path, {**valid_bodies(client)[path], "id": taken}), 409)
    assert taken in problem["detail"]
    assert problem["type"] == "urn:diplo:problem:duplicate"
    assert stored_events(seeded) == before


def test_retracting_an_event_that_is_not_an_act_is_refused_and_stores_nothing(
    client: TestClient, seeded: Runtime
) -> None:
    summit_event = client.get("/v1/summits/paris-2025").json()["event_id"]
    before = stored_events(seeded)
    response = post(client, "/v1/retractions", {"event_id": summit_event, "reason": "r", "sources": [SOURCE]})
    assert_problem(response, 409)
    assert stored_events(seeded) == before


# -- 422: malformed input, field by field -----------------------------------------------------------------------

ACTS = "/v1/declarations/{declaration_id}/acts"
ALL_WRITES = ["/v1/summits", "/v1/declarations", ACTS, "/v1/statements", "/v1/retractions"]
MISSING = object()  # the field is left out of the body


def case(path: str, field: str, value: Any, expected: str | None = None, **also: Any) -> Any:
    """A valid body for `path` with `field` set to `value` (and `also` changed), refused naming `expected`."""
    shown = "missing" if value is MISSING else f"{value!r:.40}"
    return pytest.param(path, field, value, expected or field, also,
                        id=f"{path.split('/')[-1]}.{field}={shown}")


def with_source(**changes: Any) -> list[dict[str, Any]]:
    return [{**SOURCE, **changes}]


INVALID_FIELDS = [
    # an impossible date
    case(ACTS, "occurred_on", "2025-02-30"),
    case("/v1/statements", "occurred_on", "2025-02-30"),
    case("/v1/summits", "starts_on", "2025-02-30"),
    case("/v1/declarations", "published_on", "2025-02-30"),
    case(ACTS, "occurred_on", "11/02/2025"),
    case(ACTS, "occurred_on", "yesterday"),
    # a date in the future (after today, UTC)
    case(ACTS, "occurred_on", tomorrow()),
    case("/v1/statements", "occurred_on", tomorrow()),
    case("/v1/summits", "starts_on", tomorrow(), ends_on=tomorrow()),
    case("/v1/declarations", "published_on", tomorrow()),
    # an unknown party code in a body
    case(ACTS, "party", "ZZ"),
    case(ACTS, "party", "USA"),
    case("/v1/statements", "party", "ZZ"),
    case("/v1/summits", "hosts", ["FR", "ZZ"], "hosts[1]"),
    # sources: missing, empty, or not a report one can follow
    *[case(path, "sources", MISSING) for path in ALL_WRITES],
    *[case(path, "sources", []) for path in ALL_WRITES],
    case(ACTS, "sources", with_source(url="not a url"), "sources[0].url"),
    case(ACTS, "sources", with_source(url="ftp://example.org/report"), "sources[0].url"),
    case(ACTS, "sources", with_source(url="javascript:alert(1)"), "sources[0].url"),
    case(ACTS, "sources", with_source(title=""), "sources[0].title"),
    case(ACTS, "sources", with_source(published_on="2025-02-30"), "sources[0].published_on"),
    case(ACTS, "sources", with_source(colour="red"), "sources[0].colour"),
    # a field the API does not know
    *[case(path, "colour", "red") for path in ALL_WRITES],
    # a value outside an enumeration
    case(ACTS, "kind", "ratified"),
    case(ACTS, "confidence", "certain"),
    case(ACTS, "precision", "week"),
    case("/v1/statements", "position", "maybe"),
    # missing or malformed required fields
    case(ACTS, "kind", MISSING),
    case(ACTS, "party", MISSING),
    case(ACTS, "occurred_on", MISSING),
    case("/v1/summits", "id", "Paris 2025"),
    case("/v1/declarations", "id", "paris--statement"),
    case("/v1/summits", "ends_on", "2024-12-31"),
    case("/v1/summits", "hosts", ["FR", "FR"]),
    case("/v1/summits", "hosts", []),
    case("/v1/statements", "text", ""),
    case("/v1/retractions", "event_id", "not-a-uuid"),
    case("/v1/retractions", "reason", "   "),
]


@pytest.mark.parametrize(("path", "field", "value", "expected", "also"), INVALID_FIELDS)
def test_a_malformed_field_is_422_naming_that_field(
    client: TestClient, seeded: Runtime, path: str, field: str, value: Any, expected: str, also: dict[str, Any]
) -> None:
    body = {**valid_bodies(client)[path], **also}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    before = stored_events(seeded)
    problem = assert_problem(post(client, concrete(path), body), 422)
    assert expected in error_fields(problem)
    assert problem["type"] == "urn:diplo:problem:validation"
    assert stored_events(seeded) == before


def test_a_statement_with_a_position_but_no_declaration_is_422_naming_about(
    client: TestClient, seeded: Runtime
) -> None:
    body = {k: v for k, v in valid_bodies(client)["/v1/statements"].items() if k != "about"}
    before = stored_events(seeded)
    problem = assert_problem(post(client, "/v1/statements", body), 422)
    assert "about" in error_fields(problem)
    assert stored_events(seeded) == before


@pytest.mark.parametrize("raw", [b'{"kind": "signed", "party": ', b"not json", b"\xff\xfe", b""])
def test_malformed_json_is_422(client: TestClient, seeded: Runtime, raw: bytes) -> None:
    before = stored_events(seeded)
    response = client.post("/v1/declarations/paris-statement/acts", content=raw,
                           headers={**AUTH, "Content-Type": "application/json"})
    error_fields(assert_problem(response, 422))
    assert stored_events(seeded) == before


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"signed"', b"null", b"42"])
def test_a_json_body_that_is_not_an_object_is_422(client: TestClient, seeded: Runtime, raw: bytes) -> None:
    before = stored_events(seeded)
    response = client.post("/v1/declarations/paris-statement/acts", content=raw,
                           headers={**AUTH, "Content-Type": "application/json"})
    error_fields(assert_problem(response, 422))
    assert stored_events(seeded) == before


def test_an_idempotency_key_longer_than_200_characters_is_422(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = valid_bodies(client)[ACTS]
    headers = {**AUTH, "Idempotency-Key": "k" * 201}
    response = post(client, "/v1/declarations/paris-statement/acts", body, headers=headers)
    assert "Idempotency-Key" in error_fields(assert_problem(response, 422))
    assert stored_events(seeded) == before


def test_a_blank_idempotency_key_is_422(client: TestClient, seeded: Runtime) -> None:
    before = stored_events(seeded)
    body = valid_bodies(client)[ACTS]
    headers = {**AUTH, "Idempotency-Key": "  "}
    response = post(client, "/v1/declarations/paris-statement/acts", body, headers=headers)
    assert "Idempotency-Key" in error_fields(assert_problem(response, 422))
    assert stored_events(seeded) == before


READS_WITH_KNOWN_AT = [
    "/v1/parties/US/stances",
    "/v1/parties/US/history",
    "/v1/declarations",
    "/v1/declarations/paris-statement",
    "/v1/declarations/paris-statement/signatories",
    "/v1/timeline",
]
READS_WITH_AT = [
    "/v1/parties/US/stances",
    "/v1/declarations",
    "/v1/declarations/paris-statement",
    "/v1/declarations/paris-statement/signatories",
]


@pytest.mark.parametrize("path", READS_WITH_KNOWN_AT)
@pytest.mark.parametrize("known_at", ["yesterday", "2025-03-01T12:00:00", "2025-02-30", "2025-03-01T25:00:00Z"])
def test_a_bad_known_at_is_422_naming_known_at(client: TestClient, path: str, known_at: str) -> None:
    problem = assert_problem(client.get(path, params={"known_at": known_at}), 422)
    assert error_fields(problem) == {"known_at"}


@pytest.mark.parametrize("path", READS_WITH_AT)
@pytest.mark.parametrize("at", ["2025-02-30", "yesterday", "2025-13-01"])
def test_a_bad_at_is_422_naming_at(client: TestClient, path: str, at: str) -> None:
    problem = assert_problem(client.get(path, params={"at": at}), 422)
    assert error_fields(problem) == {"at"}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/timeline", {"cursor": "garbage"}, "cursor"),
        ("/v1/timeline", {"cursor": "x" * 201}, "cursor"),
        ("/v1/timeline", {"limit": 0}, "limit"),
        ("/v1/timeline", {"limit": 1001}, "limit"),
        ("/v1/timeline", {"limit": "ten"}, "limit"),
        ("/v1/timeline", {"kind": "ratified"}, "kind"),
        ("/v1/timeline", {"from": "2025-02-30"}, "from"),
        ("/v1/timeline", {"to": "tomorrow"}, "to"),
        ("/v1/events", {"limit": 0}, "limit"),
        ("/v1/events", {"limit": 1001}, "limit"),
        ("/v1/events", {"after": -1}, "after"),
        ("/v1/events", {"after": "start"}, "after"),
        ("/v1/parties/GB/history", {"from": "2025-02-30"}, "from"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "&".join(f"{k}={str(x)[:12]}" for k, x in v.items()),
)
def test_a_bad_query_parameter_is_422_naming_it(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    problem = assert_problem(client.get(path, params=params), 422)
    assert field in error_fields(problem)


# -- never a 500, whatever is sent --------------------------------------------------------------------------------


def cursor_for(day: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{day}|{position}".encode()).decode().rstrip("=")


# Each was answered 500 by some backend at some point: SQLite cannot bind an int >= 2**63, astimezone
# overflows at the ends of time, PostgreSQL text cannot hold NUL. (method, path, query params or JSON body)
HOSTILE: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "events after 2**63": ("GET", "/v1/events", {"after": 2**63}),
    "events after 10**30": ("GET", "/v1/events", {"after": 10**30}),
    "timeline cursor with a huge position": ("GET", "/v1/timeline", {"cursor": cursor_for("2025-01-01", 10**20)}),
    "timeline cursor with a negative position": ("GET", "/v1/timeline", {"cursor": cursor_for("2025-01-01", -1)}),
    "known_at at the end of time in a western zone": (
        "GET", "/v1/parties/US/stances", {"known_at": "9999-12-31T23:59:59-05:00"}),
    "known_at at the start of time in an eastern zone": (
        "GET", "/v1/parties/US/stances", {"known_at": "0001-01-01T00:00:00+05:00"}),
    "known_at with an impossible offset": ("GET", "/v1/parties/US/stances", {"known_at": "2025-03-01T12:00:00+25:00"}),
    "a very long known_at": ("GET", "/v1/timeline", {"known_at": "2025-03-01T12:00:00" + "0" * 5000 + "Z"}),
    "NUL in a declaration id path": ("GET", "/v1/declarations/a%00b", None),
    "NUL in a summit id path": ("GET", "/v1/summits/a%00b", None),
    "NUL in a party code path": ("GET", "/v1/parties/U%00S/history", None),
    "NUL in a timeline party filter": ("GET", "/v1/timeline", {"party": "a\x00b"}),
    "NUL in a timeline declaration filter": ("GET", "/v1/timeline", {"declaration": "a\x00b"}),
    "NUL in a stances declaration filter": ("GET", "/v1/parties/US/stances", {"declaration": "a\x00b"}),
    "NUL in a party search": ("GET", "/v1/parties", {"q": "a\x00b"}),
    "NUL in an act's declaration path": (
        "POST", "/v1/declarations/a%00b/acts",
        {"kind": "signed", "party": "AQ", "occurred_on": "2025-03-01", "sources": [SOURCE], "confidence": "high"}),
    "NUL in a statement text": (
        "POST", "/v1/statements",
        {"party": "FR", "occurred_on": "2025-02-11", "text": "a\x00b", "sources": [SOURCE]}),
    "NUL in a source title": (
        "POST", "/v1/declarations/paris-statement/acts",
        {"kind": "signed", "party": "AQ", "occurred_on": "2025-03-01", "confidence": "high",
         "sources": [{**SOURCE, "title": "a\x00b"}]}),
    "far-future at": ("GET", "/v1/parties/US/stances", {"at": "9999-12-31"}),
    "first-day at": ("GET", "/v1/declarations/paris-statement/signatories", {"at": "0001-01-01"}),
    "a forged cursor with a day that is no date": ("GET", "/v1/timeline", {"cursor": cursor_for("not-a-day", 5)}),
    "a cursor that is not base64": ("GET", "/v1/timeline", {"cursor": "%%%%"}),
    "SQL in a path": ("GET", "/v1/declarations/x' OR '1'='1", None),
    "SQL in a filter": ("GET", "/v1/timeline", {"party": "US' OR '1'='1"}),
    "a very long path segment": ("GET", "/v1/declarations/" + "a" * 5000, None),
    "a very long party code": ("GET", "/v1/parties/" + "A" * 5000 + "/stances", None),
    "unicode in a party code": ("GET", "/v1/parties/ÜS/history", None),
    "an emoji party in a body": (
        "POST", "/v1/declarations/paris-statement/acts",
        {"kind": "signed", "party": "🇫🇷", "occurred_on": "2025-03-01", "sources": [SOURCE], "confidence": "high"}),
    "a huge number as a date": (
        "POST", "/v1/declarations/paris-statement/acts",
        {"kind": "signed", "party": "AQ", "occurred_on": 10**30, "sources": [SOURCE], "confidence": "high"}),
    "nulls everywhere": (
        "POST", "/v1/summits",
        {"id": None, "name": None, "hosts": None, "city": None, "starts_on": None, "ends_on": None,
         "sources": None, "confidence": None}),
    "deeply wrong types": (
        "POST", "/v1/statements", {"party": ["FR"], "occurred_on": {"y": 2025}, "text": 5, "sources": "https://x.org"}),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_nothing_a_client_sends_is_answered_with_a_500(client: TestClient, seeded: Runtime, name: str) -> None:
    method, path, payload = HOSTILE[name]
    before = stored_events(seeded)
    if method == "GET":
        response = client.get(path, params=payload)
    else:
        response = client.request(method, path, json=payload, headers=AUTH)
    assert response.status_code < 500, (response.status_code, response.text[:200])
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
    assert stored_events(seeded) == before


# -- a text the store cannot hold must not stall the read models ---------------------------------------------


# Once, PostgreSQL stored such an event and its projector retried that page forever: every later write
# answered 202 and reads never moved again. A fresh store per backend, so a poisoned one harms no other test.
@pytest.mark.parametrize("fresh_backend", BACKENDS)
def test_a_nul_character_in_a_text_is_refused_or_stored_without_stalling_the_read_models(
    fresh_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running(fresh_backend, tmp_path_factory.mktemp("nul"), write_wait_seconds=1) as runtime, \
            TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        summit = {"id": "nul-summit", "name": "Paris\x00Summit", "hosts": ["FR"], "city": "Paris",
                  "starts_on": "2025-02-10", "ends_on": "2025-02-11", "sources": [SOURCE], "confidence": "high"}
        first = post(client, "/v1/summits", summit)
        assert first.status_code in (201, 422), first.text
        later = post(client, "/v1/summits", {**summit, "id": "later-summit", "name": "Later Summit"})
        assert (later.status_code, later.json()["status"]) == (201, "applied"), later.text
        assert client.get("/healthz").json()["lag"] == 0


# -- the control: without the one broken thing, each body above is accepted ---------------------------------


@pytest.mark.parametrize("fresh_backend", BACKENDS)
def test_the_valid_bodies_the_refusals_start_from_are_accepted(
    fresh_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running(fresh_backend, tmp_path_factory.mktemp("control")) as runtime, \
            TestClient(create_app(runtime=seed_and_wait(runtime))) as client:
        for path, body in valid_bodies(client).items():
            response = post(client, concrete(path), body)
            assert response.status_code == 201, (path, response.text)
