"""Command files: JSON lines, one command a line, as `diplo import` takes them for a bulk import.

Each line is an object whose `command` names it (host_summit, publish_declaration, record_act,
record_statement, retract) and whose other fields are those of the matching HTTP request body;
a `record_act` line also carries the `declaration_id` that the API takes from the path:

    {"command": "record_act", "declaration_id": "paris-statement", "kind": "signed", "party": "FR",
     "occurred_on": "2025-02-11", "confidence": "high", "sources": [{"title": "…", "url": "https://…"}]}

Every line is checked by the API's own request models, so a bad line is refused with the same
message, naming the line and the field, as the same body sent over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from pydantic import Field, ValidationError

from api.schemas import NUL_FREE, ActCreate, DeclarationCreate, RetractionCreate, StatementCreate, SummitCreate
from domain.commands import AnyCommand, RecordAct


class CommandLineError(Exception):
    """A line of a command file is not a command; nothing was stored."""


class ActLine(ActCreate):
    declaration_id: str = Field(min_length=1, max_length=100)

    def command(self, declaration_id: str | None = None) -> RecordAct:
        """The act on the declaration the line names."""
        return super().command(declaration_id or self.declaration_id)


CommandLine = SummitCreate | DeclarationCreate | ActLine | StatementCreate | RetractionCreate
MODELS: dict[str, type[CommandLine]] = {
    "host_summit": SummitCreate,
    "publish_declaration": DeclarationCreate,
    "record_act": ActLine,
    "record_statement": StatementCreate,
    "retract": RetractionCreate,
}


def looks_like_commands(first: dict[str, Any]) -> bool:
    """Whether a file's first object is a command (rather than a backup header or a public event)."""
    return "command" in first


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or "the line"
    return f"{where}: {problem['msg']}"


def parse_command(number: int, line: Any, *, nul_free: bool = False) -> AnyCommand:
    """One decoded line as a domain command; CommandLineError names the line and the field.
    `nul_free`: the caller saw that the raw line holds no NUL character (else every string is checked)."""
    if not isinstance(line, dict):
        raise CommandLineError(f"line {number}: not a JSON object")
    fields = dict(line)
    name = fields.pop("command", None)
    model = MODELS.get(name) if isinstance(name, str) else None
    if model is None:
        raise CommandLineError(f"line {number}: command: must be one of {', '.join(MODELS)}, got {name!r}")
    try:
        return model.model_validate(fields, context={NUL_FREE: nul_free}).command()
    except ValidationError as error:
        raise CommandLineError(f"line {number} ({name}): {_first_problem(error)}") from None


def read_commands(lines: Iterable[str]) -> Iterator[tuple[int, AnyCommand]]:
    """Each non-blank line's number and command, in order."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            line = orjson.loads(text)  # strict RFC 8259, in C: 2.5 us a line against the standard library's 6
        except orjson.JSONDecodeError:
            # What orjson refuses the standard library may still read (NaN, an int beyond 64 bits, a lone surrogate
            # escape): it decides, as it always did, so the same lines are read and refused with the same words.
            try:
                line = json.loads(text)
            except ValueError:
                raise CommandLineError(f"line {number}: not JSON") from None
        # JSON can carry NUL only as the escape \u0000 (strict json.loads refuses it raw).
        yield number, parse_command(number, line, nul_free="\\u0000" not in text)
