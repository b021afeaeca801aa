"""/docs in a real browser: the bundled Swagger UI draws the API's operations under its Content-Security-Policy,
with every request going to this server (no CDN, no font service, no validator badge)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, screenshot

pytestmark = pytest.mark.browser


def test_the_docs_page_draws_every_operation_from_this_server_alone(page: Any, server: Server) -> None:
    origin = urlparse(server.url).netloc
    elsewhere: list[str] = []
    refused: list[str] = []
    page.on("request", lambda request: None if urlparse(request.url).netloc in (origin, "")
            or request.url.startswith("data:") else elsewhere.append(request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Diplomatic Timeline")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 20
    page.locator(".opblock-summary-path", has_text="/v1/parties/{code}/stances").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    screenshot(page, "docs", full_page=False)

    assert elsewhere == [], f"/docs loaded from other hosts: {elsewhere}"
    assert refused == [], f"the page's policy refused: {refused}"
