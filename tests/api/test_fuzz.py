"""Hostile input, generated: schemathesis against /openapi.json of a real server, and hypothesis against
the parsers every request goes through.

The schemathesis run (slow) covers every operation of the OpenAPI document but the endless event stream
(tested by hand in test_security and the live tests), with bodies, paths, queries and headers generated
from the schema, valid and invalid, on a seeded store over real HTTP. Each answer must not be a server
error, and must match the document: its status is declared, its content type is the declared one, and
its body matches the declared schema (problems included). A second run walks the API statefully along the
links the document declares (api/links.py): publish a declaration, act on it, retract the act, read it back.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.answers import parse_known_at
from api.routes.log import _decode, _encode
from api.routes.stream import _start
from domain.errors import InvalidInput
from tests.api.support import AUTH as API_AUTH
from tests.live.faults_support import AUTH, BACKENDS, REPO, Server, store_of_its_own
from tests.live.test_concurrent_writers import record

EXAMPLES_PER_OPERATION = 10  # per generation mode; with the schema's examples about 450 requests a backend
# What every answer is held to. Not schemathesis's positive_data_acceptance and negative_data_rejection:
# a schema cannot say that a party code must be in the registry or a date not in the future, so valid-looking
# input is rightly refused (422, 409), and query strings read as other types (`to=-1e-9` is a date to pydantic).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
ENDLESS = "/v1/events/stream"
SEQUENCES = 25



@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real uvicorn on a seeded store of its own; `server.name` is the backend."""
    backend = str(request.param)
    where = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with store_of_its_own(backend, where / "store") as store:
        seeded = subprocess.run([sys.executable, "-m", "api.cli", "seed", "--only", "ai-summits"], cwd=REPO,
                                env=store.env(),
                                capture_output=True, text=True, timeout=300)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        server = Server(store, where, name=backend)
        server.start()
        try:
            yield server
        finally:
            server.stop()
        assert "unexpected error" not in server.log()


def record_fuzz(name: str, backend: str, operations: int, answers: Counter[int]) -> None:
    record(Path(), f"{name}-{backend}", {
        "backend": backend, "operations": operations, "requests": sum(answers.values()),
        "answers": {str(k): v for k, v in sorted(answers.items())}, "server_errors": 0,
    })


def fuzz_operation(operation: Any, strategy: Any, examples: int, failures: list[str], answers: Counter[int]) -> None:
    """Sends `examples` generated cases of one operation; notes the first failure (hypothesis shrinks it)."""

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=AUTH, timeout=60, checks=CHECKS)
        answers[response.status_code] += 1

    try:
        run()
    except Unsatisfiable:
        pass  # negative mode, for an operation with no input to get wrong
    except (Exception, BaseExceptionGroup) as error:  # every check's failure, named with its operation
        failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:1500]}")


@pytest.mark.slow
def test_every_operation_answers_generated_input_without_a_server_error_and_as_documented(
    fuzzed_server: Server,
) -> None:
    # schemathesis's pytest integration (from_fixture) does not run under pytest 9 yet; its Python API does.
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json").exclude(path=ENDLESS)
    failures: list[str] = []
    answers: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        examples = schema.get_strategies_from_examples(operation)
        if examples:
            fuzz_operation(operation, st.one_of(examples), EXAMPLES_PER_OPERATION // 4, failures, answers)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            fuzz_operation(operation, strategy, EXAMPLES_PER_OPERATION, failures, answers)
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
    record_fuzz("fuzz", fuzzed_server.name, operations, answers)


@pytest.mark.slow
def test_stateful_sequences_along_the_documented_links_never_break_the_contract(fuzzed_server: Server) -> None:
    """Publish a declaration, act on it, retract the act, read the signatories: sequences built by following
    the links of the OpenAPI document (api/links.py) with generated data, every answer checked."""
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json").exclude(path=ENDLESS)
    steps: Counter[str] = Counter()
    failures: list[str] = []

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": AUTH, "timeout": 60}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            steps[f"{case.method} {case.path} {response.status_code}"] += 1
            # Noted here rather than raised: hypothesis would replay the sequence to report it, against a
            # server whose state has moved on, and report that instead.
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{case.method} {case.path}: {str(error)[:1500]}")

    # The server keeps its state between sequences, and the rules open to hypothesis depend on what it
    # answered, so hypothesis may find its generation "flaky" and stop a run early: run again until enough
    # steps were taken (bounded).
    for _ in range(5):
        with contextlib.suppress(Flaky):
            Sequences.run(settings=settings(max_examples=SEQUENCES, stateful_step_count=6, deadline=None,
                                            database=None, suppress_health_check=list(HealthCheck),
                                            phases=[Phase.generate]))
        if sum(steps.values()) >= 2 * SEQUENCES:
            break
    assert not failures, "\n\n".join(failures)
    # Generated party codes and dates are mostly refused (422), so few sequences get far; what is asserted is
    # that every answer on the way kept the contract. The figures say how far they got.
    assert sum(steps.values()) >= SEQUENCES, steps
    answers: Counter[int] = Counter()
    for step, count in steps.items():
        answers[int(step.rsplit(" ", 1)[1])] += count
    record_fuzz("fuzz-stateful", fuzzed_server.name, len({s.rsplit(" ", 1)[0] for s in steps}), answers)
    print(f"stateful steps: {dict(sorted(steps.items()))}")


# -- property tests of the parsers every request goes through --------------------------------------------


@given(st.text(max_size=60))
@settings(max_examples=500, deadline=None)
def test_known_at_is_parsed_or_refused_as_invalid_input_whatever_the_text(value: str) -> None:
    try:
        parsed = parse_known_at(value)
    except InvalidInput as error:
        assert error.field == "known_at"
    else:
        assert isinstance(parsed, str) and parsed


@given(st.datetimes(timezones=st.timezones()))
@settings(max_examples=300, deadline=None)
def test_every_zoned_datetime_is_a_valid_known_at_or_out_of_range(moment: Any) -> None:
    try:
        parse_known_at(moment.isoformat())
    except InvalidInput as error:
        assert "out of range" in error.message or "zone" in error.message


@given(st.text(max_size=250))
@settings(max_examples=500, deadline=None)
def test_a_timeline_cursor_is_one_this_server_issued_or_invalid_input(cursor: str) -> None:
    try:
        day, position, party = _decode(cursor)
    except InvalidInput as error:
        assert error.field == "cursor"
    else:
        assert 0 <= position <= 2**62
        assert isinstance(day, str) and isinstance(party, str)


@given(st.dates(min_value=date(1, 1, 1)), st.integers(min_value=0, max_value=2**62),
       st.sampled_from(("", "US", "SUHH", "AFRICAN_UNION")))
@settings(max_examples=300, deadline=None)
def test_every_cursor_the_server_issues_reads_back_as_issued(day: date, position: int, party: str) -> None:
    assert _decode(_encode(day.isoformat(), position, party)) == (day.isoformat(), position, party)


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.integers(min_value=0, max_value=2**62)))
@settings(max_examples=500, deadline=None)
def test_last_event_id_is_a_position_or_invalid_input(last_event_id: str | None, after: int | None) -> None:
    try:
        start = _start(after, last_event_id)
    except InvalidInput as error:
        assert error.field == "Last-Event-ID"
    else:
        assert 0 <= start <= 2**62


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def bodies_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.api.support import running

    with running("sqlite", tmp_path_factory.mktemp("bodies")) as runtime, \
            TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        yield client


WRITE_PATHS = ["/v1/summits", "/v1/declarations", "/v1/declarations/x/acts", "/v1/statements", "/v1/retractions"]


@given(path=st.sampled_from(WRITE_PATHS), body=JSON)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_body_on_any_write_route_is_answered_with_a_problem_never_a_500(
    bodies_client: Any, path: str, body: Any
) -> None:
    response = bodies_client.post(path, json=body, headers=API_AUTH)
    assert response.status_code in (404, 409, 422), (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/problem+json")

