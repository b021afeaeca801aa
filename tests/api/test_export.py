"""Exports over HTTP (`/v1/export/{events|stances|timeline}`) and from the command line (`diplo export`).

Every export is checked against the answer the ordinary read routes give for the same question, so an
export says exactly what the API says. Streaming is checked against a real server: the first line
reaches the client while the server has not read the export's second page yet.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.bootstrap import Runtime
from api.routes import export as export_route
from projections.exports import COLUMNS, Dataset
from tests.api.support import AUTH, BACKENDS, PROBLEM, SOURCE, assert_problem, error_fields, running, seed_and_wait

# A statement text that CSV must quote: commas, double quotes, a newline and non-ASCII.
AWKWARD = 'We said, "not yet" — and then:\nwe signed; “quotes”, commas, and all'
# A statement a spreadsheet would run as a formula if its cell were written as recorded.
FORMULA = '=HYPERLINK("http://example.invalid/","click")'


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def seeded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(backend, tmp_path_factory.mktemp(f"export-{backend}")) as rt:
        yield seed_and_wait(rt)


@pytest.fixture(scope="module")
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=seeded)) as test_client:
        response = test_client.post(
            "/v1/statements", headers=AUTH,
            json={"party": "GB", "speaker": "A spokesperson", "occurred_on": "2025-02-12", "text": AWKWARD,
                  "about": "paris-statement", "position": "neutral", "sources": [SOURCE]},
        )
        assert response.status_code == 201, response.text
        response = test_client.post(
            "/v1/statements", headers=AUTH,
            json={"party": "FR", "speaker": "A spokesperson", "occurred_on": "2025-02-12", "text": FORMULA,
                  "about": "paris-statement", "position": "neutral", "sources": [SOURCE]},
        )
        assert response.status_code == 201, response.text
        yield test_client


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def export(client: TestClient, dataset: str, **params: Any) -> httpx.Response:
    response = client.get(f"/v1/export/{dataset}", params=params)
    assert response.status_code == 200, response.text
    return response


# -- choosing the format -------------------------------------------------------------------------------------


def test_format_csv_answers_text_csv_with_the_header_row_first(client: TestClient) -> None:
    response = export(client, "timeline", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == ",".join(COLUMNS[Dataset.TIMELINE])
    assert 'filename="diplo-timeline.csv"' in response.headers["content-disposition"]


def test_format_jsonl_answers_json_lines(client: TestClient) -> None:
    response = export(client, "events", format="jsonl")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert all(isinstance(row["position"], int) for row in lines(response))


def test_the_accept_header_chooses_when_format_is_not_given(client: TestClient) -> None:
    as_csv = client.get("/v1/export/stances", headers={"Accept": "text/csv"})
    as_jsonl = client.get("/v1/export/stances", headers={"Accept": "application/x-ndjson"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_jsonl.headers["content-type"].startswith("application/x-ndjson")


def test_the_most_preferred_accepted_type_wins(client: TestClient) -> None:
    response = client.get("/v1/export/stances",
                          headers={"Accept": "application/x-ndjson;q=0.4, text/csv;q=0.9, */*;q=0.1"})
    assert response.headers["content-type"].startswith("text/csv")


def test_format_overrides_the_accept_header(client: TestClient) -> None:
    response = client.get("/v1/export/stances?format=jsonl", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("application/x-ndjson")


def test_format_ndjson_is_json_lines_as_for_the_replay(client: TestClient) -> None:
    response = export(client, "stances", format="ndjson")
    assert response.headers["content-type"].startswith("application/x-ndjson")


def test_without_format_or_a_known_accept_type_the_answer_is_json_lines(client: TestClient) -> None:
    response = client.get("/v1/export/stances", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.headers["content-type"].startswith("application/x-ndjson")


# -- CSV quoting ------------------------------------------------------------------------------------------------


def test_csv_quotes_texts_with_commas_quotes_and_newlines_and_reads_back_exactly(client: TestClient) -> None:
    response = export(client, "timeline", format="csv", party="GB", kind="statement")
    rows = csv_rows(response)
    assert AWKWARD in [row["text"] for row in rows]
    assert '"We said, ""not yet"" — and then:\nwe signed; “quotes”, commas, and all"' in response.text


def test_csv_writes_a_text_a_spreadsheet_would_run_as_a_formula_as_text_and_json_lines_keep_it_exact(
    client: TestClient,
) -> None:
    rows = csv_rows(export(client, "timeline", format="csv", party="FR", kind="statement"))
    assert "'" + FORMULA in [row["text"] for row in rows]
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    exact = lines(export(client, "timeline", format="jsonl", party="FR", kind="statement"))
    assert FORMULA in [row["text"] for row in exact]


def test_csv_nested_values_are_json_text_and_booleans_read_as_true_or_false(client: TestClient) -> None:
    rows = csv_rows(export(client, "stances", format="csv", party="US", at="2025-02-12"))
    paris = next(row for row in rows if row["declaration_id"] == "paris-statement")
    assert paris["stance"] == "declined" and paris["since"] == "2025-02-11"
    assert paris["approximate"] == "false"
    assert json.loads(paris["sources"])[0]["url"].startswith("https://")


def test_csv_and_json_lines_carry_the_same_rows(client: TestClient) -> None:
    from_csv = csv_rows(export(client, "events", format="csv"))
    from_jsonl = lines(export(client, "events", format="jsonl"))
    assert [int(row["position"]) for row in from_csv] == [row["position"] for row in from_jsonl]
    assert [json.loads(row["data"]) for row in from_csv] == [row["data"] for row in from_jsonl]


# -- what each export says equals what the read routes say ----------------------------------------------------


def test_the_events_export_is_the_event_log_with_where_each_event_lives(client: TestClient) -> None:
    exported = lines(export(client, "events"))
    logged = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    assert [{k: row[k] for k in logged[0]} for row in exported] == logged
    first = exported[0]
    assert first["kind"] == "hosted" and first["log"]["originator_version"] == 1
    assert first["log"]["topic"] == "diplo:Summit.Hosted" and first["parties"] == ["GB"]


def test_the_stances_export_matches_the_signatories_of_every_declaration(client: TestClient) -> None:
    at = "2025-02-12"
    response = export(client, "stances", at=at)
    assert response.headers["x-diplo-at"] == at
    known_at = response.headers["x-diplo-known-at"]
    exported = {(r["declaration_id"], r["party"], r["stance"], r["since"]) for r in lines(response)}
    expected = set()
    for declaration in client.get("/v1/declarations").json():
        answer = client.get(f"/v1/declarations/{declaration['id']}/signatories",
                            params={"at": at, "known_at": known_at}).json()
        for stance in ("signed", "declined", "withdrawn"):
            expected |= {(declaration["id"], s["party"], stance, s["since"]) for s in answer[stance]}
    assert exported == expected
    assert ("paris-statement", "US", "declined", "2025-02-11") in exported
    assert ("paris-statement", "GB", "declined", "2025-02-11") in exported


def test_the_stances_export_is_one_row_per_pair_in_declaration_then_party_order(client: TestClient) -> None:
    rows = lines(export(client, "stances", at="2026-03-01"))
    pairs = [(r["declaration_id"], r["party"]) for r in rows]
    assert pairs == sorted(set(pairs))


def test_the_timeline_export_is_every_page_of_the_timeline(client: TestClient) -> None:
    response = export(client, "timeline", party="GB")
    known_at = response.headers["x-diplo-known-at"]
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/v1/timeline", params={"party": "GB", "known_at": known_at, "limit": 7,
                                                  **({"cursor": cursor} if cursor else {})}).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    exported = lines(response)
    assert [row["position"] for row in exported] == [item["position"] for item in paged]
    for row, item in zip(exported, paged, strict=True):
        shared = set(row) & set(item)
        assert {"event_id", "kind", "occurred_on", "sources", "retracted"} <= shared
        assert {k: row[k] for k in shared} == {k: item[k] for k in shared}


# -- filters -----------------------------------------------------------------------------------------------------


def test_stances_filter_by_party_declaration_and_stance(client: TestClient) -> None:
    rows = lines(export(client, "stances", at="2025-02-12", declaration="paris-statement", stance="declined"))
    assert sorted(r["party"] for r in rows) == ["GB", "US"]
    only_us = lines(export(client, "stances", at="2025-02-12", party="us", declaration="paris-statement"))
    assert [(r["party"], r["stance"]) for r in only_us] == [("US", "declined")]


def test_stances_before_the_summit_have_no_paris_rows(client: TestClient) -> None:
    assert lines(export(client, "stances", at="2025-02-10", declaration="paris-statement")) == []


def test_a_known_at_before_the_seeds_were_recorded_exports_nothing(client: TestClient) -> None:
    for dataset in ("events", "timeline"):
        assert export(client, dataset, known_at="2020-01-01").text == ""
    assert export(client, "stances", known_at="2020-01-01", format="csv").text.count("\n") == 1  # the header


def test_timeline_filters_by_dates_kind_and_declaration(client: TestClient) -> None:
    rows = lines(export(client, "timeline", declaration="paris-statement", kind="declined",
                        **{"from": "2025-02-01", "to": "2025-02-28"}))
    assert sorted(r["party"] for r in rows) == ["GB", "US"]


def test_events_filter_by_kind_party_and_after(client: TestClient) -> None:
    everything = lines(export(client, "events"))
    middle = everything[len(everything) // 2]["position"]
    later = lines(export(client, "events", after=middle, kind="signed", party="FR"))
    assert later and all(r["position"] > middle and r["kind"] == "signed" and "FR" in r["parties"] for r in later)


def test_an_events_date_filter_keeps_acts_in_range(client: TestClient) -> None:
    rows = lines(export(client, "events", **{"from": "2025-02-11", "to": "2025-02-11"}))
    assert rows and all(r["occurred_on"] == "2025-02-11" for r in rows)


# -- refusals: 422, never 500 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/export/nothing", "dataset"),
        ("/v1/export/events?format=xml", "format"),
        ("/v1/export/events?format=parquet", "format"),
        ("/v1/export/timeline?kind=retracted", "kind"),
        ("/v1/export/events?kind=bogus", "kind"),
        ("/v1/export/stances?stance=maybe", "stance"),
        ("/v1/export/stances?at=2025-02-30", "at"),
        ("/v1/export/events?known_at=yesterday", "known_at"),
        ("/v1/export/events?known_at=2025-03-01T12:00:00", "known_at"),
        ("/v1/export/events?at=2025-01-01", "at"),
        ("/v1/export/timeline?stance=signed", "stance"),
        ("/v1/export/stances?from=2025-01-01", "from"),
        ("/v1/export/stances?after=3", "after"),
        ("/v1/export/timeline?min_confidence=high", "min_confidence"),
        ("/v1/export/events?after=-1", "after"),
        ("/v1/export/stances?min_confidence=certain", "min_confidence"),
        ("/v1/export/stances?party=XX", "party"),
        ("/v1/export/timeline?declaration=no-such-declaration", "declaration"),
        ("/v1/export/events?party=US&party=NOWHERE", "party"),
    ],
)
def test_bad_exports_are_refused_with_422_naming_the_field(client: TestClient, path: str, field: str) -> None:
    body = assert_problem(client.get(path), 422)
    assert field in error_fields(body)


def test_a_nul_in_a_filter_is_422(client: TestClient) -> None:
    response = client.get("/v1/export/timeline", params={"party": "G\x00B"})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)


# -- streaming, against a real server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(seeded: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(export_route, "PAGE_SIZE", 25)  # the seeds then make many pages
    port = _free_port()
    config = uvicorn.Config(create_app(runtime=seeded), host="127.0.0.1", port=port, log_level="warning")
    running_server = uvicorn.Server(config)
    thread = threading.Thread(target=running_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running_server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    running_server.should_exit = True
    thread.join(timeout=10)


class Gate:
    """Holds the export's second page back until the client has its first line (or 5 s pass)."""

    def __init__(self) -> None:
        self.first_line = threading.Event()
        self.pages = 0
        self.waited_in_vain = False

    def page(self) -> None:
        # Only the server's request threads count: the runtime's projector, log follower and PostgreSQL
        # subscription read the same store. (If AnyIO renamed its threads, `pages` stays 0 and the test fails.)
        if threading.current_thread().name != "AnyIO worker thread":
            return
        self.pages += 1
        if self.pages == 2 and not self.first_line.wait(5):
            self.waited_in_vain = True


def test_the_events_export_streams_its_first_line_before_reading_its_second_page(
    server: str, seeded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    recorder = seeded.app.recorder
    select = recorder.select_notifications

    def gated(*args: Any, **kwargs: Any) -> Any:
        gate.page()
        return select(*args, **kwargs)

    monkeypatch.setattr(recorder, "select_notifications", gated)
    with httpx.stream("GET", f"{server}/v1/export/events", timeout=30) as response:
        assert response.status_code == 200
        received = response.iter_lines()
        first = json.loads(next(received))
        gate.first_line.set()
        rest = [json.loads(line) for line in received if line]
    assert not gate.waited_in_vain, "the first line arrived only after the whole export was read"
    assert first["position"] < rest[0]["position"] and gate.pages > 2


def test_the_timeline_export_streams_csv_page_by_page(
    server: str, seeded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    store = seeded.store
    reading = store.reading

    def gated() -> Any:
        gate.page()
        return reading()

    monkeypatch.setattr(store, "reading", gated)
    with httpx.stream("GET", f"{server}/v1/export/timeline", headers={"Accept": "text/csv"}, timeout=30) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        received = response.iter_lines()
        header, first = next(received), next(received)
        gate.first_line.set()
        rest = list(received)
    assert not gate.waited_in_vain, "the first row arrived only after the whole export was read"
    assert header.startswith("position,event_id,kind") and first and len(rest) > 100 and gate.pages > 2


# -- the command line --------------------------------------------------------------------------------------------


def cli_env(runtime: Runtime) -> dict[str, str | None]:
    settings = runtime.settings
    return {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_DATABASE_URL": settings.database_url,
            "DIPLO_DATABASE_SCHEMA": settings.database_schema, "DIPLO_WRITE_TOKENS": "unused"}


def diplo(runtime: Runtime, *args: str) -> Any:
    result = CliRunner().invoke(cli.app, list(args), env=cli_env(runtime))
    return result


def test_diplo_export_writes_the_same_stances_as_the_http_export(
    client: TestClient, seeded: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "stances.csv"
    # A moment now past, after the seeds: a future one is read as each export's own now (docs/semantics.md).
    known_at = datetime.now(UTC).isoformat()
    result = diplo(seeded, "export", "stances", "--format", "csv", "--at", "2025-02-12", "--known-at", known_at,
                   "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "exported" in result.output and "rows of stances" in result.output
    over_http = export(client, "stances", format="csv", at="2025-02-12", known_at=known_at).text
    assert out.read_bytes().decode("utf-8") == over_http
    assert not (tmp_path / "stances.csv.partial").exists()


def test_diplo_export_events_jsonl_to_a_gzip_file(seeded: Runtime, tmp_path: Path) -> None:
    import gzip

    out = tmp_path / "events.jsonl.gz"
    result = diplo(seeded, "export", "events", "--kind", "declined", "--out", str(out))
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    assert rows and {r["kind"] for r in rows} == {"declined"}


def test_diplo_export_timeline_parquet_reads_back_in_pyarrow(seeded: Runtime, tmp_path: Path) -> None:
    pq = pytest.importorskip(
        "pyarrow.parquet", reason="Parquet exports need pyarrow: pip install -e '.[analysis]' (the dev extras have it)"
    )
    out = tmp_path / "timeline.parquet"
    result = diplo(seeded, "export", "timeline", "--format", "parquet", "--party", "GB", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS[Dataset.TIMELINE])
    rows = table.to_pylist()
    assert AWKWARD in [r["text"] for r in rows]
    assert all(isinstance(r["position"], int) and isinstance(r["retracted"], bool) for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export"], "name what to export"),
        (["export", "events", "--all"], "not both"),
        (["export", "--all", "--party", "GB"], "takes no filters"),
        (["export", "--all", "--format", "csv"], "JSON lines only"),
        (["export", "timeline", "--format", "parquet"], "--out"),
        (["export", "events", "--stance", "signed"], "do not take --stance"),
        (["export", "timeline", "--kind", "retracted"], "unknown kind"),
        (["export", "stances", "--known-at", "2025-03-01T00:00:00"], "time zone"),
        (["export", "stances", "--party", "XX"], "unknown party"),
        (["export", "timeline", "--declaration", "nope"], "unknown declaration"),
    ],
)
def test_diplo_export_refuses_what_it_cannot_do_with_exit_code_2(
    seeded: Runtime, args: list[str], message: str
) -> None:
    result = diplo(seeded, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
