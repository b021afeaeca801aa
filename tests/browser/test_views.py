"""The page in a real browser: the declaration map and its slider, the party view, the live feed and
knowledge time, against `diplo serve` with the seeds. Each view leaves a screenshot in test-artifacts/browser/."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, screenshot

pytestmark = pytest.mark.browser

SOURCE = {"title": "A wire report used by the browser tests", "url": "https://example.org/browser-test"}


def open_declaration(page: Any, declaration: str, at: str | None = None) -> Any:
    page.goto(f"/?declaration={declaration}" + (f"&at={at}" if at else ""))
    world = page.locator("svg.world-map")
    expect(world).to_have_attribute("data-state", "ready")
    if at:
        expect(world).to_have_attribute("data-at", at)
    return world


def stance_on_map(page: Any, code: str) -> str:
    shape = page.locator(f"svg.world-map [data-code='{code}']").first
    stance: str = shape.get_attribute("data-stance")
    return stance


def test_the_paris_map_on_12_february_2025_and_the_slider_back_to_the_9th(page: Any) -> None:
    open_declaration(page, "paris-statement", "2025-02-12")

    # The map: the shapes' data attributes and accessible names.
    for code, stance in (("US", "declined"), ("GB", "declined"), ("FR", "signed")):
        shape = page.locator(f"svg.world-map path[data-code='{code}']").first
        expect(shape).to_have_attribute("data-stance", stance)
        expect(shape).to_have_attribute("aria-label", re.compile(rf"\({code}\): {stance} since 11 February 2025$"))
    # The same in the list of parties, for people who do not see the map.
    expect(page.locator("tr[data-party='US']")).to_have_attribute("data-stance", "declined")
    expect(page.locator("tr[data-party='GB']")).to_have_attribute("data-stance", "declined")
    expect(page.locator("tr[data-party='FR']")).to_have_attribute("data-stance", "signed")
    expect(page.get_by_role("row", name="United Kingdom GB")).to_contain_text("declined")
    expect(page.get_by_role("row", name="France FR")).to_contain_text("11 Feb 2025")
    expect(page.locator("[data-count='declined']")).to_have_text("2")
    expect(page.locator("[data-count='signed']")).to_have_text("60")
    # Organisations have no shape: they are listed beside the map.
    expect(page.locator(".beside [data-party='EU']")).to_have_attribute("data-stance", "signed")
    expect(page.locator(".beside [data-party='AFRICAN_UNION']")).to_have_attribute("data-stance", "signed")
    # Sources are links.
    expect(page.locator("tr[data-party='GB'] .sources a").first).to_have_attribute(
        "href", "https://ca.news.yahoo.com/uk-us-refuse-sign-international-121717494.html")
    screenshot(page, "declaration-view")

    # The slider is a labelled slider that arrow keys move, a day a press.
    slider = page.get_by_role("slider", name="Date")
    expect(slider).to_have_attribute("aria-valuetext", "12 February 2025")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowLeft")
    expect(slider).to_have_attribute("aria-valuetext", "9 February 2025")
    expect(page.locator("svg.world-map")).to_have_attribute("data-at", "2025-02-09")
    for code in ("US", "GB", "FR"):
        assert stance_on_map(page, code) == "none", code
    expect(page.locator("[data-empty='true']")).to_have_text("No party had a stance on 9 February 2025.")
    expect(page.locator("[data-count='signed']")).to_have_text("0")
    assert "at=2025-02-09" in page.url  # the state is in the URL: the link can be shared
    screenshot(page, "declaration-view-2025-02-09")

    # The shared link opens the same view.
    page.goto(page.url)
    expect(page.locator("svg.world-map")).to_have_attribute("data-at", "2025-02-09")
    assert stance_on_map(page, "GB") == "none"


def test_play_replays_the_declaration_week_by_week(page: Any) -> None:
    open_declaration(page, "paris-statement", "2025-02-09")
    play = page.get_by_role("button", name="Play")
    play.click()
    expect(page.get_by_role("button", name="Pause")).to_have_attribute("aria-pressed", "true")
    # Within a few frames the acts of 11 February show.
    expect(page.locator("svg.world-map path[data-code='GB']").first).to_have_attribute("data-stance", "declined",
                                                                                       timeout=15_000)
    # Frames are the replay's weeks (GET /v1/replay), each saying what changed.
    expect(page.locator("#frame-note")).to_contain_text("2025-W07")
    expect(page.locator("#frame-note")).to_contain_text("declined")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_have_attribute("aria-pressed", "false")


def test_the_uk_party_view_shows_bletchley_signed_and_paris_declined(page: Any) -> None:
    page.goto("/?party=GB")
    expect(page.get_by_role("heading", level=1)).to_contain_text("United Kingdom")
    bletchley = page.locator(".lane[data-declaration='bletchley-declaration']")
    paris = page.locator(".lane[data-declaration='paris-statement']")
    expect(bletchley.locator(".span")).to_have_attribute("data-stance", "signed")
    expect(bletchley.locator(".span")).to_have_attribute("data-from", "2023-11-01")
    expect(paris.locator(".span").first).to_have_attribute("data-stance", "declined")
    expect(paris.locator(".span").first).to_have_attribute("data-from", "2025-02-11")
    # The same for screen readers, and in the record below.
    expect(bletchley.locator(".sr-only")).to_contain_text("signed from 1 November 2023")
    expect(page.locator("li.entry[data-kind='signed'][data-declaration='bletchley-declaration']")).to_be_visible()
    expect(page.locator("li.entry[data-kind='declined'][data-declaration='paris-statement']")).to_contain_text(
        "national interest")
    # The summits share the axis; Bletchley was hosted by the UK.
    expect(page.locator(".marker.summit.hosted[data-summit='bletchley-2023']")).to_be_visible()

    # A statement marker opens its quotes and sources.
    paris.locator(".marker.statement").first.click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(detail).to_be_focused()
    expect(detail.locator("blockquote").first).to_contain_text("national interest")
    expect(detail.locator("figure.quote")).to_have_count(3)  # three statements that day, one marker
    expect(detail.locator(".sources a").first).to_have_attribute("href", "https://www.lbc.co.uk/tech/0aa20dbfd7c9491aa4df0399e043b6d4")
    screenshot(page, "party-view", full_page=True)


def test_an_act_posted_through_the_api_appears_in_the_open_page_within_two_seconds(page: Any, server: Server) -> None:
    open_declaration(page, "paris-statement")  # today
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    assert stance_on_map(page, "AR") == "none"
    keyboard_user_is_on = page.locator("tr[data-party='GB'] th a")
    keyboard_user_is_on.focus()

    started = time.monotonic()
    receipt = server.post("/v1/declarations/paris-statement/acts", {
        "kind": "signed", "party": "AR", "occurred_on": "2025-03-10", "confidence": "medium", "sources": [SOURCE]})
    item = page.locator(f".feed-item[data-event-id='{receipt['event_id']}']")
    expect(item).to_be_visible(timeout=2_000)
    expect(item).to_contain_text("AR")
    expect(item).to_contain_text("signed")
    # The open view updates without a reload: Argentina is now signed on the map and in the list.
    expect(page.locator("svg.world-map path[data-code='AR']").first).to_have_attribute("data-stance", "signed",
                                                                                       timeout=2_000)
    expect(page.locator("tr[data-party='AR']")).to_have_attribute("data-stance", "signed", timeout=2_000)
    assert time.monotonic() - started < 2.5
    expect(keyboard_user_is_on).to_be_focused()  # the update did not throw the keyboard user out
    screenshot(page, "live-feed")


def test_the_knowledge_time_control_shows_a_retracted_act_before_and_after(page: Any, server: Server) -> None:
    act = server.post("/v1/declarations/paris-statement/acts", {
        "kind": "signed", "party": "GB", "occurred_on": "2025-03-01", "confidence": "low", "sources": [SOURCE]})
    server.post("/v1/retractions", {"event_id": act["event_id"], "reason": "The wire report confused the UK with "
                                    "another party.", "sources": [SOURCE]})
    entry = next(e for e in server.get("/v1/parties/GB/history")["entries"] if e["event_id"] == act["event_id"])
    retracted_at = datetime.fromisoformat(entry["retraction"]["recorded_at"])
    before = (retracted_at - timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")

    # Now: the act is in the record, struck through, and the UK's stance is still declined.
    page.goto("/?party=GB")
    item = page.locator(f"li.entry[data-event-id='{act['event_id']}']")
    expect(item).to_have_attribute("data-retracted", "true")
    expect(item.locator("del")).to_contain_text("signed")
    expect(item).to_contain_text("confused the UK")
    paris = page.locator(".lane[data-declaration='paris-statement']")
    expect(paris.locator(".marker.act.retracted")).to_have_count(1)
    expect(paris.locator(".span")).to_have_count(1)
    screenshot(page, "knowledge-time-after-retraction", full_page=True)
    # The retracted act's marker opens it, with how the stance came about (explain=true): it does not count.
    paris.locator(".marker.act.retracted").click()
    expect(page.locator("#detail")).to_contain_text("Retracted")
    expect(page.locator(f"#detail .explain li[data-event-id='{act['event_id']}']")).to_have_attribute(
        "data-counts", "false")

    # As recorded just before the retraction: the act counts, nothing is struck through.
    control = page.get_by_label("As recorded on")
    control.fill(before)
    control.press("Enter")
    expect(page.locator("#knowledge-banner")).to_be_visible()
    expect(page.locator("#knowledge-banner")).to_contain_text("An earlier version of the record")
    item = page.locator(f"li.entry[data-event-id='{act['event_id']}']")
    expect(item).to_have_attribute("data-retracted", "false")
    expect(item.locator("del")).to_have_count(0)
    expect(paris.locator(".span").last).to_have_attribute("data-stance", "signed")
    expect(paris.locator(".span").last).to_have_attribute("data-from", "2025-03-01")
    assert "known_at=" in page.url
    screenshot(page, "knowledge-time-before-retraction", full_page=True)

    # The declaration view follows the same version of the record.
    page.goto(f"/?declaration=paris-statement&at=2025-03-02&known_at={before}")
    expect(page.locator("svg.world-map")).to_have_attribute("data-at", "2025-03-02")
    expect(page.locator("svg.world-map path[data-code='GB']").first).to_have_attribute("data-stance", "signed")

    # "Now" goes back to the record as it is: declined, and the act struck through in the corrections.
    page.get_by_role("button", name="Now", exact=True).click()
    expect(page.locator("#knowledge-banner")).to_be_hidden()
    expect(page.locator("svg.world-map path[data-code='GB']").first).to_have_attribute("data-stance", "declined")
    correction = page.locator(f".corrections li.entry[data-event-id='{act['event_id']}']")
    expect(correction).to_have_attribute("data-retracted", "true")
    expect(correction.locator("del")).to_be_visible()
    correction.scroll_into_view_if_needed()
    screenshot(page, "knowledge-time-declaration-corrections")

    # The correction's button goes back to just before it.
    correction.get_by_role("button", name="Show the record just before this correction").click()
    expect(page.locator("#knowledge-banner")).to_be_visible()
    expect(page.locator("svg.world-map path[data-code='GB']").first).to_have_attribute("data-stance", "signed")


def test_search_finds_parties_and_declarations_by_name_or_code(page: Any) -> None:
    open_declaration(page, "paris-statement", "2025-02-12")
    search = page.get_by_role("combobox", name="Search parties, declarations and roll calls")
    search.fill("kingdom")
    expect(page.get_by_role("option").first).to_contain_text("United Kingdom")
    search.press("ArrowDown")
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("United Kingdom")
    assert "party=GB" in page.url

    search.fill("bletchley-declaration")
    expect(page.get_by_role("option").first).to_contain_text("Bletchley Declaration")
    search.press("Enter")
    expect(page.locator("svg.world-map")).to_have_attribute("data-state", "ready")
    assert "declaration=bletchley-declaration" in page.url


# "Today" as the page sees it, pinned: the party view's time axis runs to 30 days after today, so what it draws
# depends on the date. Mid-year; a new year begun inside those 30 days (its tick at the axis's right edge, where
# its label once overflowed the page: 400 px wide in a 390 px window); the last day of a year; and a long axis.
PAGE_TODAYS = ("2026-06-15", "2026-12-10", "2026-12-31", "2031-12-20")


def overflowing(page: Any, selector: str, within: str) -> list[str]:
    """The elements matching `selector` whose box reaches outside their nearest `within` ancestor's box."""
    found: list[str] = page.evaluate("""([selector, within]) => [...document.querySelectorAll(selector)]
        .filter((e) => {
          const outer = e.closest(within).getBoundingClientRect(), box = e.getBoundingClientRect();
          return box.left < outer.left - 0.5 || box.right > outer.right + 0.5;
        })
        .map((e) => `${e.className} ${e.textContent} ${e.getAttribute("style")}`)""", [selector, within])
    return found


@pytest.mark.parametrize("today", PAGE_TODAYS)
def test_the_views_are_legible_at_phone_width(page: Any, today: str) -> None:
    page.clock.set_fixed_time(f"{today}T12:00:00Z")
    page.set_viewport_size(PHONE)
    open_declaration(page, "paris-statement", "2025-02-12")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the declaration view scrolls sideways at phone width: {width}"
    expect(page.get_by_role("slider", name="Date")).to_be_visible()
    screenshot(page, f"declaration-view-phone-{today}", full_page=True)

    page.goto("/?party=GB")
    expect(page.locator(".lane[data-declaration='paris-statement'] .span").first).to_be_visible()
    ticks = page.locator(".axis:not(.axis-bottom) .tick")
    expect(ticks.last).to_have_text(str((date.fromisoformat(today) + timedelta(days=30)).year))
    # Every year's label stays on its axis, the last one too; nothing on the lanes leaves their frame.
    assert not overflowing(page, ".tick", ".axis-track")
    assert not overflowing(page, ".lanes-frame .marker, .lanes-frame .span", ".lanes-frame")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the party view scrolls sideways at phone width: {width}"
    screenshot(page, f"party-view-phone-{today}", full_page=True)


def test_keyboard_users_see_where_the_focus_is(page: Any) -> None:
    open_declaration(page, "paris-statement", "2025-02-12")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to the view")).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.get_by_role("slider", name="Date").focus()
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
