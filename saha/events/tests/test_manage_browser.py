"""An organizer on a phone, in Arabic and English: create an event, publish it, add an
attendee by hand, find them in the list, and see the gauge move.

Each page must fit 360 px, raise no script errors and, in Arabic, run right
to left. Assertions go through selectors, URLs and the database.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

import pytest

from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus
from saha.supporters.tests.test_browser_journeys import check_page
from saha.testing.browser import console_errors, expect, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

EVENTS = "/manage/org-a/events/"


def create_event(page: Page) -> Event:
    page.goto(f"{EVENTS}new/")
    page.locator("input[name=title_en]").fill("Neighbourhood clean-up")
    page.locator("input[name=title_ar]").fill("تنظيف الحي")
    page.locator("select[name=kind]").select_option("meeting")
    page.locator("select[name=time_zone]").select_option("Africa/Tunis")
    page.locator("input[name=starts]").fill("2031-05-10T09:00")
    page.locator("input[name=ends]").fill("2031-05-10T12:00")
    page.locator("input[name=venue_name]").fill("Jardin public")
    page.locator("input[name=capacity]").fill("1")
    page.locator("form.event-form button[type=submit]").click()
    expect(page.locator(".event-gauge")).to_be_visible()
    return Event.objects.get()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_organizer_creates_publishes_and_fills_an_event(
    make_page, organizer, language, screenshot
):
    page = make_page(locale=language)
    log_in(page, organizer.user)
    page.goto(EVENTS)
    check_page(page, language)
    event = create_event(page)
    check_page(page, language)
    assert event.status == EventStatus.DRAFT
    assert event.starts_at == dt.datetime(
        2031, 5, 10, 9, 0, tzinfo=zoneinfo.ZoneInfo("Africa/Tunis")
    )

    page.locator("form[action$='/publish/'] button").click()
    expect(page.locator(".messages .success")).to_be_visible()
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    screenshot(page, "detail")

    page.goto(f"{EVENTS}{event.pk}/attendees/add/")
    check_page(page, language)
    page.locator("input[name=given_name]").fill("Lina")
    page.locator("input[name=email]").fill("lina@example.org")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("table.attendees tbody tr")).to_have_count(1)
    check_page(page, language)
    rsvp = Rsvp.objects.get()
    assert rsvp.status == RsvpStatus.CONFIRMED
    expect(page.locator(".event-gauge progress")).to_have_attribute("value", "1")
    screenshot(page, "attendees")

    page.locator("input[name=q]").fill(rsvp.code)
    page.locator("form.filters button").click()
    expect(page.locator("table.attendees tbody tr")).to_have_count(1)
    page.goto(f"{EVENTS}{event.pk}/edit/")
    check_page(page, language)
    assert console_errors(page) == []
