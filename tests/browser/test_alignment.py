"""A party's vote shares and its agreement with a second party, in the party view of a real browser, against the
slice of the General Assembly's record: the charts and the tables beside them hold the API's numbers, a point (or a
row) opens the roll calls behind it (for agreement, GET /v1/agreement/rollcalls, paged), and the knowledge time and
phone width hold."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, screenshot

pytestmark = pytest.mark.browser

ISSUES = ("me", "nu", "di", "hr", "co", "ec")


PAGE = 50  # the roll calls behind an agreement figure, a page


def table_of(card: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = card.locator("tbody tr").evaluate_all("""(rows) => rows.map((r) => Object.assign(
        {period: r.dataset.period}, Object.fromEntries([...r.querySelectorAll('td')]
          .map((c) => [c.dataset.field, c.dataset.value ?? c.textContent]))))""")
    return rows


def test_the_vote_shares_are_charted_per_issue_with_the_apis_numbers(record_page: Any, record_server: Server) -> None:
    page = record_page
    page.goto("/?party=US")
    cards = page.locator("#vote-shares .chart-card")
    expect(cards).to_have_count(1 + len(ISSUES))
    for issue in (None, "hr", "co"):
        scope = {"issue": issue} if issue else {}
        answer = record_server.get("/v1/parties/US/vote-share", by="year", **scope)["periods"]
        card = page.locator(f"#vote-shares .chart-card[data-issue='{issue or 'all'}']")
        expect(card.locator("svg").first).to_be_visible()
        shown = table_of(card)
        assert [r["period"] for r in shown] == [p["period"] for p in answer]
        for row, period in zip(shown, answer, strict=True):
            assert int(row["votes"]) == period["votes"]
            for vote in ("yes", "no", "abstain"):
                assert float(row[vote]) == pytest.approx(period[vote])
        # One point per year and vote on the chart, each a link to the roll calls behind it.
        expect(card.locator("svg a")).to_have_count(3 * len(answer))
    screenshot(page, "party-vote-shares", full_page=True)

    # A point opens the roll calls of its year with the party's votes; they make the chart's numbers.
    every = record_server.get("/v1/parties/US/vote-share", by="year")["periods"]
    year = every[0]
    page.locator("#vote-shares .chart-card[data-issue='all'] svg a").first.click()
    expect(page.locator(".rollcalls-view")).to_be_visible()
    assert f"from={year['period']}-01-01" in page.url and "a=US" in page.url
    expect(page.locator("[data-summary='votes'] [data-count='yes']")).to_have_text(
        str(round(year["yes"] * year["votes"])))
    cast = page.locator(".rollcalls-view tbody td[data-vote='yes'], .rollcalls-view tbody td[data-vote='no'], "
                        ".rollcalls-view tbody td[data-vote='abstain']")
    expect(cast).to_have_count(year["votes"])


def test_agreement_with_a_party_chosen_from_the_search_box(record_page: Any, record_server: Server) -> None:
    page = record_page
    page.goto("/?party=RU&include=predecessors")
    page.get_by_label("Compare with").fill("United States")
    page.get_by_role("button", name="Compare").click()
    card = page.locator("#agreement-card")
    expect(card).to_have_attribute("data-with", "US")
    assert "with=US" in page.url
    answer = record_server.get("/v1/agreement", a="RU", b="US", by="year", include="predecessors")["periods"]
    joint = [p for p in answer if p["joint"] > 0]
    shown = table_of(card)
    assert [r["period"] for r in shown] == [p["period"] for p in joint]
    for row, period in zip(shown, joint, strict=True):
        assert int(row["joint"]) == period["joint"]
        for field in ("identical", "agreement", "kappa"):
            expected = period[field]
            assert row[field] == "null" if expected is None else float(row[field]) == pytest.approx(expected)
    assert joint[0]["period"] == "1970"  # the USSR's years: followed through the predecessors
    screenshot(page, "party-agreement", full_page=True)

    # A point opens the roll calls behind its figure (GET /v1/agreement/rollcalls): both votes on each joint one.
    card.locator("svg a").first.click()
    view = page.locator(".agreement-view")
    expect(view).to_be_visible()
    for part in ("agreement", "a=RU", "b=US", "by=year", "period=1970", "include=predecessors"):
        assert part in page.url, (part, page.url)
    first = joint[0]
    behind = record_server.get("/v1/agreement/rollcalls", a="RU", b="US", by="year", period="1970",
                               include="predecessors", limit=1000)
    assert behind["figures"]["joint"] == first["joint"]
    expect(view.locator("[data-count='joint']")).to_have_text(str(first["joint"]))
    expect(view.locator("[data-count='identical']")).to_have_text(str(round(first["identical"] * first["joint"])))
    expect(view.locator("[data-figure='agreement']")).to_have_attribute("data-value", str(first["agreement"]))
    rows = view.locator("tbody tr")
    expect(rows).to_have_count(min(PAGE, first["joint"]))
    shown = rows.evaluate_all("""(rows) => rows.map((r) => ({id: r.dataset.rollcall,
        date: r.querySelector('time').getAttribute('datetime'), name: r.querySelector('th').textContent,
        votes: [...r.querySelectorAll('td[data-party]')]
          .map((c) => [c.dataset.party, c.dataset.vote, c.dataset.asParty])}))""")
    for row, call in zip(shown, behind["rollcalls"], strict=False):
        assert row["id"] == call["rollcall_id"] and row["date"] == call["date"]
        assert call["resolution"] is None or row["name"].startswith(call["resolution"])
        assert row["votes"] == [["RU", call["a"]["vote"], call["a"]["as_party"]],
                                ["US", call["b"]["vote"], call["b"]["as_party"]]]
    expect(view.locator("tbody td[data-party='RU']").first).to_contain_text("as SUHH")
    screenshot(page, "agreement-rollcalls", full_page=True)


def test_a_row_of_the_agreement_table_opens_its_roll_calls_page_by_page(record_page: Any,
                                                                         record_server: Server) -> None:
    page = record_page
    answer = record_server.get("/v1/agreement", a="US", b="FR", by="year")["periods"]
    busy = next(p for p in answer if p["joint"] > PAGE)  # a year whose roll calls take more than a page
    page.goto("/?party=US&with=FR")
    page.locator(f"#agreement-card tr[data-period='{busy['period']}'] th a").click()
    view = page.locator(".agreement-view")
    expect(view.get_by_role("heading", level=1)).to_have_text(f"United States and France, {busy['period']}")
    behind = record_server.get("/v1/agreement/rollcalls", a="US", b="FR", by="year", period=busy["period"], limit=1000)
    ids = [c["rollcall_id"] for c in behind["rollcalls"]]
    assert len(ids) == busy["joint"]
    rows = view.locator("tbody tr")
    expect(rows).to_have_count(PAGE)
    assert rows.evaluate_all("(rows) => rows.map((r) => r.dataset.rollcall)") == ids[:PAGE]
    view.get_by_role("button", name="Next page").click()
    expect(view.locator("table[data-page='2']")).to_be_visible()
    assert rows.evaluate_all("(rows) => rows.map((r) => r.dataset.rollcall)") == ids[PAGE:2 * PAGE]
    expect(view.locator("[data-count='joint']")).to_have_text(str(busy["joint"]))  # the figures are over all pages
    view.get_by_role("button", name="Previous page").click()
    expect(view.locator("table[data-page='1']")).to_be_visible()
    # Back to the charts, the second party kept.
    view.get_by_role("link", name="Back to United States's charts").click()
    expect(page.locator("#agreement-card")).to_have_attribute("data-with", "FR")


def test_a_period_the_api_refuses_is_said_naming_the_field(record_page: Any, record_server: Server) -> None:
    page = record_page
    page.goto("/?agreement&a=US&b=FR&by=year&period=1990s")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("period")


def test_the_charts_follow_the_knowledge_time(record_page: Any, record_server: Server) -> None:
    page = record_page
    releases = record_server.get("/v1/releases")["releases"]
    first = next(r["loaded_at"] for r in releases if r["name"] == "release-2017-03-14")
    then = record_server.get("/v1/parties/US/vote-share", by="year", known_at=first)["periods"]
    now = record_server.get("/v1/parties/US/vote-share", by="year")["periods"]
    assert "2019" in [p["period"] for p in now] and "2019" not in [p["period"] for p in then]
    page.goto("/?party=US&with=FR")
    card = page.locator("#vote-shares .chart-card[data-issue='all']")
    expect(card.locator("tr[data-period='2019']")).to_have_count(1)
    control = page.get_by_label("As recorded on")
    control.fill(first)
    control.press("Enter")
    expect(page.locator("#knowledge-banner")).to_be_visible()
    expect(card.locator("tr[data-period='2019']")).to_have_count(0)
    assert [r["period"] for r in table_of(card)] == [p["period"] for p in then]
    agreement = record_server.get("/v1/agreement", a="US", b="FR", by="year", known_at=first)["periods"]
    assert [r["period"] for r in table_of(page.locator("#agreement-card"))] == [
        p["period"] for p in agreement if p["joint"] > 0]


def test_the_charts_are_legible_at_phone_width(record_page: Any, record_server: Server) -> None:
    page = record_page
    page.set_viewport_size(PHONE)
    page.goto("/?party=US&with=GB")
    expect(page.locator("#agreement-card svg").first).to_be_visible()
    expect(page.locator("#vote-shares .chart-card svg").first).to_be_visible()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the party view scrolls sideways at phone width: {width}"
    screenshot(page, "party-alignment-phone", full_page=True)
