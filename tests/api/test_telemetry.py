"""OpenTelemetry tracing: off (nothing of the SDK or an exporter imported) unless OTEL's variables ask for it; on,
each request is a server span named by its route template, tagged with its request id, continuing the caller's
trace, and each projector page is a span of its own (caught here by an in-memory exporter)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api import telemetry
from api.app import create_app
from api.bootstrap import Runtime
from api.logging_setup import JsonFormatter, RequestIdFilter
from tests.api.support import AUTH, SOURCE, unique

REPO = Path(__file__).resolve().parents[2]

# A whole app in a fresh interpreter: a request and a write (so a projector page too), then what was imported.
IN_A_FRESH_PROCESS = """
import sys
from fastapi.testclient import TestClient
from api import telemetry
from api.app import create_app
from api.settings import Settings

source = {"title": "T", "url": "https://example.org/t"}
with TestClient(create_app(Settings(data_dir=sys.argv[1], write_tokens="t"))) as client:
    assert client.get("/v1/parties/US").status_code == 200
    written = client.post("/v1/declarations", headers={"Authorization": "Bearer t"}, json={
        "id": "off", "title": "Off", "published_on": "2024-01-01", "sources": [source], "confidence": "high"})
    assert written.status_code == 201, written.text
print("active", telemetry.active())
print("loaded", sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter"))))
"""


def fresh_process(tmp_path: Path, *, prelude: str = "", **otel: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DIPLO_"))} | otel
    done = subprocess.run([sys.executable, "-c", prelude + IN_A_FRESH_PROCESS, str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_without_otel_variables_nothing_of_the_sdk_or_an_exporter_is_imported(tmp_path: Path) -> None:
    output = fresh_process(tmp_path)
    assert "active False" in output
    assert "loaded []" in output


def test_otel_traces_exporter_none_keeps_tracing_off_even_with_an_endpoint(tmp_path: Path) -> None:
    output = fresh_process(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_TRACES_EXPORTER="none")
    assert "active False" in output and "loaded []" in output


def test_asked_for_without_the_extra_installed_the_server_says_so_and_serves_untraced(tmp_path: Path) -> None:
    # The SDK made unimportable, as in an install without the `otel` extra.
    output = fresh_process(tmp_path, prelude="import sys; sys.modules['opentelemetry.sdk'] = None\n",
                           OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    assert "the `otel` extra is not installed" in output
    assert "pip install 'diplomatic-timeline[otel]'" in output
    assert "running without tracing" in output
    assert "active False" in output


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, []),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
    ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, []),  # OTLP, but to no endpoint
    ({"OTEL_TRACES_EXPORTER": "otlp,console", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ["otlp", "console"]),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
])
def test_which_otel_variables_turn_tracing_on(environ: dict[str, str], expected: list[str]) -> None:
    assert telemetry.exporters(environ) == expected
    assert telemetry.requested(environ) is bool(expected)


# -- on -------------------------------------------------------------------------------------------------


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on, as the environment asks for it; spans kept in memory instead of sent to the endpoint."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    exporter = InMemorySpanExporter()
    telemetry.start(exporter)
    yield exporter
    telemetry.stop()


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_each_request_is_a_server_span_named_by_its_route_with_its_request_id(
    spans: InMemorySpanExporter, runtime: Runtime
) -> None:
    with TestClient(create_app(runtime=runtime)) as client:
        assert client.get("/v1/parties/US", headers={"X-Request-ID": "trace-me-1"}).status_code == 200
        assert client.get("/v1/parties/ZZZ").status_code == 404
        for probe in ("/livez", "/readyz", "/healthz", "/metrics"):
            assert client.get(probe).status_code == 200
    found = {s.name: s for s in server_spans(spans)}
    assert set(found) == {"GET /v1/parties/{code}"}, set(found)  # probes and scrapes are not traced
    by_status = {s.attributes["http.response.status_code"]: s for s in server_spans(spans)}  # type: ignore[index]
    ok = by_status[200].attributes
    assert ok is not None
    assert ok["http.route"] == "/v1/parties/{code}" and ok["url.path"] == "/v1/parties/US"
    assert ok["http.request.header.x-request-id"] == ("trace-me-1",)
    assert by_status[200].resource.attributes["service.name"] == "diplomatic-timeline"


def test_a_traced_server_serves_the_lean_routes_through_fastapi_with_their_child_spans(
    spans: InMemorySpanExporter, runtime: Runtime
) -> None:
    app = create_app(runtime=runtime)
    assert app.state.lean_routes is False  # api/lean_routes.py steps aside: FastAPI's handler makes the child spans
    with TestClient(app) as client:
        assert client.get("/v1/parties/US/stances").status_code == 200
    (server,) = server_spans(spans)
    assert server.name == "GET /v1/parties/{code}/stances"
    children = [s for s in spans.get_finished_spans() if s.parent is not None
                and s.parent.span_id == server.context.span_id]
    assert children, "FastAPI's dependency and endpoint spans"


def test_untraced_the_lean_routes_serve_and_fastapi_asks_opentelemetry_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    app = create_app(runtime=runtime)
    assert app.state.lean_routes is True
    assert telemetry.fastapi_config() is telemetry.OFF


def test_a_callers_traceparent_is_continued(spans: InMemorySpanExporter, runtime: Runtime) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with TestClient(create_app(runtime=runtime)) as client:
        client.get("/v1/parties/GB", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    (span,) = server_spans(spans)
    assert f"{span.context.trace_id:032x}" == trace_id
    assert span.parent is not None and f"{span.parent.span_id:016x}" == parent_id


def test_each_projector_page_is_a_span_of_its_own(spans: InMemorySpanExporter, runtime: Runtime) -> None:
    name = unique("traced")
    with TestClient(create_app(runtime=runtime)) as client:
        written = client.post("/v1/declarations", headers=AUTH, json={
            "id": name, "title": name, "published_on": "2024-01-01", "sources": [SOURCE], "confidence": "high"})
        assert written.status_code == 201, written.text
    position = written.json()["position"]
    pages = [s for s in spans.get_finished_spans() if s.name == "projector page"]
    covering = [p for p in pages if p.attributes and p.attributes["diplo.page.first_position"] <= position
                <= p.attributes["diplo.page.last_position"]]  # type: ignore[operator]
    assert covering, [p.attributes for p in pages]
    assert covering[0].parent is None  # not part of the request that stored the event
    assert covering[0].attributes["diplo.page.events"] >= 2  # type: ignore[index, operator]


def test_a_json_log_line_made_inside_a_span_names_its_trace_and_span(spans: InMemorySpanExporter) -> None:
    tracer = telemetry.start().get_tracer("tests")
    with tracer.start_as_current_span("work") as span:
        made = logging.LogRecord("api.test", logging.INFO, __file__, 1, "inside", None, None)
        RequestIdFilter().filter(made)
        line = json.loads(JsonFormatter().format(made))
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
