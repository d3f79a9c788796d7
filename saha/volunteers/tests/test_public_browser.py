"""On a phone, in a browser without JavaScript, in Arabic and English: offering a van (the
public form, the uniform thank-you page, then the signed link read from the message sent,
which opens the offer as it was given), and signing up for a shift, then cancelling by
the link. Assertions go through selectors and attributes,
not wording. The test touches the database only while the browser is idle (the live
server shares the test's SQLite connection)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail

from saha.testing.browser import assert_fits_width, console_errors, expect
from saha.volunteers import services
from saha.volunteers.models import Offer, Shift
from saha.volunteers.tests.helpers import capability, link_in, make_event, make_need

pytestmark = pytest.mark.browser

DIRECTION = {"en": "ltr", "ar": "rtl"}


def check_page(page: Any, language: str) -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])
    assert_fits_width(page)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_offer_a_van_on_a_phone_then_open_the_link_from_the_message(
    make_page: Any, live_server: Any, org_a: Any, language: str, screenshot: Any
) -> None:
    driver = capability(org_a, "driver")
    event = make_event(org_a)
    page = make_page(locale=language, javascript=False, phone=True)

    page.goto(f"/o/{org_a.slug}/volunteer/?capability={driver.pk}&event={event.pk}")
    check_page(page, language)
    expect(page.locator(f"input[name=cap_{driver.pk}]")).to_be_checked()
    page.locator("input[name=given_name]").fill("رامي" if language == "ar" else "Rami")
    page.locator("input[name=email]").fill(f"rami.{language}@example.org")
    page.locator("select[name=language]").select_option(language)
    page.locator(f"input[name=qty_{driver.pk}]").fill("9")
    page.locator(f"input[name=details_{driver.pk}]").fill(
        "ميني باص" if language == "ar" else "Minibus"
    )
    page.locator("input[name=from_1]").fill("2030-05-01")
    page.locator("input[name=until_1]").fill("2030-05-03")
    page.locator("input[name=from_time_1]").fill("08:00")
    page.locator("input[name=to_time_1]").fill("13:00")
    page.locator("input[name=locality]").fill("الحمرا" if language == "ar" else "Hamra")
    screenshot(page, "form")
    page.locator("main form.offer-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/o/{org_a.slug}/volunteer/thanks/$"))
    expect(page.locator("[data-offered]")).to_be_visible()
    check_page(page, language)
    assert "/v/" not in page.content()  # the link is sent, never shown
    screenshot(page, "thanks")

    offer = Offer.objects.get()
    assert offer.source_ref == f"event:{event.pk}"
    [message] = [m for m in mail.outbox if m.to == [f"rami.{language}@example.org"]]
    page.goto(link_in(message.body))
    check_page(page, language)
    expect(page.locator("[data-offer-status=active]")).to_be_visible()
    expect(page.locator(f"input[name=cap_{driver.pk}]")).to_be_checked()
    expect(page.locator(f"input[name=qty_{driver.pk}]")).to_have_value("9")
    expect(page.locator("input[name=from_time_1]")).to_have_value("08:00")
    screenshot(page, "own-offer")

    # one more seat, from the phone
    page.locator(f"input[name=qty_{driver.pk}]").fill("10")
    page.locator("main form.offer-form button[type=submit]").click()
    expect(page.locator("[data-saved]")).to_be_visible()
    expect(page.locator(f"input[name=qty_{driver.pk}]")).to_have_value("10")
    check_page(page, language)
    assert console_errors(page) == []


@pytest.mark.parametrize("language", ["ar", "en"])
def test_sign_up_for_a_shift_on_a_phone_then_cancel_by_the_link(
    make_page: Any, live_server: Any, org_a: Any, language: str, screenshot: Any
) -> None:
    need = make_need(org_a, wanted=4)
    middle = need.starts_at + dt.timedelta(hours=1)
    services.add_shift(actor="t", need=need, starts_at=need.starts_at, ends_at=middle, capacity=2)
    later = services.add_shift(
        actor="t", need=need, starts_at=middle, ends_at=need.ends_at, capacity=2
    )
    page = make_page(locale=language, javascript=False, phone=True)

    page.goto(f"/o/{org_a.slug}/needs/{need.pk}/")
    check_page(page, language)
    expect(page.locator(".shift")).to_have_count(2)
    screenshot(page, "need")
    page.locator(f"#id_shift_{later.pk}").check()
    page.locator("input[name=given_name]").fill("Lina")
    page.locator("input[name=email]").fill(f"lina.{language}@example.org")
    page.locator("main form.sign-up-form button[type=submit]").click()
    expect(page.locator("[data-signed-up]")).to_be_visible()
    check_page(page, language)
    assert "/v/" not in page.content()

    [message] = [m for m in mail.outbox if m.to == [f"lina.{language}@example.org"]]
    page.goto(link_in(message.body))
    check_page(page, language)
    expect(page.locator("[data-status=accepted]")).to_be_visible()
    screenshot(page, "respond")
    page.locator("form.respond-cancel button[type=submit]").click()
    page.locator("form.respond-cancel button[name=confirm]").click()  # asked twice, no script
    expect(page.locator("[data-status=cancelled]")).to_be_visible()
    check_page(page, language)
    assert Shift.objects.get(pk=later.pk).taken == 0
    assert console_errors(page) == []
