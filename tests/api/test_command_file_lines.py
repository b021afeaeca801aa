"""api.command_lines.read_commands reads a line with orjson, and what orjson refuses with the standard library, so
the lines read, and the words a refused line gets, are what they were with the standard library alone."""

from __future__ import annotations

import json

import pytest

from api.command_lines import CommandLineError, read_commands

ACT = {"command": "record_act", "declaration_id": "paris-statement", "kind": "signed", "party": "FR",
       "occurred_on": "2025-02-11", "confidence": "high", "sources": [{"title": "Report", "url": "https://e.org/r"}]}


def test_a_plain_line_reads_the_same() -> None:
    [(number, command)] = list(read_commands(["\n", json.dumps(ACT, ensure_ascii=False) + "\n"]))
    assert number == 2 and command.party == "FR" and command.sources[0].url == "https://e.org/r"


@pytest.mark.parametrize(("text", "message"), [
    # orjson refuses these; the standard library reads them, and the request model refuses the value as before
    (json.dumps({**ACT, "party": float("nan")}), "line 1 (record_act): party: Input should be a valid string"),
    (json.dumps({**ACT, "party": 2**70}), "line 1 (record_act): party: Input should be a valid string"),
    (json.dumps({**ACT, "reason": "\ud800"}), None),  # a lone surrogate escape: read, then judged by the model
    ("{not json", "line 1: not JSON"),
    ('{"command": "record_act"} trailing', "line 1: not JSON"),
])
def test_what_orjson_refuses_is_read_or_refused_as_the_standard_library_does(text: str, message: str | None) -> None:
    def standard_library() -> object:
        try:
            return json.loads(text)
        except ValueError:
            return "not JSON"

    if message is None:
        try:
            list(read_commands([text]))
        except CommandLineError as error:
            assert standard_library() != "not JSON" and "line 1 (record_act)" in str(error)
        return
    with pytest.raises(CommandLineError) as refused:
        list(read_commands([text]))
    assert str(refused.value).startswith(message)
