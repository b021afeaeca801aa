"""Operating the API: request ids, /livez and /readyz, and /metrics (what moves it, who may read it), in this
process on both backends. The same seen from outside, on real servers and across processes: tests/live."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from api.streaming import StreamHub
from tests.api.support import AUTH, BACKENDS, SOURCE, TOKEN, assert_problem, running, unique
from tests.prometheus_text import Samples, parse, series, value

# -- fixtures: one unseeded store per backend for the module; every test writes ids of its own -----------


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def runtime(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"operations-{backend}")) as rt:
        yield rt


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def declaration(client: TestClient) -> str:
    """A new declaration of this test's own, published through the API."""
    name = unique("ops")
    response = client.post("/v1/declarations", headers=AUTH, json={
        "id": name, "title": f"Declaration {name}", "published_on": "2024-01-01", "sources": [SOURCE],
        "confidence": "high"})
    assert response.status_code == 201, response.text
    return name


def act(kind: str, party: str = "FR", occurred_on: str = "2024-02-01") -> dict[str, Any]:
    return {"kind": kind, "party": party, "occurred_on": occurred_on, "sources": [SOURCE], "confidence": "high"}


@pytest.fixture
def own_runtime(settings: Settings) -> Iterator[Any]:
    """A runtime made from the test's settings with changes (`own_runtime(ready_max_lag=3, ...)`), closed after."""
    made: list[Runtime] = []

    def make(**changes: Any) -> Runtime:
        made.append(bootstrap(settings.model_copy(update=changes)))
        return made[-1]

    yield make
    for runtime in made:
        runtime.close()


# -- request ids ----------------------------------------------------------------------------------------


def test_a_request_id_sent_is_echoed_and_one_is_made_when_none_is_sent(client: TestClient) -> None:
    sent = client.get("/v1/parties/US", headers={"X-Request-ID": "lb-7f3a:2025/02/11+x=1@edge"})
    assert sent.headers["x-request-id"] == "lb-7f3a:2025/02/11+x=1@edge"
    made = [client.get("/v1/parties/US").headers["x-request-id"] for _ in range(2)]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in made)
    assert made[0] != made[1]


@pytest.mark.parametrize("unusable", ["two words", "x" * 129, "quote\"d", "-starts-with-a-dash", "tab\there", ""])
def test_an_unusable_request_id_is_replaced_rather_than_echoed_or_refused(client: TestClient, unusable: str) -> None:
    response = client.get("/v1/parties/US", headers={"X-Request-ID": unusable})
    assert response.status_code == 200
    assert response.headers["x-request-id"] != unusable
    assert len(response.headers["x-request-id"]) == 32


def test_every_problem_answer_names_the_request_id_of_its_request(client: TestClient) -> None:
    answers = {
        404: client.get("/v1/parties/ZZZ", headers={"X-Request-ID": "req-404"}),
        401: client.post("/v1/summits", json={}, headers={"X-Request-ID": "req-401"}),
        422: client.post("/v1/summits", json={}, headers={**AUTH, "X-Request-ID": "req-422"}),
        413: client.post("/v1/summits", content=b"x" * 2_000_000,
                         headers={**AUTH, "X-Request-ID": "req-413", "Content-Type": "application/json"}),
    }
    for status, response in answers.items():
        body = assert_problem(response, status)
        assert body["request_id"] == response.headers["x-request-id"] == f"req-{status}"


def test_a_browser_page_from_an_allowed_origin_may_send_and_read_the_request_id(own_runtime: Any) -> None:
    origin = "https://analyst.example.org"
    runtime = own_runtime(cors_origins=origin)
    with TestClient(create_app(runtime=runtime)) as client:
        preflight = client.options("/v1/parties/US", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-request-id"})
        assert preflight.status_code == 200, preflight.text
        assert "x-request-id" in preflight.headers["access-control-allow-headers"].lower()
        read = client.get("/v1/parties/US", headers={"Origin": origin, "X-Request-ID": "from-the-page"})
        assert read.headers["x-request-id"] == "from-the-page"
        assert "x-request-id" in read.headers["access-control-expose-headers"].lower()


def test_the_operations_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_READY_MAX_LAG", "")
    monkeypatch.setenv("DIPLO_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DIPLO_LOG_FORMAT", "JSON")
    monkeypatch.setenv("DIPLO_METRICS_TOKENS", " a, b ,")
    settings = Settings()
    assert (settings.ready_max_lag, settings.log_level, settings.log_format) == (None, "debug", "json")
    assert settings.metrics_token_list == ["a", "b"]
    for name, bad in (("DIPLO_READY_MAX_LAG", "-1"), ("DIPLO_LOG_LEVEL", "trace"), ("DIPLO_LOG_FORMAT", "xml")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValidationError, match=name.removeprefix("DIPLO_").lower()):
            Settings()
        monkeypatch.delenv(name)


# -- probes ---------------------------------------------------------------------------------------------


def test_livez_and_readyz_answer_200_on_a_caught_up_store(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    declaration(client)  # a write answers once the read models show it, so they are caught up
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "head": runtime.projector.head(), "lag": 0, "max_lag": 10_000}


def test_readyz_turns_503_while_a_read_model_lags_past_the_limit_and_200_once_it_catches_up(
    own_runtime: Any
) -> None:
    # The read models are left to a projector that is not running: what is stored makes them lag.
    runtime = own_runtime(projector="external", ready_max_lag=3, write_wait_seconds=0)
    with TestClient(create_app(runtime=runtime)) as client:
        name = declaration_through(client, status=202)
        assert client.get("/readyz").status_code == 200  # 2 events behind (the declaration and its index entry)
        for party in ("FR", "DE"):
            assert client.post(f"/v1/declarations/{name}/acts", json=act("signed", party), headers=AUTH).status_code \
                == 202
        lagging = client.get("/readyz")
        body = assert_problem(lagging, 503)
        assert lagging.headers["retry-after"] == "2"
        assert body["ready"] is False and body["max_lag"] == 3
        assert set(body["lags"]) == {"event_log", "catalogue", "timeline", "stance_history", "votes"}
        assert all(lag == 6 for lag in body["lags"].values()), body
        assert "stance_history by 6" in body["detail"]
        assert client.get("/livez").status_code == 200  # alive all the same: nothing to restart

        runtime.projector.catch_up()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["lag"] == 0


def declaration_through(client: TestClient, status: int) -> str:
    name = unique("lagging")
    response = client.post("/v1/declarations", headers=AUTH, json={
        "id": name, "title": f"Declaration {name}", "published_on": "2024-01-01", "sources": [SOURCE],
        "confidence": "high"})
    assert response.status_code == status, response.text
    return name


def test_readyz_judges_no_lag_when_the_limit_is_unset(own_runtime: Any) -> None:
    runtime = own_runtime(projector="external", ready_max_lag=None, write_wait_seconds=0)
    with TestClient(create_app(runtime=runtime)) as client:
        for _ in range(3):
            declaration_through(client, status=202)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["lag"] == 6 and ready.json()["max_lag"] is None


# -- /metrics -------------------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_and_status(client: TestClient) -> None:
    before = scrape(client)
    for code in ("US", "GB", "FR"):
        assert client.get(f"/v1/parties/{code}").status_code == 200
    assert client.get("/v1/parties/ZZZ").status_code == 404
    assert client.get(f"/no/such/path/{uuid.uuid4().hex}").status_code == 404
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "GET", "route": "/v1/parties/{code}"}
    assert moved("diplo_http_requests_total", **route, status="200") == 3
    assert moved("diplo_http_requests_total", **route, status="404") == 1
    assert moved("diplo_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert moved("diplo_http_request_duration_seconds_count", **route) == 4
    assert moved("diplo_http_request_duration_seconds_bucket", **route, le="+Inf") == 4
    assert moved("diplo_http_request_duration_seconds_sum", **route) > 0
    # No series per concrete path: the label is the template.
    paths = {dict(labels)["route"] for labels in series(after, "diplo_http_requests_total")}
    assert not {p for p in paths if "US" in p or "such" in p}, paths


def test_a_client_cannot_add_series_with_made_up_methods_or_paths(client: TestClient) -> None:
    before = scrape(client)
    for i in range(5):
        client.request(f"BREW{i}", f"/v1/parties/US/{uuid.uuid4().hex}")
        client.request(f"BREW{i}", "/v1/parties/US")
    after = scrape(client)
    labels = {dict(k)["method"] for k in series(after, "diplo_http_requests_total")}
    assert not {m for m in labels if m.startswith("BREW")}, labels
    moved = sum(value(after, "diplo_http_requests_total", **dict(k)) - value(before, "diplo_http_requests_total",
                                                                            **dict(k))
                for k in series(after, "diplo_http_requests_total") if dict(k)["method"] == "other")
    assert moved == 10


def test_writes_are_counted_applied_pending_refused_and_replayed(client: TestClient, own_runtime: Any) -> None:
    name = declaration(client)
    before = scrape(client)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    assert client.post(f"/v1/declarations/{name}/acts", json=act("signed"), headers={**AUTH, **key}).status_code \
        == 201
    replay = client.post(f"/v1/declarations/{name}/acts", json=act("signed"), headers={**AUTH, **key})
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    refused = client.post(f"/v1/declarations/{name}/acts", json=act("signed", occurred_on="2024-03-01"),
                          headers=AUTH)
    assert_problem(refused, 409)  # signed twice in a row
    assert_problem(client.post(f"/v1/declarations/{name}/acts", json=act("signed")), 401)
    assert_problem(client.post(f"/v1/declarations/{name}/acts", json={**act("signed"), "party": "??"},
                               headers=AUTH), 422)
    assert_problem(client.post(f"/v1/declarations/{name}/acts", json=act("declined", "DE"), headers={**AUTH, **key}),
                   409)  # the key again, with another body
    assert_problem(client.post(f"/v1/declarations/{name}/acts", content=b"x" * 2_000_000,
                               headers={**AUTH, "Content-Type": "application/json"}), 413)
    published = {"id": name, "title": "again", "published_on": "2024-01-01", "sources": [SOURCE],
                 "confidence": "high"}
    assert_problem(client.post("/v1/declarations", json=published, headers=AUTH), 409)
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("diplo_writes_total", kind="signed", outcome="applied") == 1  # the replay stored nothing
    assert moved("diplo_idempotent_replays_total", kind="signed") == 1
    route = "/v1/declarations/{declaration_id}/acts"
    assert moved("diplo_writes_refused_total", route=route, problem="stance-rule") == 1  # its problem's type
    assert moved("diplo_writes_refused_total", route=route, problem="unauthorized") == 1
    assert moved("diplo_writes_refused_total", route=route, problem="validation") == 1
    assert moved("diplo_writes_refused_total", route=route, problem="idempotency-conflict") == 1
    # Refused on its declared length before any route was matched.
    assert moved("diplo_writes_refused_total", route="unmatched", problem="payload-too-large") == 1
    assert moved("diplo_writes_refused_total", route="/v1/declarations", problem="duplicate") == 1
    assert moved("diplo_http_requests_total", method="POST", route=route, status="201") == 2

    # A write the read models did not show in time is answered 202 and counted pending.
    lagging = own_runtime(projector="external", write_wait_seconds=0)
    with TestClient(create_app(runtime=lagging)) as other:
        declaration_through(other, status=202)
        assert value(scrape(other), "diplo_writes_total", kind="published", outcome="pending") \
            - value(after, "diplo_writes_total", kind="published", outcome="pending") == 1


def test_the_store_is_read_when_scraped_head_positions_and_lag(client: TestClient, runtime: Runtime) -> None:
    name = declaration(client)
    assert client.post(f"/v1/declarations/{name}/acts", json=act("declined"), headers=AUTH).status_code == 201
    samples = scrape(client)
    head = runtime.projector.head()
    backend = "postgres" if runtime.settings.uses_postgres else "sqlite"
    assert value(samples, "diplo_info", version="0.1.0", backend=backend, projector="inprocess") == 1
    assert value(samples, "diplo_store_up") == 1
    assert value(samples, "diplo_log_head_position") == head
    for model in ("event_log", "catalogue", "timeline", "stance_history"):
        assert value(samples, "diplo_read_model_position", read_model=model) == head
        assert value(samples, "diplo_read_model_lag_events", read_model=model) == 0
    # The in-process projector's own pages, by event type (a class name: a new kind needs no change here).
    projected = {dict(labels)["event_type"]: n for labels, n in series(samples, "diplo_projector_events_total").items()}
    assert projected.get("Declaration.Published", 0) >= 1 and projected.get("Declaration.Declined", 0) >= 1
    assert value(samples, "diplo_projector_pages_total") >= 1
    assert value(samples, "diplo_projector_page_duration_seconds_count") == value(samples,
                                                                                  "diplo_projector_pages_total")


def test_each_stream_is_counted_once_while_open_and_let_go_once_however_it_ends(client: TestClient) -> None:
    # One stream its client leaves, one the server ends (a shutdown): each ending used to take one off the
    # subscriber gauge twice, once in the stream and once in its dependency.
    def subscribers() -> float:
        return value(scrape(client), "diplo_stream_subscribers")

    def open_stream(stack: ExitStack) -> Iterator[str]:
        response: httpx.Response = stack.enter_context(client.stream("GET", "/v1/events/stream"))
        lines = response.iter_lines()
        assert next(lines).startswith(": diplomatic timeline event stream")
        return lines

    before = subscribers()
    with ExitStack() as left:
        open_stream(left)
        with ExitStack() as ended:
            lines = open_stream(ended)
            assert subscribers() == before + 2
            hub: StreamHub = cast(FastAPI, client.app).state.stream_hub
            assert client.portal is not None
            client.portal.call(hub.close_all)
            assert any(line.startswith(": the server is restarting") for line in lines)
        assert subscribers() == before + 1
    assert subscribers() == before


def test_metrics_are_open_like_reads_when_no_token_is_set(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_read_tokens_guard_metrics_like_any_read(own_runtime: Any) -> None:
    runtime = own_runtime(read_tokens="reader-token")
    with TestClient(create_app(runtime=runtime)) as client:
        assert_problem(client.get("/metrics"), 401)
        assert_problem(client.get("/metrics", headers={"Authorization": "Bearer not-a-token"}), 401)
        assert client.get("/metrics", headers={"Authorization": "Bearer reader-token"}).status_code == 200
        assert client.get("/metrics", headers=AUTH).status_code == 200  # a writer may read
        assert client.get("/healthz").status_code == 200  # probes stay open
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_metrics_tokens_alone_open_metrics_when_set(own_runtime: Any) -> None:
    runtime = own_runtime(read_tokens="reader-token", metrics_tokens="scraper-a, scraper-b")
    with TestClient(create_app(runtime=runtime)) as client:
        for token in ("scraper-a", "scraper-b"):
            assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        for token in ("reader-token", TOKEN):
            assert_problem(client.get("/metrics", headers={"Authorization": f"Bearer {token}"}), 401)
        # ...and the scraper's token reads nothing else.
        assert_problem(client.get("/v1/parties", headers={"Authorization": "Bearer scraper-a"}), 401)


def test_openmetrics_is_answered_to_a_scraper_that_asks_for_it(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_a_store_that_does_not_answer_is_store_up_0_not_an_error(own_runtime: Any, backend: str) -> None:
    runtime = own_runtime()
    with TestClient(create_app(runtime=runtime)) as client:
        runtime.store.close()
        runtime.app.recorder.datastore.close()  # type: ignore[attr-defined]
        response = client.get("/metrics")
        assert response.status_code == 200, response.text
        samples = parse(response.text)
        assert value(samples, "diplo_store_up") == 0
        assert not series(samples, "diplo_log_head_position")
        assert_problem(client.get("/readyz"), 503)

