"""Log lines: JSON with the request id and an access line's fields, plain for a terminal, and no bearer token."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from api.logging_setup import JsonFormatter, PlainFormatter, RequestIdFilter
from api.request_id import REQUEST_ID


def record(message: str, *args: object, name: str = "api.test", level: int = logging.INFO,
           exc: bool = False, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(name, level, __file__, 1, message, args, sys.exc_info() if exc else None)
    for key, value in extra.items():
        setattr(made, key, value)
    RequestIdFilter().filter(made)
    return made


@pytest.fixture
def request_id() -> Iterator[str]:
    token = REQUEST_ID.set("req-42")
    yield "req-42"
    REQUEST_ID.reset(token)


def test_a_json_line_has_time_level_logger_message_and_the_request_id(request_id: str) -> None:
    line = json.loads(JsonFormatter().format(record("read %s in %d ms", "US", 3, declaration="paris-statement")))
    assert line["level"] == "info" and line["logger"] == "api.test"
    assert line["message"] == "read US in 3 ms"
    assert line["request_id"] == "req-42"
    assert line["declaration"] == "paris-statement"  # passed with extra=
    assert line["time"].endswith("Z") and line["time"][10] == "T"


def test_a_json_line_outside_a_request_has_no_request_id() -> None:
    line = json.loads(JsonFormatter().format(record("projector page")))
    assert "request_id" not in line


def test_an_access_line_gives_its_fields_one_by_one(request_id: str) -> None:
    made = record('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", "/v1/parties/US?at=2025-02-12", "1.1", 200,
                  name="uvicorn.access")
    line = json.loads(JsonFormatter().format(made))
    assert line["message"] == '10.0.0.7:5123 - "GET /v1/parties/US?at=2025-02-12 HTTP/1.1" 200'
    assert (line["client"], line["method"], line["path"], line["http_version"], line["status"]) == \
        ("10.0.0.7:5123", "GET", "/v1/parties/US?at=2025-02-12", "1.1", 200)
    assert line["request_id"] == "req-42"


def test_an_exception_is_one_json_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = record("unexpected error", level=logging.ERROR, exc=True)
    text = JsonFormatter().format(made)
    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "error"
    assert "ValueError: boom" in line["exception"] and "Traceback" in line["exception"]


def test_a_bearer_token_that_reaches_a_message_is_masked_in_both_formats(request_id: str) -> None:
    made = record("upstream said: Authorization: Bearer s3cr3t-t0ken, retrying")
    for formatter in (JsonFormatter(), PlainFormatter()):
        text = formatter.format(made)
        assert "s3cr3t-t0ken" not in text
        assert "Bearer [redacted]" in text


def test_a_plain_line_is_readable_and_names_the_request() -> None:
    assert PlainFormatter().format(record("outside")).endswith("INFO api.test outside")
    token = REQUEST_ID.set("req-42")
    try:
        text = PlainFormatter().format(record("read %s", "US"))
    finally:
        REQUEST_ID.reset(token)
    assert text.endswith("INFO api.test [req req-42] read US")
