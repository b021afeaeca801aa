"""Prometheus metrics, through the official client (prometheus-client).

Two kinds. What happens in a process (requests, writes, stream messages, projector pages) is counted as it
happens, in one set of metrics per process (`process_metrics()`). What the store says (the head of the log, each
read model's position and lag, the last `diplo verify`) is read when Prometheus scrapes (`StoreCollector`), so
every process and every worker reports the same truth without keeping it.

With several workers (`diplo serve --workers N`) each worker counts into files of its own in the directory named
by PROMETHEUS_MULTIPROC_DIR, which `diplo serve` makes and removes (`multiprocess_directory`), and a scrape,
answered by any worker, adds them up (prometheus-client's multiprocess mode). That mode is chosen when
prometheus-client is first imported, from the environment, which is why the directory is set before the workers
start.

A kind of write or event is a label value taken from the receipt or the event's class, so a new kind of act is
counted without a change here.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    exposition,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import telemetry
from api.bootstrap import Runtime
from api.deps import _known, _token
from api.errors import DOMAIN_TYPES, PROBLEM, PROBLEM_TYPE, STATUS_TYPES
from projections.projector import PageApplied, Projector
from storage import verifications

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Any other token is a valid HTTP method to uvicorn: one label for them all, so a client cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# From a cached read (~1 ms) to a write that waited its full DIPLO_WRITE_WAIT_SECONDS and more.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PROBLEM_BYTES = PROBLEM.encode()
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404), so paths cannot blow it up


class ProcessMetrics:
    """Every metric counted in this process. Made once per process: prometheus-client keeps one value per name
    and labels, and in multiprocess mode a second object of the same name would overwrite the first's counts."""

    def __init__(self) -> None:
        self.requests = Counter("diplo_http_requests", "HTTP requests answered, by method, route template and status",
                                ["method", "route", "status"])
        self.latency = Histogram("diplo_http_request_duration_seconds",
                                 "Time to answer an HTTP request, by method and route template (event streams, which "
                                 "last as long as their client, are left out)", ["method", "route"],
                                 buckets=LATENCY_BUCKETS)
        self.writes = Counter("diplo_writes", "Writes stored, by kind of event and outcome: applied (201: the read "
                              "models showed it in time) or pending (202)", ["kind", "outcome"])
        self.replays = Counter("diplo_idempotent_replays", "Writes answered again from their Idempotency-Key, "
                               "storing nothing, by kind", ["kind"])
        self.refused = Counter("diplo_writes_refused", "Write requests refused, by route template and problem "
                               "type (stance-rule, duplicate, validation, unauthorized, ...: docs/problems.md)",
                               ["route", "problem"])
        self.subscribers = Gauge("diplo_stream_subscribers", "Open /v1/events/stream connections",
                                 multiprocess_mode="livesum")
        self.messages = Counter("diplo_stream_messages", "Event messages sent to stream subscribers, caught up "
                                "from the log or live")
        self.closed_slow = Counter("diplo_stream_closed_slow", "Stream subscribers closed because they read too "
                                   "slowly (they resume with Last-Event-ID)")
        self.pages = Counter("diplo_projector_pages", "Pages of events this process's projector committed")
        self.projected = Counter("diplo_projector_events", "Events this process's projector applied to the read "
                                 "models, by event type", ["event_type"])
        self.page_seconds = Histogram("diplo_projector_page_duration_seconds", "Time to read, apply and commit one "
                                      "projector page", buckets=PAGE_BUCKETS)
        # Children by labels, looked up without prometheus-client's lock and checks on every request.
        self._http: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def http(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of one method, route and status."""
        key = (method, route, status)
        found = self._http.get(key)
        if found is None:
            found = self._http[key] = (self.requests.labels(method, route, str(status)),
                                       self.latency.labels(method, route))
        return found

    def write(self, kind: str, *, applied: bool, replayed: bool) -> None:
        """Counts one answered write (receipts.answer)."""
        if replayed:
            self.replays.labels(kind).inc()
        else:
            self.writes.labels(kind, "applied" if applied else "pending").inc()

    def page(self, page: PageApplied) -> None:
        """Counts one committed projector page, and traces it when tracing is on."""
        self.pages.inc()
        for event_type, n in Tally(type(item.event).__qualname__ for item in page.items).items():
            self.projected.labels(event_type).inc(n)
        self.page_seconds.observe((page.ended_ns - page.started_ns) / 1e9)
        if telemetry.active():
            telemetry.page_span(events=page.read, first=page.first, last=page.last, started_ns=page.started_ns,
                                ended_ns=page.ended_ns)


@cache
def process_metrics() -> ProcessMetrics:
    """This process's metrics, made on first use (nothing is registered at import time)."""
    # `_created` series double the text and say only when the process started.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    return ProcessMetrics()


# The problem types a label may take (anything else, which no answer of ours has, counts as its status's type).
KNOWN_PROBLEMS = frozenset({*DOMAIN_TYPES.values(), *STATUS_TYPES.values()})
_PROBLEM_TYPE = re.compile(rb'"type":\s*"' + re.escape(PROBLEM_TYPE.encode()) + rb'([a-z-]{1,40})"')


def _problem(status: int, body: bytes) -> str:
    """The type of a refusal, read from its problem answer (`urn:diplo:problem:stance-rule` is `stance-rule`)."""
    found = _PROBLEM_TYPE.search(body)
    kind = found.group(1).decode() if found else ""
    return kind if kind in KNOWN_PROBLEMS else STATUS_TYPES.get(status, "other")


class HttpMetrics:
    """Pure ASGI: times each request and counts it by route template and status; counts refused writes.

    Kept to a few dictionary look-ups a request: the HTTP read path is benchmarked against a bare endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = process_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        streaming = problem = False
        refusal = b""  # the start of a refused write's problem answer, to read its type from

        async def send_watched(message: Message) -> None:
            nonlocal status, streaming, problem, refusal
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        streaming = value.startswith(b"text/event-stream")
                        problem = value.startswith(PROBLEM_BYTES)
                        break
            elif problem and not refusal and status >= 400:
                refusal = message.get("body", b"")[:200]
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
            counter, latency = self.metrics.http(method, route, status)
            counter.inc()
            if not streaming:
                latency.observe(time.perf_counter() - started)
            if status >= 400 and method in WRITE_METHODS:
                self.metrics.refused.labels(route, _problem(status, refusal)).inc()


# -- read at scrape time ---------------------------------------------------------------------------------


def _version() -> str:
    try:
        return version("diplomatic-timeline")
    except PackageNotFoundError:
        return "unknown"


class StoreCollector(Collector):
    """What the store says, read when scraped: the head of the log, each read model's position and lag, and the
    last `diplo verify` recorded beside the log. A store that does not answer is `diplo_store_up 0`, not an error."""

    def __init__(self, projector: Projector, recorder: Any, *, backend: str, projector_mode: str) -> None:
        self.projector = projector
        self.recorder = recorder
        self.info = {"version": _version(), "backend": backend, "projector": projector_mode}

    @classmethod
    def of(cls, runtime: Runtime) -> StoreCollector:
        """The collector of a process's runtime."""
        settings = runtime.settings
        return cls(runtime.projector, runtime.app.recorder, backend="postgres" if settings.uses_postgres else "sqlite",
                   projector_mode=settings.projector)

    def describe(self) -> Iterable[Metric]:
        return []  # nothing read at registration: the store is only asked when scraped

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("diplo", "This process: its version, backend and where its read models are kept",
                               value=self.info)
        up = GaugeMetricFamily("diplo_store_up", "1 when the event store and the read models answered this scrape")
        try:
            head = self.projector.head()
            positions = self.projector.positions()
            verified = verifications.latest(self.recorder)
        except Exception as error:  # exactly what this gauge reports
            log.warning("metrics: the store did not answer (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("diplo_log_head_position", "The last position in the event log", value=head)
        position = GaugeMetricFamily("diplo_read_model_position", "The last log position each read model has applied",
                                     labels=["read_model"])
        lag = GaugeMetricFamily("diplo_read_model_lag_events", "How many positions each read model is behind the "
                                "head of the log (PostgreSQL positions can have gaps: an upper bound)",
                                labels=["read_model"])
        for name, at in positions.items():
            position.add_metric([name], at)
            lag.add_metric([name], head - at)
        yield position
        yield lag
        if verified is not None:
            yield GaugeMetricFamily("diplo_chain_verify_ok", "1 when the last `diplo verify` found the hash chain "
                                    "whole, 0 when it found it broken", value=int(verified.ok))
            yield GaugeMetricFamily("diplo_chain_verify_timestamp_seconds", "When the last `diplo verify` ran "
                                    "(seconds since the epoch)", value=verified.verified_at)
            yield GaugeMetricFamily("diplo_chain_verify_linked_events", "Events the last `diplo verify` found "
                                    "linked", value=verified.linked)
            if verified.first_break is not None:
                yield GaugeMetricFamily("diplo_chain_verify_first_break_position", "Where the last `diplo verify` "
                                        "found the chain broken", value=verified.first_break)


class _ThisProcess(Collector):
    """prometheus-client's default registry (our counters, and its process and Python collectors), forwarded."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def _forget_dead_workers(path: str) -> None:
    """A worker killed without a shutdown leaves its live gauges (open streams) behind: drop them."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = int(os.path.basename(name).rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, someone else's


def scrape_registry(store: StoreCollector) -> CollectorRegistry:
    """A registry for one scrape: this process's metrics (or, in multiprocess mode, every worker's, added up)
    and the store's."""
    registry = CollectorRegistry(auto_describe=False)
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        _forget_dead_workers(path)
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(store)
    return registry


def allowed_tokens(metrics_tokens: list[str], read_tokens: list[str], write_tokens: list[str]) -> list[str] | None:
    """Who may scrape: DIPLO_METRICS_TOKENS when set; otherwise whoever may read (DIPLO_READ_TOKENS, and the
    writers); None (anyone) when reads are open."""
    if metrics_tokens:
        return metrics_tokens
    if read_tokens:
        return [*read_tokens, *write_tokens]
    return None


def watch_projector(projector: Projector) -> None:
    """Counts each page the projector commits (undone by `unwatch_projector`)."""
    if process_metrics().page not in projector.page_listeners:
        projector.page_listeners.append(process_metrics().page)


def unwatch_projector(projector: Projector) -> None:
    with contextlib.suppress(ValueError):
        projector.page_listeners.remove(process_metrics().page)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged: one every few seconds says nothing."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_metrics(store: StoreCollector, host: str, port: int, tokens: list[str] | None) -> WSGIServer:
    """GET /metrics on a port of its own, in a daemon thread (`diplo project --metrics-port`), guarded by `tokens`
    like the API's (None: open). Call `shutdown()` on the answer to stop it."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics is served here\n"]
        if tokens is not None and not _known(_token(environ.get("HTTP_AUTHORIZATION")), tokens):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
            return [b"/metrics needs 'Authorization: Bearer <token>' here\n"]
        encoder, content_type = exposition.choose_encoder(environ.get("HTTP_ACCEPT", ""))
        body: bytes = encoder(scrape_registry(store))
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server(host, port, app, _ThreadingServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="diplo-metrics", daemon=True).start()
    return server


@contextlib.contextmanager
def multiprocess_directory() -> Iterator[str]:
    """The directory several workers count into: PROMETHEUS_MULTIPROC_DIR when the operator sets one (emptied of
    an earlier run's files first, as prometheus-client asks), else a new one, removed afterwards."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        yield given
        return
    made = tempfile.mkdtemp(prefix="diplo-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
