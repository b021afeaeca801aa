"""OpenTelemetry tracing: optional (the `otel` extra), and off unless OpenTelemetry's own environment variables
ask for it. Nothing here imports the SDK or an exporter until they do.

Tracing is on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (OTLP over
HTTP/protobuf), or `OTEL_TRACES_EXPORTER` names `console`; `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`
turn it off. The service is named by `OTEL_SERVICE_NAME` (default `diplomatic-timeline`), and the exporter reads
the rest of its standard variables itself (headers, timeouts, batching).

FastAPI traces each request itself through the OpenTelemetry API (a server span named by the route template,
with its child operations); this module hands it a tracer provider with an exporter, tags the server span with
the request id, traces each projector page, and gives the log formatter the current trace and span ids.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

SERVICE_NAME = "diplomatic-timeline"
# Probes and scrapes come every few seconds and say nothing about a request's path through the system.
UNTRACED_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})

_provider: TracerProvider | None = None


class TracingUnavailable(RuntimeError):
    """Tracing was asked for, but the `otel` extra is not installed."""


def exporters(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The span exporters the environment asks for (`otlp`, `console`), none when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [e.strip().lower() for e in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if e.strip()]
    if "none" in named:
        return []
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    found = [e for e in named if e == "console" or (e == "otlp" and endpoint)]
    for other in sorted(set(named) - {"otlp", "console"}):
        log.warning("OTEL_TRACES_EXPORTER=%s is not supported here (otlp or console): ignored", other)
    return found


def requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether OpenTelemetry's environment variables ask for traces."""
    return bool(exporters(environ))


def start(exporter: SpanExporter | None = None) -> TracerProvider:
    """Starts tracing in this process, once: spans go to `exporter` as each ends (tests), or else in batches to
    the exporters the environment names."""
    global _provider
    if _provider is not None:
        return _provider
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
    except ImportError as error:
        raise TracingUnavailable(
            "OpenTelemetry tracing is asked for (OTEL_* variables) but the `otel` extra is not installed: "
            "pip install 'diplomatic-timeline[otel]'"
        ) from error
    named = "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "") or os.environ.get("OTEL_SERVICE_NAME")
    provider = TracerProvider(resource=Resource.create({} if named else {"service.name": SERVICE_NAME}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        for name in exporters():
            if name == "console":
                provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _provider = provider
    return provider


def stop() -> None:
    """Sends what is left and stops tracing in this process."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def active() -> bool:
    """Whether this process traces (cheap enough to ask on every request)."""
    return _provider is not None


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def start_if_requested() -> TracerProvider | None:
    """Starts tracing when the environment asks for it (or it already runs); says so and goes on without it when
    the `otel` extra is missing."""
    if not requested() and not active():
        return None
    try:
        return start()
    except TracingUnavailable as error:
        log.warning("%s; running without tracing", error)
        return None


# With no OpenTelemetry setting in the environment, FastAPI would still ask OpenTelemetry's global providers on
# every request whether somebody configured them since (a few per cent of a read's time): we say no once.
OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def fastapi_config(environ: Mapping[str, str] = os.environ) -> TelemetryConfig | None:
    """FastAPI's `telemetry=` argument: our tracer provider when tracing is asked for; FastAPI's defaults (None:
    nothing traced unless a provider is configured elsewhere, e.g. by `opentelemetry-instrument`) when some other
    OTEL_* setting is present; off when none is."""
    provider = start_if_requested()
    if provider is not None:
        return {"tracer_provider": provider, "exclude": _untraced, "auto_configure": False}
    if any(name.startswith("OTEL_") for name in environ):
        return None
    return OFF


def tag_request(request_id: str) -> None:
    """Puts the request id on the request's server span (the semantic convention's request header attribute)."""
    from opentelemetry import trace

    trace.get_current_span().set_attribute("http.request.header.x-request-id", (request_id,))


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex, for log lines; None outside a span."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def page_span(*, events: int, first: int, last: int, started_ns: int, ended_ns: int) -> None:
    """Records one projector page as a span of its own (a page is not part of any request)."""
    if _provider is None:
        return
    tracer = _provider.get_tracer("diplo.projector")
    span = tracer.start_span("projector page", start_time=started_ns,
                             attributes={"diplo.page.events": events, "diplo.page.first_position": first,
                                         "diplo.page.last_position": last})
    span.end(end_time=ended_ns)
