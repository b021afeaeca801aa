"""The views of the General Assembly's votes in a real browser, against `diplo serve` holding a slice of the real
record (both releases): a roll call's map, tally and votes as the API gives them, a party's votes followed through
its predecessors, search by resolution symbol and title words, the release knowledge times, and phone width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, screenshot

pytestmark = pytest.mark.browser

CHINA = "unga-1190"  # R/26/2758G, China's seat to the People's Republic (1971)


def open_rollcall(page: Any, slug: str, known_at: str | None = None) -> Any:
    page.goto(f"/?rollcall={slug}" + (f"&known_at={known_at.replace('+', '%2B')}" if known_at else ""))
    world = page.locator("svg.world-map")
    expect(world).to_have_attribute("data-state", "ready")
    return world


def loaded_at(server: Server, name: str) -> str:
    found: str = next(r["loaded_at"] for r in server.get("/v1/releases")["releases"] if r["name"] == name)
    return found


def test_a_roll_call_is_coloured_and_tallied_as_the_api_answers(record_page: Any, record_server: Server) -> None:
    page = record_page
    answer = record_server.get(f"/v1/rollcalls/{CHINA}")
    open_rollcall(page, CHINA)
    expect(page.get_by_role("heading", level=1)).to_have_text("R/26/2758G · China representation")
    expect(page.locator(".view-head .meta")).to_contain_text("7 October 1971")
    for vote in ("yes", "no", "abstain", "absent"):
        expect(page.locator(f"[data-count='{vote}']")).to_have_text(str(answer["tally"][vote]))
    expect(page.locator(".legend [data-vote]")).to_have_count(5)  # yes, no, abstain, absent, no vote

    # Every vote is on the map (its shape carries the vote) or beside it; the table holds them all.
    drawn = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('svg.world-map [data-code]')]
        .map((e) => [e.getAttribute('data-code'), e.getAttribute('data-vote')]))""")
    beside = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.beside [data-party]')]
        .map((e) => [e.getAttribute('data-party'), e.getAttribute('data-vote')]))""")
    votes = {v["party"]: v["vote"] for v in answer["votes"]}
    for party, vote in votes.items():
        assert drawn.get(party, beside.get(party)) == vote, party
    assert set(beside) == {p for p in votes if p not in drawn}
    assert {"SUHH", "CSHH"} <= set(beside)  # former states have no shape: listed beside the map
    coloured = {code for code, vote in drawn.items() if vote != "none"}
    assert coloured == {p for p in votes if p in drawn}  # and no shape without a vote is coloured
    us = page.locator("svg.world-map path[data-code='US']").first
    expect(us).to_have_attribute("aria-label", "United States (US): no")
    rows = page.locator(".votes-table tbody tr")
    expect(rows).to_have_count(len(votes))
    expect(page.locator(".votes-table tr[data-party='SUHH']")).to_have_attribute("data-vote", "yes")
    screenshot(page, "rollcall-view")

    # Each party links to its view; a click on the map does too.
    page.locator(".votes-table tr[data-party='SUHH'] th a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("USSR")
    assert "party=SUHH" in page.url
    page.go_back()
    expect(page.locator("svg.world-map")).to_have_attribute("data-state", "ready")
    page.locator("svg.world-map path[data-code='IN']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("India")


def test_a_partys_votes_are_paged_and_followed_through_its_predecessors(record_page: Any,
                                                                       record_server: Server) -> None:
    page = record_page
    own = record_server.get("/v1/parties/RU/votes", limit=50)
    line = record_server.get("/v1/parties/RU/votes", include="predecessors", limit=50)
    page.goto("/?party=RU")
    section = page.locator("section.party-votes")
    rows = section.locator("tbody tr")
    expect(rows.first).to_have_attribute("data-rollcall", own["votes"][0]["rollcall_id"])
    expect(rows).to_have_count(len(own["votes"]))

    section.get_by_label("Include its predecessors").check()
    expect(rows.first).to_have_attribute("data-rollcall", line["votes"][0]["rollcall_id"])
    expect(rows.first).to_have_attribute("data-as-party", "SUHH")
    expect(rows.first).to_contain_text("USSR")
    assert "include=predecessors" in page.url
    assert [v["as_party"] for v in line["votes"]][:3] == ["SUHH"] * 3

    # The next page is the API's next page.
    second = record_server.get("/v1/parties/RU/votes", include="predecessors", limit=50, cursor=line["next_cursor"])
    section.get_by_role("button", name="Next page").click()
    expect(section.locator("table")).to_have_attribute("data-page", "2")
    expect(rows.first).to_have_attribute("data-rollcall", second["votes"][0]["rollcall_id"])
    section.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_have_attribute("data-rollcall", line["votes"][0]["rollcall_id"])

    # A roll call of the list opens its view.
    rows.first.locator("th a").click()
    expect(page.locator("svg.world-map")).to_have_attribute("data-state", "ready")
    assert f"rollcall={line['votes'][0]['rollcall_id']}" in page.url


def test_search_finds_roll_calls_by_resolution_symbol_and_title_words(record_page: Any, record_server: Server) -> None:
    page = record_page
    open_rollcall(page, "unga-1119")
    search = page.get_by_role("combobox", name="Search parties, declarations and roll calls")
    search.fill("R/26/2758G")
    option = page.get_by_role("option", name="R/26/2758G")
    expect(option).to_contain_text("roll call · 7 Oct 1971")
    option.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("R/26/2758G · China representation")
    assert f"rollcall={CHINA}" in page.url

    # Words of the title: the first roll calls, and the whole list behind a last option.
    search.fill("china representation")
    expect(page.get_by_role("option", name="Every roll call matching")).to_be_visible()
    page.get_by_role("option", name="Every roll call matching").click()
    listed = record_server.get("/v1/rollcalls", q="china representation", limit=50)["rollcalls"]
    rows = page.locator(".rollcalls-view tbody tr")
    expect(rows).to_have_count(len(listed))
    assert rows.evaluate_all("(rows) => rows.map((r) => r.dataset.rollcall)") == [r["id"] for r in listed]
    first = listed[0]
    expect(rows.first.locator("[data-tally]")).to_have_attribute(
        "data-tally", f"{first['tally']['yes']}-{first['tally']['no']}-{first['tally']['abstain']}")
    screenshot(page, "rollcall-list")


def test_the_release_knowledge_times_change_a_roll_call_and_the_lists(record_page: Any, record_server: Server) -> None:
    page = record_page
    first = loaded_at(record_server, "release-2017-03-14")
    # The 2021 release coded a third issue on R/60/65 (colonialism) and added roll calls of 2005.
    assert record_server.get("/v1/rollcalls/unga-4630", known_at=first)["issues"] == ["di", "nu"]
    assert record_server.get("/v1/rollcalls/unga-4630")["issues"] == ["co", "di", "nu"]
    open_rollcall(page, "unga-4630")
    expect(page.locator(".issues li")).to_have_count(3)
    page.get_by_role("button", name="release-2017-03-14").click()
    expect(page.locator("#knowledge-banner")).to_be_visible()
    expect(page.locator(".issues li")).to_have_count(2)
    expect(page.locator(".issues [data-issue='co']")).to_have_count(0)
    expect(page.get_by_role("button", name="release-2017-03-14")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "rollcall-view-after-2017-release")

    year = {"from": "2005-01-01", "to": "2005-12-31", "limit": 1000}
    then = {r["id"] for r in record_server.get("/v1/rollcalls", known_at=first, **year)["rollcalls"]}
    now = {r["id"] for r in record_server.get("/v1/rollcalls", **year)["rollcalls"]}
    added = sorted(now - then)[0]
    open_rollcall(page, added)
    page.get_by_role("button", name="release-2017-03-14").click()
    expect(page.locator("[data-missing='true'] h1")).to_have_text(f"No roll call “{added}”")
    page.get_by_role("button", name="Show the record as it is now").first.click()
    expect(page.locator("svg.world-map")).to_have_attribute("data-state", "ready")

    # The list of a period follows the same knowledge time.
    page.goto(f"/?rollcalls&from=2005-01-01&to=2005-12-31&known_at={first.replace('+', '%2B')}")
    expect(page.locator(".rollcalls-view tbody tr").first).to_be_visible()
    shown = page.locator(".rollcalls-view tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.rollcall)")
    assert set(shown) <= then and added not in shown


@pytest.mark.parametrize(("name", "url"), [("rollcall", f"/?rollcall={CHINA}"),
                                           ("party", "/?party=DE&include=predecessors"),
                                           ("list", "/?rollcalls&q=china")])
def test_the_vote_views_are_legible_at_phone_width(record_page: Any, name: str, url: str) -> None:
    page = record_page
    page.set_viewport_size(PHONE)
    page.goto(url)
    expect(page.locator("main table").first).to_be_visible()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{url} scrolls sideways at phone width: {width}"
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main table td')).fontSize)")
    assert size >= 12
    screenshot(page, f"votes-phone-{name}", full_page=True)
