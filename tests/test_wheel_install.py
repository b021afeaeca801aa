"""The wheel as a newcomer installs it: built from this checkout, installed into a fresh virtualenv outside it
(with the dependencies its metadata names, and nothing else), then `diplo seed`, `diplo stance`, `diplo serve`
with the web page at `/`, and `diplo follow` reading that server's event stream.

Slow (about half a minute: pip resolves the dependencies, from pip's cache after the first run) and still run by
`make test`. It needs the built page (web/dist, `make web`): in CI (CI=true) a missing page fails it, on a
developer's machine it is skipped with a message that says how to build it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
DEADLINE = 180.0  # seconds; generous, the CI machine is busy

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, with the page built in web/dist."""
    if not (DIST / "index.html").is_file():
        reason = "the web page is not built (web/dist has no index.html): run `make web` (Node.js 20.19+ and npm)"
        if IN_CI:
            pytest.fail(f"the installed-wheel test must run in CI, but {reason}", pytrace=False)
        pytest.skip(f"installed-wheel test skipped locally: {reason}")
    out = tmp_path_factory.mktemp("wheel")
    leftover = ROOT / "build"  # setuptools builds in the tree; remove what this build leaves there
    existed = leftover.exists()
    try:
        run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)], ROOT,
            dict(os.environ))
    finally:
        if not existed:
            shutil.rmtree(leftover, ignore_errors=True)
    (built,) = out.glob("diplomatic_timeline-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A fresh virtualenv outside the checkout with the wheel installed: its bin folder, an environment with
    nothing of the checkout or of this test run in it, and a working folder (its store lives there)."""
    home = tmp_path_factory.mktemp("installed")
    assert not home.is_relative_to(ROOT)
    venv = home / "venv"
    # No pip of its own (ensurepip costs seconds): this interpreter's pip installs into it with --python.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], home, dict(os.environ))
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DIPLO_", "PYTHON", "VIRTUAL_ENV", "OTEL_")) and k != "CI"}
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)], home,
        clean)
    env = {**clean, "DIPLO_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"}
    return venv / "bin", env, home


def test_the_wheel_carries_the_page_and_the_licence(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "api/web_dist/index.html" in names
        assert archive.read("api/web_dist/index.html") == (DIST / "index.html").read_bytes()
        assets = {p.relative_to(DIST).as_posix() for p in (DIST / "assets").iterdir()}
        assert {f"api/web_dist/{a}" for a in assets} <= names
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        license_file = metadata.replace("METADATA", "licenses/LICENSE")
        assert archive.read(license_file) == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: MIT" in text
    assert "License-File: LICENSE" in text
    requires = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("httpx") for r in runtime), "diplo follow needs httpx at run time"
    assert "fastapi>=0.135" in runtime, "fastapi.sse (the event stream) arrived in FastAPI 0.135"
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(installed: tuple[Path, dict[str, str], Path]) -> Iterator[str]:
    """The installed package seeded with the AI summits and served on a free loopback port."""
    bin_dir, env, home = installed
    run([str(bin_dir / "diplo"), "seed", "--only", "ai-summits"], home, env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "serve.log").open("w")
    server = subprocess.Popen([str(bin_dir / "diplo"), "serve", "--port", str(port)], cwd=home, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            assert server.poll() is None, f"diplo serve exited {server.returncode}: {(home / 'serve.log').read_text()}"
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"diplo serve was not ready in {DEADLINE:.0f} s"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_the_installed_package_is_imported_from_the_virtualenv(installed: tuple[Path, dict[str, str], Path]) -> None:
    bin_dir, env, home = installed
    where = run([str(bin_dir / "python"), "-c", "import api; print(api.__file__)"], home, env).stdout.strip()
    assert Path(where).is_relative_to(bin_dir.parent), where


def test_the_installed_diplo_seeds_and_answers_a_stance(
    installed: tuple[Path, dict[str, str], Path], served: str
) -> None:
    bin_dir, env, home = installed
    table = run([str(bin_dir / "diplo"), "stance", "GB", "--at", "2024-01-01"], home, env)
    assert "bletchley-declaration" in table.stdout and "signed" in table.stdout
    answer = json.loads(run([str(bin_dir / "diplo"), "stance", "GB", "--at", "2024-01-01", "--format", "json"], home,
                            env).stdout)
    assert {s["declaration_id"]: s["stance"] for s in answer["stances"]}["bletchley-declaration"] == "signed"


def test_the_installed_server_serves_the_built_page(served: str) -> None:
    page = httpx.get(f"{served}/", timeout=30)
    assert page.status_code == 200
    assert page.text == (DIST / "index.html").read_text(encoding="utf-8"), "/ is not the page built in web/dist"
    script = next(p for p in (DIST / "assets").iterdir() if p.suffix == ".js")
    asset = httpx.get(f"{served}/assets/{script.name}", timeout=30)
    assert asset.status_code == 200
    assert asset.content == script.read_bytes()


def test_the_installed_diplo_follows_the_servers_stream(
    installed: tuple[Path, dict[str, str], Path], served: str
) -> None:
    bin_dir, env, home = installed
    assert "--after" in run([str(bin_dir / "diplo"), "follow", "--help"], home, env).stdout
    done = run([str(bin_dir / "diplo"), "follow", "--url", served, "--after", "0", "--limit", "3", "--format", "json"],
               home, env, timeout=DEADLINE)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    positions = [event["position"] for event in events]
    assert len(positions) == 3 and positions == sorted(positions) and positions[0] == 1, done.stdout
    assert events[0]["kind"] == "hosted" and events[0]["data"]["slug"] == "bletchley-2023"
