"""The alignment tables for scripts and notebooks (issue 18, items 5 and 7): `diplo agreement`, `diplo vote-share`
and `diplo closest` as Rich tables, CSV and JSON lines; the `agreement` and `vote-share` exports as CSV, JSON lines
(over HTTP and from `diplo export`) and Parquet; on both backends, with the hand-made record of test_alignment."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Runtime
from projections.exports import COLUMNS, Dataset
from tests.api.test_alignment import record
from tests.api.test_export import diplo


@pytest.fixture
def api(client: TestClient, runtime: Runtime) -> TestClient:
    record(client, runtime)
    return client


def test_diplo_agreement_prints_a_table_and_csv_equal_to_the_http_answer(api: TestClient, runtime: Runtime) -> None:
    shown = diplo(runtime, "agreement", "US", "FR", "--by", "decade")
    assert shown.exit_code == 0, shown.output
    assert "Agreement of US and FR by decade" in shown.stdout and "0.556" in shown.stdout  # kappa 5/9
    as_csv = diplo(runtime, "agreement", "US", "FR", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert tuple(rows[0]) == COLUMNS[Dataset.AGREEMENT]
    answer = api.get("/v1/agreement", params={"a": "US", "b": "FR"}).json()["periods"]
    assert [(r["period"], int(r["joint"]), r["kappa"]) for r in rows] == [
        (p["period"], p["joint"], "" if p["kappa"] is None else str(p["kappa"])) for p in answer]


def test_diplo_vote_share_as_json_lines_with_an_issue_by_name(api: TestClient, runtime: Runtime) -> None:
    result = diplo(runtime, "vote-share", "US", "--issue", "Human rights", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["period"], r["votes"], r["yes"], r["abstain"], r["issue"]) for r in rows] == [
        ("1995", 2, 0.5, 0.5, "hr")]
    table = diplo(runtime, "vote-share", "RU", "--include", "predecessors")
    assert "Votes of RU by year (with predecessors)" in table.stdout and "1985" in table.stdout


def test_diplo_closest_ranks_the_others_in_one_year(api: TestClient, runtime: Runtime) -> None:
    result = diplo(runtime, "closest", "US", "--year", "1995", "--min-joint", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["rank"], r["other"], r["ranked"]) for r in rows] == [
        ("1", "FR", "true"), ("2", "GB", "true"), ("3", "IN", "true"), ("4", "RU", "false")]
    table = diplo(runtime, "closest", "US", "--decade", "1990", "--min-joint", "2")
    assert "Who voted most like US in decade 1990s" in table.stdout and "fewer: RU (1)" in table.stdout


@pytest.mark.parametrize(("args", "field", "message"), [
    (["agreement", "US", "XX"], "b", "unknown party code 'XX'"),
    (["vote-share", "XX"], "party", "unknown party code 'XX'"),
    (["vote-share", "US", "--issue", "weather"], "issue", "unknown issue"),
    (["agreement", "US", "FR", "--from", "1999-01-01", "--to", "1990-01-01"], "from", "is after"),
    (["closest", "US"], "period", "name one period"),
    (["closest", "US", "--year", "1995", "--session", "50"], "period", "name one period"),
    (["agreement", "US", "FR", "--known-at", "2025-01-01T00:00:00"], "known_at", "time zone"),
])
def test_refusals_go_to_standard_error_with_exit_code_2(api: TestClient, runtime: Runtime, args: list[str],
                                                        field: str, message: str) -> None:
    result = diplo(runtime, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and f"error ({field})" in result.stderr and message in result.stderr


def test_the_agreement_export_over_http_as_csv_and_json_lines(api: TestClient) -> None:
    asked = {"party": ["US", "FR"], "by": "decade", "include": "predecessors"}
    as_csv = api.get("/v1/export/agreement", params={**asked, "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["a"], r["b"], r["period"], r["joint"], r["include"]) for r in rows] == [
        ("US", "FR", "1980s", "0", "predecessors"), ("US", "FR", "1990s", "4", "predecessors")]
    lines = [json.loads(line) for line in api.get("/v1/export/agreement", params={**asked, "format": "jsonl"})
             .text.splitlines()]
    assert list(lines[1]) == list(COLUMNS[Dataset.AGREEMENT])
    assert lines[1]["kappa"] == pytest.approx(5 / 9) and lines[0]["kappa"] is None


def test_the_vote_share_export_equals_the_vote_share_answer(api: TestClient) -> None:
    lines = [json.loads(line) for line in api.get("/v1/export/vote-share",
                                                  params={"party": "US", "format": "jsonl"}).text.splitlines()]
    answer = api.get("/v1/parties/US/vote-share").json()
    assert [{k: r[k] for k in ("period", "votes", "yes", "no", "abstain")} for r in lines] == answer["periods"]
    assert {r["known_at"] for r in lines} != {None}


@pytest.mark.parametrize(("params", "field"), [
    ({"party": "US"}, "party"),
    ({"party": ["US", "FR", "GB"]}, "party"),
    ({"party": ["US", "XX"]}, "party"),
    ({"party": ["US", "FR"], "by": "month"}, "by"),
    ({"party": ["US", "FR"], "issue": "weather"}, "issue"),
    ({"party": ["US", "FR"], "kind": "vote"}, "kind"),
])
def test_bad_alignment_exports_are_refused_naming_the_field(api: TestClient, params: dict[str, Any],
                                                            field: str) -> None:
    refused = api.get("/v1/export/agreement", params=params)
    assert refused.status_code == 422, refused.text
    assert field in {e["field"] for e in refused.json()["errors"]}


def test_the_other_exports_refuse_the_alignment_filters(api: TestClient) -> None:
    refused = api.get("/v1/export/timeline", params={"by": "decade"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "by"


def test_diplo_export_writes_both_tables_as_parquet(api: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet exports need pyarrow (the dev extras have it)")
    out = tmp_path / "agreement.parquet"
    result = diplo(runtime, "export", "agreement", "--party", "US", "--party", "FR", "--format", "parquet",
                   "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS[Dataset.AGREEMENT])
    assert str(table.schema.field("joint").type) == "int64" and str(table.schema.field("kappa").type) == "double"
    rows = {r["period"]: r for r in table.to_pylist()}
    assert rows["1995"]["kappa"] == pytest.approx(0.5) and rows["1997"]["agreement"] is None
    shares = tmp_path / "shares.parquet"
    assert diplo(runtime, "export", "vote-share", "--party", "US", "--by", "session", "--format", "parquet",
                 "--out", str(shares)).exit_code == 0
    assert [r["period"] for r in pq.read_table(shares).to_pylist()] == ["39", "50", "51"]
    refused = diplo(runtime, "export", "vote-share", "--party", "US", "--party", "FR", "--format", "csv")
    assert refused.exit_code == 2 and "about 1 party" in refused.stderr
