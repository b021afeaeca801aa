"""The page's types are generated from the API: web/openapi.json is the document the app serves, and
src/generated/api.ts is what openapi-typescript makes of it. A change to the API that was not carried to the
page (`python -m api.openapi > web/openapi.json && cd web && npm run types`) fails here; one the page's code
does not follow then fails its `tsc`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from api.openapi import dump

WEB = Path(__file__).resolve().parents[2] / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
REFRESH = "python -m api.openapi > web/openapi.json && cd web && npm run types"


def test_the_pages_copy_of_the_openapi_document_is_the_one_the_app_serves() -> None:
    assert (WEB / "openapi.json").read_text(encoding="utf-8") == dump(), f"the API changed: {REFRESH}"


def test_the_pages_types_are_what_openapi_typescript_makes_of_the_document(tmp_path: Path) -> None:
    if not GENERATOR.exists():
        reason = "web/node_modules has no openapi-typescript (cd web && npm ci)"
        if IN_CI:
            pytest.fail(f"the page's types must be checked in CI, but {reason}", pytrace=False)
        pytest.skip(reason)
    generated = tmp_path / "api.ts"
    subprocess.run([str(GENERATOR), "openapi.json", "-o", str(generated)], cwd=WEB, check=True,
                   capture_output=True, timeout=120)
    committed = (WEB / "src" / "generated" / "api.ts").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed, f"web/src/generated/api.ts is stale: {REFRESH}"
