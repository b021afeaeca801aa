"""The `diplo` read commands as a script uses them: answers on standard output (a table, or `--format json` with
the HTTP answer's fields), errors on standard error with a non-zero exit, and `diplo status` as a health check."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from typer.testing import CliRunner, Result

from api import cli
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from api.stall import Seen, keep, load
from seeds.loader import seed
from tests.conftest import PG_URL
from tests.factories import FIRST_RELEASE


def environment(settings: Settings) -> dict[str, str]:
    env = {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_DATABASE_SCHEMA": settings.database_schema,
           "DIPLO_WRITE_TOKENS": "unused", "COLUMNS": "200", "NO_COLOR": "1"}
    if settings.database_url:
        env["DIPLO_DATABASE_URL"] = settings.database_url
    return env


def diplo(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    """`diplo ARGS` against the store of `settings`, its standard output and error kept apart."""
    return CliRunner().invoke(cli.app, list(args), env={**environment(settings), **(env or {})})


# -- diplo status --stalled-after ---------------------------------------------------------------------------------


def unprojected(settings: Settings) -> int:
    """The seeds written to the log while no projector runs: the read models stay behind it. Returns the head."""
    runtime = bootstrap(settings, start_projector=False, follow=False)
    try:
        return seed(runtime.app, through=FIRST_RELEASE).last_position
    finally:
        runtime.close()


def test_status_is_healthy_while_the_read_models_have_not_been_seen_stuck(settings: Settings, tmp_path: Path) -> None:
    head = unprojected(settings)
    kept = tmp_path / "progress.json"
    result = diplo(settings, "status", "--stalled-after", "60", "--progress-file", str(kept))
    assert result.exit_code == 0, result.stderr
    assert load(kept) is not None and load(kept).position == 0  # type: ignore[union-attr]
    assert f"head of the log: {head}" in result.stdout


def test_status_fails_when_the_read_models_stayed_behind_without_moving(settings: Settings, tmp_path: Path) -> None:
    head = unprojected(settings)
    kept = tmp_path / "progress.json"
    keep(kept, Seen(0, 1000.0))  # an earlier check saw position 0 long ago (Unix time 1000)
    result = diplo(settings, "status", "--stalled-after", "60", "--progress-file", str(kept))
    assert result.exit_code == 1
    assert "stalled" in result.stderr and "position 0" in result.stderr and f"at {head}" in result.stderr
    assert "stalled" not in result.stdout


def test_status_is_healthy_once_the_read_models_caught_up(seeded: Runtime, tmp_path: Path) -> None:
    kept = tmp_path / "progress.json"
    keep(kept, Seen(seeded.projector.position(), 1000.0))
    result = diplo(seeded.settings, "status", "--stalled-after", "60", "--progress-file", str(kept))
    assert result.exit_code == 0, result.stderr


def parsed(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# -- errors on standard error, with a non-zero exit ---------------------------------------------------------------

REFUSED = [
    (("stance", "XX"), "XX"),
    (("stance", "GB", "--known-at", "yesterday"), "known_at"),
    (("history", "XX"), "XX"),
    (("history", "GB", "--known-at", "2025-13-01"), "known_at"),
    (("signatories", "no-such-declaration"), "no-such-declaration"),
    (("signatories", "paris-statement", "--known-at", "soon"), "known_at"),
    (("replay", "--from", "2025-01-01", "--to", "2025-02-01", "--party", "XX"), "XX"),
    (("replay", "--from", "2025-03-01", "--to", "2025-02-01"), "from"),
    (("diff", "--from-at", "2025-01-01"), "to_at"),
    (("diff", "--from-at", "2025-01-01", "--to-at", "2025-02-01", "--declaration", "nope"), "nope"),
]


def test_read_commands_write_their_errors_to_standard_error_and_exit_2(seeded: Runtime) -> None:
    for args, named in REFUSED:
        for output in ("table", "json"):
            result = diplo(seeded.settings, *args, "--format", output)
            assert result.exit_code == 2, (args, result.stdout, result.stderr)
            assert result.stdout == "", f"{args}: the error went to standard output: {result.stdout!r}"
            assert "error" in result.stderr and named in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr


# -- --format json: the HTTP answer's fields ---------------------------------------------------------------------


def test_stance_json_is_the_http_answer(seeded: Runtime, client: Any) -> None:
    answer = parsed(diplo(seeded.settings, "stance", "GB", "--at", "2025-02-12", "--format", "json"))
    params = {"at": "2025-02-12", "known_at": answer["known_at"]}  # the moment the command read, echoed
    assert answer == client.get("/v1/parties/GB/stances", params=params).json()
    assert {s["declaration_id"]: s["stance"] for s in answer["stances"]}["paris-statement"] == "declined"


def test_history_json_is_the_http_answer(seeded: Runtime, client: Any) -> None:
    answer = parsed(diplo(seeded.settings, "history", "GB", "--format", "json"))
    assert answer == client.get("/v1/parties/GB/history", params={"known_at": answer["known_at"]}).json()
    assert answer["party"] == "GB" and answer["entries"]


def test_signatories_json_is_the_http_answer(seeded: Runtime, client: Any) -> None:
    answer = parsed(diplo(seeded.settings, "signatories", "bletchley-declaration", "--at", "2024-12-31",
                          "--format", "json"))
    params = {"at": "2024-12-31", "known_at": answer["known_at"]}
    assert answer == client.get("/v1/declarations/bletchley-declaration/signatories", params=params).json()
    assert len(answer["signed"]) > 20


def test_replay_json_is_the_http_answer(seeded: Runtime, client: Any) -> None:
    answer = parsed(diplo(seeded.settings, "replay", "--from", "2025-01-01", "--to", "2025-03-31", "--party", "GB",
                          "--format", "json"))
    params = {"from": "2025-01-01", "to": "2025-03-31", "party": "GB", "known_at": answer["known_at"]}
    assert answer == client.get("/v1/replay", params=params).json()
    assert [f["period"] for f in answer["frames"]] == ["2025-01", "2025-02", "2025-03"]


def test_status_json_gives_the_stores_part_of_healthz(seeded: Runtime, client: Any) -> None:
    answer = parsed(diplo(seeded.settings, "status", "--format", "json"))
    health = client.get("/healthz").json()
    for field in ("head", "position", "lag", "read_models", "chain"):
        assert answer[field] == health[field], field
    assert answer["lag"] == 0 and answer["head"] > 0


# -- a store that cannot be reached: one line on standard error, no traceback --------------------------------------


def test_status_against_an_unreachable_store_says_so_in_one_line(tmp_path: Path) -> None:
    env = {"DIPLO_DATA_DIR": str(tmp_path), "DIPLO_DATABASE_URL": "postgresql://diplo:s3cret@127.0.0.1:1/diplo"}
    for output in ("table", "json"):
        result = CliRunner().invoke(cli.app, ["status", "--format", output], env=env)
        assert result.exit_code == 1
        assert isinstance(result.exception, SystemExit), result.exception  # not the driver's error, uncaught
        assert result.stdout == ""
        assert "'diplo' at 127.0.0.1:1" in result.stderr and "does not answer" in result.stderr
        assert "s3cret" not in result.stderr


@pytest.mark.postgres
def test_restoring_into_a_database_that_does_not_exist_says_how_to_create_it(seeded: Runtime, tmp_path: Path) -> None:
    """diplo creates its schemas and tables but not the database itself (that needs rights over the server, and
    would hide a misspelt name): the restore stops before anything, saying how to create it."""
    backup = tmp_path / "backup.jsonl"
    assert diplo(seeded.settings, "export", "--all", "--out", str(backup)).exit_code == 0
    missing = f"diplo_missing_{uuid.uuid4().hex[:8]}"
    url = urlparse(PG_URL)._replace(path=f"/{missing}").geturl()
    result = CliRunner().invoke(cli.app, ["import", str(backup)],
                                env={"DIPLO_DATA_DIR": str(tmp_path), "DIPLO_DATABASE_URL": url})
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"{missing!r}" in result.stderr and "does not exist" in result.stderr
    assert f"CREATE DATABASE \"{missing}\"" in " ".join(result.stderr.split())
    with psycopg.connect(PG_URL) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (missing,)).fetchone() == (0,)


def test_verify_json_gives_the_report_and_the_anchor_to_keep(seeded: Runtime) -> None:
    answer = parsed(diplo(seeded.settings, "verify", "--no-record", "--format", "json"))
    table = diplo(seeded.settings, "verify", "--no-record")
    assert table.exit_code == 0, table.stderr
    assert answer["ok"] is True and answer["breaks"] == [] and answer["linked"] == answer["events"] > 0
    assert answer["anchor"] == f"{answer['head_position']}:{answer['head_hash']}"
    assert f"--anchor {answer['anchor']}" in " ".join(table.stdout.split())
