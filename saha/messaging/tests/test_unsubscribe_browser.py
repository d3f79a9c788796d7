"""A recipient stops our emails and picks what they still want, on a phone, in Arabic and English.

The pages must work without JavaScript (they carry none), fit 360 px, run
right to left in Arabic, and speak the recipient's language whatever the
browser asks for. Assertions go through selectors, URLs and the database,
not wording. The test touches the database only while the browser is idle
(the live server shares the test's SQLite connection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from saha.messaging import tokens
from saha.messaging.tests.factories import GRANTED, WITHDRAWN, make_delivery, recipient, status_of
from saha.supporters.models import Channel, ConsentRecord, ConsentSource
from saha.testing.browser import assert_fits_width, console_errors, expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

DIRECTION = {"en": "ltr", "ar": "rtl", "fr": "ltr"}
OTHER = {"en": "ar", "ar": "en"}


def check_page(page: Page, language: str) -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])
    expect(page.locator("script")).to_have_count(0)
    assert_fits_width(page)


def choose_email_not_sms(page: Page, language: str, screenshot) -> None:
    """Tick email, untick SMS, save; the page shows the choices saved."""
    check_page(page, language)
    main = page.locator("main")
    expect(main).to_contain_text("r•••@e•••.org")  # masked: the link may be forwarded
    expect(main).not_to_contain_text("rania.haddad")
    email_box = page.locator("input[name=wanted][value='email:updates']")
    sms_box = page.locator("input[name=wanted][value='sms:updates']")
    expect(email_box).not_to_be_checked()
    expect(sms_box).to_be_checked()
    screenshot(page, "preferences")
    email_box.check()
    sms_box.uncheck()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main [role=status]")).to_be_visible()
    check_page(page, language)
    expect(email_box).to_be_checked()
    # SMS stopped from an email link: shown, but only an SMS's own link starts them again.
    expect(sms_box).to_have_count(0)
    expect(page.locator("main input[type=checkbox]:disabled")).not_to_be_checked()
    screenshot(page, "saved")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_recipient_unsubscribes_then_chooses_what_they_receive(
    make_page, org_a, language, javascript, screenshot
):
    person = recipient(
        org_a,
        email="rania.haddad.long.address@example.org",
        phone="+96171123412",
        language=language,
    )
    delivery = make_delivery(person)
    token = tokens.delivery_token(delivery.pk)
    # The browser asks for French: the page speaks the recipient's language.
    page = make_page(locale="fr", javascript=javascript)

    # given: the link at the bottom of our email
    page.goto(f"/u/{token}/")
    check_page(page, language)
    screenshot(page, "confirm")
    assert status_of(person) == GRANTED  # opening the link changed nothing

    # when: they confirm
    page.locator("main form button[type=submit]").click()

    # then: unsubscribed, with a way to the preferences
    expect(page.locator(f"main a[href='/u/{token}/preferences/']")).to_be_visible()
    check_page(page, language)
    screenshot(page, "done")
    assert status_of(person) == WITHDRAWN

    # when: on the preference page, they take emails back and stop SMS
    page.locator(f"main a[href='/u/{token}/preferences/']").click()
    expect(page).to_have_url(re.compile(rf"/u/{re.escape(token)}/preferences/$"))
    choose_email_not_sms(page, language, screenshot)

    # then: saved
    assert status_of(person, Channel.EMAIL) == GRANTED
    assert status_of(person, Channel.SMS) == WITHDRAWN
    latest = ConsentRecord.objects.filter(person=person).latest("id")
    assert (latest.source, latest.language) == (ConsentSource.PREFERENCES, language)

    # and the language switcher still switches, on the same page
    other = OTHER[language]
    page.locator(f"header .languages button[value='{other}']").click()
    expect(page).to_have_url(re.compile(rf"/u/{re.escape(token)}/preferences/$"))
    check_page(page, other)
    assert console_errors(page) == []
