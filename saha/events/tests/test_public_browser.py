"""The public event pages in a browser, on a 360 px phone, in Arabic and English.

Without JavaScript the map is two links and sharing is plain links; with it,
"Show map" draws a Leaflet map, and not one request leaves for the tile
server before that press. The browser never reaches the internet: every
request that is not for the live server is answered here (tiles) or refused
and counted as a failure. Assertions go through selectors and attributes,
not wording. The test touches the database only while the browser is idle
(the live server shares the test's SQLite connection).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from saha.events import tickets
from saha.events.models import Event
from saha.events.tests.test_rsvp import answer, make_event
from saha.testing.browser import assert_fits_width, console_errors, expect

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser

DIRECTION = {"en": "ltr", "ar": "rtl"}
TILE_HOST = "tile.openstreetmap.org"  # the default SAHA_MAP_TILES
# Any small PNG will do for a tile; Leaflet's own layers icon is at hand.
PNG = (
    Path(__file__).resolve().parents[2] / "static" / "vendor" / "leaflet" / "images" / "layers.png"
).read_bytes()


class Network:
    """What the page asked of the world beyond the live server."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.tiles: list[str] = []
        self.refused: list[str] = []
        self.base_url = base_url
        page.route("**/*", self.answer)

    def answer(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.base_url):
            route.continue_()
        elif url.startswith(f"https://{TILE_HOST}/"):
            self.tiles.append(url)
            route.fulfill(status=200, content_type="image/png", body=PNG)
        else:
            self.refused.append(url)
            route.abort()


def long_event(organization: Any, slug: str, latitude: str, **fields: Any) -> Event:
    return make_event(
        organization,
        slug=slug,
        titles={
            "en": "A long title for a march across the whole of the old town, with speeches",
            "ar": "مسيرة طويلة عبر البلدة القديمة كلها مع كلمات ولقاءات في الساحات العامة",
        },
        venue_name="Martyrs' Square",
        address="Downtown, Beirut, a long address that has to wrap on a small screen",
        latitude=latitude,
        longitude="35.50770",
        **fields,
    )


@pytest.fixture
def events(org_a: Any) -> list[Event]:
    march = long_event(org_a, "march", "33.89590")
    later = march.starts_at + dt.timedelta(days=1)
    vigil = long_event(org_a, "vigil", "33.90120", starts_at=later, ends_at=later)
    return [march, vigil]


def check_page(page: Page, language: str) -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])
    assert_fits_width(page)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_without_javascript_the_map_and_sharing_are_links(
    make_page: Any,
    live_server: Any,
    org_a: Any,
    events: list[Event],
    language: str,
    screenshot: Any,
) -> None:
    page = make_page(locale=language, javascript=False)
    network = Network(page, live_server.url)

    page.goto(f"/o/{org_a.slug}/events/")
    check_page(page, language)
    expect(page.locator(".event-item[data-map-point]")).to_have_count(2)
    expect(
        page.locator(".event-item a[href^='https://www.openstreetmap.org/?mlat=']")
    ).to_have_count(2)
    expect(page.locator(".event-item a[href^='geo:']")).to_have_count(2)
    expect(page.locator("a[href^='webcal://']")).to_be_visible()
    expect(page.locator("[data-show-map]")).to_be_hidden()
    screenshot(page, "list")

    page.locator(".event-item h2 a").first.click()
    check_page(page, language)
    expect(page.locator("a[href='geo:33.89590,35.50770']")).to_be_visible()
    for app in ("whatsapp", "telegram", "email", "sms"):
        expect(page.locator(f"[data-share-via={app}]")).to_be_visible()
    expect(page.locator("[data-show-map]")).to_be_hidden()
    expect(page.locator("[data-share]")).to_be_hidden()
    expect(page.locator("main form.rsvp-form input[name=given_name]")).to_be_visible()
    screenshot(page, "event")

    assert network.tiles == [] and network.refused == []
    assert console_errors(page) == []


@pytest.mark.parametrize("language", ["ar", "en"])
def test_show_map_draws_the_event_and_nothing_is_asked_of_the_tile_server_before(
    make_page: Any,
    live_server: Any,
    org_a: Any,
    events: list[Event],
    language: str,
    screenshot: Any,
) -> None:
    page = make_page(locale=language, javascript=True)
    network = Network(page, live_server.url)

    page.goto(f"/o/{org_a.slug}/events/{events[0].slug}/")
    check_page(page, language)
    button = page.locator("[data-show-map]")
    expect(button).to_be_visible()
    expect(page.locator(".map-note")).to_be_visible()
    assert network.tiles == []  # privacy: nothing until asked
    assert page.evaluate("typeof window.L") == "undefined"  # Leaflet not even downloaded

    button.click()
    expect(page.locator(".map-canvas.leaflet-container")).to_be_visible()
    marker = page.locator(".map-canvas .leaflet-marker-icon")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("src", re.compile(r"^/static/vendor/leaflet/images/"))
    # The marker's image is served by Saha itself; wait for it to load (on a busy machine
    # it may still be on its way when the element appears).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=marker.element_handle(), timeout=15_000
    )
    expect(page.locator(".map-canvas .leaflet-tile-loaded").first).to_be_visible()
    expect(button).to_be_hidden()
    check_page(page, language)
    screenshot(page, "map")

    assert network.tiles and network.refused == []
    assert console_errors(page) == []
    # The share sheet's button shows only where the browser has one.
    share = expect(page.locator("[data-share]"))
    if page.evaluate("typeof navigator.share === 'function'"):
        share.to_be_visible()
    else:
        share.to_be_hidden()


def test_the_list_map_has_a_marker_per_event_with_its_link(
    make_page: Any, live_server: Any, org_a: Any, events: list[Event], screenshot: Any
) -> None:
    page = make_page(locale="ar", javascript=True)
    network = Network(page, live_server.url)

    page.goto(f"/o/{org_a.slug}/events/")
    page.locator("[data-show-map]").click()
    markers = page.locator(".map-canvas .leaflet-marker-icon")
    expect(markers).to_have_count(2)
    markers.first.click()
    popup = page.locator(".leaflet-popup .map-popup")
    expect(popup).to_have_attribute("dir", "rtl")
    expect(popup.locator("a")).to_have_attribute("href", f"/o/{org_a.slug}/events/march/")
    check_page(page, "ar")
    screenshot(page, "list-map")

    assert network.refused == []
    assert console_errors(page) == []


def test_on_the_ticket_the_attendee_cancels_comes_back_and_changes_language(
    make_page: Any, live_server: Any, org_a: Any, events: list[Event], screenshot: Any
) -> None:
    rsvp = answer(events[0], 1, language="ar").rsvp
    page = make_page(locale="ar", javascript=False)
    network = Network(page, live_server.url)

    page.goto(f"/t/{tickets.ticket_token(rsvp.pk)}/")
    check_page(page, "ar")
    expect(page.locator(f"main a[href='/o/{org_a.slug}/events/march/event.ics']")).to_be_visible()
    expect(page.locator("main svg")).to_be_visible()
    screenshot(page, "ticket")

    page.locator(".ticket-cancel button[type=submit]").click()
    page.locator(".ticket-cancel button[name=confirm]").click()
    check_page(page, "ar")
    expect(page.locator(".ticket-status.status-cancelled")).to_be_visible()
    page.locator(".ticket-come-back button[type=submit]").click()
    expect(page.locator(".ticket-status.status-confirmed")).to_be_visible()

    page.locator(".ticket-language select[name=language]").select_option("en")
    page.locator(".ticket-language button[type=submit]").click()
    check_page(page, "en")  # the page speaks the language chosen for the messages
    screenshot(page, "ticket-en")

    assert network.refused == [] and console_errors(page) == []
    rsvp.refresh_from_db()
    assert rsvp.status == "confirmed" and rsvp.language == "en"
