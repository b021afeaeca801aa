"""The `diplo` read commands as a script uses them: answers on standard output (a table, or `--format json` with
the HTTP answer's fields), errors on standard error with a non-zero exit, and `diplo status` as a health check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from api import cli
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from api.stall import Seen, keep, load
from seeds.loader import seed
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
