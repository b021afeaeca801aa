"""The API serves the built page at `/` (api/routes/web.py), or a page that says how to build it; and the
page's ISO numeric -> alpha-2 mapping, generated from pycountry, still matches pycountry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pycountry
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A built page as vite writes it: index.html, hashed assets, a favicon."""
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text('<!doctype html><title>Diplomatic Timeline</title>'
                                       '<script type="module" src="/assets/index-abc123.js"></script>')
    (folder / "assets" / "index-abc123.js").write_text("console.log('page')")
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "store", write_tokens="t"))) as test_client:
        yield test_client


def test_the_built_page_is_served_at_the_root_with_its_assets(client: TestClient, dist: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_WEB_DIST", str(dist))
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/assets/index-abc123.js" in page.text
    # Nothing from anywhere but this server: the policy forbids CDNs outright.
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"

    script = client.get("/assets/index-abc123.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    assert client.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    assert client.head("/").status_code == 200


def test_assets_never_leave_the_built_folder(client: TestClient, dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_WEB_DIST", str(dist))
    for path in ("/assets/missing.js", "/assets/..%2f..%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
                 "/assets/..%2findex.html"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"


def test_without_a_built_page_the_root_says_how_to_build_it(client: TestClient, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_WEB_DIST", str(tmp_path / "not-built"))
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "make web" in page.text and "Node.js" in page.text
    assert client.get("/assets/index.js").status_code == 404
    # The API is unaffected.
    assert client.get("/v1/parties/GB").json()["code"] == "GB"


def test_the_page_is_not_part_of_the_api_documentation(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/assets/{name}" not in paths


def test_the_shipped_iso_mapping_matches_pycountry() -> None:
    shipped = json.loads((ROOT / "web" / "src" / "generated" / "iso-numeric.json").read_text(encoding="utf-8"))
    expected = {country.numeric: country.alpha_2 for country in pycountry.countries}
    assert shipped["numeric"] == expected, "regenerate it: .venv/bin/python web/scripts/iso_numeric.py"
    assert shipped["numeric"]["826"] == "GB" and shipped["numeric"]["840"] == "US" and shipped["numeric"]["250"] == "FR"
