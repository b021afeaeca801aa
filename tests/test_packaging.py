"""Packaging and architecture: the compose file and image start the API on PostgreSQL, dependencies
point one way (api -> projections -> domain, seeds -> domain), and nothing happens at import time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of NAME=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


# -- docker-compose.yml and the Dockerfile ------------------------------------------------------------


def test_compose_runs_postgres_and_the_api_both_with_healthchecks() -> None:
    services = compose()["services"]
    assert {"postgres", "api"} <= set(services)
    for name in ("postgres", "api"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "pg_isready" in json.dumps(services["postgres"]["healthcheck"]["test"])
    assert "/readyz" in json.dumps(services["api"]["healthcheck"]["test"])  # healthy = ready to serve


def test_the_projector_serves_its_metrics_on_a_published_port() -> None:
    projector = compose()["services"]["projector"]
    command = projector["command"]
    assert command[:2] == ["diplo", "project"]
    port = command[command.index("--metrics-port") + 1]
    assert command[command.index("--metrics-host") + 1] == "0.0.0.0"  # reachable from outside its container
    assert any(str(mapping).endswith(f":{port}") for mapping in projector["ports"])


def test_the_api_points_at_the_postgres_service() -> None:
    url = urlparse(environment(compose()["services"]["api"])["DIPLO_DATABASE_URL"])
    assert url.scheme in ("postgresql", "postgres")
    assert url.hostname == "postgres"


def test_the_api_waits_until_postgres_is_healthy() -> None:
    depends_on = compose()["services"]["api"]["depends_on"]
    assert isinstance(depends_on, dict), "depends_on must be the long form to carry a condition"
    assert depends_on["postgres"]["condition"] == "service_healthy"


def test_the_api_refuses_to_start_without_a_write_token() -> None:
    token = environment(compose()["services"]["api"])["DIPLO_WRITE_TOKENS"]
    assert token.startswith("${DIPLO_WRITE_TOKENS:?")


def _required_variables() -> set[str]:
    """The variables compose refuses to run without (${NAME:?…} or ${NAME?…}), anywhere in the file."""
    import re

    return set(re.findall(r"\$\{(\w+):?\?", (ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def test_make_compose_env_writes_every_variable_compose_requires_once(tmp_path: Path) -> None:
    """`${DIPLO_WRITE_TOKENS:?}` is checked on every compose command, so the quick start writes it into .env (which
    compose reads by itself), with a fresh token, and never replaces an .env that exists."""
    required = _required_variables()
    assert required == {"DIPLO_WRITE_TOKENS"}
    made = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "compose-env"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    written = (tmp_path / ".env").read_text(encoding="utf-8")
    values = dict(line.split("=", 1) for line in written.splitlines() if line and not line.startswith("#"))
    assert set(values) >= required
    assert len(values["DIPLO_WRITE_TOKENS"]) >= 24 and "," not in values["DIPLO_WRITE_TOKENS"]
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0, "the token is readable by others"
    again = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "compose-env"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and (tmp_path / ".env").read_text(encoding="utf-8") == written
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_the_readme_compose_quick_start_makes_the_env_file_before_any_compose_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines()
                if line.strip().startswith(("make compose-env", "docker compose", "DIPLO_WRITE_TOKENS="))]
    assert commands and commands[0].startswith("make compose-env"), commands
    assert not any(c.startswith("DIPLO_WRITE_TOKENS=") for c in commands), "a token set for one command only"


def test_the_projector_is_unhealthy_when_it_stops_moving() -> None:
    """Its health check fails when the read models stay behind the log without moving (not merely when the store
    is unreachable); the window is longer than a check's interval, so a slow page is not a stall."""
    check = compose()["services"]["projector"]["healthcheck"]
    test = check["test"]
    assert test[:3] == ["CMD", "diplo", "status"]
    stalled_after = float(test[test.index("--stalled-after") + 1])
    progress_file = test[test.index("--progress-file") + 1]
    assert progress_file.startswith("/tmp/"), "the image's user can write only there and in /data"
    interval = float(str(check["interval"]).removesuffix("s"))
    assert stalled_after > 2 * interval


def test_the_dockerfile_serves_the_api() -> None:
    dockerfile = ROOT / "Dockerfile"
    assert dockerfile.exists()
    lines = [line.strip() for line in dockerfile.read_text(encoding="utf-8").splitlines()]
    cmd = next(line for line in reversed(lines) if line.startswith("CMD"))
    assert "diplo" in cmd and "serve" in cmd
    assert any(line.startswith("USER") and "root" not in line for line in lines), "the image should not run as root"
    healthcheck = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "/livez" in " ".join(lines[healthcheck:healthcheck + 2])


def test_the_image_builds_the_web_page_and_installs_it_with_the_package() -> None:
    """The page is built in a Node stage and copied to web/dist before `pip install .`, whose wheel carries it
    (setup.py); the build fails if the installed package has no page."""
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM")]
    assert len(stages) == 2 and lines[stages[0]].startswith("FROM node:") and lines[stages[0]].endswith("AS web")
    node_stage = " ".join(lines[stages[0]:stages[1]])
    assert "npm ci" in node_stage and "npm run build" in node_stage
    python_stage = lines[stages[1]:]
    copied = next(i for i, line in enumerate(python_stage) if line.startswith("COPY --from=web"))
    assert python_stage[copied].split()[-1] == "/app/web/dist"
    install = next(i for i, line in enumerate(python_stage) if line.startswith("RUN pip install"))
    assert copied < install
    assert "web_dist" in " ".join(python_stage[install:install + 3]), "the image checks that the page is installed"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "web/node_modules" in ignored and "web/dist" in ignored  # neither is copied from the host


# -- dependencies point one way -------------------------------------------------------------------------

IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""

FORBIDDEN = {
    "domain": {
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_settings",
        "sqlite3",
        "_sqlite3",
        "psycopg",
        "psycopg_pool",
        "uvicorn",
        "api",
        "projections",
        "seeds",
        "storage",
    },
    "projections": {"fastapi", "starlette", "uvicorn", "api", "seeds", "storage"},
    "seeds": {"fastapi", "starlette", "uvicorn", "api", "projections"},
    # the hash-chained recorders: eventsourcing, sqlite3 and psycopg only
    "storage": {"fastapi", "starlette", "uvicorn", "pydantic", "api", "domain", "projections", "seeds"},
    "api": set(),
}


def modules_pulled_in_by(package: str) -> set[str]:
    """Every module loaded by importing each module of `package`, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE, package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_package_imports_only_what_its_layer_allows(package: str) -> None:
    loaded = modules_pulled_in_by(package)
    assert package in loaded
    offending = sorted(name for name in loaded if name.split(".")[0] in FORBIDDEN[package])
    assert not offending, f"importing {package} pulls in {offending}"


def test_the_command_line_and_the_routes_never_import_each_other() -> None:
    """What both use lives in modules that are neither (api/answers.py, api/terminal.py, api/deps.py)."""
    import ast

    def imported(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    api = ROOT / "api"
    command_line = [*api.glob("cli*.py"), api / "follow.py", api / "terminal.py", api / "answers.py"]
    for path in command_line:
        assert not {m for m in imported(path) if m.startswith("api.routes")}, f"{path.name} imports a route module"
    for path in (api / "routes").glob("*.py"):
        assert not {m for m in imported(path) if m.startswith(("api.cli", "api.terminal", "api.follow"))}, path.name


# -- nothing happens at import time ----------------------------------------------------------------------

IMPORT_THE_APP = """
import sqlite3
import psycopg

def refuse(*args, **kwargs):
    raise SystemExit("a database was opened at import time")

sqlite3.connect = refuse
psycopg.connect = refuse
psycopg.Connection.connect = classmethod(refuse)

import api.app
api.app.create_app()  # the factory only builds routes; the runtime is bootstrapped in the lifespan
print("ok")
"""


def test_importing_the_app_creates_no_files_and_opens_no_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_APP],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_compose_api_leaves_the_read_models_to_the_projector_service() -> None:
    services = compose()["services"]
    assert environment(services["api"])["DIPLO_PROJECTOR"] == "external"
    projector = services["projector"]
    assert projector["command"][:2] == ["diplo", "project"]
    assert projector["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert projector["restart"] == "unless-stopped"
    assert urlparse(environment(projector)["DIPLO_DATABASE_URL"]).hostname == "postgres"
