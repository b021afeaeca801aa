"""Real browser tests: Playwright (the Python package) driving Debian's Chromium, headless, against a real
`diplo serve` (uvicorn) on a free loopback port, with a freshly seeded SQLite store and the built page.

What they need: /usr/bin/chromium (`apt-get install -y chromium`), the built page in web/dist (`make web`, which
needs Node.js 20.19+ and npm) and the `playwright` package (in the dev extras). In CI (CI=true) a missing piece
fails the tests with a message that names it; on a developer's machine they are skipped with that message.
Screenshots of each view are written to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("DIPLO_WEB_DIST") or ROOT / "web" / "dist")
CHROMIUM = os.environ.get("DIPLO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TOKEN = "browser-test-writer"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
# Chromium as the machine notes start it: no sandbox as root, and no background calls to the closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
# "Now" as every page sees it (timers still run): after the last date in the record the tests seed, so the
# views show all of it, and fixed, so nothing they draw depends on the day the tests run.
PAGE_TODAY = "2026-06-15T12:00:00Z"


def missing() -> str | None:
    """What keeps the browser tests from running here, in words that say how to fix it; None if nothing."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not at {CHROMIUM}: apt-get update && apt-get install -y chromium (README, 'The web page')"
    if not (DIST / "index.html").exists():
        return (f"the web page is not built ({DIST} has no index.html): run `make web`, which needs Node.js 20.19+ "
                "and npm")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing: `make dev` installs it (dev extras)"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = missing()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"the browser tests must run in CI, but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped locally: {reason}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def diplo(*args: str) -> list[str]:
    """The `diplo` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("diplo")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from api.cli import main; sys.argv[0] = 'diplo'; main()", *args]


class Server:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.http = httpx.Client(base_url=url, timeout=10)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers=AUTH)
        assert response.status_code in (201, 202), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def server(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`diplo seed` into a new SQLite store, then `diplo serve` on a free loopback port, as a user would."""
    data_dir = tmp_path_factory.mktemp("browser-store")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    env.update(DIPLO_DATA_DIR=str(data_dir), DIPLO_WRITE_TOKENS=TOKEN, DIPLO_WEB_DIST=str(DIST),
               DIPLO_PROJECTOR="inprocess", PYTHONUNBUFFERED="1")
    # The first release of the AI-summit record: the views below are checked against its facts.
    seeded = subprocess.run(diplo("seed", "--only", "ai-summits", "--through", "ai-summits-2026-11-25"), cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    yield from serving(data_dir, env)


def serving(data_dir: Path, env: dict[str, str]) -> Iterator[Server]:
    """`diplo serve` on the store in `data_dir`, on a free loopback port, until the session ends."""
    port = free_port()
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(diplo("serve", "--host", "127.0.0.1", "--port", str(port)), cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (data_dir / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "diplo serve did not answer /healthz within 60 s"
            time.sleep(0.2)
        running = Server(url, data_dir)
        yield running
        running.http.close()
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


@pytest.fixture(scope="session")
def browser(browser_ready: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A new browser tab at laptop width, its clock at PAGE_TODAY; a script error on the page fails the test."""
    yield from tab_on(browser, server)


@pytest.fixture
def record_page(browser: Any, record_server: Server) -> Iterator[Any]:
    """A new tab (its clock at PAGE_TODAY) on the server that holds the slice of the General Assembly's record."""
    yield from tab_on(browser, record_server)


def tab_on(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, base_url=server.url, locale="en-GB", timezone_id="UTC")
    # The page's "today" ends the party view's time axis and the declaration view's slider, so where every marker
    # falls, and so what a click reaches, would move with the date the tests run on: it is pinned.
    context.clock.set_fixed_time(PAGE_TODAY)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def screenshot(tab: Any, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(target), full_page=full_page)
    return target


@pytest.fixture(scope="session")
def record_server(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server, for the views of votes: the AI summits' first release and a slice of the General
    Assembly's real record, both releases (tests/browser/record_slice.py says which sessions and why)."""
    data_dir = tmp_path_factory.mktemp("browser-record")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    env.update(DIPLO_DATA_DIR=str(data_dir), DIPLO_WRITE_TOKENS=TOKEN, DIPLO_WEB_DIST=str(DIST),
               DIPLO_PROJECTOR="inprocess", PYTHONUNBUFFERED="1")
    for step in (diplo("seed", "--only", "ai-summits", "--through", "ai-summits-2026-11-25"),
                 [sys.executable, "-m", "tests.browser.record_slice"]):
        done = subprocess.run(step, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    yield from serving(data_dir, env)
