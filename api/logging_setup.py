"""How the processes log: one handler on standard error, plain lines for a terminal or JSON lines for a log
collector (`DIPLO_LOG_FORMAT`), at `DIPLO_LOG_LEVEL`; every record made while a request is answered carries its
request id. uvicorn's own loggers (its access log included) go through the same handler.

What is never logged: request bodies and headers (nothing here or in uvicorn's access log reads them), so no
bearer token; and as a safety net, anything shaped like `Bearer <token>` in a message is masked.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
from enum import StrEnum
from typing import Any

from api import request_id, telemetry


class LogLevel(StrEnum):
    """The levels `--log-level` and DIPLO_LOG_LEVEL take (not uvicorn's `trace`, which logs request headers)."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


# A token that reached a message by accident (an exception's text, a library's debug line) is masked.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
# The attributes every LogRecord has; anything else on a record was passed with `extra=` and is kept.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}
# uvicorn.access records carry their fields as arguments: client, method, path with query, HTTP version, status.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def _masked(text: str) -> str:
    return _BEARER.sub(r"\1[redacted]", text) if "earer" in text else text


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being answered in its context (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current()
        return True


class PlainFormatter(logging.Formatter):
    """`2026-11-25 19:21:12,321 INFO uvicorn.access [req 4f…] message`: for reading in a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request = f" [req {rid}]" if rid else ""
        return _masked(super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, the fields of an access
    line, trace and span ids while tracing, anything passed with `extra=`, and the exception's traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _masked(record.getMessage()),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
            entry["path"] = _masked(str(entry["path"]))
        ids = telemetry.current_ids() if telemetry.active() else None
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_") and key != "color_message":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = _masked(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = _masked(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


def config(level: str = "info", fmt: str = "plain") -> dict[str, Any]:
    """The logging configuration (for `logging.config.dictConfig`, or uvicorn's `log_config`)."""
    name = level.upper()
    formatter = "api.logging_setup.JsonFormatter" if fmt == "json" else "api.logging_setup.PlainFormatter"
    quiet = {"handlers": [], "propagate": True, "level": name}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "api.logging_setup.RequestIdFilter"},
                    # A token in a query string never reaches the access log (api.log_redaction).
                    "redact_query": {"()": "api.log_redaction.RedactQuery"}},
        "formatters": {"diplo": {"()": formatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "diplo",
                       "filters": ["request_id"]},
        },
        # uvicorn's loggers lose the handlers of its default configuration and reach ours through the root.
        "loggers": {"uvicorn": quiet, "uvicorn.error": quiet,
                    "uvicorn.access": {**quiet, "filters": ["redact_query"]}},
        "root": {"handlers": ["stderr"], "level": name},
    }


def configure(level: str = "info", fmt: str = "plain") -> None:
    """Configures this process's logging (`diplo project`; `diplo serve` hands `config` to uvicorn)."""
    logging.config.dictConfig(config(level, fmt))
