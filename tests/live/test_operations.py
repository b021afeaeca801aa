"""Operating real servers: /metrics moves with requests, writes, stream messages and projector progress (both
backends); `diplo project --metrics-port` serves the projector's own; /readyz turns 503 while the read models lag
past DIPLO_READY_MAX_LAG and 200 once a projector catches them up; several workers add their counts up; the request
id reaches the JSON log line of its request (and no token or body does); `diplo serve`'s proxy options; the last
`diplo verify` in /metrics."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from seeds.loader import seed
from tests.integration.test_tamper_evidence import RawLog
from tests.live.support import (
    AUTH,
    BACKENDS,
    DIPLO,
    REPO,
    Lines,
    Server,
    Store,
    Stream,
    free_port,
    post_statement,
    run_diplo,
    serving,
    stop_process,
)
from tests.prometheus_text import Samples, parse, series, value

MODELS = ("event_log", "catalogue", "timeline", "stance_history", "votes")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def scrape(url: str, **headers: str) -> Samples:
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text)


@pytest.fixture
def seeded_store(store: Store) -> Store:
    with store.record() as app:
        seed(app)
    return store


# -- metrics move ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_metrics_move_with_requests_writes_stream_messages_and_projector_progress(
    seeded_store: Store, tmp_path: Path
) -> None:
    with serving(seeded_store, tmp_path, stream_heartbeat_seconds=0.5) as server:
        head = server.wait_projected(0)["head"]
        before = scrape(server.url)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for code in ("US", "GB", "FR"):
                assert client.get(f"/v1/parties/{code}/stances").status_code == 200
            with Stream(server.url, params={"after": head - 2}) as stream:
                stream.take(1)  # caught up from the log (the seeds' last public event)
                wait_until(lambda: value(scrape(server.url), "diplo_stream_subscribers") == 1, 60, "the subscriber")
                receipts = [post_statement(client, f"metrics {i} {uuid.uuid4().hex}") for i in range(2)]
                last = max(r["position"] for r in receipts)
                stream.until(last)  # delivered live
                during = scrape(server.url)
            wait_until(lambda: value(scrape(server.url), "diplo_stream_subscribers") == 0, 60, "the stream's end")
        after = scrape(server.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("diplo_http_requests_total", method="GET", route="/v1/parties/{code}/stances", status="200") == 3
    assert moved("diplo_http_requests_total", method="POST", route="/v1/statements", status="201") == 2
    assert moved("diplo_writes_total", kind="statement", outcome="applied") == 2
    assert value(during, "diplo_stream_subscribers") == 1
    assert moved("diplo_stream_messages_total") >= 3  # one from the log, then the two statements live
    # The stream is not timed (it lasts as long as its client), but it is counted.
    assert moved("diplo_http_requests_total", method="GET", route="/v1/events/stream", status="200") == 1
    assert moved("diplo_http_request_duration_seconds_count", method="GET", route="/v1/events/stream") == 0
    # The in-process projector applied the two statements, and the read models stand at the head.
    assert moved("diplo_projector_events_total", event_type="Statement.Issued") == 2
    assert moved("diplo_projector_pages_total") >= 1
    assert value(after, "diplo_log_head_position") >= last
    for model in MODELS:
        assert value(after, "diplo_read_model_position", read_model=model) == value(after, "diplo_log_head_position")
        assert value(after, "diplo_read_model_lag_events", read_model=model) == 0


# -- readiness, and the projector's own metrics ----------------------------------------------------------


def start_projector(store: Store, port: int, **env: str | float | int) -> subprocess.Popen[str]:
    return subprocess.Popen([*DIPLO, "project", "--metrics-port", str(port)], cwd=REPO,
                            env=store.env(projector="external", **env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_readyz_is_503_while_the_read_models_lag_past_the_limit_and_the_projector_serves_its_metrics(
    seeded_store: Store, tmp_path: Path
) -> None:
    scraper = {"Authorization": "Bearer scraper-token"}
    settings = {"projector": "external", "ready_max_lag": 5, "write_wait_seconds": 0, "metrics_tokens": "scraper-token"}
    with serving(seeded_store, tmp_path, **settings) as server:
        # The seeds are stored, and no projector has run: every read model lags by the whole log.
        lagging = httpx.get(f"{server.url}/readyz", timeout=10)
        assert lagging.status_code == 503, lagging.text
        assert set(lagging.json()["lags"]) == set(MODELS) and min(lagging.json()["lags"].values()) > 400
        assert httpx.get(f"{server.url}/livez", timeout=10).status_code == 200

        port = free_port()
        projector = start_projector(seeded_store, port, metrics_tokens="scraper-token")
        output = Lines(projector)
        try:
            wait_until(lambda: httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200, 60, "readiness")
            url = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401
            own = scrape(url, **scraper)
            head = value(own, "diplo_log_head_position")
            assert head > 400
            assert value(own, "diplo_info", version="0.1.0", backend=seeded_store.backend, projector="external") == 1
            assert value(own, "diplo_projector_pages_total") >= 1
            projected = {dict(k)["event_type"]: n for k, n in series(own, "diplo_projector_events_total").items()}
            assert projected["Declaration.Signed"] >= 100 and projected["Summit.Hosted"] == 5, projected
            for model in MODELS:
                assert value(own, "diplo_read_model_lag_events", read_model=model) == 0
            # The API reports the same store, and no projector pages of its own.
            api = scrape(server.url, **scraper)
            assert value(api, "diplo_read_model_position", read_model="stance_history") == head
            assert value(api, "diplo_projector_pages_total") == 0
        finally:
            code = stop_process(projector)
            printed = output.join()
        assert code == 0, printed
        assert f"metrics on http://127.0.0.1:{port}/metrics" in printed[0], printed
        # Without a projector, writes pile up (answered 202, pending) until readiness fails again.
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(3):  # two events each: the statement and its index entry
                response = client.post("/v1/statements", headers=AUTH, json={
                    "party": "FR", "occurred_on": "2025-02-12", "text": f"unprojected {i}",
                    "sources": [{"title": "T", "url": "https://example.org/t"}]})
                assert response.status_code == 202, response.text
        not_ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert not_ready.status_code == 503
        assert all(lag == 6 for lag in not_ready.json()["lags"].values()), not_ready.json()
        pending = scrape(server.url, **scraper)
        assert value(pending, "diplo_writes_total", kind="statement", outcome="pending") == 3


# -- logs -----------------------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("backend", ["sqlite"])  # logging is the same on PostgreSQL
def test_the_request_id_reaches_the_json_log_line_of_its_request_and_no_token_or_body_does(
    store: Store, tmp_path: Path
) -> None:
    secret_text = f"body-text-{uuid.uuid4().hex}"
    with serving(store, tmp_path, log_format="json", log_level="debug") as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            client.get("/v1/parties/US", headers={"X-Request-ID": "trace-me-7"})
            missing = client.get("/v1/parties/ZZZ", headers={"X-Request-ID": "trace-me-8"})
            written = client.post("/v1/statements", headers={**AUTH, "X-Request-ID": "trace-me-9"}, json={
                "party": "FR", "occurred_on": "2025-02-12", "text": secret_text,
                "sources": [{"title": "T", "url": "https://example.org/t"}]})
            assert written.status_code == 201, written.text
            client.post("/v1/statements", headers={"Authorization": "Bearer wrong-token-xyz"}, json={})
        assert missing.json()["request_id"] == "trace-me-8"
        server.stop()
        log = server.log()
    lines = json_lines(log)
    assert lines, log[-2000:]
    by_id = {line.get("request_id"): line for line in lines if line.get("logger") == "uvicorn.access"}
    assert by_id["trace-me-7"]["path"] == "/v1/parties/US" and by_id["trace-me-7"]["status"] == 200
    assert by_id["trace-me-8"]["status"] == 404
    assert by_id["trace-me-9"]["method"] == "POST" and by_id["trace-me-9"]["status"] == 201
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["level"] == "debug" for line in lines)  # the level was taken
    # Even at debug, with every line of every library: no token and no body.
    for secret in (AUTH["Authorization"].split()[1], "wrong-token-xyz", secret_text):
        assert secret not in log


# -- several workers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])  # the workers' counting is the same on PostgreSQL
def test_several_workers_add_their_counts_up_and_the_server_removes_its_metrics_directory(
    seeded_store: Store, tmp_path: Path
) -> None:
    server = Server(seeded_store, tmp_path, args=["--workers", "2"], projector="external",
                    stream_heartbeat_seconds=0.5).start()
    try:
        directory = re.search(r"metrics of 2 workers are added up in (\S+)", server.log())
        assert directory, server.log()
        path = Path(directory.group(1))
        before = scrape(server.url)
        for _ in range(40):  # a connection each, so the kernel spreads them over both workers
            assert httpx.get(f"{server.url}/v1/parties/US", timeout=10).status_code == 200
        wait_until(lambda: len(list(path.glob("counter_*.db"))) == 2, 30, "both workers to count")
        after = scrape(server.url)
        route = {"method": "GET", "route": "/v1/parties/{code}", "status": "200"}
        assert value(after, "diplo_http_requests_total", **route) - value(before, "diplo_http_requests_total",
                                                                          **route) == 40
        # Whichever worker answers, the stream is ended cleanly on SIGTERM, with a hint to resume.
        with Stream(server.url, params={"after": 0}, timeout=60) as stream:
            stream.take(1)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            stream.rest()
            assert any("reconnect with Last-Event-ID" in c for c in stream.comments()), stream.comments()
        server.process.wait(30)
    finally:
        server.stop()
    assert not path.exists()


# -- diplo serve's options -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_serve_takes_a_root_path_the_proxys_forwarded_address_and_a_log_level(store: Store, tmp_path: Path) -> None:
    with serving(store, tmp_path, args=["--root-path", "/diplo/", "--forwarded-allow-ips", "127.0.0.1"],
                 log_format="json") as server:
        openapi = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
        assert openapi["servers"] == [{"url": "/diplo"}]
        assert "/diplo/openapi.json" in httpx.get(f"{server.url}/docs", timeout=10).text
        httpx.get(f"{server.url}/v1/parties/US", headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "fwd-1"},
                  timeout=10)
        server.stop()
        access = {line.get("request_id"): line for line in json_lines(server.log())}
    assert access["fwd-1"]["client"].startswith("203.0.113.9:")

    with serving(store, tmp_path, args=["--no-proxy-headers", "--log-level", "WARNING"]) as quiet:
        httpx.get(f"{quiet.url}/v1/parties/US", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        quiet.stop()
        assert "GET /v1/parties/US" not in quiet.log()  # no access line below warning
        assert "203.0.113.9" not in quiet.log()


# -- tracing, exported for real ------------------------------------------------------------------------


class Collector:
    """An OTLP/HTTP receiver on loopback, as a collector would be: keeps the spans it is sent."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        received: list[tuple[str, dict[str, Any]]] = []
        self.spans = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    service = {a.key: a.value.string_value for a in resource.resource.attributes}
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            attributes = {a.key: a.value for a in span.attributes}
                            received.append((span.name, {"service": service.get("service.name"),
                                                         "path": self.path, **attributes}))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("backend", ["sqlite"])  # tracing is the same on PostgreSQL
def test_with_an_otlp_endpoint_set_the_server_and_the_projector_send_their_spans_there(
    store: Store, tmp_path: Path
) -> None:
    collector = Collector()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    projector: subprocess.Popen[str] | None = None
    try:
        server = Server(store, tmp_path, projector="external")
        server.environment |= otel | {"OTEL_SERVICE_NAME": "diplo-live-api"}
        server.start()
        try:
            projector = subprocess.Popen([*DIPLO, "project"], cwd=REPO, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, text=True,
                                         env=store.env(projector="external") | otel
                                         | {"OTEL_SERVICE_NAME": "diplo-live-projector"})
            httpx.get(f"{server.url}/v1/parties/US", headers={"X-Request-ID": "exported-1"}, timeout=10)
            with httpx.Client(base_url=server.url, timeout=10) as client:
                post_statement(client, "traced")
            wait_until(lambda: {"GET /v1/parties/{code}", "POST /v1/statements", "projector page"}
                       <= {name for name, _ in collector.spans}, 30, "the spans at the collector")
        finally:
            if projector is not None:
                stop_process(projector)
            server.stop()
    finally:
        collector.close()
    by_name = {name: attributes for name, attributes in collector.spans}
    read = by_name["GET /v1/parties/{code}"]
    assert read["service"] == "diplo-live-api" and read["path"] == "/v1/traces"
    assert read["http.route"].string_value == "/v1/parties/{code}"
    assert [v.string_value for v in read["http.request.header.x-request-id"].array_value.values] == ["exported-1"]
    assert by_name["projector page"]["service"] == "diplo-live-projector"


# -- diplo verify --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_diplo_verify_is_in_metrics_ok_then_broken(seeded_store: Store, tmp_path: Path) -> None:
    with serving(seeded_store, tmp_path) as server:
        assert not series(scrape(server.url), "diplo_chain_verify_ok")  # never verified here
        started = time.time()
        done = run_diplo(seeded_store, "verify")
        assert done.returncode == 0, done.stdout + done.stderr
        whole = scrape(server.url)
        assert value(whole, "diplo_chain_verify_ok") == 1
        assert value(whole, "diplo_chain_verify_linked_events") == value(whole, "diplo_log_head_position")
        assert started - 1 <= value(whole, "diplo_chain_verify_timestamp_seconds") <= time.time() + 1
        assert not series(whole, "diplo_chain_verify_first_break_position")

        raw = RawLog(seeded_store.settings())
        try:
            position = raw.position_holding(b"Vance")
            (state,) = raw.sql("SELECT state FROM {events} WHERE {pos} = ?", position)[0]
            raw.sql("UPDATE {events} SET state = ? WHERE {pos} = ?", bytes(state).replace(b"Vance", b"Vanse"),
                    position)
        finally:
            raw.close()
        done = run_diplo(seeded_store, "verify")
        assert done.returncode == 1, done.stdout + done.stderr
        broken = scrape(server.url)
        assert value(broken, "diplo_chain_verify_ok") == 0
        assert value(broken, "diplo_chain_verify_first_break_position") == position

        assert run_diplo(seeded_store, "verify", "--no-record").returncode == 1
        assert value(scrape(server.url), "diplo_chain_verify_timestamp_seconds") == \
            value(broken, "diplo_chain_verify_timestamp_seconds")  # not recorded

